#!/usr/bin/env bash
# Builds (once, cached) the binaries of a real Kubernetes control plane from the Go module proxy:
#   kube-apiserver, kube-controller-manager, kube-scheduler, kubectl   k8s.io/kubernetes $CC_K8S_VERSION
#   etcd                                                                go.etcd.io/etcd/server/v3 $CC_ETCD_VERSION
#   kwokctl, kwok (simulated nodes and pods)                            sigs.k8s.io/kwok $CC_KWOK_VERSION
# into $CC_DEPLOY_CACHE/go-bin/cluster-<versions>/. Nothing is fetched or built when that
# directory is complete. Source it (cc_ensure_cluster_bins sets CLUSTER_BIN) or run it.
#
# k8s.io/kubernetes is not meant to be a dependency: its go.mod points every k8s.io/* staging
# module at ./staging/src/... and requires them at v0.0.0. A small wrapper module requires it and
# replaces each staging module by its published v0.x.y release (the same source, tagged), which
# is what makes `go build k8s.io/kubernetes/cmd/...` work from the module proxy alone.
here_cluster_build="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../tools/lib.sh
source "$here_cluster_build/../tools/lib.sh"

CC_K8S_VERSION="${CC_K8S_VERSION:-v1.34.3}"
CC_ETCD_VERSION="${CC_ETCD_VERSION:-v3.6.6}"
CC_KWOK_VERSION="${CC_KWOK_VERSION:-v0.8.0}"

cc_ensure_cluster_bins() {
  cc_go_env || return 1
  CLUSTER_BIN="$CC_DEPLOY_CACHE/go-bin/cluster-k8s-$CC_K8S_VERSION-etcd-$CC_ETCD_VERSION-kwok-$CC_KWOK_VERSION"
  local want=(kube-apiserver kube-controller-manager kube-scheduler kubectl etcd kwokctl kwok) b missing=0
  for b in "${want[@]}"; do [ -x "$CLUSTER_BIN/$b" ] || missing=1; done
  [ "$missing" = 0 ] && return 0
  echo "cluster: building Kubernetes $CC_K8S_VERSION, etcd $CC_ETCD_VERSION, kwok $CC_KWOK_VERSION (first run only)" >&2
  local stage="$CLUSTER_BIN.tmp" mod="$CC_DEPLOY_CACHE/cluster-wrapper-$CC_K8S_VERSION"
  rm -rf "$stage" && mkdir -p "$stage" "$mod" || return 1

  # --- Kubernetes: the wrapper module ---
  local minor="${CC_K8S_VERSION#v1.}" staging_ver
  minor="${minor%%.*}"
  staging_ver="v0.${CC_K8S_VERSION#v1.}"
  local kgomod
  kgomod="$(cd "$mod" && go mod download -json "k8s.io/kubernetes@$CC_K8S_VERSION" |
    sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p')" || return 1
  [ -f "$kgomod" ] || { echo "cluster: no go.mod for k8s.io/kubernetes@$CC_K8S_VERSION" >&2; return 1; }
  {
    echo "module cloud-connect.local/cluster-wrapper"
    echo
    echo "go $(sed -n 's/^go \([0-9.]*\)$/\1/p' "$kgomod")"
    echo
    echo "require k8s.io/kubernetes $CC_K8S_VERSION"
    echo
    # Every `k8s.io/x => ./staging/src/k8s.io/x` of Kubernetes' go.mod, at its published version.
    sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9.-]*\) => ./staging/src/.*$#replace \1 => \1 '"$staging_ver"'#p' "$kgomod"
  } >"$mod/go.mod"
  cat >"$mod/tools.go" <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
  local ldk="-s -w -X k8s.io/component-base/version.gitVersion=$CC_K8S_VERSION \
    -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor \
    -X k8s.io/component-base/version.gitTreeState=clean \
    -X k8s.io/client-go/pkg/version.gitVersion=$CC_K8S_VERSION \
    -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=$minor"
  (
    cd "$mod" && GOFLAGS="$GOFLAGS -mod=mod" go mod tidy -e >/dev/null 2>&1
    cd "$mod" && GOFLAGS="$GOFLAGS -mod=mod" go build -trimpath -tags tools -ldflags "$ldk" -o "$stage/" \
      k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
      k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl
  ) || { echo "cluster: building Kubernetes failed" >&2; return 1; }

  # --- etcd: its server module has the etcd main package at its root, and `replace` lines
  # for its sibling modules, so `go install ...@version` refuses it; a wrapper module that
  # requires it resolves those siblings to their published releases instead.
  local emod="$CC_DEPLOY_CACHE/cluster-wrapper-etcd-$CC_ETCD_VERSION"
  mkdir -p "$emod" || return 1
  (
    cd "$emod" &&
      printf 'module cloud-connect.local/etcd-wrapper\n\ngo 1.24\n' >go.mod &&
      GOFLAGS="$GOFLAGS -mod=mod" go get "go.etcd.io/etcd/server/v3@$CC_ETCD_VERSION" &&
      GOFLAGS="$GOFLAGS -mod=mod" go build -trimpath -ldflags "-s -w" -o "$stage/etcd" go.etcd.io/etcd/server/v3
  ) || { echo "cluster: building etcd failed" >&2; return 1; }

  # --- kwok ---
  GOBIN="$stage" go install -trimpath -ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=$CC_KWOK_VERSION" \
    "sigs.k8s.io/kwok/cmd/kwokctl@$CC_KWOK_VERSION" "sigs.k8s.io/kwok/cmd/kwok@$CC_KWOK_VERSION" ||
    { echo "cluster: building kwok failed" >&2; return 1; }

  rm -rf "$CLUSTER_BIN" && mv "$stage" "$CLUSTER_BIN"
  "$CLUSTER_BIN/kube-apiserver" --version
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  cc_ensure_cluster_bins
  echo "cluster binaries: $CLUSTER_BIN"
  ls -la "$CLUSTER_BIN"
fi
