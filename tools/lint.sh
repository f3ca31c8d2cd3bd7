#!/usr/bin/env bash
# make lint: formatting of our C++, protos and BUILD files, buf lint, and buf breaking of api/
# against the previous commit (so a change that breaks the wire or JSON contract
# of geo.v1 fails before it lands).
set -euo pipefail
cd "$(dirname "$0")/.."
buf=.deps/node_modules/.bin/buf
status=0

# Untracked files too (not ignored): a new file must be clean before its commit.
mapfile -t sources < <(git ls-files --cached --others --exclude-standard '*.cc' '*.h' '*.proto' | grep -v '^third_party/' || true)
if [ ${#sources[@]} -gt 0 ]; then
  if ! clang-format --dry-run --Werror "${sources[@]}"; then
    echo "lint: clang-format differs; run 'make fmt'"; status=1
  fi
fi

# BUILD, .bzl and WORKSPACE files: buildifier's formatting.
mapfile -t build_files < <(bash tools/build_files.sh)
if [ ${#build_files[@]} -gt 0 ]; then
  if ! .deps/node_modules/.bin/buildifier -mode=check "${build_files[@]}"; then
    echo "lint: buildifier differs; run 'make fmt'"; status=1
  fi
fi

"$buf" lint api || { echo "lint: buf lint failed"; status=1; }

# buf breaking against the previous commit's api/ (checked out in a worktree; the
# googleapis module comes from the same local .deps link).
base=${GEO_BREAKING_BASE:-HEAD~1}
if git rev-parse -q --verify "$base^{commit}" >/dev/null && git cat-file -e "$base:api" 2>/dev/null; then
  against=$(mktemp -d)
  trap 'git worktree remove --force "$against/tree" >/dev/null 2>&1; rm -rf "$against"' EXIT
  git worktree add --detach -q "$against/tree" "$base"
  ln -sfn "$(pwd)/.deps" "$against/tree/.deps"
  cp buf.yaml "$against/tree/buf.yaml"
  if ! "$buf" breaking api --against "$against/tree/api"; then
    echo "lint: api/ breaks compatibility with $base"; status=1
  fi
else
  echo "lint: no api/ in $base; buf breaking skipped"
fi
[ $status = 0 ] && echo "lint: ok"
exit $status
