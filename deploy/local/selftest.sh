#!/usr/bin/env bash
# Self-test of the native local stack (deploy/local/stack.sh):
#   up -> status -> Kafka smoke (kafkajs: topics, idempotent produce, group consume, transactions)
#   -> Postgres (psql select 1, admin URL can create/drop a database) -> Vault (health, KV v2
#   write/read, approle, audit log) -> mail (nodemailer -> SMTP sink -> HTTP API)
#   -> stop/start kafka, stop/start postgres, restart vault and mail (data kept) -> down, and no
#   process of the stack left.
# Ends with "selftest: N passed, N failed"; exit 0 only if nothing failed.
# CC_SELFTEST_KEEP_UP=1 leaves the stack running at the end (no `down`).
set -Eeuo pipefail
SELF_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SELF_DIR/../.." && pwd)"
STACK="$SELF_DIR/stack.sh"
# shellcheck source=../../scripts/bootstrap-node.sh
source "$REPO_ROOT/scripts/bootstrap-node.sh"

PASSED=0
FAILED=0
FAILURES=()
ok() { PASSED=$((PASSED + 1)); printf 'selftest: ok   %s\n' "$*"; }
bad() { FAILED=$((FAILED + 1)); FAILURES+=("$*"); printf 'selftest: FAIL %s\n' "$*"; }
# check NAME CMD...: run CMD (bounded by its own timeouts), record pass/fail.
check() {
  local name=$1
  shift
  if "$@"; then ok "$name"; else bad "$name"; fi
}
finish() {
  printf '\nselftest: %s passed, %s failed\n' "$PASSED" "$FAILED"
  for f in "${FAILURES[@]}"; do printf 'selftest:   failed: %s\n' "$f"; done
  [ "$FAILED" = 0 ]
}

TMP=$(mktemp -d)
STACK_UP=0
cleanup() {
  local rc=$?
  if [ "$STACK_UP" = 1 ] && [ "${CC_SELFTEST_KEEP_UP:-0}" != 1 ]; then
    "$STACK" down >/dev/null 2>&1 || true
  fi
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT

status_field() { # component field
  "$STACK" status | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);console.log(String(j[process.argv[1]][process.argv[2]]))})' "$1" "$2"
}

