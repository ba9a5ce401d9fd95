#!/usr/bin/env bash
# Runs every fuzz target in fuzz/ for a few seconds (FUZZ_SECONDS, default
# 5) over its committed corpus: a check that the targets build and that the
# corpora still pass, not a fuzzing campaign (fuzz/README.md has the long
# runs). Installs the nightly toolchain and cargo-fuzz when missing. New
# inputs go to a temporary directory, so the committed corpora are not
# touched; a crash is left in fuzz/artifacts/<target>/ and fails the script.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

die() { printf 'fuzz-smoke.sh: %s\n' "$*" >&2; exit 1; }
seconds="${FUZZ_SECONDS:-5}"

command -v rustup >/dev/null || die "rustup not found (https://rustup.rs)"
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  rustup toolchain install nightly --profile minimal \
    || die "cannot install nightly: run 'rustup toolchain install nightly --profile minimal'"
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked || die "cannot install cargo-fuzz: run 'cargo install cargo-fuzz'"
fi

# No sanitizer: the library is safe Rust (`deny(unsafe_code)`), and
# AddressSanitizer would double the build time of wasmtime. Debug
# assertions stay on so that arithmetic overflow is a crash.
flags=(-O --debug-assertions --sanitizer none)
cargo +nightly fuzz build "${flags[@]}"

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
for target in $(cargo +nightly fuzz list); do
  mkdir -p "$scratch/$target" "corpus/$target"
  if ! cargo +nightly fuzz run "${flags[@]}" "$target" "$scratch/$target" "corpus/$target" -- \
      -max_total_time="$seconds" -print_final_stats=1 >"$scratch/$target.log" 2>&1; then
    tail -n 40 "$scratch/$target.log" >&2
    die "$target failed; the input is in fuzz/artifacts/$target/"
  fi
  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$scratch/$target.log")"
  printf '%-20s %10s runs in %ss\n' "$target" "${runs:-?}" "$seconds"
done
