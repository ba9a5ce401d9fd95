#!/usr/bin/env bash
# Builds the C plugins in plugins/examples-c/<name>.c with the SDK in
# plugins/sdk-c: plugins/target/c/<name>.wasm.
#
#   1. the world's bindings are the committed plugins/sdk-c/bindings/<world>/
#      (`wit-bindgen c` output; scripts/regen-c-bindings.sh regenerates them
#      and this script refuses to build when wit/ changed since);
#   2. `zig cc` (PyPI `ziglang`) compiles them, the SDK and the plugin for
#      wasm32-wasi as a reactor (no `main`), with wasi-libc;
#   3. plugins/sdk-c/bin/componentize.mjs (node, with jco from the JS SDK's
#      toolchain) embeds the world's component type from wit/ and turns the
#      core module into a component (with the WASI preview1 adapter only if
#      the module imports WASI; the examples do not).
#
# Installs the pinned tools when missing: ziglang with pip into
# plugins/.tools/venv, the JS toolchain with 'npm ci' into
# plugins/sdk-js/node_modules (as scripts/build-plugins-js.sh does). No
# cargo install. A component newer than its source, the SDK and wit/ is not
# rebuilt. Fails loudly (non-zero exit, the command to run on stderr) when
# something cannot be had.
#
# Usage: scripts/build-plugins-c.sh [NAME...]   (default: every example)
#        scripts/build-plugins-c.sh --source FILE.c --world WORLD --out OUT.wasm
# The second form builds one plugin from outside the repository (a
# `switchyard plugin new` project), always, with the same toolchain and flags.
set -euo pipefail

die() { printf 'build-plugins-c.sh: %s\n' "$*" >&2; exit 1; }

# Paths are made absolute before the cd below.
ext_source='' ext_world='' ext_out=''
if [[ "${1:-}" == --source ]]; then
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --source) ext_source=$(realpath -e -- "${2:?--source needs a file}" 2>/dev/null) || die "no such file: $2"; shift 2 ;;
      --world) ext_world=${2:?--world needs transform, routing or auth}; shift 2 ;;
      --out) ext_out=$(realpath -m -- "${2:?--out needs a path}"); shift 2 ;;
      *) die "unknown argument '$1' (usage: --source FILE.c --world WORLD --out OUT.wasm)" ;;
    esac
  done
  [[ "$ext_world" =~ ^(transform|routing|auth)$ ]] || die "--world must be transform, routing or auth"
  [[ -n "$ext_out" ]] || die "--out OUT.wasm is required"
fi
cd "$(dirname "$0")/../plugins"

ZIGLANG_VERSION=0.17.0

declare -A WORLD=([redact_json]=transform [content_router]=routing [token_auth]=auth
  [noop_transform]=transform [noop_router]=routing)

# The committed bindings must be those of today's wit/: the hashes of wit/
# and of the generated files, recomputed, against those regen-c-bindings.sh
# recorded. Cheap, and needs no wit-bindgen.
sums=sdk-c/bindings/SOURCES.sha256
[[ -f "$sums" ]] || die "plugins/$sums is missing: run scripts/regen-c-bindings.sh"
now=$(cd .. && { find wit -type f | LC_ALL=C sort | xargs sha256sum
  (cd plugins/sdk-c/bindings && find . -type f ! -name SOURCES.sha256 | sed 's|^\./||' | LC_ALL=C sort | xargs sha256sum | sed 's|  |  plugins/sdk-c/bindings/|'); })
if ! stale=$(diff <(cat "$sums") <(printf '%s\n' "$now")); then
  printf '%s\n' "$stale" >&2
  die "the C bindings in plugins/sdk-c/bindings were not generated from this wit/ (or were edited; diff above: < recorded, > now): run scripts/regen-c-bindings.sh and commit its output"
fi

