#!/usr/bin/env bash
# Soak test: mixed traffic against a release-built broker for a set time,
# then a verdict on lost messages and on resource growth.
#
# What it does
#   1. Builds the broker (cargo build --release; CARGO_TARGET_DIR is
#      honoured) and the plugins (scripts/build-plugins.sh), and makes
#      .venv with nats-py if it is missing (as scripts/test.sh does).
#   2. Writes a server configuration and the tenants of benches/soak/tenants
#      (alpha, beta, gamma, svc; the plugin paths made absolute) into a temp
#      dir, checks them with `switchyard check`, and starts
#      `switchyard serve` on 127.0.0.1 with free ports (port 0, read back
#      from the log) for clients and for monitoring.
#   3. Runs benches/soak.py for SOAK_SECS seconds. All traffic goes to
#      127.0.0.1 and is bounded in rate and count (about 1,000 published and
#      1,500 delivered messages a second at the defaults):
#      - pub/sub in alpha, beta and gamma: one publisher each on data.s0-3,
#        with subscribers on data.> and data.* that must see every message;
#      - queue groups: each of those publishers also sends work.jobs to a
#        3-member queue group that must see every message exactly once;
#      - requests across a service import: alpha requests svc.echo, which
#        svc exports as echo.request (2 responders in a queue group); every
#        request must get its own answer; latency is measured;
#      - slow consumers: every SOAK_SLOW_SECS a raw TCP client in beta
#        subscribes to busy.feed (16 KiB messages, SOAK_BUSY_RATE a second)
#        and never reads; the broker must cut it off (max_pending is 8 MiB
#        here) while busy.feed's nats-py reader loses nothing;
#      - reconnect storms: every SOAK_STORM_SECS, SOAK_STORM_SIZE clients at
#        once connect, subscribe and leave (half nats-py with a round trip
#        through their own subscription, half raw sockets that reset the
#        connection without UNSUB);
#      - reloads: every SOAK_HUP_SECS alpha.toml changes (a marker user) and
#        the broker gets SIGHUP; /varz config_load_time must change and no
#        long-lived client may be disconnected;
#      - plugin traps: gamma has the hostile test plugins as transforms on
#        hostile.trap.> (traps on payload `trap`), hostile.loop.> (never
#        returns; the 10 ms deadline stops it) and hostile.memory.>
#        (allocates past its 4 MiB cap, fail-open); gamma's checked
#        publisher provokes them on the same connection as its data.* and
#        work.jobs traffic.
#      The broker's RSS (VmRSS in /proc/<pid>/status) and open fds
#      (entries of /proc/<pid>/fd) are sampled every SOAK_SAMPLE_SECS.
#   4. Stops the traffic, waits up to SOAK_DRAIN_SECS for messages in
#      flight, prints the report, stops the broker (SIGTERM) and reports
#      panics or errors in its log.
#
# Pass/fail: exit 0 only if all of these hold, else 1 with one line per
# problem after "SOAK FAILED" (2 if the soak could not run at all):
#   - no message lost, duplicated or reordered for any consumer that kept
#     up (the subscribers and queue groups above; each message carries a
#     sequence number), and no long-lived client disconnected or told of an
#     error (nats-py's own slow-consumer drop would show there);
#   - every request answered, with its own payload (5 s timeout);
#   - every slow consumer cut off within SOAK_SLOW_LIMIT seconds;
#   - every storm client connected, subscribed and got its answer;
#   - every SIGHUP seen as a reload;
#   - no message that traps or loops a fail-closed plugin delivered;
#   - no growth: after SOAK_WARMUP_SECS, the median of the last quarter of
#     the samples may exceed the median of the first quarter by at most
#     max(SOAK_RSS_TOL_PCT % of it, SOAK_RSS_TOL_MIB MiB) for RSS and
#     SOAK_FD_TOL for fds (with fewer than 8 samples after warm-up growth
#     is reported as not judged);
#   - the broker did not die, and its log has no panic.
# The request p99 is reported; SOAK_P99_MAX_MS makes it a check too.
#
# Environment (defaults in brackets):
#   SOAK_SECS [600]         traffic time in seconds; use 60 while developing
#   SOAK_RATE [150]         messages/s of each tenant's publisher, per subject
#   SOAK_REQ_RATE [40]      requests/s across the service import
#   SOAK_BUSY_RATE [60]     16 KiB messages/s on busy.feed
#   SOAK_SAMPLE_SECS [5]    RSS/fd sampling period
#   SOAK_HUP_SECS [5]       SIGHUP period
#   SOAK_STORM_SECS [10]    reconnect storm period
#   SOAK_STORM_SIZE [20]    clients per storm
#   SOAK_SLOW_SECS [15]     period of new slow consumers
#   SOAK_SLOW_LIMIT [60]    seconds within which each must be cut off
#   SOAK_WARMUP_SECS [SOAK_SECS/6, at most 60]
#   SOAK_RSS_TOL_PCT [25]   SOAK_RSS_TOL_MIB [16]   SOAK_FD_TOL [8]
#   SOAK_DRAIN_SECS [15]    SOAK_P99_MAX_MS [unset]
#   SOAK_MAX_PENDING [8388608]  the broker's max_pending, bytes
#   SOAK_BUILD [1]          0: do not build; use the binary and plugins as they are
#   SWITCHYARD_BIN          broker binary [${CARGO_TARGET_DIR:-target}/release/switchyard]
#   SOAK_KEEP [0]           1: keep the temp dir (config, broker.log,
#                           samples.csv); it is always kept on failure
#
# Usage: SOAK_SECS=60 benches/soak.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

die() { printf 'soak.sh: %s\n' "$*" >&2; exit 2; }

