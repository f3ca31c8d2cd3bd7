#!/usr/bin/env bash
# Guards the TSan configuration against silently going blind.
#   $1: the canary program; $2: "tsan" when built with --config=tsan.
# Under TSan: the absl::Mutex-locked program must run clean (TSan sees abseil's
# locks) and the planted race must be reported. Without TSan: the locked program
# must still count correctly.
set -u
program=$1
mode=${2:-plain}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

if ! "$program" locked >"$log" 2>&1; then
  echo "FAIL: the correctly locked program failed:"; cat "$log"; exit 1
fi
if grep -q "ThreadSanitizer" "$log"; then
  echo "FAIL: TSan reported a race in the correctly locked program (is abseil instrumented?):"
  cat "$log"; exit 1
fi
echo "ok: locked program clean"

if [ "$mode" != tsan ]; then
  echo "not a TSan build: the planted race is not checked"
  exit 0
fi
"$program" race >"$log" 2>&1
status=$?
if ! grep -q "WARNING: ThreadSanitizer: data race" "$log"; then
  echo "FAIL: TSan did not report the planted race (exit $status); the tsan config is blind:"
  cat "$log"; exit 1
fi
echo "ok: planted race reported (exit $status)"
