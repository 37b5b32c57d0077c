#!/usr/bin/env bash
# Drives the real binary against a fresh PostgreSQL database: migrate twice,
# create a school and its admin, import the sample rosters twice (the second
# time must change nothing), reset a password, seed a small synthetic
# district (refused while the database has schools, written with --force).
set -euo pipefail
ADMIN_URL="$1"
BIN="${CARGO_TARGET_DIR:-target}/debug/cartable"
cargo build -q -p cartable --locked
DB="cartable_ci_$$"
psql "$ADMIN_URL" -qc "CREATE DATABASE $DB"
URL="${ADMIN_URL%/*}/$DB"
export CARTABLE_DATABASE_URL="$URL"
FIX=crates/cartable-roster/tests/fixtures

"$BIN" migrate
"$BIN" migrate
"$BIN" admin create-school --name "Collège Jean Moulin" --uai 0750001A
"$BIN" admin create-admin --school 0750001A --first-name Michel --last-name Roux | tee /tmp/cartable-admin.$$
grep -Eq '^code [A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$' /tmp/cartable-admin.$$
for kind in eleves responsables enseignants personnels; do
  "$BIN" import --school 0750001A --kind "$kind" --apply "$FIX/$kind.csv" | tail -2
done
for kind in eleves responsables enseignants personnels; do
  out="$("$BIN" import --school 0750001A --kind "$kind" "$FIX/$kind.csv")"
  echo "$out" | grep -q '^créations=0 mises_a_jour=0 ' || { echo "re-import of $kind is not a no-op:"; echo "$out"; exit 1; }
done
# Captured, not piped into `grep -q`: grep would exit at the first match and
# the CLI's next line would meet a closed pipe (EPIPE: a panic, and a failed step).
out="$("$BIN" admin reset-password michel.roux)"
grep -q '^code ' <<<"$out" || { echo "reset-password printed no code:"; echo "$out"; exit 1; }
if "$BIN" import --school 9999999Z "$FIX/eleves.csv" 2>/tmp/cartable-err.$$; then
  echo "import into an unknown school should fail"; exit 1
fi
grep -q "aucun établissement" /tmp/cartable-err.$$
SEED_DIR="$(mktemp -d)"
if "$BIN" --data-dir "$SEED_DIR/data" seed --pupils 300 --out "$SEED_DIR/out" 2>/tmp/cartable-err.$$; then
  echo "seed into a database with schools should fail"; exit 1
fi
grep -q "contient déjà" /tmp/cartable-err.$$
"$BIN" --data-dir "$SEED_DIR/data" seed --pupils 300 --out "$SEED_DIR/out" --force 2>/dev/null | tail -3
head -1 "$SEED_DIR/out/accounts.csv" | grep -qx 'role,school_id,class_id,login,password,session_token'
[ "$(grep -c '^eleve,' "$SEED_DIR/out/accounts.csv")" = 300 ] || { echo "seed: not 300 pupils"; exit 1; }
rm -rf "$SEED_DIR"
rm -f /tmp/cartable-admin.$$ /tmp/cartable-err.$$
echo "cli smoke: ok"