# SWITCHYARD_PLUGIN_TOOLS may point at a directory that outlives the clone
# (a CI cache), so zig's cache of wasi-libc is built once per machine.
tools=${SWITCHYARD_PLUGIN_TOOLS:-$PWD/.tools}
zig=("$tools/venv/bin/python" -m ziglang)
if ! "${zig[@]}" version 2>/dev/null | grep -qxF "$ZIGLANG_VERSION"; then
  command -v python3 >/dev/null || die "python3 not found: needed for PyPI ziglang (apt-get install python3-venv)"
  [[ -x "$tools/venv/bin/python" ]] || python3 -m venv "$tools/venv" \
    || die "cannot create plugins/.tools/venv (apt-get install python3-venv)"
  echo "build-plugins-c.sh: installing ziglang $ZIGLANG_VERSION into $tools/venv" >&2
  "$tools/venv/bin/python" -m pip install --quiet --disable-pip-version-check "ziglang==$ZIGLANG_VERSION" \
    || die "cannot install ziglang: run 'plugins/.tools/venv/bin/python -m pip install ziglang==$ZIGLANG_VERSION'"
fi
# zig keeps its compilation cache here rather than in $HOME.
export ZIG_GLOBAL_CACHE_DIR="$tools/zig-cache" ZIG_LOCAL_CACHE_DIR="$tools/zig-cache"

# jco, from the JS SDK's pinned toolchain: `npm ci` again whenever the lock
# file changed since the last install (the same test as build-plugins-js.sh).
command -v node >/dev/null || die "node not found: install Node.js 20+ (apt-get install nodejs npm)"
major=$(node -p 'process.versions.node.split(".")[0]')
[[ "$major" -ge 20 ]] || die "Node.js $major is too old: 20 or newer is needed"
if [[ ! -f sdk-js/node_modules/.package-lock.json || sdk-js/package-lock.json -nt sdk-js/node_modules/.package-lock.json ]]; then
  command -v npm >/dev/null || die "npm not found (apt-get install npm)"
  echo "build-plugins-c.sh: installing the JS toolchain (for jco) into plugins/sdk-js/node_modules (npm ci)" >&2
  (cd sdk-js && npm ci --no-audit --no-fund --loglevel=error) \
    || die "npm ci failed: run 'cd plugins/sdk-js && npm ci' to see why"
fi

# Compiles C source $1 for world $2 into the component $3.
build_one() {
  local src=$1 world=$2 wasm=$3
  local bindings=sdk-c/bindings/$world core=$3.core.wasm
  "${zig[@]}" cc -target wasm32-wasi -mexec-model=reactor -O2 -std=c11 -D_GNU_SOURCE \
    -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers \
    -DSY_WORLD_"${world^^}" -Isdk-c/include -I"$bindings" -I"$(dirname "$src")" \
    sdk-c/src/switchyard_plugin.c sdk-c/src/switchyard_json.c "$src" \
    "$bindings/$world.c" "$bindings/${world}_component_type.c" \
    -Wl,--strip-debug -Wl,-z,stack-size=131072 -o "$core" \
    || die "zig cc failed for $src (see above)"
  node sdk-c/bin/componentize.mjs --world "$world" --wit ../wit -o "$wasm.tmp" "$core" \
    || die "componentizing $src failed (see above)"
  mv "$wasm.tmp" "$wasm"
  rm -f "$core"
}

if [[ -n "$ext_source" ]]; then
  mkdir -p "$(dirname "$ext_out")"
  build_one "$ext_source" "$ext_world" "$ext_out"
  printf '%9d  %s\n' "$(stat -c %s "$ext_out")" "$ext_out"
  exit 0
fi

out=target/c
mkdir -p "$out"
names=("$@")
[[ ${#names[@]} -gt 0 ]] || names=(redact_json content_router token_auth noop_transform noop_router)
for name in "${names[@]}"; do
  world=${WORLD[$name]:-}
  [[ -n "$world" ]] || die "unknown C example '$name' (known: ${!WORLD[*]})"
  src=examples-c/$name.c
  wasm=$out/$name.wasm
  if [[ -f "$wasm" && -z "$(find "$src" sdk-c ../wit -type f -newer "$wasm" -print -quit)" ]]; then
    continue
  fi
  build_one "$src" "$world" "$wasm"
done
for name in "${names[@]}"; do
  printf '%9d  plugins/%s\n' "$(stat -c %s "$out/$name.wasm")" "$out/$name.wasm"
done
