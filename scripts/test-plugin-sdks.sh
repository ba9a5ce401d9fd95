#!/usr/bin/env bash
# Unit tests of the Python, JavaScript and C plugin SDKs' pure parts
# (header parsing, batch walking, UTF-8, the C JSON parser), run on the
# build machine without a broker or a wasm toolchain. The SDKs end to end
# are tested by tests/integration/plugins_polyglot.rs.
set -euo pipefail
cd "$(dirname "$0")/../plugins"

die() { printf 'test-plugin-sdks.sh: %s\n' "$*" >&2; exit 1; }

command -v python3 >/dev/null || die "python3 not found"
python3 -m unittest discover -s sdk-python/tests || die "Python SDK tests failed"

command -v node >/dev/null || die "node not found: install Node.js 20+"
node --test sdk-js/test/ || die "JS SDK tests failed"

cc=${CC:-cc}
command -v "$cc" >/dev/null || die "no C compiler ($cc): apt-get install gcc"
bin=$(mktemp)
trap 'rm -f "$bin"' EXIT
"$cc" -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -fsanitize=address,undefined \
  -Isdk-c/include sdk-c/tests/test_json.c sdk-c/src/switchyard_json.c -o "$bin" \
  || die "cannot compile the C SDK tests"
"$bin" || die "C SDK tests failed"
