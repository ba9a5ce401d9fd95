#!/usr/bin/env bash
# Builds {{name}}.wasm from app.py with the Switchyard checkout's Python
# toolchain (scripts/build-plugins-python.sh: componentize-py, installed
# into its plugins/.venv on first use, and the SDK in plugins/sdk-python).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
SWITCHYARD_ROOT=${SWITCHYARD_ROOT:-{{sdk_root_sh}}}
script=$SWITCHYARD_ROOT/scripts/build-plugins-python.sh
[[ -x "$script" ]] || { echo "build.sh: no $script: set SWITCHYARD_ROOT to a Switchyard checkout" >&2; exit 1; }
exec "$script" --source "$here" --world {{world}} --out "$here/{{name}}.wasm"
