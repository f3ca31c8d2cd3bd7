#!/usr/bin/env bash
# Runs every libFuzzer target in //tests/fuzz for FUZZ_SECONDS each.
#   tools/fuzz.sh                 all targets, FUZZ_SECONDS (default 60) each
#   tools/fuzz.sh http_request_fuzzer ...   only those
# New coverage goes to .deps/fuzz/<target>/ (ignored by git); crash inputs to
# .deps/fuzz/crashes/<target>/. Keep a crash: fix the bug, then copy the input
# into tests/fuzz/corpus/<target>/ so `bazel test //tests/fuzz/...` replays it
# forever. Prints one summary line per target and fails if any target crashed.
set -euo pipefail
cd "$(dirname "$0")/.."
BAZEL=${BAZEL:-bazel}
seconds=${FUZZ_SECONDS:-60}
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  # Every geo_fuzz_target (tests/fuzz/fuzz.bzl tags them), so a new target is
  # fuzzed without being listed here.
  mapfile -t targets < <("$BAZEL" query --noshow_progress \
    'attr(tags, "\bfuzz_target\b", //tests/fuzz:all)' 2>/dev/null | sed 's#^//tests/fuzz:##')
  if [ ${#targets[@]} -eq 0 ]; then
    echo "fuzz: bazel query found no fuzz_target in //tests/fuzz" >&2
    exit 1
  fi
fi
labels=()
for t in "${targets[@]}"; do labels+=("//tests/fuzz:$t"); done
"$BAZEL" build --config=fuzz "${labels[@]}"
bin=$("$BAZEL" info --config=fuzz bazel-bin 2>/dev/null)
# The memory oracle, per target: a unit whose process grows past rss MB, or
# that asks for one allocation over malloc MB, is a finding ("out-of-memory";
# the input lands in the crash directory). Resident memory includes ASan's
# shadow and its 256 MB quarantine. The HTTP server's limits in
# http_request_fuzzer (2 KiB headers, 8 KiB bodies) mean no unit needs more
# than a few MB: anything buffered without a bound shows up here.
memory_limits() {
  case "$1" in
    http_request_fuzzer) echo "1024 64" ;;
    ip_address_fuzzer | batch_body_fuzzer | updater_metadata_fuzzer)
      echo "1024 256" ;;
    *) echo "4096 1024" ;;
  esac
}
root=$(pwd)
failed=0
summary=()
for t in "${targets[@]}"; do
  work="$root/.deps/fuzz/$t"
  crashes="$root/.deps/fuzz/crashes/$t"
  mkdir -p "$work" "$crashes"
  log="$root/.deps/fuzz/$t.log"
  echo "fuzz: $t for ${seconds}s (log $log)"
  # Read-only seeds from outside the repository: MaxMind's test databases
  # (Debian's libmaxminddb source) and the crafted database the build writes
  # (//tests/fuzz:crafted_database_seed_mmdb) for the database fuzzer, and
  # the crafted records (//tests/fuzz:crafted_record_seeds_data) for the
  # decoder fuzzer.
  seeds=()
  if [ "$t" = database_open_fuzzer ]; then
    seeds=("$root/.deps/libmaxminddb-src/t/maxmind-db/test-data"
           "$root/.deps/libmaxminddb-src/t/maxmind-db/bad-data"
           "$bin/tests/fuzz/crafted")
  elif [ "$t" = maxmind_decoder_fuzzer ]; then
    seeds=("$bin/tests/fuzz/crafted_records")
  fi
  read -r rss_mb malloc_mb < <(memory_limits "$t")
  # TEST_SRCDIR: the runfiles, where geo::testing finds MaxMind's test data.
  set +e
  TEST_SRCDIR="$bin/tests/fuzz/$t.runfiles" \
    ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
    UBSAN_OPTIONS=print_stacktrace=1 \
    "$bin/tests/fuzz/$t" -max_total_time="$seconds" -timeout=25 \
    -rss_limit_mb="$rss_mb" -malloc_limit_mb="$malloc_mb" -print_final_stats=1 \
    -artifact_prefix="$crashes/" "$work" "tests/fuzz/corpus/$t" "${seeds[@]}" >"$log" 2>&1
  status=$?
  set -e
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo "?")
  corpus=$(find "$work" -type f | wc -l)
  line="$t: ${seconds}s, $runs executions, cov $cov, work corpus $corpus files, memory limits ${rss_mb}/${malloc_mb} MB"
  if [ $status -ne 0 ]; then
    failed=1
    line="$line, FAILED (exit $status; inputs in $crashes)"
    grep -m3 -E 'ERROR|FUZZ_CHECK|SUMMARY' "$log" || true
  fi
  summary+=("$line")
done
printf 'fuzz: %s\n' "${summary[@]}"
exit $failed
