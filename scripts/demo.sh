#!/usr/bin/env bash
# Sets up and runs the whole system on this machine: Node 24, dependencies, build, the real local
# stack, the five services, and a demo site. Ctrl-C (or `bin/cloud-connect stack down`) stops it all.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source scripts/bootstrap-node.sh
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm install --no-audit --no-fund --prefer-offline
fi
npm run --silent build
cli() { node dist/tools/cli/src/main.js "$@"; }

cli stack up > tmp-stack-status.json
trap 'echo; echo "stopping Cloud Connect..." >&2; cli stack down >/dev/null; rm -f tmp-stack-status.json; exit 0' INT TERM

cli site create --number "${DEMO_SITE_NUMBER:-1000}" --name "${DEMO_SITE_NAME:-Demo Family Health Team}" \
  --admin-email admin@demo-clinic.ca --clinical-admin-email clinical-admin@demo-clinic.ca \
  --locale en --timezone America/Toronto > /dev/null 2>&1 || true

# The demo site's admin and SEK: referral-intake and emr-gateway encrypt PHI under the site's SEK
# through the vault service, so a site without one refuses bundles (503). Secrets never go on
# argv: the admin's password is kept in the stack's secrets directory (mode 600) and piped; the
# SEK is random, piped once into `sek store`, and kept nowhere but Vault.
site="${DEMO_SITE_NUMBER:-1000}"
secrets_dir="${CC_STATE_DIR:-${CC_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/cloud-connect}/stack}/secrets"
mkdir -p -m 700 "$secrets_dir"
pw_file="$secrets_dir/demo-admin-password"
if [ ! -s "$pw_file" ]; then
  (umask 077 && node -e 'process.stdout.write(require("crypto").randomBytes(18).toString("base64url"))' > "$pw_file")
fi
cli user create --email admin@demo-clinic.ca --site "$site" --role admin < "$pw_file" > /dev/null 2>&1 || true
if ! sek_out=$({ cat "$pw_file"; echo; node -e 'console.log(require("crypto").randomBytes(32).toString("base64"))'; } |
  cli sek store --site "$site" --email admin@demo-clinic.ca 2>&1); then
  if ! grep -q 'sek-exists' <<< "$sek_out"; then
    echo "demo: could not store an SEK for site $site (bundles to it will be refused):" >&2
    echo "$sek_out" >&2
  fi
fi

node -e '
const s = JSON.parse(require("fs").readFileSync("tmp-stack-status.json", "utf8"));
console.log("\nCloud Connect is running.\n");
for (const svc of s.services) console.log(`  ${svc.name.padEnd(16)} ${svc.url}   ready=${svc.ready}   log: ${svc.log}`);
console.log("");
for (const [k, v] of Object.entries(s.stack)) if (v && typeof v === "object" && v.url) console.log(`  ${k.padEnd(16)} ${v.url}`);
console.log(`\n  demo site        ${process.env.DEMO_SITE_NUMBER || "1000"}   (admin admin@demo-clinic.ca; password in the stack state dir, secrets/demo-admin-password)`);
console.log("\nPress Ctrl-C to stop everything.");
'
rm -f tmp-stack-status.json
while true; do sleep 3600 & wait $!; done
