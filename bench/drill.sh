#!/usr/bin/env bash
# The rentrée drill (issue 5), from scratch: builds `cartable` and the drill
# (release), seeds a fresh synthetic district into a temporary SQLite
# database (`cartable seed`), starts `cartable serve` on 127.0.0.1 (a free
# port, a fresh server per scenario), runs the scenario(s) with
# bench/src/bin/drill.rs, stops the server, and writes the report.
#
#   bench/drill.sh [--pupils N] [--duration S] [--scenario morning|overload|cost|all]
#                  [--admission on|off] [--out DIR] [--district N] [--ci] [--keep]
#
#   --pupils N     pupils who come (default 2000)
#   --duration S   the morning compressed into S seconds (default 60)
#   --district N   pupils in the seeded district (default: --pupils, at least 1000)
#   --scenario     morning (default), overload, cost, or all: cost + morning +
#                  overload with admission on + overload with admission off,
#                  in one combined report
#   --admission    on (default) or off: CARTABLE_ADMISSION for the server
#   --out DIR      where the report, the logs and the JSON go (default
#                  bench/drill-out/<date>)
#   --ci           a few thousand pupils seeded, the overload scenario with
#                  admission on, well under a minute; exits non-zero unless
#                  errors == 0 and the waiting room engaged (waited > 0)
#   --keep         keep the temporary data directory
#
# Extra drill options can be given in DRILL_ARGS (e.g. "--hash-rate 60").
# Traffic goes only to 127.0.0.1; every run has a hard stop.
set -euo pipefail
cd "$(dirname "$0")/.."

PUPILS=2000
DURATION=60
SCENARIO=morning
ADMISSION=on
OUT=""
DISTRICT=""
CI_MODE=0
KEEP=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --pupils) PUPILS="$2"; shift 2 ;;
        --duration) DURATION="$2"; shift 2 ;;
        --scenario) SCENARIO="$2"; shift 2 ;;
        --admission) ADMISSION="$2"; shift 2 ;;
        --out) OUT="$2"; shift 2 ;;
        --district) DISTRICT="$2"; shift 2 ;;
        --ci) CI_MODE=1; shift ;;
        --keep) KEEP=1; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "drill.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
if [[ "$CI_MODE" -eq 1 ]]; then
    SCENARIO=overload
    ADMISSION=on
    PUPILS="${CI_PUPILS:-800}"
    DISTRICT="${DISTRICT:-2000}"
fi
case "$SCENARIO" in morning|overload|cost|all) ;; *) echo "drill.sh: --scenario morning|overload|cost|all" >&2; exit 2 ;; esac
case "$ADMISSION" in on|off) ;; *) echo "drill.sh: --admission on|off" >&2; exit 2 ;; esac
if [[ -z "$DISTRICT" ]]; then
    DISTRICT=$(( PUPILS > 1000 ? PUPILS : 1000 ))
fi
read -r -a EXTRA <<<"${DRILL_ARGS:-}"

TARGET="${CARGO_TARGET_DIR:-target}"
# DRILL_PROFILE=debug reuses the test build (CI: no second, release, build of
# the whole workspace; the figures of a debug build mean nothing, the checks do).
PROFILE="${DRILL_PROFILE:-release}"
echo "== building ($PROFILE): cartable and the drill"
if [[ "$PROFILE" == debug ]]; then
    cargo build -p cartable -p cartable-bench
else
    cargo build --release -p cartable -p cartable-bench
fi
CARTABLE="$TARGET/$PROFILE/cartable"
DRILL="$TARGET/$PROFILE/drill"

# Many sockets: the drill's browsers and the server's connections.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
ulimit -n 65536 2>/dev/null || true

WORK="$(mktemp -d "${TMPDIR:-/tmp}/cartable-drill.XXXXXX")"
OUT="${OUT:-bench/drill-out/$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
SERVER_PID=""

cleanup() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [[ "$KEEP" -eq 1 ]]; then
        echo "data kept in $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT

echo "== seeding a district of $DISTRICT pupils into $WORK/data"
SEED_START=$(date +%s)
"$CARTABLE" seed --data-dir "$WORK/data" --pupils "$DISTRICT" --out "$WORK" >"$OUT/seed.log" 2>&1 || {
    tail -20 "$OUT/seed.log" >&2
    echo "drill.sh: cartable seed failed" >&2
    exit 2
}
ACCOUNTS="$WORK/accounts.csv"
[[ -f "$ACCOUNTS" ]] || { echo "drill.sh: no $ACCOUNTS after the seed" >&2; exit 2; }
echo "   $(($(wc -l <"$ACCOUNTS") - 1)) accounts in $(( $(date +%s) - SEED_START )) s"

