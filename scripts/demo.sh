#!/usr/bin/env bash
# Sets up and runs the whole system on this machine: Node 24, dependencies, build, the real local
# stack, the five services, the EMR simulators, and a demo site connected to a simulated PS Suite.
# Ctrl-C (or `bin/cloud-connect stack down`) stops it all.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source scripts/bootstrap-node.sh
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --prefer-offline
fi
npm run --silent build
cli() { node dist/tools/cli/src/main.js "$@"; }

state_dir="${CC_STATE_DIR:-${CC_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/cloud-connect}/stack}"
mkdir -p "$state_dir"
cli stack up > "$state_dir/stack-status.json"
sim_pid=""
console_pid=""
trap 'echo; echo "stopping Cloud Connect..." >&2; [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null; [ -n "$console_pid" ] && kill "$console_pid" 2>/dev/null; cli stack down >/dev/null; exit 0' INT TERM

# The EMR simulators (one HTTP server playing PS Suite, Med Access, Accuro, OSCAR Pro, a CHR and a
# FHIR R4 EMR; emr-gateway's default EMR API URLs point at it).
sim_port="${DEMO_EMR_SIMULATOR_PORT:-4010}"
sim_json="$state_dir/emr-simulator.json"
rm -f "$sim_json"
node dist/tools/emr-simulator/src/main.js --port "$sim_port" > "$sim_json" 2> "$state_dir/emr-simulator.log" &
sim_pid=$!
for _ in $(seq 1 60); do
  if node -e 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))' "$sim_json" 2>/dev/null; then break; fi
  if ! kill -0 "$sim_pid" 2>/dev/null; then
    echo "demo: the EMR simulator did not start on port $sim_port (in use? set DEMO_EMR_SIMULATOR_PORT): $(cat "$state_dir/emr-simulator.log")" >&2
    sim_pid=""
    break
  fi
  sleep 0.5
done

# The demo's CLI keeps its credentials in the stack's state dir (not your own config dir). Site
# and first admin are operator actions: `stack up` issued this stack's operator token (mode 600).
export XDG_CONFIG_HOME="$state_dir/cli-config"
site="${DEMO_SITE_NUMBER:-1000}"
secrets_dir="${CC_STATE_DIR:-${CC_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/cloud-connect}/stack}/secrets"
mkdir -p -m 700 "$secrets_dir"
cli login --operator --token-file "$secrets_dir/operator-token" > /dev/null
cli site create --number "$site" --name "${DEMO_SITE_NAME:-Demo Family Health Team}" \
  --admin-email admin@demo-clinic.ca --clinical-admin-email clinical-admin@demo-clinic.ca \
  --locale en --timezone America/Toronto > /dev/null 2>&1 || true

# The demo site's admin and SEK: referral-intake and emr-gateway encrypt PHI under the site's SEK
# through the vault service, so a site without one refuses bundles (503). Secrets never go on
# argv: the admin's password is kept in the stack's secrets directory (mode 600) and read from
# there; the SEK is random, piped once into `sek store`, and kept nowhere but Vault.
pw_file="$secrets_dir/demo-admin-password"
if [ ! -s "$pw_file" ]; then
  (umask 077 && node -e 'process.stdout.write(require("crypto").randomBytes(18).toString("base64url"))' > "$pw_file")
fi
cli user create --email admin@demo-clinic.ca --site "$site" --role admin --password-file "$pw_file" > /dev/null 2>&1 || true
# The admin's second factor (creating credentials and the SEK need it): an authenticator app whose
# key is kept beside the password (mode 600), set up at the first run (scripts/demo-mfa.mjs).
totp_file="$secrets_dir/demo-admin-totp"
demo_login() {
  local code=()
  if [ -s "$totp_file" ]; then code=(--code "$(node scripts/demo-mfa.mjs code "$totp_file")"); fi
  cli login --email admin@demo-clinic.ca --password-file "$pw_file" "${code[@]}" > /dev/null
}
signed_in=""
if demo_login; then signed_in=yes; fi
if [ -n "$signed_in" ] && [ ! -s "$totp_file" ]; then
  signed_in=""
  if node scripts/demo-mfa.mjs setup "$totp_file" && demo_login; then signed_in=yes; fi
fi
if [ -n "$signed_in" ] && ! sek_out=$(node -e 'console.log(require("crypto").randomBytes(32).toString("base64"))' |
  cli sek store --site "$site" 2>&1); then
  if ! grep -q 'sek-exists' <<< "$sek_out"; then
    echo "demo: could not store an SEK for site $site (bundles to it will be refused):" >&2
    echo "$sek_out" >&2
  fi
fi

