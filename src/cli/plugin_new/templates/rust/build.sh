#!/usr/bin/env bash
# Builds {{name}}.wasm from this crate with the Switchyard checkout's Rust
# toolchain set-up (scripts/build-plugins.sh: installs the wasm32-wasip2
# target if missing). Dependencies compile into that checkout's
# plugins/target/plugin-new unless CARGO_TARGET_DIR says otherwise.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
SWITCHYARD_ROOT=${SWITCHYARD_ROOT:-{{sdk_root_sh}}}
script=$SWITCHYARD_ROOT/scripts/build-plugins.sh
[[ -x "$script" ]] || { echo "build.sh: no $script: set SWITCHYARD_ROOT to a Switchyard checkout" >&2; exit 1; }
exec "$script" --crate "$here" --out "$here/{{name}}.wasm"
