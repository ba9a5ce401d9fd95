#!/usr/bin/env bash
# Builds the Python plugins in plugins/examples-python/<name>/app.py with
# componentize-py, against the repository's wit/ and the SDK in
# plugins/sdk-python: plugins/target/python/<name>.wasm.
#
# Installs componentize-py (pinned below) from PyPI into plugins/.venv when
# missing; a component newer than its sources, the SDK and wit/ is not
# rebuilt. Fails loudly (non-zero exit, the command to run on stderr) when
# something cannot be had.
#
# Usage: scripts/build-plugins-python.sh [NAME...]   (default: every example)
set -euo pipefail
cd "$(dirname "$0")/../plugins"

COMPONENTIZE_PY_VERSION=0.25.1

die() { printf 'build-plugins-python.sh: %s\n' "$*" >&2; exit 1; }

# The world each example implements.
declare -A WORLD=([redact_json]=transform [content_router]=routing [api_key_auth]=auth
  [noop_transform]=transform [noop_router]=routing)

venv=.venv
if ! "$venv/bin/componentize-py" --version 2>/dev/null | grep -qF "$COMPONENTIZE_PY_VERSION"; then
  command -v python3 >/dev/null || die "python3 not found: install Python 3.11+ with venv (apt-get install python3-venv)"
  [[ -x "$venv/bin/python" ]] || python3 -m venv "$venv" \
    || die "cannot create plugins/$venv (apt-get install python3-venv)"
  echo "build-plugins-python.sh: installing componentize-py $COMPONENTIZE_PY_VERSION into plugins/$venv" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "componentize-py==$COMPONENTIZE_PY_VERSION" \
    || die "cannot install componentize-py: run 'plugins/$venv/bin/python -m pip install componentize-py==$COMPONENTIZE_PY_VERSION'"
fi

out=target/python
mkdir -p "$out"
names=("$@")
[[ ${#names[@]} -gt 0 ]] || names=(redact_json content_router api_key_auth noop_transform noop_router)
for name in "${names[@]}"; do
  world=${WORLD[$name]:-}
  [[ -n "$world" ]] || die "unknown Python example '$name' (known: ${!WORLD[*]})"
  src=examples-python/$name
  wasm=$out/$name.wasm
  if [[ -f "$wasm" && -z "$(find "$src" sdk-python/src ../wit -type f -newer "$wasm" -print -quit)" ]]; then
    continue
  fi
  # The app module is `app`; `wit_world` (the bindings) is generated.
  # Neither the venv's site-packages nor anything else is searched: a
  # plugin's dependencies must be on these paths.
  env -u VIRTUAL_ENV "$venv/bin/componentize-py" --quiet -d ../wit -w "$world" componentize \
    -p "$src" -p sdk-python/src app -o "$wasm.tmp" \
    || die "componentize-py failed for $src (see above)"
  mv "$wasm.tmp" "$wasm"
done
for name in "${names[@]}"; do
  printf '%9d  plugins/%s\n' "$(stat -c %s "$out/$name.wasm")" "$out/$name.wasm"
done
