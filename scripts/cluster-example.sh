#!/usr/bin/env bash
# Runs a three-node Switchyard cluster on loopback with the example tenants
# (tenants/) and their WebAssembly plugins: the configuration of
# scripts/run-example.sh (switchyard.toml) three times, each with its own
# ports and a [cluster] section:
#
#   node   clients   routes   monitoring
#   n1     4222      6222     8222
#   n2     4223      6223     8223   seeds n1
#   n3     4224      6224     8224   seeds n1
#
# n2 and n3 know only n1; they learn of each other from it (gossip), so
# every node ends with two routes. The three configs are written to a
# temporary directory (printed at start, removed at exit). Builds the
# plugins and the release binary first, like run-example.sh (only the Rust
# plugins: the example tenants use no others); Ctrl-C stops all three
# nodes, and so does one of them exiting.
#
# Environment: SWITCHYARD_BIN=path runs that binary instead of building one.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

die() { printf 'cluster-example.sh: %s\n' "$*" >&2; exit 1; }

NODES=(n1 n2 n3)
declare -A CLIENT=([n1]=4222 [n2]=4223 [n3]=4224)
declare -A ROUTE=([n1]=6222 [n2]=6223 [n3]=6224)
declare -A HTTP=([n1]=8222 [n2]=8223 [n3]=8224)

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for n in "${NODES[@]}"; do
  for p in "${CLIENT[$n]}" "${ROUTE[$n]}" "${HTTP[$n]}"; do
    ! listening "$p" || die "port $p is already in use (a run-example.sh or another cluster still running?)"
  done
done

echo "cluster-example.sh: building the plugins and the broker (the first time takes minutes)" >&2
# Any argument makes build-plugins.sh build the Rust workspace alone.
./scripts/build-plugins.sh --quiet >/dev/null
if [[ -n "${SWITCHYARD_BIN:-}" ]]; then
  BIN="$SWITCHYARD_BIN"
  [[ -x "$BIN" ]] || die "SWITCHYARD_BIN=$BIN is not an executable"
else
  cargo build --release || die "cargo build --release failed"
  BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/switchyard"
fi

# The configs' relative paths (tenants, plugins) are taken from their own
# directory: links to the repository's make switchyard.toml's work as is.
WORK="$(mktemp -d -t switchyard-cluster.XXXXXX)"
ln -s "$ROOT/tenants" "$WORK/tenants"
ln -s "$ROOT/plugins" "$WORK/plugins"

PIDS=()
stop_all() {
  trap - INT TERM EXIT
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap 'stop_all; exit 130' INT TERM
trap stop_all EXIT

# switchyard.toml with this node's name and ports in place of its own port
# (top-level keys, so they go before the first table), and a [cluster].
write_config() { # NODE
  local n=$1
  {
    printf '# Node %s of scripts/cluster-example.sh: switchyard.toml plus ports and [cluster].\n' "$n"
    printf 'server_name = "%s"\nport = %s\nhttp_port = %s\n\n' "$n" "${CLIENT[$n]}" "${HTTP[$n]}"
    awk '/^\[/ { table = 1 } table || !/^port *=/' switchyard.toml
    printf '\n[cluster]\nname = "switchyard-example"\nport = %s\n' "${ROUTE[$n]}"
    if [[ $n != n1 ]]; then
      printf 'routes = ["nats-route://127.0.0.1:%s"]\n' "${ROUTE[n1]}"
    fi
  } >"$WORK/$n.toml"
}

for n in "${NODES[@]}"; do
  write_config "$n"
  # Each node's log lines, prefixed with its name; $! is the server's pid.
  "$BIN" serve --config "$WORK/$n.toml" > >(sed -u "s/^/[$n] /") 2>&1 &
  PIDS+=($!)
done

# Wait for every client port, then (if curl is here) for the full mesh.
for n in "${NODES[@]}"; do
  for _ in $(seq 100); do
    listening "${CLIENT[$n]}" && break
    sleep 0.1
  done
  listening "${CLIENT[$n]}" || die "node $n is not listening on ${CLIENT[$n]} (see its log above)"
done
if command -v curl >/dev/null; then
  for n in "${NODES[@]}"; do
    for _ in $(seq 100); do
      curl -sf "http://127.0.0.1:${HTTP[$n]}/routez" | grep -q '"num_routes": *2' && break
      sleep 0.1
    done
  done
fi

cat >&2 <<EOF

Three nodes are running (configs in $WORK):
  n1  nats://127.0.0.1:4222  routes :6222  http://127.0.0.1:8222
  n2  nats://127.0.0.1:4223  routes :6223  http://127.0.0.1:8223  (seed: n1)
  n3  nats://127.0.0.1:4224  routes :6224  http://127.0.0.1:8224  (seed: n1)

Try it (demo credentials: tenants/README.md):
  curl -s localhost:8222/routez        # two routes on each node; also :8223, :8224
  # subscribe on n2, publish on n1, with the NATS CLI:
  nats -s nats://alice:alice-demo-pass@127.0.0.1:4223 sub 'jobs.>'
  nats -s nats://alice:alice-demo-pass@127.0.0.1:4222 pub jobs.pack 'box 7'
  # or 100,000 messages from n1 to a subscriber on n3 (alice may not use
  # bench's --await-interest probes, so a first run may miss a few):
  $BIN bench pubsub --msgs 100000 --subject jobs.bench --timeout 5 \\
    --url nats://alice:alice-demo-pass@127.0.0.1:4222 --sub-url nats://alice:alice-demo-pass@127.0.0.1:4224

Ctrl-C stops all three.
EOF

# Until Ctrl-C, or until one node exits (then the others are stopped too).
# Ctrl-C reaches the nodes as well, and they may exit before this shell
# runs its trap: a node that exits cleanly is taken for a stop.
status=0
wait -n "${PIDS[@]}" || status=$?
if ((status == 0)); then
  echo "cluster-example.sh: stopping the cluster" >&2
else
  echo "cluster-example.sh: a node exited (status $status); stopping the others" >&2
fi
exit "$status"
