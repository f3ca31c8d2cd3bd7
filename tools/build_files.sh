#!/usr/bin/env bash
# Prints the BUILD, .bzl and WORKSPACE files that buildifier formats (make fmt)
# and checks (make lint): every one git knows of, tracked or new, except those
# in `pending` below.
set -euo pipefail
cd "$(dirname "$0")/.."
# Files being rewritten in parallel work when buildifier was turned on; each
# is formatted (make fmt) and taken off this list once that work has landed.
pending=(
  geo/http/BUILD.bazel
  geo/server/BUILD.bazel
  third_party/BUILD.bazel
)
git ls-files --cached --others --exclude-standard \
  'BUILD.bazel' '*/BUILD.bazel' '*.bzl' 'WORKSPACE' |
  grep -vxF -f <(printf '%s\n' "${pending[@]}") || true
