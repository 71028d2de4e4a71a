#!/usr/bin/env bash
# The chart on a real Kubernetes API server: a control plane built from source (deploy/cluster/
# build.sh: kube-apiserver, kube-controller-manager, kube-scheduler, etcd) with kwok's simulated
# nodes, booted by `kwokctl --runtime binary` in a temporary directory and always torn down.
#
#   deploy/cluster/test.sh [-v] [--json FILE]
#
# For each deploy/helm/cloud-connect/ci/*-values.yaml, in its own namespace enforcing the
# `restricted` Pod Security Standard:
#   install    helm install --wait (the Secrets and ConfigMaps the chart references are created
#              first, as an operator would); every rendered object exists in the API server;
#              every Deployment's pods were admitted and are Ready (kwok marks scheduled pods
#              Running and Ready: no container runs, so this proves the API side: schemas,
#              admission, Pod Security, scheduling, controllers)
#              and each component the values file enables (the five services and the console)
#              has its Deployment, all replicas Ready, and its Service
#   upgrade    a config change (config.logLevel) rolls every Deployment to a new ReplicaSet
#   rollback   back to revision 1: the old config, the Deployments rolled back and Ready
#   helm test  the chart's test hooks are accepted and admitted (kwok completes them as it does
#              Job pods; what they check runs for real only on a real cluster)
#   uninstall  nothing of the release is left
# Plus, once: the API server's version, Ready nodes, and that the namespace does enforce
# `restricted` (a privileged pod is refused). Every wait is bounded. Prints
# "cluster: N passed, M failed"; --json also writes the counts for scripts/test-all.sh.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export CC_REPO_ROOT="$root"
# shellcheck source=build.sh
source "$here/build.sh"
cc_test_args "$0 [-v] [--json FILE]" - "$@"
chart="$root/deploy/helm/cloud-connect"
work="$(mktemp -d)"
cluster="cc-test-$$"
release=cc
passed=0 failed=0
results=()
t_start=$(date +%s)

KWOKCTL="" KUBECTL=""
teardown() {
  if [ -n "$KWOKCTL" ]; then
    KWOK_WORKDIR="$work/kwok" timeout 60 "$KWOKCTL" delete cluster --name "$cluster" >/dev/null 2>&1 ||
      echo "cluster: kwokctl delete cluster failed (its processes are under $work/kwok)" >&2
  fi
  rm -rf "$work"
}
trap teardown EXIT
trap 'exit 130' INT TERM

summary() {
  echo
  echo "==== deploy/cluster/test.sh summary ($(($(date +%s) - t_start))s) ===="
  printf '%s\n' "${results[@]}"
  echo "cluster: $passed passed, $failed failed"
  if [ -n "$json_out" ]; then
    mkdir -p "$(dirname "$json_out")"
    printf '{"numPassedTests":%d,"numFailedTests":%d,"numPendingTests":0,"numTodoTests":0}\n' \
      "$passed" "$failed" >"$json_out"
  fi
}

# ---- tools and cluster ---------------------------------------------------------------------
if ! check "tools: helm $CC_HELM_VERSION (go install, cached)" cc_ensure_helm ||
  ! check "tools: Kubernetes $CC_K8S_VERSION, etcd $CC_ETCD_VERSION, kwok $CC_KWOK_VERSION (go build, cached)" cc_ensure_cluster_bins; then
  summary; exit 1
fi
KWOKCTL="$CLUSTER_BIN/kwokctl"
KUBECTL="$CLUSTER_BIN/kubectl"
export KUBECONFIG="$work/kubeconfig"
kc() { timeout 120 "$KUBECTL" "$@"; }

# Runs "$@" (a check that may lag the cluster by a few seconds) every 2 s until it succeeds, for
# up to 60 s; returns its last status. The check leaves what it saw in its caller's variables.
settle() {
  local i
  for i in $(seq 1 29); do
    "$@" && return 0
    sleep 2
  done
  "$@"
}

# kwok's default stages replaced by a config's: take them from the kwok module, add ours.
kwok_config() {
  local src f
  src="$(cd "$work" && go mod download -json "sigs.k8s.io/kwok@$CC_KWOK_VERSION" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')/kustomize/stage" || return 1
  for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
    pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
    cat "$src/$f" || return 1
    echo "---"
  done
  cat "$here/kwok-stages.yaml"
}