# start_server on|off: starts `cartable serve` on a free port, sets SERVER_PID and BASE.
start_server() {
    local adm="$1" log="$OUT/server-$2.log"
    CARTABLE_ADMISSION="$adm" "$CARTABLE" serve --data-dir "$WORK/data" --listen 127.0.0.1:0 \
        </dev/null >"$log" 2>&1 &
    SERVER_PID=$!
    BASE=""
    for _ in $(seq 1 300); do
        BASE="$(sed -n 's/.*Cartable écoute sur \(http:\/\/127\.0\.0\.1:[0-9]*\).*/\1/p' "$log" | head -1)"
        [[ -n "$BASE" ]] && break
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    if [[ -z "$BASE" ]]; then
        tail -20 "$log" >&2
        echo "drill.sh: the server did not start" >&2
        exit 2
    fi
    echo "   server pid $SERVER_PID on $BASE (admission $adm)"
}

stop_server() {
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}

RUNS=()
LAST_JSON=""
# run NAME SCENARIO ADMISSION [drill options...]
run() {
    local name="$1" scenario="$2" adm="$3"
    shift 3
    echo
    echo "== $name: scenario $scenario, admission $adm"
    start_server "$adm" "$name"
    set +e
    "$DRILL" --base-url "$BASE" --accounts "$ACCOUNTS" --server-pid "$SERVER_PID" \
        --scenario "$scenario" --admission "$adm" --label "$name" \
        --data "$OUT/$name.json" "$@" "${EXTRA[@]}" | tee "$OUT/$name.log"
    local rc="${PIPESTATUS[0]}"
    set -e
    stop_server
    if [[ "$rc" -ne 0 ]]; then
        echo "drill.sh: the drill failed ($name, exit $rc)" >&2
        exit 2
    fi
    LAST_JSON="$(tail -n 1 "$OUT/$name.log")"
    RUNS+=("$OUT/$name.json")
}

case "$SCENARIO" in
    cost) run cost cost "$ADMISSION" ;;
    morning) run morning morning "$ADMISSION" --pupils "$PUPILS" --duration "$DURATION" ;;
    overload)
        if [[ "$CI_MODE" -eq 1 ]]; then
            run overload overload on --pupils "$PUPILS" --calibrate-seconds 3
        else
            run "overload-admission-$ADMISSION" overload "$ADMISSION" --pupils "$PUPILS"
        fi ;;
    all)
        run cost cost on
        run morning morning on --pupils "$PUPILS" --duration "$DURATION"
        run overload-admission-on overload on --pupils "$PUPILS"
        # The same arrivals against a server without the gate, at the same rate.
        RATE="$(sed -n 's/.*"hash_rate_per_s":\([0-9.]*\).*/\1/p' <<<"$LAST_JSON")"
        run overload-admission-off overload off --pupils "$PUPILS" ${RATE:+--hash-rate "$RATE"} ;;
esac

echo
"$DRILL" --combine "${RUNS[@]}" --report "$OUT/report.html" \
    --intro "$(nproc) CPUs, $(git rev-parse --short HEAD 2>/dev/null || echo '?'), district of $DISTRICT pupils, $PUPILS pupils per run, morning over $DURATION s." \
    >/dev/null
echo "report: $OUT/report.html"

if [[ "$CI_MODE" -eq 1 ]]; then
    errors="$(sed -n 's/.*"errors":\([0-9]*\).*/\1/p' <<<"$LAST_JSON")"
    waited="$(sed -n 's/.*"waited":\([0-9]*\).*/\1/p' <<<"$LAST_JSON")"
    completed="$(sed -n 's/.*"completed":\([0-9]*\).*/\1/p' <<<"$LAST_JSON")"
    journeys="$(sed -n 's/.*"journeys":\([0-9]*\).*/\1/p' <<<"$LAST_JSON")"
    echo "drill --ci: errors=${errors:-?} waited=${waited:-?} completed=${completed:-?} of ${journeys:-?} ($PUPILS pupils, the rest teachers and parents)"
    if [[ "${errors:-x}" == 0 && "${waited:-0}" -gt 0 ]]; then
        echo "drill --ci: PASS"
    else
        echo "drill --ci: FAIL (needs errors == 0 and waited > 0)"
        exit 1
    fi
fi
