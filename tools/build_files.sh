#!/usr/bin/env bash
# Prints the BUILD, .bzl and WORKSPACE files that buildifier formats (make fmt)
# and checks (make lint): every one git knows of, tracked or new.
set -euo pipefail
cd "$(dirname "$0")/.."
git ls-files --cached --others --exclude-standard \
  'BUILD.bazel' '*/BUILD.bazel' '*.bzl' 'WORKSPACE'
