#!/usr/bin/env bash
# Builds {{name}}.wasm from plugin.c with the Switchyard checkout's C
# toolchain (scripts/build-plugins-c.sh: zig cc from PyPI ziglang and jco,
# installed on first use, and the SDK in plugins/sdk-c).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
SWITCHYARD_ROOT=${SWITCHYARD_ROOT:-{{sdk_root_sh}}}
script=$SWITCHYARD_ROOT/scripts/build-plugins-c.sh
[[ -x "$script" ]] || { echo "build.sh: no $script: set SWITCHYARD_ROOT to a Switchyard checkout" >&2; exit 1; }
exec "$script" --source "$here/plugin.c" --world {{world}} --out "$here/{{name}}.wasm"