boot() {
  mkdir -p "$work/kwok"
  kwok_config >"$work/kwok.yaml" || return 1
  KWOK_WORKDIR="$work/kwok" KWOK_KUBECTL_BINARY="$KUBECTL" timeout 300 "$KWOKCTL" create cluster --name "$cluster" \
    --runtime binary \
    --kube-apiserver-binary "$CLUSTER_BIN/kube-apiserver" \
    --kube-controller-manager-binary "$CLUSTER_BIN/kube-controller-manager" \
    --kube-scheduler-binary "$CLUSTER_BIN/kube-scheduler" \
    --etcd-binary "$CLUSTER_BIN/etcd" \
    --kwok-controller-binary "$CLUSTER_BIN/kwok" \
    --kube-authorization \
    --config "$work/kwok.yaml" \
    --kubeconfig "$KUBECONFIG" \
    --wait 3m || return 1
  # Three simulated nodes, so topology spread and PodDisruptionBudgets have something to do.
  for i in 1 2 3; do
    sed "s/NODE_NAME/kwok-node-$i/" "$here/node.yaml"
    echo "---"
  done | kc apply -f - || return 1
  kc wait --for=condition=Ready node --all --timeout=90s
}
if ! check "cluster: boot the control plane (kwokctl --runtime binary) with 3 kwok nodes" boot; then
  summary; exit 1
fi

server_version() {
  local v
  v="$(kc version -o json)" || return 1
  echo "$v"
  grep -q "\"gitVersion\": \"$CC_K8S_VERSION\"" <<<"$v"
}
check "cluster: the API server reports $CC_K8S_VERSION" server_version
# ServiceMonitor and PrometheusRule need prometheus-operator's CRDs (stand-ins here, see file).
monitoring_crds() {
  kc apply -f "$here/monitoring-crds.yaml" && kc wait --for=condition=Established crd --all --timeout=60s
}
check "cluster: monitoring.coreos.com CRDs (stand-ins)" monitoring_crds

# ---- per values file -----------------------------------------------------------------------
# The Secrets and ConfigMaps (not made by the chart) that a rendering references, as
# "secret NAME KEY" / "configmap NAME" lines.
referenced_objects() {
  awk '
    /secretKeyRef:/ { s = 1; next }
    s && $1 == "name:" { n = $2; next }
    s && $1 == "key:" { print "secret", n, $2; s = 0; next }
    /^ *configMap:$/ { c = 1; next }
    c && $1 == "name:" { print "configmap", $2; c = 0; next }
    /^ *secret:$/ { v = 1; next }
    v && $1 == "secretName:" { print "secret", $2, "-"; v = 0; next }
  ' "$1" | tr -d '"' | sort -u
}

prepare_namespace() {
  local ns="$1" vf="$2" kind name key
  kc create namespace "$ns" || return 1
  kc label namespace "$ns" pod-security.kubernetes.io/enforce=restricted \
    pod-security.kubernetes.io/enforce-version=latest pod-security.kubernetes.io/warn=restricted || return 1
  "$HELM" template "$release" "$chart" -n "$ns" -f "$vf" >"$work/$ns.rendered.yaml" || return 1
  declare -A secrets=()
  while read -r kind name key; do
    case "$kind" in
      secret) [ "$key" = "-" ] && key=value; secrets[$name]+=" --from-literal=$key=placeholder-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')" ;;
      configmap)
        # The chart's own ConfigMaps are made by helm.
        grep -q "^  name: $name$" "$work/$ns.rendered.yaml" && continue
        kc -n "$ns" create configmap "$name" --from-literal=ca.crt=placeholder || return 1 ;;
    esac
  done < <(referenced_objects "$work/$ns.rendered.yaml")
  for name in "${!secrets[@]}"; do
    # shellcheck disable=SC2086
    kc -n "$ns" create secret generic "$name" ${secrets[$name]} >/dev/null || return 1
    echo "secret $name"
  done
}

# Every object in the release's manifest exists in the API server.
all_accepted() {
  local ns="$1" want got
  "$HELM" get manifest "$release" -n "$ns" >"$work/$ns.manifest.yaml" || return 1
  want="$(grep -c '^kind: ' "$work/$ns.manifest.yaml")"
  got="$(kc -n "$ns" get -f "$work/$ns.manifest.yaml" -o name | tee /dev/stderr | wc -l)"
  echo "objects in the manifest: $want, found: $got"
  [ "$want" -gt 0 ] && [ "$want" = "$got" ]
}

