#!/usr/bin/env bash
# Offline validation of the deploy artefacts, for CI and developers: no cluster, no Docker
# engine, no internet beyond the Go module proxy (used once, to build Helm and the validator
# into ${XDG_CACHE_HOME:-$HOME/.cache}/cloud-connect; see deploy/tools/lib.sh).
#
#   deploy/validate.sh            run every check; exit 1 if any fails
#   deploy/validate.sh -v         also print each check's full output
#
# Checks:
#   tools        helm (pinned, `go install`) and deploy/tools/k8s-validate (`go build`) are ready
#   generated    values.schema.json, services/*/Dockerfile and deploy/k8s/ match their sources
#   dockerfiles  base image, non-root user, HEALTHCHECK, EXPOSE and CMD of each Dockerfile,
#                ports equal to the chart's
#   lint         helm lint --strict with the default values and each ci/*-values.yaml
#   render       helm template with each values file, then k8s-validate on every object
#                (strict decoding into the Kubernetes API types + object and reference rules)
#   schema       each deploy/helm/testdata/bad-values-*.yaml is REJECTED by values.schema.json
#   k8s          k8s-validate on the committed deploy/k8s/manifests/
#   self-check   k8s-validate REJECTS each deploy/tools/k8s-validate/testdata/bad-*.yaml with
#                the messages its "# expect:" lines name
set -uo pipefail

verbose=false
[ "${1:-}" = "-v" ] && verbose=true
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CC_REPO_ROOT="$root"
# shellcheck source=tools/lib.sh
source "$root/deploy/tools/lib.sh"
chart="$root/deploy/helm/cloud-connect"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
SERVICES="referral-intake emr-gateway vault scheduler notifier console"

passed=0 failed=0
results=()
t_start=$(date +%s)

# ---- tools ---------------------------------------------------------------------------------
tools_ok=true
check "tools: helm $CC_HELM_VERSION (go install, cached)" cc_ensure_helm || tools_ok=false
check "tools: k8s-validate (go build, cached)" cc_ensure_k8s_validate || tools_ok=false
# (check runs them in this shell, so HELM and K8S_VALIDATE are set for what follows.)

# ---- generated files -----------------------------------------------------------------------
check "generated: values.schema.json matches gen_values_schema.py" \
  python3 "$root/deploy/helm/schema/gen_values_schema.py" --check
check "generated: services/*/Dockerfile match Dockerfile.template" \
  "$root/deploy/docker/render-dockerfiles.sh" --check

k8s_up_to_date() {
  cc_render_k8s "$work/k8s" || return 1
  diff -ru "$root/deploy/k8s/manifests" "$work/k8s/manifests" &&
    diff -u "$root/deploy/k8s/kustomization.yaml" "$work/k8s/kustomization.yaml" ||
    { echo "deploy/k8s is out of date: run deploy/k8s/render.sh"; return 1; }
}
$tools_ok && check "generated: deploy/k8s/ is up to date with the chart" k8s_up_to_date