# Connect the demo site to the simulated PS Suite (credentials through stdin) and sync it once.
if [ -n "$sim_pid" ]; then
  ps_suite=$(node -e '
    const sim = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const i = sim.instances.find((x) => x.type === "ps-suite");
    process.stdout.write(JSON.stringify({ type: "ps-suite", ...i.credentials }));' "$sim_json")
  emr_line="not connected (see cloud-connect emr connect)"
  if [ -n "$signed_in" ] && printf '%s' "$ps_suite" | cli emr connect --site "$site" > /dev/null 2>&1; then
    cli emr sync --site "$site" --scope full > /dev/null 2>&1 || true
    # Referrals into the chart as PDF, from a demo CHR integration (its key kept in the secrets dir).
    echo '{"importAttachmentsAsPdf": true}' | cli emr settings --site "$site" --set - > /dev/null 2>&1 || true
    key_file="$secrets_dir/demo-integration-key"
    if [ ! -s "$key_file" ]; then
      (umask 077 && cli integration create --site "$site" --name "Demo CHR" 2>/dev/null |
        node -e 'const o = JSON.parse(require("fs").readFileSync(0, "utf8")); process.stdout.write(o.apiKey ?? "")' > "$key_file") || rm -f "$key_file"
    fi
    emr_line="PS Suite (simulated), connected and syncing; referrals go into the chart as PDF:
                   node scripts/demo-referral.mjs   (posts one, prints the PDF filed in the chart)
                   node scripts/demo-reminder.mjs   (books an appointment 2 minutes ahead, prints its reminder)"
  fi
  # Patient reminders for the demo site (1 day, 1 hour and, to see one at once, 1 minute before;
  # by e-mail into the mail sink; no quiet hours, so the demo works at any hour): see
  # scripts/demo-reminder.mjs. Its syncs run on the scheduler's clock (recent every 30 minutes,
  # full at local midnight; `cloud-connect emr status --site 1000` shows the next times).
  if [ -n "$signed_in" ]; then
    printf '%s' '{"enabled":true,"leadMinutes":[1440,60,1],"channels":["email"],"quietHours":null,"includeEmrAppointments":false,"statusNotices":true}' |
      cli reminders policy set --site "$site" > /dev/null 2>&1 || true
  fi
else
  emr_line="not connected: the EMR simulator is not running"
fi
export DEMO_EMR_LINE="$emr_line" DEMO_SIM_URL="http://127.0.0.1:$sim_port"

# The console (web app + admin API from one origin). Local http: the session cookie is not
# `Secure` here; its sealing secret is kept in the stack's secrets directory (mode 600).
console_port="${DEMO_CONSOLE_PORT:-3000}"
console_secret_file="$secrets_dir/console-session-secret"
if [ ! -s "$console_secret_file" ]; then
  (umask 077 && node -e 'process.stdout.write(require("crypto").randomBytes(32).toString("base64url"))' > "$console_secret_file")
fi
CONSOLE_SESSION_SECRET="$(cat "$console_secret_file")" CONSOLE_COOKIE_SECURE=false HOST=127.0.0.1 PORT="$console_port" \
  node dist/services/console/src/main.js > "$state_dir/console.log" 2>&1 &
console_pid=$!
console_line="http://127.0.0.1:$console_port   (sign in as admin@demo-clinic.ca)"
for _ in $(seq 1 60); do
  if node -e 'fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "http://127.0.0.1:$console_port/health/ready"; then break; fi
  if ! kill -0 "$console_pid" 2>/dev/null; then
    console_line="did not start on port $console_port (in use? set DEMO_CONSOLE_PORT): see $state_dir/console.log"
    console_pid=""
    break
  fi
  sleep 0.5
done
export DEMO_CONSOLE_LINE="$console_line"
# A demo eReferral posted to the demo site at start: referral-intake -> emr-gateway -> a PDF in the
# simulated PS Suite chart (bounded wait); `node scripts/demo-chart.mjs` lists the chart and its text.
referral_line="not posted (the demo EMR is not connected)"
if [ -n "$sim_pid" ] && [ -s "$secrets_dir/demo-integration-key" ]; then
  if DEMO_SITE_NUMBER="$site" CC_STATE_DIR="$state_dir" DEMO_EMR_SIMULATOR_PORT="$sim_port" \
    timeout 90 node scripts/demo-referral.mjs > "$state_dir/demo-referral.txt" 2>&1; then
    referral_line="$(sed -n 2p "$state_dir/demo-referral.txt")"
  else
    referral_line="not in the chart yet: see $state_dir/demo-referral.txt"
  fi
fi
export DEMO_REFERRAL_LINE="$referral_line"

node -e '
const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
console.log("\nCloud Connect is running.\n");
console.log(`  console          ${process.env.DEMO_CONSOLE_LINE}\n`);
for (const svc of s.services) console.log(`  ${svc.name.padEnd(16)} ${svc.url}   ready=${svc.ready}   log: ${svc.log}`);
console.log("");
for (const [k, v] of Object.entries(s.stack)) if (v && typeof v === "object" && v.url) console.log(`  ${k.padEnd(16)} ${v.url}`);
console.log(`\n  demo site        ${process.env.DEMO_SITE_NUMBER || "1000"}   (admin admin@demo-clinic.ca; password in the stack state dir, secrets/demo-admin-password;`);
console.log(`                   authenticator code: node scripts/demo-mfa.mjs code <state dir>/secrets/demo-admin-totp)`);
console.log(`  demo EMR         ${process.env.DEMO_EMR_LINE}`);
console.log(`  admin CLI        npm run cloud-connect -- login --email admin@demo-clinic.ca   (operator: login --operator --token-file <state dir>/secrets/operator-token)`);
console.log(`  EMR simulators   ${process.env.DEMO_SIM_URL}/_sim/instances   (PS Suite, Med Access, Accuro, OSCAR Pro, CHR, FHIR R4)`);
console.log(`  demo referral    ${process.env.DEMO_REFERRAL_LINE}`);
console.log("  see the chart    node scripts/demo-chart.mjs   (documents in the PS Suite chart, via its API, and the PDF text)");
console.log("\nPress Ctrl-C to stop everything.");
' "$state_dir/stack-status.json"

while true; do sleep 3600 & wait $!; done
