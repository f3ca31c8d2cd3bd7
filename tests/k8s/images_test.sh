#!/usr/bin/env bash
# Checks //k8s:images, the OCI layout built by umoci:
#  - skopeo inspect: entrypoint, numeric non-root user, OCI labels, ports;
#  - both images share the base layer (same digest) and add one layer each;
#  - reproducible: building again from the same binaries gives the same digests;
#  - each image's unpacked root filesystem runs its entrypoint with nothing from
#    the host: chroot into the rootfs, as user 65532, empty environment, in
#    fresh mount/PID/network namespaces (unshare), with only /proc mounted;
#    the server then serves a MaxMind test database and answers a lookup over
#    HTTP inside that namespace.
# usage: images_test.sh LAYOUT BUILDER VERSION SERVER_BINARY UPDATER_BINARY MAXMIND_TESTDATA_ROOT
set -euo pipefail
layout=$1 builder=$2 version=$3 server_binary=$4 updater_binary=$5
testdata=$(dirname "$(readlink -f "$6")")/data/test-data
work=${TEST_TMPDIR:-$(mktemp -d)}/images
rm -rf "$work" && mkdir -p "$work"
failures=0
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
expect() {  # expect WHAT ACTUAL EXPECTED
  if [ "$2" = "$3" ]; then echo "ok   $1: $2"; else fail "$1: got '$2', want '$3'"; fi
}

# umoci takes a lock inside the layout: work on a writable copy.
cp -rL "$layout" "$work/layout"
chmod -R u+w "$work/layout"

declare -A entrypoint=([geo-server]=/usr/local/bin/geo_server [updater]=/usr/local/bin/updater)
declare -A ports=([geo-server]="50051/tcp 8080/tcp 9090/tcp" [updater]="9102/tcp")
declare -A base_layer
for image in geo-server updater; do
  config=$(skopeo inspect --config "oci:$work/layout:$image")
  manifest=$(skopeo inspect "oci:$work/layout:$image")
  expect "$image entrypoint" "$(jq -c '.config.Entrypoint' <<<"$config")" "[\"${entrypoint[$image]}\"]"
  expect "$image cmd" "$(jq -c '.config.Cmd // []' <<<"$config")" "[]"
  user=$(jq -r '.config.User' <<<"$config")
  if [[ "$user" =~ ^[0-9]+:[0-9]+$ ]] && [ "${user%%:*}" != 0 ]; then echo "ok   $image user: $user"; else fail "$image user '$user' is not a numeric non-root uid:gid"; fi
  expect "$image version label" "$(jq -r '.config.Labels["org.opencontainers.image.version"]' <<<"$config")" "$version"
  for label in revision source created title; do
    value=$(jq -r ".config.Labels[\"org.opencontainers.image.$label\"] // \"\"" <<<"$config")
    [ -n "$value" ] && echo "ok   $image $label label: $value" || fail "$image has no org.opencontainers.image.$label label"
  done
  expect "$image ports" "$(jq -r '.config.ExposedPorts | keys | sort | join(" ")' <<<"$config")" "$(tr ' ' '\n' <<<"${ports[$image]}" | sort | paste -sd' ')"
  expect "$image layer count" "$(jq '.Layers | length' <<<"$manifest")" 2
  base_layer[$image]=$(jq -r '.Layers[0]' <<<"$manifest")
done
expect "shared base layer" "${base_layer[updater]}" "${base_layer[geo-server]}"

# Reproducible: same binaries and labels -> byte-identical layout.
config=$(skopeo inspect --config "oci:$work/layout:geo-server")
label() { jq -r ".config.Labels[\"org.opencontainers.image.$1\"]" <<<"$config"; }
"$builder" "$work/rebuilt" "$(label version)" "$(label revision)" "$(label source)" \
  "geo-server=$server_binary:50051,8080,9090" "updater=$updater_binary:9102" >"$work/rebuild.log" 2>&1 ||
  { cat "$work/rebuild.log"; fail "rebuilding the images failed"; }
expect "rebuilt index.json" "$(sha256sum <"$work/rebuilt/index.json" | cut -d' ' -f1)" "$(sha256sum <"$work/layout/index.json" | cut -d' ' -f1)"

# Run each entrypoint from its own root filesystem.
run_isolated() {  # run_isolated ROOTFS SCRIPT ARGS...: SCRIPT runs in new namespaces
  local rootfs=$1 script=$2
  shift 2
  mkdir -p "$rootfs/proc"
  unshare --mount --pid --net --fork --kill-child -- bash -c "mount -t proc proc '$rootfs/proc' && ip link set lo up && $script" _ "$@"
}
for image in geo-server updater; do
  umoci unpack --rootless --image "$work/layout:$image" "$work/$image" >/dev/null
done
chroot_run="env -i /usr/sbin/chroot --userspec=65532:65532"

server_root="$work/geo-server/rootfs"
if run_isolated "$server_root" "$chroot_run '$server_root' /usr/local/bin/geo_server --help" >"$work/server-help.txt" 2>&1 &&
  grep -q -- '--grpc_port' "$work/server-help.txt"; then
  echo "ok   geo-server --help from its rootfs"
else
  cat "$work/server-help.txt"; fail "geo-server --help did not run from its rootfs"
fi

updater_root="$work/updater/rootfs"
status=0
run_isolated "$updater_root" "$chroot_run '$updater_root' /usr/local/bin/updater --help" >"$work/updater-help.txt" 2>&1 || status=$?
# --help prints the usage and exits 0; a missing library would exit 127.
if [ $status -eq 0 ] && grep -q -- '--mirror_url' "$work/updater-help.txt" && grep -q -- '--once' "$work/updater-help.txt"; then
  echo "ok   updater --help from its rootfs (exit $status)"
else
  head -20 "$work/updater-help.txt"; fail "updater --help did not run from its rootfs (exit $status)"
fi

# A real short run: serve MaxMind's City test database and answer a lookup.
cp "$testdata/GeoIP2-City-Test.mmdb" "$server_root/data/"
cat >"$work/serve.sh" <<'SCRIPT'
root=$1 out=$2 chroot_run=$3
$chroot_run "$root" /usr/local/bin/geo_server --db=/data/GeoIP2-City-Test.mmdb \
  --drain_delay=0s --shutdown_timeout=2s >"$out/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 150); do
  curl -fsS -o /dev/null http://127.0.0.1:8080/readyz 2>/dev/null && break
  kill -0 $pid 2>/dev/null || break
  sleep 0.1
done
curl -sS --max-time 5 http://127.0.0.1:8080/v1/lookup/81.2.69.142 >"$out/lookup.json"
kill -TERM $pid 2>/dev/null
wait $pid
echo $? >"$out/server.exit"
SCRIPT
run_isolated "$server_root" "bash '$work/serve.sh' \"\$@\"" "$server_root" "$work" "$chroot_run" || true
if jq -e '.country.isoCode == "GB" and .city.name == "London"' "$work/lookup.json" >/dev/null 2>&1; then
  echo "ok   geo-server from its rootfs answered GET /v1/lookup/81.2.69.142: $(jq -c '{country: .country.isoCode, city: .city.name}' "$work/lookup.json")"
else
  echo "--- lookup:"; cat "$work/lookup.json" 2>/dev/null; echo "--- server log:"; tail -20 "$work/server.log"
  fail "geo-server in its rootfs did not answer the lookup"
fi
expect "geo-server exit status after SIGTERM" "$(cat "$work/server.exit" 2>/dev/null)" 0

echo "images: $failures failed"
[ $failures = 0 ]
