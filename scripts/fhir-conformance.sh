#!/usr/bin/env bash
# Third-party FHIR clients the integration suites point at referral-intake, built and cached here:
#   jar     HAPI FHIR (validator + generic client), tools/fhir-conformance, built with Maven from
#           Maven Central; cached by the hash of its pom.xml and sources. Prints the jar's path.
#   python  a Python venv with authlib (SMART Backend Services client, tools/smart-client), from
#           PyPI; cached by the hash of its requirements. Prints the venv's python.
#   all     both (CI runs this before the integration tests).
# Idempotent, non-interactive, every download bounded; nothing is committed or installed elsewhere.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${CC_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/cloud-connect}"
build_timeout="${CC_CONFORMANCE_BUILD_TIMEOUT:-1200}"

hash_of() { (cd "$root" && find "$@" -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16); }

jar() {
  local key dir work
  key="$(hash_of tools/fhir-conformance/pom.xml tools/fhir-conformance/src)"
  dir="$cache/fhir-conformance/$key"
  if [ ! -f "$dir/fhir-conformance.jar" ]; then
    command -v mvn >/dev/null || { echo "fhir-conformance: mvn (Maven 3, Java 17) is required" >&2; exit 1; }
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' RETURN
    cp -r "$root/tools/fhir-conformance/." "$work/"
    (cd "$work" && timeout "$build_timeout" mvn -B -q -Dmaven.repo.local="$cache/m2" package >&2)
    mkdir -p "$dir.tmp"
    cp -r "$work/target/fhir-conformance.jar" "$work/target/lib" "$dir.tmp/"
    rm -rf "$dir" && mv "$dir.tmp" "$dir"
  fi
  echo "$dir/fhir-conformance.jar"
}

python_env() {
  local key dir
  key="$(hash_of tools/smart-client/requirements.txt)"
  dir="$cache/smart-client-venv/$key"
  if [ ! -x "$dir/bin/python" ] || [ ! -f "$dir/.complete" ]; then
    rm -rf "$dir"
    python3 -m venv "$dir" >&2
    timeout "$build_timeout" "$dir/bin/pip" install --quiet --disable-pip-version-check --no-input \
      --timeout 60 --retries 3 -r "$root/tools/smart-client/requirements.txt" >&2
    touch "$dir/.complete"
  fi
  echo "$dir/bin/python"
}

case "${1:-all}" in
  jar) jar ;;
  python) python_env ;;
  all) jar && python_env ;;
  *) echo "usage: $0 [jar|python|all]" >&2; exit 2 ;;
esac