# Sets want and ready (the caller's) for Deployment $2; true when every replica is Ready.
replicas_ready() {
  want="$(kc -n "$1" get "$2" -o jsonpath='{.spec.replicas}')"
  ready="$(kc -n "$1" get "$2" -o jsonpath='{.status.readyReplicas}')"
  [ "$want" = "$ready" ]
}

# Sets notready (the caller's) to the release's pods that are not Ready; true when none.
pods_ready() {
  notready="$(kc -n "$1" get pods -l "app.kubernetes.io/instance=$release,app.kubernetes.io/component notin (test,bootstrap)" \
    -o jsonpath='{range .items[*]}{.metadata.name}{" "}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -v ' True$')"
  [ -z "$notready" ]
}

# Every Deployment rolled out: all its replicas are updated, available and Ready pods.
deployments_ready() {
  local ns="$1" d status=0 want ready
  for d in $(kc -n "$ns" get deploy -l "app.kubernetes.io/instance=$release" -o name); do
    kc -n "$ns" rollout status "$d" --timeout=120s || { status=1; continue; }
    # Rolled out means available once; the ready count the status shows next can lag a beat
    # behind it, so it is read again until it says every replica.
    settle replicas_ready "$ns" "$d"
    echo "$d: $ready/$want Ready"
    [ "$want" = "$ready" ] || status=1
  done
  # No pod was refused (Pod Security, quotas...) on the way.
  if kc -n "$ns" get events --field-selector reason=FailedCreate -o custom-columns=MSG:.message --no-headers | grep .; then
    echo "pods were refused (above)"; status=1
  fi
  local notready
  settle pods_ready "$ns"
  [ -z "$notready" ] || { echo "pods not Ready: $notready"; status=1; }
  kc -n "$ns" get pods -o wide
  return $status
}

# Each component the values file enables (the five services and the console) has its Deployment,
# all of its replicas Ready, and its Service.
components_ready() {
  local ns="$1" rendered="$2" c line status=0 n=0 deploys services
  deploys="$(kc -n "$ns" get deploy -l "app.kubernetes.io/instance=$release" \
    -o jsonpath='{range .items[*]}{.metadata.labels.app\.kubernetes\.io/component}{" "}{.metadata.name}{" "}{.status.readyReplicas}/{.spec.replicas}{"\n"}{end}')" || return 1
  services="$(kc -n "$ns" get svc -l "app.kubernetes.io/instance=$release" \
    -o jsonpath='{range .items[*]}{.metadata.labels.app\.kubernetes\.io/component}{"\n"}{end}')" || return 1
  for c in $(rendered_components "$rendered"); do
    n=$((n + 1))
    line="$(grep "^$c " <<<"$deploys")"
    [ -n "$line" ] || { echo "$c: no Deployment"; status=1; continue; }
    grep -qx "$c" <<<"$services" || { echo "$c: no Service"; status=1; }
    echo "$line"
    read -r _ _ ratio <<<"$line"
    [ "${ratio%%/*}" = "${ratio##*/}" ] || status=1
  done
  [ "$n" -gt 0 ] || { echo "no Deployments rendered"; return 1; }
  return $status
}
rendered_components() {
  awk '/^kind: Deployment$/ { dep = 1; next } /^kind: / { dep = 0 }
    dep && /^    app.kubernetes.io\/component: / { print $2 }' "$1" | sort -u
}

restricted_enforced() {
  local ns="$1" out
  if out="$(kc -n "$ns" run privileged-probe --image=registry.example.com/none:1 --restart=Never \
    --overrides='{"spec":{"containers":[{"name":"p","image":"registry.example.com/none:1","securityContext":{"privileged":true}}]}}' 2>&1)"; then
    echo "a privileged pod was ADMITTED: $out"; kc -n "$ns" delete pod privileged-probe --wait=false; return 1
  fi
  echo "$out"
  grep -q 'violates PodSecurity "restricted' <<<"$out"
}

# Deployment name -> its current pod-template hash, one per line.
template_hashes() {
  kc -n "$1" get rs -l "app.kubernetes.io/instance=$release" \
    -o jsonpath='{range .items[?(@.status.replicas>0)]}{.metadata.ownerReferences[0].name}{" "}{.metadata.labels.pod-template-hash}{"\n"}{end}' | sort
}

