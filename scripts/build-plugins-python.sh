#!/usr/bin/env bash
# Builds the Python plugins in plugins/examples-python/<name>/app.py with
# componentize-py, against the repository's wit/ and the SDK in
# plugins/sdk-python: plugins/target/python/<name>.wasm.
#
# Installs componentize-py (pinned below) from PyPI into plugins/.venv when
# missing; a component newer than its sources, the SDK (and its build
# tools), wit/ and this script is not rebuilt. Fails loudly (non-zero exit,
# the command to run on stderr) when something cannot be had.
#
# Usage: scripts/build-plugins-python.sh [NAME...]   (default: every example)
#        scripts/build-plugins-python.sh --source DIR --world WORLD --out OUT.wasm
# The second form builds one plugin from outside the repository (a
# `switchyard plugin new` project: DIR holds its app.py), always, with the
# same toolchain.
set -euo pipefail

COMPONENTIZE_PY_VERSION=0.25.1
# componentize-py 0.25.1 never frees the byte lists a plugin hands to the
# broker (returned payloads, kv values): each one stayed in the guest's
# memory until the instance hit its cap (issue 16).
# sdk-python/tools/free_lowered_lists.py patches every component it
# builds. Only for this version: one that frees them itself must not get
# the patch (each list would be freed twice); after a change of the pin,
# `cargo test --test integration python_returned_payloads` says whether the
# new version needs it.
FREE_LISTS_PATCH_FOR=0.25.1

die() { printf 'build-plugins-python.sh: %s\n' "$*" >&2; exit 1; }

# Paths are made absolute before the cd below.
ext_source='' ext_world='' ext_out=''
if [[ "${1:-}" == --source ]]; then
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --source) ext_source=$(realpath -e -- "${2:?--source needs a directory}" 2>/dev/null) || die "no such directory: $2"; shift 2 ;;
      --world) ext_world=${2:?--world needs transform, routing or auth}; shift 2 ;;
      --out) ext_out=$(realpath -m -- "${2:?--out needs a path}"); shift 2 ;;
      *) die "unknown argument '$1' (usage: --source DIR --world WORLD --out OUT.wasm)" ;;
    esac
  done
  [[ "$ext_world" =~ ^(transform|routing|auth)$ ]] || die "--world must be transform, routing or auth"
  [[ -f "$ext_source/app.py" ]] || die "$ext_source has no app.py"
  [[ -n "$ext_out" ]] || die "--out OUT.wasm is required"
fi
self=$(realpath "$0")
cd "$(dirname "$0")/../plugins"

# The world each example implements.
declare -A WORLD=([redact_json]=transform [content_router]=routing [api_key_auth]=auth
  [noop_transform]=transform [noop_router]=routing [noisy_transform]=transform
  [uppercase]=transform)

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

# Builds the app module `app` in directory $1 for world $2 into $3. The
# bindings module `wit_world` is generated. Neither the venv's
# site-packages nor anything else is searched: a plugin's dependencies must
# be on these paths.
build_one() {
  env -u VIRTUAL_ENV "$venv/bin/componentize-py" --quiet -d ../wit -w "$2" componentize \
    -p "$1" -p sdk-python/src app -o "$3.tmp" \
    || die "componentize-py failed for $1 (see above)"
  if [[ "$COMPONENTIZE_PY_VERSION" == "$FREE_LISTS_PATCH_FOR" ]]; then
    "$venv/bin/python" sdk-python/tools/free_lowered_lists.py "$3.tmp" \
      || die "cannot patch $3 (see above)"
  fi
  mv "$3.tmp" "$3"
}

if [[ -n "$ext_source" ]]; then
  mkdir -p "$(dirname "$ext_out")"
  build_one "$ext_source" "$ext_world" "$ext_out"
  printf '%9d  %s\n' "$(stat -c %s "$ext_out")" "$ext_out"
  exit 0
fi

out=target/python
mkdir -p "$out"
names=("$@")
# Default: every example in WORLD, in name order.
[[ ${#names[@]} -gt 0 ]] || mapfile -t names < <(printf '%s\n' "${!WORLD[@]}" | LC_ALL=C sort)
for name in "${names[@]}"; do
  world=${WORLD[$name]:-}
  [[ -n "$world" ]] || die "unknown Python example '$name' (known: ${!WORLD[*]})"
  src=examples-python/$name
  wasm=$out/$name.wasm
  if [[ -f "$wasm" && -z "$(find "$src" sdk-python/src sdk-python/tools ../wit "$self" -type f -newer "$wasm" -print -quit)" ]]; then
    continue
  fi
  build_one "$src" "$world" "$wasm"
done
for name in "${names[@]}"; do
  printf '%9d  plugins/%s\n' "$(stat -c %s "$out/$name.wasm")" "$out/$name.wasm"
done
