#!/usr/bin/env bash
# What a WebAssembly plugin costs end to end, measured with `switchyard
# bench` in one run: 1:1 pub/sub 16 B in a tenant
#  a. without plugins (baseline),
#  b. through the no-op transform registered for the bench subject,
#  c. with the no-op transform registered for other subjects only,
#  d. through the no-op routing policy registered for the bench subject.
# Each case runs REPS times, alternating order; the median is reported,
# with every run's rate, and the server's CPU time per message (utime +
# stime from /proc/<pid>/stat around each run), which is steadier than the
# rate on a shared machine.
#
# Environment: REPS=5, MSGS=2000000; SWITCHYARD_BIN (a built broker) and
# WASM_DIR (noop_transform.wasm and noop_router.wasm built for that
# broker's WIT) to measure another build without building here.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
REPS="${REPS:-5}"
MSGS="${MSGS:-2000000}"

# shellcheck source=benches/lib.sh
source "$ROOT/benches/lib.sh"

if [[ -n "${WASM_DIR:-}" ]]; then
  WASM="$WASM_DIR"
else
  echo "building the plugins" >&2
  ./scripts/build-plugins.sh -p noop_transform -p noop_router >/dev/null || die "the plugins did not build"
  WASM="$ROOT/plugins/target/wasm32-wasip2/release"
fi
build_switchyard

WORK="$(mktemp -d)"
trap cleanup EXIT

tenant() { # dir, plugin table
  mkdir -p "$WORK/$1"
  printf 'name = "app"\n[[users]]\nuser = "app"\npassword = "app-pw"\n%s\n' "$2" > "$WORK/$1/app.toml"
}
tenant none ""
tenant transform "$(printf '[[plugins]]\nkind = "transform"\npath = "%s/noop_transform.wasm"\nsubjects = ["bench.>"]' "$WASM")"
tenant elsewhere "$(printf '[[plugins]]\nkind = "transform"\npath = "%s/noop_transform.wasm"\nsubjects = ["other.>"]' "$WASM")"
tenant routing "$(printf '[[plugins]]\nkind = "routing"\npath = "%s/noop_router.wasm"\nsubjects = ["bench.>"]' "$WASM")"


declare -A PORT PID
for case in none transform elsewhere routing; do
  PORT[$case]=$(free_port)
  "$BIN" --log-level warn serve --addr 127.0.0.1 --port "${PORT[$case]}" --tenants "$WORK/$case" \
    2>/dev/null & PIDS+=($!)
  PID[$case]=$!
done
for case in none transform elsewhere routing; do wait_port "${PORT[$case]}"; done


declare -A RATES CPU
CASES=(none transform elsewhere routing)
for rep in $(seq "$REPS"); do
  echo "rep $rep/$REPS" >&2
  order=("${CASES[@]}")
  if (( rep % 2 == 0 )); then order=(routing elsewhere transform none); fi
  for case in "${order[@]}"; do
    before=$(cpu_ticks "${PID[$case]}")
    r="$("$BIN" bench pubsub --url "nats://app:app-pw@127.0.0.1:${PORT[$case]}" --subject bench.x \
          --msgs "$MSGS" --json | rate)"
    after=$(cpu_ticks "${PID[$case]}")
    RATES[$case]="${RATES[$case]:-} $r"
    CPU[$case]="${CPU[$case]:-} $(python3 -c "print(($after - $before) * 1e9 / $TCK / $MSGS)")"
  done
done

for case in none transform elsewhere routing; do
  echo "$case: msgs/s$(printf ' %.0f' ${RATES[$case]}); server ns/msg$(printf ' %.0f' ${CPU[$case]})" >&2
done
python3 - "$(median ${RATES[none]})" "$(median ${RATES[transform]})" \
  "$(median ${RATES[elsewhere]})" "$(median ${RATES[routing]})" \
  "$(median ${CPU[none]})" "$(median ${CPU[transform]})" \
  "$(median ${CPU[elsewhere]})" "$(median ${CPU[routing]})" <<'PY'
import sys
rates = list(map(float, sys.argv[1:5]))
cpu = list(map(float, sys.argv[5:9]))
names = ["no plugin", "no-op transform on the subject",
         "no-op transform on other subjects", "no-op routing policy on the subject"]
print("| case (1:1 pub/sub, 16 B) | msgs/s (median) | vs no plugin | server CPU ns/msg (median) | vs no plugin |")
print("|---|---:|---:|---:|---:|")
for name, r, c in zip(names, rates, cpu):
    print(f"| {name} | {r:,.0f} | {r/rates[0]:.2f} | {c:.0f} | {c/cpu[0]:.2f} |")
PY
