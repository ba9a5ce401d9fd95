#!/usr/bin/env bash
# Builds the C plugins in plugins/examples-c/<name>.c with the SDK in
# plugins/sdk-c: plugins/target/c/<name>.wasm.
#
#   1. `wit-bindgen c` generates the bindings of the plugin's world from wit/;
#   2. `zig cc` (PyPI `ziglang`) compiles them, the SDK and the plugin for
#      wasm32-wasi as a reactor (no `main`), with wasi-libc;
#   3. `wasm-tools component new` turns the core module into a component
#      (with the WASI preview1 adapter only if the module imports WASI; the
#      examples do not).
#
# Installs the pinned tools when missing: wit-bindgen-cli and wasm-tools with
# 'cargo install --locked' into plugins/.tools (a few minutes, once), ziglang
# with pip into plugins/.tools/venv. A component newer than its source, the
# SDK and wit/ is not rebuilt. Fails loudly (non-zero exit, the command to
# run on stderr) when something cannot be had.
#
# Usage: scripts/build-plugins-c.sh [NAME...]   (default: every example)
set -euo pipefail
cd "$(dirname "$0")/../plugins"

WIT_BINDGEN_VERSION=0.61.1   # the version the Rust SDK uses
WASM_TOOLS_VERSION=1.258.3   # the wit-component of that wit-bindgen
ZIGLANG_VERSION=0.17.0

die() { printf 'build-plugins-c.sh: %s\n' "$*" >&2; exit 1; }

declare -A WORLD=([redact_json]=transform [content_router]=routing [token_auth]=auth)

# SWITCHYARD_PLUGIN_TOOLS may point at a directory that outlives the clone
# (a CI cache), so the cargo installs happen once per machine.
tools=${SWITCHYARD_PLUGIN_TOOLS:-$PWD/.tools}
# Installed apart from any shared target directory, so a test run or
# another build holding its lock does not block the install.
cargo_install() { # crate version features
  command -v cargo >/dev/null || die "cargo not found: install Rust with rustup (https://rustup.rs)"
  echo "build-plugins-c.sh: installing $1 $2 into plugins/.tools (cargo install, a few minutes once)" >&2
  CARGO_TARGET_DIR="$tools/build" cargo install --quiet --locked --root "$tools" \
    --no-default-features --features "$3" "$1@$2" \
    || die "cannot install $1: run 'cargo install --locked --root plugins/.tools --no-default-features --features $3 $1@$2'"
  rm -rf "$tools/build"
}
"$tools/bin/wit-bindgen" --version 2>/dev/null | grep -qF " $WIT_BINDGEN_VERSION" \
  || cargo_install wit-bindgen-cli "$WIT_BINDGEN_VERSION" c
"$tools/bin/wasm-tools" --version 2>/dev/null | grep -qF " $WASM_TOOLS_VERSION" \
  || cargo_install wasm-tools "$WASM_TOOLS_VERSION" component,validate,print

zig=("$tools/venv/bin/python" -m ziglang)
if ! "${zig[@]}" version 2>/dev/null | grep -qxF "$ZIGLANG_VERSION"; then
  command -v python3 >/dev/null || die "python3 not found: needed for PyPI ziglang (apt-get install python3-venv)"
  [[ -x "$tools/venv/bin/python" ]] || python3 -m venv "$tools/venv" \
    || die "cannot create plugins/.tools/venv (apt-get install python3-venv)"
  echo "build-plugins-c.sh: installing ziglang $ZIGLANG_VERSION into plugins/.tools/venv" >&2
  "$tools/venv/bin/python" -m pip install --quiet --disable-pip-version-check "ziglang==$ZIGLANG_VERSION" \
    || die "cannot install ziglang: run 'plugins/.tools/venv/bin/python -m pip install ziglang==$ZIGLANG_VERSION'"
fi
# zig keeps its compilation cache here rather than in $HOME.
export ZIG_GLOBAL_CACHE_DIR="$tools/zig-cache" ZIG_LOCAL_CACHE_DIR="$tools/zig-cache"

out=target/c
mkdir -p "$out"
names=("$@")
[[ ${#names[@]} -gt 0 ]] || names=(redact_json content_router token_auth)
for name in "${names[@]}"; do
  world=${WORLD[$name]:-}
  [[ -n "$world" ]] || die "unknown C example '$name' (known: ${!WORLD[*]})"
  src=examples-c/$name.c
  wasm=$out/$name.wasm
  if [[ -f "$wasm" && -z "$(find "$src" sdk-c ../wit -type f -newer "$wasm" -print -quit)" ]]; then
    continue
  fi
  bindings=$out/bindings/$world
  rm -rf "$bindings"
  log=$("$tools/bin/wit-bindgen" c ../wit --world "$world" --out-dir "$bindings" 2>&1) \
    || die "wit-bindgen c failed for world $world: $log"
  "${zig[@]}" cc -target wasm32-wasi -mexec-model=reactor -O2 -std=c11 -D_GNU_SOURCE \
    -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers \
    -DSY_WORLD_"${world^^}" -Isdk-c/include -I"$bindings" \
    sdk-c/src/switchyard_plugin.c sdk-c/src/switchyard_json.c "$src" \
    "$bindings/$world.c" "$bindings/${world}_component_type.o" \
    -Wl,--strip-debug -Wl,-z,stack-size=131072 -o "$out/$name.core.wasm" \
    || die "zig cc failed for $src (see above)"
  adapt=()
  if "$tools/bin/wasm-tools" print "$out/$name.core.wasm" | grep -q '(import "wasi_snapshot_preview1"'; then
    adapter=$(find "${CARGO_HOME:-$HOME/.cargo}/registry/src" -path '*wasi-preview1-component-adapter-provider-*/artefacts/wasi_snapshot_preview1.reactor.wasm' 2>/dev/null | sort | tail -n1)
    [[ -n "$adapter" ]] || die "$name imports WASI and needs the preview1 reactor adapter (crate wasi-preview1-component-adapter-provider): run 'cargo fetch' in a crate depending on it"
    adapt=(--adapt "wasi_snapshot_preview1=$adapter")
  fi
  "$tools/bin/wasm-tools" component new "$out/$name.core.wasm" "${adapt[@]}" -o "$wasm.tmp" \
    || die "wasm-tools component new failed for $name"
  "$tools/bin/wasm-tools" validate "$wasm.tmp" || die "$name: the component does not validate"
  mv "$wasm.tmp" "$wasm"
  rm -f "$out/$name.core.wasm"
done
for name in "${names[@]}"; do
  printf '%9d  plugins/%s\n' "$(stat -c %s "$out/$name.wasm")" "$out/$name.wasm"
done