PSQL=$(command -v psql || ls /usr/lib/postgresql/*/bin/psql 2>/dev/null | sort -V | tail -1)

# ------------------------------------------------------------------ up + status
t0=$(date +%s%N)
if "$STACK" up; then
  STACK_UP=1
  ok "stack up ($((($(date +%s%N) - t0) / 1000000)) ms)"
else
  STACK_UP=1
  bad "stack up"
  finish
  exit 1
fi

status_json=$("$STACK" status)
echo "$status_json"
all_running() {
  node -e 'const j=JSON.parse(process.argv[1]);const bad=["postgres","kafka","vault","mail"].filter(c=>!(j[c]&&j[c].running&&j[c].ready&&j[c].pid));if(bad.length){console.error("not running:",bad.join(","));process.exit(1)}' "$status_json"
}
check "status: all four components running and ready" all_running

ENV_FILE=$("$STACK" env)
check "env file is mode 600" test "$(stat -c %a "$ENV_FILE")" = 600
# shellcheck disable=SC1090
source "$ENV_FILE"
for v in DATABASE_URL DATABASE_ADMIN_URL KAFKA_BROKERS VAULT_ADDR VAULT_TOKEN SMTP_HOST SMTP_PORT MAIL_API_URL; do
  check "env: $v is set" test -n "${!v:-}"
done

# ------------------------------------------------------------------ Kafka
# kafkajs 2.2.4 trips Node 24's TimeoutNegativeWarning (harmless); keep the output readable.
kafka_smoke() { timeout 120 node --disable-warning=TimeoutNegativeWarning "$SELF_DIR/kafka/smoke.mjs" "$KAFKA_BROKERS"; }
check "kafka: smoke (createTopics, idempotent produce, group consume, transactions, sendOffsets)" kafka_smoke
kafka_no_autocreate() {
  # auto.create.topics.enable=false: producing to an unknown topic must fail.
  (cd "$REPO_ROOT" && timeout 60 node --disable-warning=TimeoutNegativeWarning --input-type=module -e '
    import { Kafka, logLevel } from "kafkajs";
    const k = new Kafka({ brokers: [process.argv[1]], logLevel: logLevel.NOTHING, retry: { retries: 1 } });
    const p = k.producer({ allowAutoTopicCreation: true });
    await p.connect();
    try { await p.send({ topic: `cc-selftest-missing-${Date.now()}`, messages: [{ value: "x" }], timeout: 3000 }); console.error("topic was auto-created"); process.exitCode = 1; }
    catch { process.exitCode = 0; } finally { await p.disconnect(); }
  ' "$KAFKA_BROKERS")
}
check "kafka: topics are not auto-created" kafka_no_autocreate

# ------------------------------------------------------------------ Postgres
pg_select1() { [ "$(timeout 20 "$PSQL" "$DATABASE_URL" -XAtq -c 'select 1')" = 1 ]; }
check "postgres: psql \$DATABASE_URL select 1" pg_select1
pg_admin_createdb() {
  local db="cc_selftest_$$"
  timeout 20 "$PSQL" "$DATABASE_ADMIN_URL" -XAtq -v ON_ERROR_STOP=1 -c "create database $db" -c "drop database $db"
}
check "postgres: \$DATABASE_ADMIN_URL can create/drop a database" pg_admin_createdb
pg_app_createdb() {
  local db="cc_selftest_app_$$"
  timeout 20 "$PSQL" "$DATABASE_URL" -XAtq -v ON_ERROR_STOP=1 -c "create database $db" -c "drop database $db"
}
check "postgres: role cloudconnect has CREATEDB" pg_app_createdb
pg_fsync_on() { [ "$(timeout 20 "$PSQL" "$DATABASE_URL" -XAtq -c 'show fsync')" = on ]; }
check "postgres: fsync is on" pg_fsync_on

# ------------------------------------------------------------------ Vault (OpenBao)
HDR="$TMP/vault-header"
(umask 077 && printf 'X-Vault-Token: %s\n' "$VAULT_TOKEN" >"$HDR")
vault_health() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$VAULT_ADDR/v1/sys/health")" = 200 ]; }
check "vault: GET /v1/sys/health is 200" vault_health
KV_VALUE="selftest-$$-$RANDOM"
vault_kv_write() {
  curl -sf --max-time 5 -H @"$HDR" -H 'Content-Type: application/json' -X POST \
    -d "{\"data\":{\"value\":\"$KV_VALUE\"}}" "$VAULT_ADDR/v1/secret/data/selftest/probe" >/dev/null
}
vault_kv_read() {
  curl -sf --max-time 5 -H @"$HDR" "$VAULT_ADDR/v1/secret/data/selftest/probe" |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>process.exit(JSON.parse(s).data.data.value===process.argv[1]?0:1))' "$KV_VALUE"
}
check "vault: KV v2 write secret/selftest/probe" vault_kv_write
check "vault: KV v2 read back" vault_kv_read
vault_approle() { curl -sf --max-time 5 -H @"$HDR" "$VAULT_ADDR/v1/sys/auth" | grep -q '"approle/"'; }
check "vault: approle auth enabled" vault_approle
vault_audit() { [ -s "$(status_field vault auditLog)" ]; }
check "vault: file audit log is being written" vault_audit

# ------------------------------------------------------------------ mail
MAIL_TO="selftest-$$-$RANDOM@cloudconnect.test"
mail_send() {
  (cd "$REPO_ROOT" && timeout 30 node "$SELF_DIR/mail/send-test-mail.mjs" --to "$MAIL_TO" --subject "selftest $$" --text "body $$")
}
mail_readback() {
  curl -sf --max-time 5 "$MAIL_API_URL/messages?to=$MAIL_TO" |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const a=JSON.parse(s);const m=a[0];process.exit(a.length===1&&m.subject===process.argv[1]&&m.text.trim()===process.argv[2]&&m.to.includes(process.argv[3])&&m.headers["x-cloudconnect-test"]==="selftest"&&m.id&&m.receivedAt?0:1)})' \
      "selftest $$" "body $$" "$MAIL_TO"
}
check "mail: send via SMTP with nodemailer" mail_send
check "mail: read back from GET /messages?to=" mail_readback
mail_health() { curl -sf --max-time 5 "$MAIL_API_URL/health" | grep -q '"ok"'; }
check "mail: GET /health" mail_health

# ------------------------------------------------------------------ stop/start kafka
check "kafka: stack.sh stop kafka" "$STACK" stop kafka
kafka_down() { [ "$(status_field kafka running)" = false ] && ! timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/${KAFKA_BROKERS##*:}" 2>/dev/null; }
check "kafka: reported stopped and port closed" kafka_down
check "kafka: stack.sh start kafka" "$STACK" start kafka
check "kafka: smoke after restart" kafka_smoke

# ------------------------------------------------------------------ stop/start postgres
check "postgres: stack.sh stop postgres" "$STACK" stop postgres
pg_down() { [ "$(status_field postgres running)" = false ] && ! timeout 10 "$PSQL" "$DATABASE_URL" -XAtq -c 'select 1' >/dev/null 2>&1; }
check "postgres: reported stopped and refuses connections" pg_down
check "postgres: stack.sh start postgres" "$STACK" start postgres
check "postgres: select 1 after restart" pg_select1

# ------------------------------------------------------------------ restarts keep data
check "vault: stack.sh restart vault (unseals itself)" "$STACK" restart vault
check "vault: KV value survived the restart" vault_kv_read
check "mail: stack.sh restart mail" "$STACK" restart mail
check "mail: message survived the restart" mail_readback
check "stack: up again is idempotent" "$STACK" up

# ------------------------------------------------------------------ down
pids=$("$STACK" status | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);console.log(["postgres","kafka","vault","mail"].map(c=>j[c].pid).filter(Boolean).join(" "))})')
check "stack: down" "$STACK" down
STACK_UP=0
no_leftovers() {
  local p left=""
  for p in $pids; do
    # a zombie (exited, not yet reaped by its parent) is not running
    if kill -0 "$p" 2>/dev/null && [ "$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | cut -d' ' -f1)" != Z ]; then left+=" $p"; fi
  done
  # anything else still running from this stack's state dir or mail script
  local state_dir
  state_dir=$(dirname "$ENV_FILE")
  left+=$(ps -eo pid=,args= | grep -F -e "$state_dir/" | grep -v -e grep -e selftest.sh | awk '{printf " %s", $1}' || true)
  [ -z "$left" ] || { echo "still running:$left" >&2; left=${left# }; ps -o pid,stat,args -p "${left// /,}" >&2 || true; return 1; }
}
check "stack: no process left after down" no_leftovers
check "stack: down again is a no-op" "$STACK" down

finish
