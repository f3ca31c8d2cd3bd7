#!/usr/bin/env bash
# `make bench` and `make bench-quick`: builds the binaries the benchmarks run
# and hands over to tools/bench/run.py, which runs the plan, records every
# measurement as JSON and renders the report (tools/bench/README.md). This
# shell only builds, pins the bench to the load generator's CPU and cleans up.
#
# Environment (the full list is in tools/bench/README.md): BENCH_QUICK=1 runs
# every row for ~1 s per point to test the plumbing and writes under
# ${TMPDIR:-/tmp}/geo-bench-quick unless BENCH_OUT / BENCH_JSON say otherwise;
# a full run writes docs/benchmarks.md and docs/benchmarks.json.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
BAZEL=${BAZEL:-bazel}
# Before the build adds its own load.
load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)
log() { echo "bench: $*" >&2; }

if [ "${BENCH_QUICK:-0}" != 0 ]; then
  quick_dir=${TMPDIR:-/tmp}/geo-bench-quick
  mkdir -p "$quick_dir"
  out=${BENCH_OUT:-$quick_dir/benchmarks.md}
  json=${BENCH_JSON:-$quick_dir/benchmarks.json}
else
  out=${BENCH_OUT:-$root/docs/benchmarks.md}
  json=${BENCH_JSON:-$root/docs/benchmarks.json}
fi

[ "$(nproc)" -ge 2 ] || { log "needs 2 CPUs (server and load generator pinned apart)"; exit 1; }
for tool in wrk nginx h2load taskset curl python3; do
  command -v "$tool" >/dev/null || { log "missing $tool: run make setup"; exit 1; }
done
[ -f /usr/lib/nginx/modules/ngx_http_geoip2_module.so ] ||
  { log "missing ngx_http_geoip2_module (libnginx-mod-http-geoip2): run make setup"; exit 1; }

work=$(mktemp -d /tmp/geo-bench.XXXXXX)
bench_pid=""
cleanup() {
  if [ -n "$bench_pid" ]; then
    kill -TERM "$bench_pid" 2>/dev/null || true
    wait "$bench_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Build, then copy the binaries out: others may rebuild bazel-bin meanwhile.
# BENCH_BIN_DIR names a directory of already built binaries instead (the five
# below, side by side), e.g. to measure a build kept from an earlier commit.
binaries=(geo_server lookup_benchmark empty_grpc_server grpc_lookup_tool reload_driver)
mkdir -p "$work/bin"
if [ -n "${BENCH_BIN_DIR:-}" ]; then
  for b in "${binaries[@]}"; do cp "$BENCH_BIN_DIR/$b" "$work/bin/"; done
else
  log "building (--config=opt)"
  $BAZEL build --config=opt //geo:geo_server //tests/bench:lookup_benchmark \
    //tests/bench:empty_grpc_server //tests/bench:grpc_lookup_tool \
    //tests/bench:reload_driver >&2
  bin_dir=$($BAZEL info --config=opt bazel-bin 2>/dev/null)
  cp "$bin_dir/geo/geo_server" "$bin_dir/tests/bench/lookup_benchmark" \
    "$bin_dir/tests/bench/empty_grpc_server" "$bin_dir/tests/bench/grpc_lookup_tool" \
    "$bin_dir/tests/bench/reload_driver" "$work/bin/"
fi

# The bench and everything it starts without its own pinning (reload driver,
# scraper, checks) count as load: keep them off the server's CPU.
PYTHONDONTWRITEBYTECODE=1 taskset -c 1 python3 tools/bench/run.py --bin-dir "$work/bin" --work "$work" \
  --json "$json" --out "$out" --load-at-start "$load_at_start" &
bench_pid=$!
status=0
wait "$bench_pid" || status=$?
bench_pid=""
exit "$status"
