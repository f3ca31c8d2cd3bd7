#!/usr/bin/env bash
# The README's configuration table must list exactly the server's settings, with
# the defaults `geo_server --help` prints (both come from one table in
# geo/server/server_options.cc).
#   $1: geo_server binary; $2: README.md
set -u
server=$1
readme=$2
expected=$(mktemp)
documented=$(mktemp)
trap 'rm -f "$expected" "$documented"' EXIT

"$server" --help |
  sed -n 's/^  --\([a-z_]*\) (\([A-Z_]*\), default "\(.*\)")$/\1 \2 \3/p' | sort >"$expected"
# Rows look like: | `--flag` | `ENV` | `default` or (none) | meaning |
sed -n 's/^| `--\([a-z_]*\)` | `\([A-Z_]*\)` | \([^|]*\) |.*$/\1 \2 \3/p' "$readme" |
  sed 's/ `\(.*\)` *$/ \1/; s/ (none) *$/ /' | sed 's/ *$//' | sort >"$documented"
sed -i 's/ *$//' "$expected"

if [ ! -s "$expected" ]; then
  echo "FAIL: geo_server --help listed no settings"; exit 1
fi
if ! diff -u "$expected" "$documented"; then
  echo "FAIL: README.md's configuration table differs from geo_server --help (- code, + README)"
  exit 1
fi
echo "ok: $(wc -l <"$expected") settings documented"
