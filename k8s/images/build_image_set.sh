#!/usr/bin/env bash
# Builds an OCI image layout holding one image per binary, all on one shared base
# layer, with Debian's umoci (no Docker daemon, no hand-written OCI). See
# docs/adr/0007-images-with-umoci.md.
#
# usage: build_image_set.sh OUT_DIR VERSION REVISION SOURCE NAME=BINARY[:PORTS]...
#   OUT_DIR   the OCI layout to create (must not exist or be empty)
#   NAME      image name, also its tag in the layout (oci:OUT_DIR:NAME)
#   BINARY    the program, installed as /usr/local/bin/<basename> and the entrypoint
#   PORTS     comma-separated TCP ports to declare (optional)
#
# The base layer holds exactly the shared libraries that `ldd` resolves for all
# the binaries (so both images share it byte for byte), the dynamic loader, CA
# certificates, and passwd/group with the non-root user 65532 ("nonroot"). Every
# timestamp is fixed (SOURCE_DATE_EPOCH, default 2000-01-01), history entries
# included, so the same inputs give the same digests.
set -euo pipefail
out=$1 version=$2 revision=$3 source=$4
shift 4
epoch=${SOURCE_DATE_EPOCH:-946684800}
created=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)
uid=65532

work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT

binaries=()
for spec in "$@"; do
  binary=${spec#*=}
  binaries+=("${binary%%:*}")
done

normalise() {  # fixed mtimes and modes that do not depend on the umask
  find "$1" -exec touch -h -d "@$epoch" {} +
}

rm -rf "$out"
umoci init --layout "$out"
umoci new --image "$out:base"
umoci unpack --rootless --image "$out:base" "$work/base" >/dev/null
rootfs="$work/base/rootfs"

# Shared libraries of every binary, copied to their resolved (merged-/usr) path;
# the loader also at the path in PT_INTERP.
mkdir -p "$rootfs/usr/lib" "$rootfs/usr/lib64"
ln -s usr/lib "$rootfs/lib"
ln -s usr/lib64 "$rootfs/lib64"
libraries=$(for b in "${binaries[@]}"; do
  { ldd "$b" 2>/dev/null || true; } | awk '/=> \// { print $3 } /^\s*\/.*ld-linux/ { print $1 }'
done | sort -u)
for library in $libraries; do
  real=$(readlink -f "$library")
  case "$library" in /lib/* | /lib64/*) target="/usr$library" ;; *) target=$library ;; esac
  install -D -m 0644 "$real" "$rootfs$target"
done
interpreter=$(for b in "${binaries[@]}"; do readelf -l "$b" 2>/dev/null | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p'; done | sort -u)
for path in $interpreter; do
  case "$path" in /lib/* | /lib64/*) target="/usr$path" ;; *) target=$path ;; esac
  [ -e "$rootfs$target" ] || install -D -m 0755 "$(readlink -f "$path")" "$rootfs$target"
  chmod 0755 "$rootfs$target"
done

# Which Debian package (and version) each library came from, for provenance.
mkdir -p "$rootfs/usr/share/doc/geo-base"
for library in $libraries; do
  dpkg -S "$(readlink -f "$library")" 2>/dev/null || dpkg -S "$library" 2>/dev/null || echo "unknown: $library"
done | cut -d: -f1 | sort -u | while read -r package; do
  printf '%s %s\n' "$package" "$(dpkg-query -W -f='${Version}' "$package" 2>/dev/null || echo unknown)"
done >"$rootfs/usr/share/doc/geo-base/packages.txt"

install -D -m 0644 /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
printf 'root:x:0:0:root:/root:/usr/sbin/nologin\nnonroot:x:%d:%d:nonroot:/nonexistent:/usr/sbin/nologin\n' $uid $uid >"$rootfs/etc/passwd"
printf 'root:x:0:\nnonroot:x:%d:\n' $uid >"$rootfs/etc/group"
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$rootfs/etc/nsswitch.conf"
mkdir -p "$rootfs/tmp" "$rootfs/data"
chmod 1777 "$rootfs/tmp"
chmod 0755 "$rootfs/data"
normalise "$rootfs"
umoci repack --image "$out:base" --history.created "$created" \
  --history.created_by "build_image_set.sh: shared libraries, CA certificates, user $uid" "$work/base" >/dev/null

for spec in "$@"; do
  name=${spec%%=*}
  rest=${spec#*=}
  binary=${rest%%:*}
  ports=""
  [ "$rest" != "$binary" ] && ports=${rest#*:}
  program=$(basename "$binary")
  umoci tag --image "$out:base" "$name"
  umoci unpack --rootless --image "$out:$name" "$work/$name" >/dev/null
  install -D -m 0755 "$binary" "$work/$name/rootfs/usr/local/bin/$program"
  normalise "$work/$name/rootfs"
  umoci repack --image "$out:$name" --history.created "$created" \
    --history.created_by "build_image_set.sh: /usr/local/bin/$program" "$work/$name" >/dev/null
  config=(--no-history --image "$out:$name"
    --created "$created" --author geo
    --config.user "$uid:$uid" --config.workingdir /
    --config.entrypoint "/usr/local/bin/$program" --clear config.cmd
    --config.env PATH=/usr/local/bin:/usr/bin
    --config.env SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
    --config.label "org.opencontainers.image.title=$name"
    --config.label "org.opencontainers.image.version=$version"
    --config.label "org.opencontainers.image.revision=$revision"
    --config.label "org.opencontainers.image.source=$source"
    --config.label "org.opencontainers.image.created=$created")
  for port in ${ports//,/ }; do config+=(--config.exposedports "$port/tcp"); done
  umoci config "${config[@]}" >/dev/null
done
umoci rm --image "$out:base"
umoci gc --layout "$out"
normalise "$out"
