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

node -e '
const s = JSON.parse(require("fs").readFileSync("tmp-stack-status.json", "utf8"));
console.log("\nCloud Connect is running.\n");
for (const svc of s.services) console.log(`  ${svc.name.padEnd(16)} ${svc.url}   ready=${svc.ready}   log: ${svc.log}`);
console.log("");
for (const [k, v] of Object.entries(s.stack)) if (v && typeof v === "object" && v.url) console.log(`  ${k.padEnd(16)} ${v.url}`);
console.log(`\n  demo site        ${process.env.DEMO_SITE_NUMBER || "1000"}   (bin/cloud-connect stack status for details)`);
console.log("\nPress Ctrl-C to stop everything.");
'
rm -f tmp-stack-status.json
while true; do sleep 3600 & wait $!; done
