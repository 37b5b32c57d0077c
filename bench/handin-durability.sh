#!/usr/bin/env bash
# Issue 3, "What must hold": an acknowledged hand-in is never lost.
#
# Builds the real server twice — as shipped, and with the feature
# `broken-handin-ack` (answers with a receipt at once and commits 300 ms later)
# into its own target directory — then runs bench/src/bin/handin_durability.rs
# against each: a hand-in load while the server is SIGKILLed $KILLS times, then
# every receipt the clients got is checked offline, byte for byte.
#
#   1. the shipped build must lose nothing:                receipts=N kills=K lost=0
#   2. the broken build must lose receipts (the check can fail): lost>0
#   3. control: the broken build without any kill loses nothing, so what it
#      loses in 2 is lost to the kills, not to the check.
#
# Prints each run, then the final lines; exits 0 only if all three hold.
# Environment: KILLS (default 20), RUNS (rounds of 1+2, default 1), and any
# extra options for the bench in BENCH_ARGS (e.g. "--clients 8 --file-kb 200").
set -euo pipefail
cd "$(dirname "$0")/.."

KILLS="${KILLS:-20}"
RUNS="${RUNS:-1}"
read -r -a EXTRA <<<"${BENCH_ARGS:-}"

echo "== building (release): cartable-bench + cartable, and cartable --features broken-handin-ack"
cargo build --release -p cartable-bench -p cartable
cargo build --release -p cartable --features broken-handin-ack --target-dir target/broken

BENCH=target/release/handin-durability
GOOD=target/release/cartable
BROKEN=target/broken/release/cartable
SUMMARY=()
OK=1

# run LABEL EXPECTED_RC CHECK -- bench options...
#   CHECK: zero (lost must be 0) or positive (lost must be > 0)
run() {
    local label="$1" want_rc="$2" check="$3"
    shift 4
    local out rc last lost
    out="$(mktemp)"
    echo
    echo "== $label: $BENCH $*"
    set +e
    "$BENCH" "$@" "${EXTRA[@]}" | tee "$out"
    rc="${PIPESTATUS[0]}"
    set -e
    last="$(tail -n 1 "$out")"
    rm -f "$out"
    local verdict="ok"
    if [[ ! "$last" =~ ^receipts=([0-9]+)\ kills=([0-9]+)\ lost=([0-9]+)$ ]]; then
        verdict="FAILED (no final line)"
    else
        lost="${BASH_REMATCH[3]}"
        if [[ "${BASH_REMATCH[1]}" -eq 0 ]]; then
            verdict="FAILED (no receipt)"
        elif [[ "$check" == zero && "$lost" -ne 0 ]]; then
            verdict="FAILED (lost must be 0)"
        elif [[ "$check" == positive && "$lost" -eq 0 ]]; then
            verdict="FAILED (lost must be > 0: the check did not catch the broken build)"
        elif [[ "$rc" -ne "$want_rc" ]]; then
            verdict="FAILED (exit code $rc, expected $want_rc)"
        fi
    fi
    [[ "$verdict" == ok ]] || OK=0
    SUMMARY+=("$(printf '%-44s %-40s exit %s  %s' "$label" "$last" "$rc" "$verdict")")
}

for ((i = 1; i <= RUNS; i++)); do
    run "shipped build, run $i" 0 zero -- --bin "$GOOD" --kills "$KILLS"
    run "broken build (answers before commit), run $i" 0 positive -- \
        --bin "$BROKEN" --kills "$KILLS" --expect-loss
done
# With --expect-loss and nothing lost the bench exits 1: that is the expected outcome here.
run "control: broken build, no kill" 1 zero -- --bin "$BROKEN" --kills 0 --tail-s 5 --expect-loss

echo
echo "== $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- crates || echo ' + uncommitted changes under crates/')"
printf '%s\n' "${SUMMARY[@]}"
if [[ "$OK" -eq 1 ]]; then
    echo "handin-durability: PASS"
else
    echo "handin-durability: FAIL"
    exit 1
fi
