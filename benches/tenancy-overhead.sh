#!/usr/bin/env bash
# What tenancy costs, measured with `switchyard bench` in one run:
#  1. 1:1 pub/sub 16 B: a server without tenants vs a tenant user with
#     publish/subscribe permissions (every publish checked).
#  2. request/reply 16 B: requester and responder in one tenant vs a
#     service import across two tenants (reply rewriting, response tracking,
#     Nats-Request-Info header).
# Each case runs REPS times, alternating order; the median is reported.
#
# Environment: REPS=5, MSGS=2000000, REQS=20000.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
REPS="${REPS:-5}"
MSGS="${MSGS:-2000000}"
REQS="${REQS:-20000}"

# shellcheck source=benches/lib.sh
source "$ROOT/benches/lib.sh"

build_switchyard

WORK="$(mktemp -d)"
trap cleanup EXIT

mkdir -p "$WORK/tenants"
cat > "$WORK/tenants/app.toml" <<'TOML'
name = "app"
[[users]]
user = "app"
password = "app-pw"
[users.permissions]
publish = { allow = ["bench.>", "echo", "_INBOX.>"], deny = ["bench.secret"] }
subscribe = { allow = ["bench.>", "_INBOX.>"], deny = ["bench.secret"] }
[[imports]]
service = { account = "svc", subject = "svc.echo" }
to = "echo"
TOML
cat > "$WORK/tenants/svc.toml" <<'TOML'
name = "svc"
[[users]]
user = "svc"
password = "svc-pw"
[[exports]]
service = "svc.echo"
TOML


PLAIN=$(free_port); TENANT=$(free_port)
"$BIN" --log-level warn serve --addr 127.0.0.1 --port "$PLAIN" & PIDS+=($!)
"$BIN" --log-level warn serve --addr 127.0.0.1 --port "$TENANT" --tenants "$WORK/tenants" & PIDS+=($!)
wait_port "$PLAIN"; wait_port "$TENANT"

p99() { python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["req"]["latency_us"]["p99"])'; }

A=(); B=(); C=(); D=(); CP=(); DP=()
for rep in $(seq "$REPS"); do
  echo "rep $rep/$REPS" >&2
  a() { A+=("$("$BIN" bench pubsub --url "127.0.0.1:$PLAIN" --msgs "$MSGS" --json | rate)"); }
  b() { B+=("$("$BIN" bench pubsub --url "nats://app:app-pw@127.0.0.1:$TENANT" --msgs "$MSGS" --json | rate)"); }
  if (( rep % 2 )); then a; b; else b; a; fi
  c() { local j; j="$("$BIN" bench req --url "nats://app:app-pw@127.0.0.1:$TENANT" --subject bench.req --msgs "$REQS" --json)"; C+=("$(rate <<<"$j")"); CP+=("$(p99 <<<"$j")"); }
  d() { local j; j="$("$BIN" bench req --url "nats://app:app-pw@127.0.0.1:$TENANT" --subject echo \
          --sub-url "nats://svc:svc-pw@127.0.0.1:$TENANT" --sub-subject svc.echo --msgs "$REQS" --json)"; D+=("$(rate <<<"$j")"); DP+=("$(p99 <<<"$j")"); }
  if (( rep % 2 )); then c; d; else d; c; fi
done

ma=$(median "${A[@]}"); mb=$(median "${B[@]}"); mc=$(median "${C[@]}"); md=$(median "${D[@]}")
mcp=$(median "${CP[@]}"); mdp=$(median "${DP[@]}")
python3 - "$ma" "$mb" "$mc" "$md" "$mcp" "$mdp" <<'PY'
import sys
a, b, c, d, cp, dp = map(float, sys.argv[1:])
print("| case | baseline | with tenancy | ratio |")
print("|---|---:|---:|---:|")
print(f"| pubsub 1:1 16 B, msgs/s (no tenants vs tenant user with permissions) | {a:,.0f} | {b:,.0f} | {b/a:.2f} |")
print(f"| request/reply 16 B, req/s (same tenant vs service import) | {c:,.0f} | {d:,.0f} | {d/c:.2f} |")
print(f"| request/reply 16 B, p99 µs (same tenant vs service import) | {cp:.1f} | {dp:.1f} | {dp/cp:.2f} |")
PY
