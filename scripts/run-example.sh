#!/usr/bin/env bash
# Runs the broker with the example tenants (tenants/) and their WebAssembly
# plugins: builds the plugins first (installing the wasm32-wasip2 target if
# needed), then `switchyard serve --config switchyard.toml` in release.
# Extra arguments go to `serve`, e.g. `./scripts/run-example.sh --port 4333`.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build-plugins.sh >/dev/null
exec cargo run --release -- serve --config switchyard.toml "$@"
