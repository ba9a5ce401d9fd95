#!/usr/bin/env bash
# Runs {{name}}.wasm as the broker would on {{trial_what}},
# and prints its world, its registration and the verdict. Build it first
# (./build.sh). Extra arguments go to `switchyard plugin check` (e.g.
# --config KEY=VALUE).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# The switchyard binary that made this project, unless SWITCHYARD names another.
switchyard=${SWITCHYARD:-{{switchyard_sh}}}
command -v "$switchyard" >/dev/null || switchyard=switchyard
exec "$switchyard" plugin check "$here/{{name}}.wasm" {{trial_args}} "$@"
