#!/usr/bin/env bash
# Browser journeys and accessibility checks (playwright-core + axe-core in
# Debian's Chromium) against the real `cartable` binary.
#
#   bash e2e/run.sh            # from the repository root (CI), or from anywhere
#   CARTABLE_BIN=/path/to/cartable bash e2e/run.sh   # skip the cargo build
#
# Screenshots land in e2e/test-results/ (gitignored).
set -euo pipefail

E2E_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$E2E_DIR/.." && pwd)"

# Debian's Chromium: never a test tool's own browser download.
if [ ! -x /usr/bin/chromium ]; then
  echo "e2e: installing Debian's chromium" >&2
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends chromium
fi

(cd "$E2E_DIR" && npm ci --prefer-offline --no-audit --no-fund)

if [ -z "${CARTABLE_BIN:-}" ]; then
  (cd "$REPO_ROOT" && cargo build -p cartable)
  # Ask cargo where it put the binary (honours CARGO_TARGET_DIR, relative or
  # not, and any target-dir in .cargo/config.toml).
  target_dir="$(cd "$REPO_ROOT" && cargo metadata --format-version 1 --no-deps \
    | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')"
  export CARTABLE_BIN="$target_dir/debug/cartable"
fi
echo "e2e: binary $CARTABLE_BIN" >&2

cd "$E2E_DIR"
exec node --test tests/