log_level_is() {
  local ns="$1" want="$2" cm level status=0
  for cm in $(kc -n "$ns" get cm -l "app.kubernetes.io/instance=$release" -o name | grep -- '-env$'); do
    level="$(kc -n "$ns" get "$cm" -o jsonpath='{.data.LOG_LEVEL}')"
    echo "$cm LOG_LEVEL=$level"
    [ "$level" = "$want" ] || status=1
  done
  return $status
}

# Every Deployment of $2 (name hash lines) now runs another pod template; the old ReplicaSets
# may take a few seconds to report 0 replicas, so this looks again for up to 60 s.
all_rolled() {
  local ns="$1" before="$2" same
  [ -s "$before" ] || { echo "no ReplicaSets recorded before the upgrade"; return 1; }
  settle templates_changed "$ns" "$before"
  echo "before:"; cat "$before"; echo "after:"; cat "$before.after"
  [ -z "$same" ] || { echo "did not roll:$same"; return 1; }
}

# Sets same (the caller's) to the Deployments of $2 whose pod template is unchanged; true when none.
templates_changed() {
  local d
  template_hashes "$1" >"$2.after"
  same=""
  while read -r d _; do
    grep -qxF "$(grep "^$d " "$2")" "$2.after" && same="$same $d"
  done <"$2"
  [ -z "$same" ]
}

rolled_back() { log_level_is "$1" "$2" && deployments_ready "$1"; }

# Pods take a moment to go after their ReplicaSets: look again for up to 60 s.
nothing_left() {
  local ns="$1" left i
  for i in $(seq 1 30); do
    left="$(kc -n "$ns" get deploy,rs,pods,svc,cm,sa,networkpolicy,pdb,hpa,ingress,jobs,servicemonitors,prometheusrules \
      -l "app.kubernetes.io/instance=$release" -o name)" || return 1
    [ -z "$left" ] && return 0
    sleep 2
  done
  echo "left after uninstall:"; echo "$left"; return 1
}

first=true
for vf in "$chart"/ci/*-values.yaml; do
  label="ci/$(basename "$vf")"
  ns="cc-$(basename "$vf" -values.yaml)"
  check "$label: namespace $ns enforcing restricted; referenced Secrets/ConfigMaps" prepare_namespace "$ns" "$vf" || continue
  if $first; then
    check "$label: restricted is enforced (a privileged pod is refused)" restricted_enforced "$ns"
    first=false
  fi
  check "$label: helm install --wait" \
    "$HELM" install "$release" "$chart" -n "$ns" -f "$vf" --wait --wait-for-jobs --timeout 5m || continue
  check "$label: every object accepted by the API server" all_accepted "$ns"
  check "$label: every pod admitted and Ready" deployments_ready "$ns"
  check "$label: each enabled component ($(rendered_components "$work/$ns.rendered.yaml" | paste -sd, -)) Ready, with its Service" \
    components_ready "$ns" "$work/$ns.rendered.yaml"

  template_hashes "$ns" >"$work/$ns.before" 2>/dev/null
  level="$(awk '/^  logLevel:/ { print $2 }' "$vf")"
  level="${level:-info}"
  new_level=warn
  [ "$level" = warn ] && new_level=error
  if check "$label: helm upgrade (config.logLevel=$new_level) --wait" \
    "$HELM" upgrade "$release" "$chart" -n "$ns" -f "$vf" --set "config.logLevel=$new_level" --wait --wait-for-jobs --timeout 5m; then
    check "$label: upgrade: every Deployment rolled out, pods Ready" deployments_ready "$ns"
    check "$label: upgrade: every Deployment has a new ReplicaSet" all_rolled "$ns" "$work/$ns.before"
    check "$label: upgrade: ConfigMaps say LOG_LEVEL=$new_level" log_level_is "$ns" "$new_level"
  fi
  if check "$label: helm rollback to revision 1 --wait" "$HELM" rollback "$release" 1 -n "$ns" --wait --timeout 5m; then
    check "$label: rollback: ConfigMaps say LOG_LEVEL=$level, pods Ready" rolled_back "$ns" "$level"
  fi
  check "$label: helm test" "$HELM" test "$release" -n "$ns" --timeout 3m
  if check "$label: helm uninstall --wait" "$HELM" uninstall "$release" -n "$ns" --wait --timeout 3m; then
    check "$label: nothing of the release is left" nothing_left "$ns"
  fi
  kc delete namespace "$ns" --wait=false >/dev/null 2>&1
done

summary
[ "$failed" -eq 0 ]