# ---- Dockerfiles ---------------------------------------------------------------------------
dockerfiles_ok() {
  local status=0 name port df
  for name in $SERVICES; do
    df="$root/services/$name/Dockerfile"
    port="$(awk -v svc="$name" '
      /^services:/ { in_s = 1; next }
      in_s && /^[^ #]/ { in_s = 0 }
      in_s && /^  [a-z-]+:[ ]*$/ { cur = $1; sub(":", "", cur) }
      in_s && cur == svc && /^    port:/ { print $2; exit }' "$chart/values.yaml")"
    [ -f "$df" ] || { echo "$df: missing"; status=1; continue; }
    grep -qE '^ARG NODE_IMAGE=node:24\.[0-9]+\.[0-9]+-bookworm-slim$' "$df" || { echo "$df: base image is not a pinned node:24.x.y-bookworm-slim tag"; status=1; }
    grep -qx "ARG PORT=$port" "$df" || { echo "$df: ARG PORT is not $port (services.$name.port in values.yaml)"; status=1; }
    grep -qx "ARG SERVICE=$name" "$df" || { echo "$df: ARG SERVICE is not $name"; status=1; }
    grep -qx 'USER 10001:10001' "$df" || { echo "$df: runtime USER is not 10001:10001"; status=1; }
    grep -q '^HEALTHCHECK ' "$df" || { echo "$df: no HEALTHCHECK"; status=1; }
    grep -qx 'EXPOSE ${PORT}' "$df" || { echo "$df: no EXPOSE \${PORT}"; status=1; }
    grep -qx "CMD \[\"node\", \"dist/services/$name/src/main.js\"\]" "$df" || { echo "$df: CMD does not run dist/services/$name/src/main.js"; status=1; }
    grep -qE '^ARG NPM_INSTALL=(ci|install)$' "$df" || { echo "$df: the install command (ARG NPM_INSTALL) is not pinned to ci or install"; status=1; }
    grep -q 'npm prune --omit=dev' "$df" || { echo "$df: the runtime dependencies are not pruned with --omit=dev"; status=1; }
    [ "$(tail -n 1 "$df" | cut -c1-4)" = "CMD " ] || { echo "$df: CMD is not the last instruction"; status=1; }
    echo "$name: port $port, ok"
  done
  [ -f "$root/.dockerignore" ] || { echo ".dockerignore: missing"; status=1; }
  grep -qx '\*\*/node_modules' "$root/.dockerignore" || { echo ".dockerignore: node_modules not excluded"; status=1; }
  return $status
}
check "dockerfiles: pinned base, uid 10001, HEALTHCHECK, ports = chart" dockerfiles_ok

if $tools_ok; then
  # ---- lint and render -------------------------------------------------------------------
  values_files=("")
  for f in "$chart"/ci/*-values.yaml; do values_files+=("$f"); done
  for vf in "${values_files[@]}"; do
    label="default values"
    args=()
    if [ -n "$vf" ]; then label="ci/$(basename "$vf")"; args=(-f "$vf"); fi
    check "lint: helm lint --strict ($label)" "$HELM" lint --strict "$chart" "${args[@]}"
    out="$work/render-$(basename "${vf:-default}" .yaml).yaml"
    render_and_validate() {
      "$HELM" template cc-test "$chart" --namespace cc-test "${args[@]}" >"$out" || return 1
      "$K8S_VALIDATE" -q -crd-group monitoring.coreos.com "$out"
    }
    check "render: helm template + k8s-validate ($label)" render_and_validate
  done

  # ---- TLS on the internal hops: what ci/tls-values.yaml turns on -------------------------
  tls_render_ok() {
    local out="$work/render-tls-values.yaml" status=0 want
    for want in \
      'TLS_CERT_FILE: "/etc/cloud-connect/tls/tls.crt"' \
      'TLS_KEY_FILE: "/etc/cloud-connect/tls/tls.key"' \
      'NODE_EXTRA_CA_CERTS: "/etc/cloud-connect/ca/ca.crt"' \
      'DATABASE_SSL_MODE: "verify-full"' \
      'KAFKA_TLS: "true"' \
      'KAFKA_SASL_MECHANISM: "scram-sha-512"' \
      'KAFKA_SASL_USERNAME: "cc-vault"' \
      'KAFKA_SASL_USERNAME: "cc-notifier"' \
      'KAFKA_SASL_PASSWORD_FILE: "/etc/cloud-connect/kafka-sasl/password"' \
      'SMTP_REQUIRE_TLS: "true"' \
      'ADMIN_JWKS_URL: "https://cc-test-cloud-connect-vault:3003/.well-known/jwks.json"' \
      'VAULT_SERVICE_URL: "https://cc-test-cloud-connect-vault:3003"' \
      'EMR_GATEWAY_URL: "https://cc-test-cloud-connect-emr-gateway:3002"' \
      'REFERRAL_INTAKE_URL: "https://cc-test-cloud-connect-referral-intake:3001"' \
      'secretName: cloud-connect-vault-tls' \
      'secretName: cloud-connect-console-tls' \
      'secretName: cloud-connect-vault-kafka' \
      'prometheus.io/scheme: https' \
      'nginx.ingress.kubernetes.io/backend-protocol: HTTPS' \
      '"https://cc-test-cloud-connect-vault:3003/health/ready"'; do
      grep -qF -- "$want" "$out" || { echo "missing from the TLS rendering: $want"; status=1; }
    done
    # 6 Deployments: every startup, liveness and readiness probe over HTTPS; each container mounts
    # its certificate, the five services (not the console) their Kafka password.
    [ "$(grep -c '^ *scheme: HTTPS$' "$out")" -eq 18 ] || { echo "probes over HTTPS: $(grep -c '^ *scheme: HTTPS$' "$out") of 18"; status=1; }
    [ "$(grep -c 'mountPath: /etc/cloud-connect/tls$' "$out")" -eq 6 ] || { echo "certificate mounts: not 6"; status=1; }
    [ "$(grep -c 'mountPath: /etc/cloud-connect/kafka-sasl$' "$out")" -eq 5 ] || { echo "Kafka password mounts: not 5"; status=1; }
    if grep -E '_URL: "http://' "$out"; then echo "a service URL is still http://"; status=1; fi
    return $status
  }
  check "tls: ci/tls-values.yaml renders HTTPS servers, probes and URLs, Postgres verify-full, Kafka TLS+SASL, SMTP requireTLS" tls_render_ok

  cert_manager_render_ok() {
    local out="$work/render-tls-cert-manager.yaml"
    "$HELM" template cc-test "$chart" --namespace cc-test -f "$chart/ci/tls-values.yaml" \
      --set tls.internal.certManager.issuerName=internal-ca \
      --set tls.internal.certManager.issuerKind=ClusterIssuer >"$out" || return 1
    [ "$(grep -c '^kind: Certificate$' "$out")" -eq 6 ] || { echo "Certificates: not one per service"; return 1; }
    grep -qF -- '- cc-test-cloud-connect-vault.cc-test.svc' "$out" || { echo "no Service DNS name in the vault Certificate"; return 1; }
    grep -qF -- 'secretName: cloud-connect-referral-intake-tls' "$out" || { echo "Certificate not written to the mounted Secret"; return 1; }
    grep -qF -- 'kind: ClusterIssuer' "$out" || { echo "issuer kind not passed"; return 1; }
    "$K8S_VALIDATE" -q -crd-group monitoring.coreos.com -crd-group cert-manager.io "$out"
  }
  check "tls: a cert-manager issuer gives one Certificate per service, for its Service's names" cert_manager_render_ok

  default_tls_ok() {
    local out="$work/render-default.yaml"
    grep -qF 'DATABASE_SSL_MODE: "verify-full"' "$out" || { echo "Postgres not verify-full by default"; return 1; }
    grep -qF 'SMTP_REQUIRE_TLS: "true"' "$out" || { echo "SMTP requireTLS not on by default"; return 1; }
    if grep -E 'scheme: HTTPS|TLS_CERT_FILE|KAFKA_SASL' "$out"; then echo "internal TLS or SASL on without being asked"; return 1; fi
  }
  check "tls: default values verify Postgres and require TLS to SMTP, serve plain HTTP" default_tls_ok

  # ---- the schema rejects bad values -----------------------------------------------------
  for bad in "$root"/deploy/helm/testdata/bad-values-*.yaml; do
    expect_schema_failure() {
      local output
      if output="$("$HELM" template cc-test "$chart" -f "$bad" 2>&1)"; then
        echo "helm template ACCEPTED $(basename "$bad"); values.schema.json should reject it"
        return 1
      fi
      echo "$output"
      grep -q "don't meet the specifications of the schema" <<<"$output" ||
        { echo "helm failed, but not because of values.schema.json"; return 1; }
    }
    check "schema: rejects testdata/$(basename "$bad")" expect_schema_failure
  done

  # ---- committed plain manifests ---------------------------------------------------------
  check "k8s: k8s-validate deploy/k8s/manifests" "$K8S_VALIDATE" "$root/deploy/k8s/manifests"

  # ---- the validator catches broken manifests --------------------------------------------
  for bad in "$root"/deploy/tools/k8s-validate/testdata/bad-*.yaml; do
    expect_validator_failure() {
      local output rc expect missing=0
      output="$("$K8S_VALIDATE" "$bad" 2>&1)"
      rc=$?
      echo "$output"
      [ $rc -eq 1 ] || { echo "k8s-validate exited $rc on $(basename "$bad"), expected 1"; return 1; }
      while IFS= read -r expect; do
        grep -qF -- "$expect" <<<"$output" || { echo "MISSING expected error: $expect"; missing=1; }
      done < <(sed -n 's/^# expect: //p' "$bad")
      return $missing
    }
    check "self-check: k8s-validate rejects testdata/$(basename "$bad")" expect_validator_failure
  done
fi

# ---- summary -------------------------------------------------------------------------------
t_end=$(date +%s)
echo
echo "==== deploy/validate.sh summary ($((t_end - t_start))s) ===="
printf '%s\n' "${results[@]}"
$tools_ok || echo "(tools could not be built: the lint/render/schema/k8s checks did not run)"
echo "validate: $passed passed, $failed failed"
if [ "$failed" -gt 0 ] || ! $tools_ok; then
  exit 1
fi
