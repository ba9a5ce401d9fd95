#!/usr/bin/env bash
# Builds every plugin in plugins/ (its own Cargo workspace) as a WebAssembly
# component, in release: plugins/target/wasm32-wasip2/release/<name>.wasm.
# Installs the wasm32-wasip2 target if missing; fails loudly (non-zero exit,
# the command to run on stderr) when something cannot be had.
#
# Without arguments it then builds the Python, JavaScript/TypeScript and C
# example plugins too (scripts/build-plugins-{python,js,c}.sh: each
# installs its pinned toolchain on first use, see docs/plugins.md).
#
# Usage: scripts/build-plugins.sh [extra cargo build arguments, e.g. -p redact_json]
#        scripts/build-plugins.sh --crate DIR --out OUT.wasm
# The second form builds one plugin crate from outside this workspace (a
# `switchyard plugin new` project, its own workspace with a path dependency
# on plugins/sdk) into OUT.wasm, in release, with the same target. Its
# target directory is $CARGO_TARGET_DIR, by default plugins/target/plugin-new
# (shared by every such project, so dependencies compile once, and apart
# from this workspace's outputs, which a project of the same name would
# overwrite). A crate without a Cargo.lock gets a copy of plugins/Cargo.lock,
# so it builds with the versions the SDK is tested with.
set -euo pipefail

die() { printf 'build-plugins.sh: %s\n' "$*" >&2; exit 1; }

# Paths are made absolute before the cd below.
ext_crate='' ext_out=''
if [[ "${1:-}" == --crate ]]; then
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --crate) ext_crate=$(realpath -e -- "${2:?--crate needs a directory}" 2>/dev/null) || die "no such directory: $2"; shift 2 ;;
      --out) ext_out=$(realpath -m -- "${2:?--out needs a path}"); shift 2 ;;
      *) die "unknown argument '$1' (usage: --crate DIR --out OUT.wasm)" ;;
    esac
  done
  [[ -f "$ext_crate/Cargo.toml" ]] || die "$ext_crate has no Cargo.toml"
  [[ -n "$ext_out" ]] || die "--out OUT.wasm is required"
fi
cd "$(dirname "$0")/../plugins"

command -v cargo >/dev/null || die "cargo not found: install Rust with rustup (https://rustup.rs)"
command -v rustup >/dev/null || die "rustup not found: needed to install the wasm32-wasip2 target"

if ! rustup target list --installed | grep -qx wasm32-wasip2; then
  echo "build-plugins.sh: installing the wasm32-wasip2 target" >&2
  rustup target add wasm32-wasip2 || die "cannot install the target: run 'rustup target add wasm32-wasip2'"
fi

if [[ -n "$ext_crate" ]]; then
  target_dir=${CARGO_TARGET_DIR:-$PWD/target/plugin-new}
  [[ -f "$ext_crate/Cargo.lock" ]] || cp Cargo.lock "$ext_crate/Cargo.lock"
  # The library's name: the package's, with `-` as `_` (cargo's rule).
  lib=$(sed -n 's/^name *= *"\([^"]*\)".*/\1/p' "$ext_crate/Cargo.toml" | head -n 1)
  [[ -n "$lib" ]] || die "no package name in $ext_crate/Cargo.toml"
  cargo build --release --target wasm32-wasip2 --manifest-path "$ext_crate/Cargo.toml" --target-dir "$target_dir" \
    || die "plugin build failed: run 'cargo build --release --target wasm32-wasip2' in $ext_crate to see why"
  built=$target_dir/wasm32-wasip2/release/${lib//-/_}.wasm
  [[ -f "$built" ]] || die "no component at $built after a successful build (is the crate a cdylib?)"
  mkdir -p "$(dirname "$ext_out")"
  cp "$built" "$ext_out"
  printf '%8d  %s\n' "$(stat -c %s "$ext_out")" "$ext_out"
  exit 0
fi

# The target comes from plugins/.cargo/config.toml; naming it again keeps the
# output path fixed even if someone's own cargo config sets another target.
# Always into plugins/target, where the broker and the tests look, even
# when CARGO_TARGET_DIR points elsewhere.
cargo build --release --workspace --target wasm32-wasip2 --target-dir "$PWD/target" "$@" \
  || die "plugin build failed: run 'cd plugins && cargo build --release --target wasm32-wasip2' to see why"

out=target/wasm32-wasip2/release
ls "$out"/*.wasm >/dev/null 2>&1 || die "no components in plugins/$out after a successful build"
for wasm in "$out"/*.wasm; do
  printf '%8d  plugins/%s\n' "$(stat -c %s "$wasm")" "$wasm"
done

if [[ $# -eq 0 ]]; then
  for lang in python js c; do
    "../scripts/build-plugins-$lang.sh" || die "the $lang plugins did not build: run scripts/build-plugins-$lang.sh"
  done
fi