export SOAK_SECS="${SOAK_SECS:-600}"
[[ "$SOAK_SECS" =~ ^[0-9]+$ && "$SOAK_SECS" -gt 0 ]] || die "SOAK_SECS must be a positive number of seconds, not '$SOAK_SECS'"
max_pending="${SOAK_MAX_PENDING:-8388608}"
bin="${SWITCHYARD_BIN:-${CARGO_TARGET_DIR:-$root/target}/release/switchyard}"
plugins="$root/plugins/target/wasm32-wasip2/release"
python="$root/.venv/bin/python"

if [[ "${SOAK_BUILD:-1}" != 0 ]]; then
  echo "soak.sh: building the broker (release) and the plugins" >&2
  cargo build --release --quiet || die "cargo build --release failed"
  ./scripts/build-plugins.sh >/dev/null || die "the plugins did not build: run scripts/build-plugins.sh"
fi
[[ -x "$bin" ]] || die "no broker at $bin: build it (cargo build --release) or set SWITCHYARD_BIN"
for p in hostile_trap hostile_loop hostile_memory; do
  [[ -f "$plugins/$p.wasm" ]] || die "no $plugins/$p.wasm: run scripts/build-plugins.sh"
done
if ! "$python" -c 'import nats' 2>/dev/null; then
  echo "soak.sh: installing nats-py into .venv" >&2
  [[ -x "$python" ]] || python3 -m venv .venv || die "cannot create .venv (apt-get install python3-venv)"
  "$python" -m pip install --quiet --disable-pip-version-check nats-py || die "pip install nats-py failed"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/switchyard-soak.XXXXXX")"
broker=""
keep="${SOAK_KEEP:-0}"
# Called only by the EXIT trap, which shellcheck 0.9 takes for unreachable.
# shellcheck disable=SC2317
cleanup() {
  if [[ -n "$broker" ]] && kill -0 "$broker" 2>/dev/null; then
    kill -TERM "$broker" 2>/dev/null || true
    wait "$broker" 2>/dev/null || true
  fi
  if [[ "$keep" == 1 ]]; then
    echo "soak.sh: kept $work (config, broker.log, samples.csv)" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT

mkdir "$work/tenants"
for f in benches/soak/tenants/*.toml; do
  sed "s|@PLUGINS@|$plugins|g" "$f" >"$work/tenants/$(basename "$f")"
done
cat >"$work/switchyard.toml" <<EOF
# Written by benches/soak.sh for one soak run.
host = "127.0.0.1"
port = 0
http_port = 0
tenants = "tenants"
max_pending = $max_pending
EOF
"$bin" check --tenants "$work/tenants" --config "$work/switchyard.toml" >/dev/null \
  || die "switchyard check refused the soak configuration in $work (above)"

"$bin" serve --config "$work/switchyard.toml" >"$work/broker.log" 2>&1 &
broker=$!

# The log states both bound addresses; ANSI colours are stripped first.
addr_of() {
  sed 's/\x1b\[[0-9;]*m//g' "$work/broker.log" | grep -F "$1" | grep -o 'addr=[0-9.]*:[0-9]*' | head -n1 | cut -d: -f2 || true
}
port="" http_port=""
for _ in $(seq 1 600); do
  kill -0 "$broker" 2>/dev/null || { keep=1; tail -n 20 "$work/broker.log" >&2; die "the broker exited at start (log above)"; }
  port="$(addr_of 'listening for client connections')"
  http_port="$(addr_of 'monitoring endpoints listening')"
  [[ -n "$port" && -n "$http_port" ]] && break
  sleep 0.1
done
[[ -n "$port" && -n "$http_port" ]] || { keep=1; die "the broker did not report its ports within 60 s (see $work/broker.log)"; }
echo "soak.sh: broker pid $broker on 127.0.0.1:$port (monitoring :$http_port), $("$bin" --version 2>/dev/null || echo switchyard), work dir $work" >&2

rc=0
SOAK_PORT="$port" SOAK_HTTP_PORT="$http_port" SOAK_PID="$broker" SOAK_TENANTS="$work/tenants" \
  SOAK_OUT="$work" SOAK_HOST=127.0.0.1 "$python" "$root/benches/soak.py" || rc=$?

echo
if ! kill -0 "$broker" 2>/dev/null; then
  echo "broker: not running at the end (see $work/broker.log)"
  rc=1
else
  kill -TERM "$broker"
  for _ in $(seq 1 150); do
    kill -0 "$broker" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$broker" 2>/dev/null; then
    echo "broker: still running 15 s after SIGTERM; killing it"
    kill -KILL "$broker" || true
    rc=1
  fi
  wait "$broker" 2>/dev/null || true
fi
broker=""

plain_log() { sed 's/\x1b\[[0-9;]*m//g' "$work/broker.log"; }
panics="$(plain_log | grep -c 'panicked' || true)"
errors="$(plain_log | grep -c ' ERROR ' || true)"
warns="$(plain_log | grep -c ' WARN ' || true)"
echo "broker log: $(wc -l <"$work/broker.log") lines, $errors ERROR, $warns WARN, $panics panics"
# The most frequent WARN/ERROR messages, with numbers and ids masked.
plain_log | grep -E ' (ERROR|WARN) ' | sed -E 's/^[^ ]+ +//; s/[0-9]+/N/g' | cut -c1-160 \
  | sort | uniq -c | sort -rn | head -n 8 | sed 's/^/  /' || true
if [[ "$panics" -gt 0 ]]; then
  echo "SOAK FAILED: the broker panicked (see $work/broker.log)"
  plain_log | grep -m3 'panicked' | sed 's/^/  /'
  rc=1
fi
[[ "$rc" -eq 0 ]] || keep=1
exit "$rc"
