#!/usr/bin/env bash
# Builds {{name}}.wasm from plugin.js with the Switchyard checkout's
# JavaScript toolchain (scripts/build-plugins-js.sh: `npm ci` into its
# plugins/sdk-js on first use; `@switchyard/plugin/*` is that SDK).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
SWITCHYARD_ROOT=${SWITCHYARD_ROOT:-{{sdk_root_sh}}}
script=$SWITCHYARD_ROOT/scripts/build-plugins-js.sh
[[ -x "$script" ]] || { echo "build.sh: no $script: set SWITCHYARD_ROOT to a Switchyard checkout" >&2; exit 1; }
exec "$script" --source "$here/plugin.js" --world {{world}} --out "$here/{{name}}.wasm"
