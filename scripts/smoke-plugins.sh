#!/usr/bin/env bash
# Builds the plugins and runs plugins/smoke/smoke.py: every component is
# instantiated under wasmtime's Python bindings (PyPI `wasmtime`, installed
# into the repository's .venv) and its answers checked, without the broker.
# Fails loudly with the command to run when something is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { printf 'smoke-plugins.sh: %s\n' "$*" >&2; exit 1; }

scripts/build-plugins.sh >/dev/null

command -v python3 >/dev/null || die "python3 not found (apt-get install python3-venv)"
if [[ ! -x .venv/bin/python ]]; then
  python3 -m venv .venv || die "cannot create .venv (apt-get install python3-venv)"
fi
# The component API of the Python bindings is young: stay on the major
# version this script was written against.
.venv/bin/python -c 'import wasmtime.component' 2>/dev/null \
  || .venv/bin/python -m pip install --quiet --disable-pip-version-check 'wasmtime>=50,<51' \
  || die "cannot install wasmtime: run '.venv/bin/python -m pip install \"wasmtime>=50,<51\"'"

.venv/bin/python plugins/smoke/smoke.py plugins/target/wasm32-wasip2/release
