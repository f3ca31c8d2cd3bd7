#!/usr/bin/env bash
# Renders the kustomize base and every overlay with `kubectl kustomize` (Debian's
# kubernetes-client), validates every object against the Kubernetes API schemas
# (validate_manifests.mjs), then checks the project's rules (check_manifests.mjs).
# Also renders with a newer kubectl when one is on PATH (kustomize v4/v5), so the
# manifests stay valid for both.
# usage: manifests_test.sh K8S_TOOLS_ROOT GEOLITE2_ROOT SERVER_BINARY UPDATER_BINARY SECRET_TEMPLATE
set -euo pipefail
tools=$(dirname "$(readlink -f "$1")")/data
geolite2_root=$2
server_binary=$3
updater_binary=$4
secret_template=$5
kubectl="$tools/kubernetes-client/usr/bin/kubectl"
node_modules="$tools/node_modules"
work=${TEST_TMPDIR:-$(mktemp -d)}

# kustomize refuses files that resolve outside its root, and runfiles are
# symlinks into the source tree: render from a real copy.
rm -rf "$work/tree" && mkdir -p "$work/tree"
cp -rL k8s "$work/tree/k8s"

render() {  # render KUBECTL NAME DIR
  local out="$work/$2-${3//\//-}.yaml"
  "$1" kustomize "$work/tree/k8s/$3" >"$out" 2>"$out.err" || { cat "$out.err"; echo "FAIL: $1 kustomize k8s/$3"; exit 1; }
  echo "$out"
}

echo "kubectl: $("$kubectl" version --client --short 2>/dev/null || "$kubectl" version --client)"
declare -A rendered
variants=(base overlays/cronjob overlays/scale overlays/example-registry overlays/tls monitoring)
for variant in "${variants[@]}"; do
  rendered[$variant]=$(render "$kubectl" debian "$variant")
done
files=("${rendered[@]}")
newer=$(command -v kubectl || true)
if [ -n "$newer" ] && [ "$(readlink -f "$newer")" != "$(readlink -f "$kubectl")" ]; then
  echo "also rendering with $newer ($("$newer" version --client 2>/dev/null | tr '\n' ' '))"
  for variant in "${variants[@]}"; do
    files+=("$(render "$newer" path "$variant")")
  done
fi

node "$(dirname "$0")/validate_manifests.mjs" "$node_modules" "${files[@]}" "$secret_template"

# Every object in the namespace the docs use (the Secret is created there).
node "$(dirname "$0")/check_namespaces.mjs" "$node_modules" \
  geo="${rendered[base]}" geo="${rendered[overlays/cronjob]}" geo="${rendered[overlays/scale]}" \
  geo="${rendered[overlays/example-registry]}" geo="${rendered[overlays/tls]}" \
  monitoring="${rendered[monitoring]}" geo="$secret_template"
# The worked image overlay really moves both images to the registry.
if grep -E '^\s*(- )?image: geo/' "${rendered[overlays/example-registry]}"; then
  echo "FAIL: k8s/overlays/example-registry leaves an image at its build name (above)"; exit 1
fi

database=()
geolite2_dir=$(dirname "$(readlink -f "$geolite2_root")")/data
if [ -f "$geolite2_dir/GeoLite2-City.mmdb" ]; then
  database=(--database "$geolite2_dir/GeoLite2-City.mmdb")
fi
# The forward-auth examples (docs/edge.md) against the base they sit next to;
# their Kubernetes objects are schema-validated, Traefik's CRDs only parsed.
edge=()
for example in ingress-nginx traefik; do
  edge+=("$example=$(render "$kubectl" debian "examples/edge/$example")")
done
node "$(dirname "$0")/check_edge_examples.mjs" "$node_modules" "${rendered[base]}" "$work/edge-standard.yaml" "${edge[@]}"
node "$(dirname "$0")/validate_manifests.mjs" "$node_modules" "$work/edge-standard.yaml"

# The server's settings as the server itself lists them (flags, defaults,
# environment variables).
"$server_binary" --help >"$work/server-help.txt"
node "$(dirname "$0")/check_manifests.mjs" "$node_modules" "$work/server-help.txt" "$updater_binary" \
  "${database[@]}" --secret-template "$secret_template" \
  base="${rendered[base]}" cronjob="${rendered[overlays/cronjob]}" scale="${rendered[overlays/scale]}" \
  tls="${rendered[overlays/tls]}"
