#!/usr/bin/env bash
# Writes services/<name>/Dockerfile for each service from deploy/docker/Dockerfile.template.
#   deploy/docker/render-dockerfiles.sh          write them
#   deploy/docker/render-dockerfiles.sh --check  exit 1 if any differs (used by deploy/validate.sh)
# Ports must match services.<name>.port in deploy/helm/cloud-connect/values.yaml (validate.sh
# checks that too).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
template="$root/deploy/docker/Dockerfile.template"
SERVICES="referral-intake:3001 emr-gateway:3002 vault:3003 scheduler:3004 notifier:3005 console:3000"
check=false
[ "${1:-}" = "--check" ] && check=true
status=0
for entry in $SERVICES; do
  name="${entry%%:*}" port="${entry##*:}"
  out="$root/services/$name/Dockerfile"
  body="$(sed -e '/^##/d' -e "s|@SERVICE@|$name|g" -e "s|@PORT@|$port|g" "$template")"
  if $check; then
    if [ ! -f "$out" ] || [ "$(cat "$out")" != "$body" ]; then
      echo "out of date: services/$name/Dockerfile (run deploy/docker/render-dockerfiles.sh)" >&2
      status=1
    fi
  else
    mkdir -p "$(dirname "$out")"
    printf '%s\n' "$body" > "$out"
    echo "wrote services/$name/Dockerfile"
  fi
done
exit $status
