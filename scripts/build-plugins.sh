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
set -euo pipefail
cd "$(dirname "$0")/../plugins"

die() { printf 'build-plugins.sh: %s\n' "$*" >&2; exit 1; }

command -v cargo >/dev/null || die "cargo not found: install Rust with rustup (https://rustup.rs)"
command -v rustup >/dev/null || die "rustup not found: needed to install the wasm32-wasip2 target"

if ! rustup target list --installed | grep -qx wasm32-wasip2; then
  echo "build-plugins.sh: installing the wasm32-wasip2 target" >&2
  rustup target add wasm32-wasip2 || die "cannot install the target: run 'rustup target add wasm32-wasip2'"
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
