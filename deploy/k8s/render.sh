#!/usr/bin/env bash
# Re-renders deploy/k8s/manifests/ and deploy/k8s/kustomization.yaml from the Helm chart with
# deploy/k8s/values.yaml. Needs only Go: Helm is built into a cache outside the repository on
# first use (see deploy/tools/lib.sh). deploy/validate.sh fails when the committed files differ
# from a fresh render.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../tools/lib.sh
source "$here/../tools/lib.sh"
cc_ensure_helm
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cc_render_k8s "$tmp"
rm -rf "$here/manifests"
mv "$tmp/manifests" "$here/manifests"
mv "$tmp/kustomization.yaml" "$here/kustomization.yaml"
echo "rendered $(find "$here/manifests" -name '*.yaml' | wc -l) files into deploy/k8s/manifests/ (and deploy/k8s/kustomization.yaml)"
