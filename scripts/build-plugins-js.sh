#!/usr/bin/env bash
# Builds the JavaScript/TypeScript plugins in plugins/examples-js/ with the
# SDK's plugins/sdk-js/bin/componentize.mjs (rolldown, then componentize-qjs
# or componentize-js): plugins/target/js/<name>.wasm.
#
# Installs the SDK's pinned toolchain (plugins/sdk-js/package-lock.json)
# with 'npm ci' into plugins/sdk-js/node_modules when missing; a component
# newer than its source, the SDK and wit/ is not rebuilt. Fails loudly
# (non-zero exit, the command to run on stderr) when something cannot be had.
#
# Usage: scripts/build-plugins-js.sh [NAME...]   (default: every example)
#        scripts/build-plugins-js.sh --source FILE.{js,ts} --world WORLD --out OUT.wasm
#   SWITCHYARD_JS_BACKEND=starlingmonkey  builds with componentize-js instead of QuickJS
# The second form builds one plugin from outside the repository (a
# `switchyard plugin new` project), always, with the same toolchain.
set -euo pipefail

die() { printf 'build-plugins-js.sh: %s\n' "$*" >&2; exit 1; }

# Paths are made absolute before the cd below.
ext_source='' ext_world='' ext_out=''
if [[ "${1:-}" == --source ]]; then
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --source) ext_source=$(realpath -e -- "${2:?--source needs a file}" 2>/dev/null) || die "no such file: $2"; shift 2 ;;
      --world) ext_world=${2:?--world needs transform, routing or auth}; shift 2 ;;
      --out) ext_out=$(realpath -m -- "${2:?--out needs a path}"); shift 2 ;;
      *) die "unknown argument '$1' (usage: --source FILE.js --world WORLD --out OUT.wasm)" ;;
    esac
  done
  [[ "$ext_world" =~ ^(transform|routing|auth)$ ]] || die "--world must be transform, routing or auth"
  [[ -n "$ext_out" ]] || die "--out OUT.wasm is required"
fi
cd "$(dirname "$0")/../plugins"

# The world and source of each example.
declare -A WORLD=([redact_json]=transform [content_router]=routing [noop_transform]=transform [noop_router]=routing
  [noisy_transform]=transform)
declare -A SOURCE=([redact_json]=redact_json.js [content_router]=content_router.ts
  [noop_transform]=noop_transform.js [noop_router]=noop_router.js [noisy_transform]=noisy_transform.js)
backend=${SWITCHYARD_JS_BACKEND:-qjs}

command -v node >/dev/null || die "node not found: install Node.js 20+ (apt-get install nodejs npm)"
major=$(node -p 'process.versions.node.split(".")[0]')
[[ "$major" -ge 20 ]] || die "Node.js $major is too old: 20 or newer is needed"

# `npm ci` again whenever the lock file changed since the last install.
if [[ ! -f sdk-js/node_modules/.package-lock.json || sdk-js/package-lock.json -nt sdk-js/node_modules/.package-lock.json ]]; then
  command -v npm >/dev/null || die "npm not found (apt-get install npm)"
  echo "build-plugins-js.sh: installing the JS toolchain into plugins/sdk-js/node_modules (npm ci)" >&2
  (cd sdk-js && npm ci --no-audit --no-fund --loglevel=error) \
    || die "npm ci failed: run 'cd plugins/sdk-js && npm ci' to see why"
fi

if [[ -n "$ext_source" ]]; then
  mkdir -p "$(dirname "$ext_out")"
  node sdk-js/bin/componentize.mjs --world "$ext_world" --backend "$backend" -o "$ext_out.tmp" "$ext_source" >/dev/null \
    || die "componentizing $ext_source failed (see above)"
  mv "$ext_out.tmp" "$ext_out"
  printf '%9d  %s\n' "$(stat -c %s "$ext_out")" "$ext_out"
  exit 0
fi

out=target/js
[[ "$backend" == qjs ]] || out=target/js-$backend
mkdir -p "$out"
names=("$@")
# Default: every example in WORLD, in name order.
[[ ${#names[@]} -gt 0 ]] || mapfile -t names < <(printf '%s\n' "${!WORLD[@]}" | LC_ALL=C sort)
for name in "${names[@]}"; do
  world=${WORLD[$name]:-}
  [[ -n "$world" ]] || die "unknown JS example '$name' (known: ${!WORLD[*]})"
  src=examples-js/${SOURCE[$name]}
  wasm=$out/$name.wasm
  if [[ -f "$wasm" && -z "$(find "$src" sdk-js/src sdk-js/bin ../wit -type f -newer "$wasm" -print -quit)" ]]; then
    continue
  fi
  node sdk-js/bin/componentize.mjs --world "$world" --backend "$backend" -o "$wasm.tmp" "$src" >/dev/null \
    || die "componentizing $src failed (see above)"
  mv "$wasm.tmp" "$wasm"
done
for name in "${names[@]}"; do
  printf '%9d  plugins/%s\n' "$(stat -c %s "$out/$name.wasm")" "$out/$name.wasm"
done
