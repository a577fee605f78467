#!/usr/bin/env bash
# Distributed mode without Docker: the gateway and the five services as separate OS processes on this
# machine, talking to PostgreSQL, RabbitMQ and an S3 endpoint (moto's S3 server unless
# SARABUN_STORAGE_URL is set). Pid files and logs go to var/local/. Running it again starts only what is
# not running. Returns once every process answers 200 on /readyz. Stop everything with down.sh.
#
# The first start records the settings the deployment's state lives in (database, bus, object store, data
# folder, demo flag, and hashes of the secrets) in var/local/deployment.json; a later start with other ones
# is refused, naming them, until down.sh has stopped everything and forgotten the record.
#
# Every default can be overridden from the environment:
#   SARABUN_DEMO (1), SARABUN_DATABASE_URL, SARABUN_BUS_URL, SARABUN_STORAGE_URL, SARABUN_DATA_DIR,
#   SARABUN_HOST, SARABUN_PORT (gateway), SARABUN_{INTAKE,ROUTING,STORAGE,AUDIT,NOTIFY}_PORT,
#   SARABUN_INTAKE_URL, SARABUN_ROUTING_URL, SARABUN_STORAGE_URL_INTERNAL, SARABUN_AUDIT_URL,
#   SARABUN_NOTIFY_URL, the mail settings SARABUN_SMTP_* (unset: notifications in the page only),
#   SARABUN_LOCAL_DIR (var/local), SARABUN_LOCAL_TIMEOUT (seconds to wait for /readyz, 60),
#   SARABUN_S3_PORT (moto's port, 9000).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

BIN="$ROOT/.venv/bin"
SERVICES=(intake routing storage audit notify)

say() { printf '[up-local] %s\n' "$*"; }
die() {
    printf '[up-local] error: %s\n' "$*" >&2
    exit 1
}

[[ -x "$BIN/sarabun" ]] || die "$BIN/sarabun not found: run 'make up-local' (it installs the project first)"
[[ -x "$BIN/python" ]] || die "$BIN/python not found: run 'make install'"

# --- configuration (exported so that every process agrees) ------------------------------------------
export SARABUN_DEMO="${SARABUN_DEMO:-1}"
export SARABUN_DATA_DIR="${SARABUN_DATA_DIR:-$ROOT/var}"
export SARABUN_DATABASE_URL="${SARABUN_DATABASE_URL:-postgresql+asyncpg://postgres@127.0.0.1:5432/sarabun}"
export SARABUN_BUS_URL="${SARABUN_BUS_URL:-amqp://guest:guest@127.0.0.1:5672/}"
export SARABUN_HOST="${SARABUN_HOST:-127.0.0.1}"
export SARABUN_PORT="${SARABUN_PORT:-8000}"

declare -A PORT=(
    [gateway]="$SARABUN_PORT"
    [intake]="${SARABUN_INTAKE_PORT:-8101}"
    [routing]="${SARABUN_ROUTING_PORT:-8102}"
    [storage]="${SARABUN_STORAGE_PORT:-8103}"
    [audit]="${SARABUN_AUDIT_PORT:-8104}"
    [notify]="${SARABUN_NOTIFY_PORT:-8105}"
)
# The address processes are reached at (a wildcard bind address is reached via loopback).
case "$SARABUN_HOST" in
    0.0.0.0 | "" | "::") CONNECT_HOST=127.0.0.1 ;;
    *) CONNECT_HOST="$SARABUN_HOST" ;;
esac
export SARABUN_INTAKE_URL="${SARABUN_INTAKE_URL:-http://$CONNECT_HOST:${PORT[intake]}}"
export SARABUN_ROUTING_URL="${SARABUN_ROUTING_URL:-http://$CONNECT_HOST:${PORT[routing]}}"
export SARABUN_STORAGE_URL_INTERNAL="${SARABUN_STORAGE_URL_INTERNAL:-http://$CONNECT_HOST:${PORT[storage]}}"
export SARABUN_AUDIT_URL="${SARABUN_AUDIT_URL:-http://$CONNECT_HOST:${PORT[audit]}}"
export SARABUN_NOTIFY_URL="${SARABUN_NOTIFY_URL:-http://$CONNECT_HOST:${PORT[notify]}}"

STATE="${SARABUN_LOCAL_DIR:-$ROOT/var/local}"
TIMEOUT="${SARABUN_LOCAL_TIMEOUT:-60}"
S3_PORT="${SARABUN_S3_PORT:-9000}"
USE_MOTO=0
if [[ -z "${SARABUN_STORAGE_URL:-}" ]]; then
    USE_MOTO=1
    export SARABUN_STORAGE_URL="s3://sarabun:sarabun-secret@127.0.0.1:$S3_PORT/sarabun"
fi
FINGERPRINT="$STATE/deployment.json"
# Before anything starts: a part started with other settings would split the deployment's state.
if ! refusal="$("$BIN/python" "$ROOT/deploy/local/fingerprint.py" check "$FINGERPRINT" 2>&1)"; then
    die "$refusal"
fi
mkdir -p "$STATE" "$SARABUN_DATA_DIR"

# --- helpers -----------------------------------------------------------------------------------------
# Is the process in NAME's pid file alive and still the one we started (guards against pid reuse)?
alive() {
    local name="$1" pattern="$2" pidfile="$STATE/$1.pid" pid
    [[ -f "$pidfile" ]] || return 1
    pid="$(cat "$pidfile" 2>/dev/null || true)"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    if command -v ps >/dev/null 2>&1; then
        ps -o args= -p "$pid" 2>/dev/null | grep -q -- "$pattern" || return 1
    fi
    return 0
}

port_open() {
    "$BIN/python" - "$1" "$2" <<'PY'
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2).close()
except OSError:
    sys.exit(1)
PY
}

http_ok() {
    if command -v curl >/dev/null 2>&1; then
        curl -fsS -o /dev/null --max-time 3 "$1" 2>/dev/null
    else
        "$BIN/python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=3)' "$1" \
            >/dev/null 2>&1
    fi
}

# Prints "host port" of a URL (with a default port).
host_port() {
    "$BIN/python" - "$1" "$2" <<'PY'
import sys
from urllib.parse import urlsplit
parts = urlsplit(sys.argv[1])
print(parts.hostname or "127.0.0.1", parts.port or int(sys.argv[2]))
PY
}

log_tail() {
    local log="$STATE/$1.log"
    if [[ -f "$log" ]]; then
        printf -- '----- last lines of %s -----\n' "$log" >&2
        # Only this start's output: from the last "=== ... starting" marker, at most 40 lines.
        awk '/^=== .*: starting / { n = NR } { line[NR] = $0 } END { for (i = (n ? n : 1); i <= NR; i++) print line[i] }' \
            "$log" | tail -n 40 >&2
        printf -- '-----\n' >&2
    fi
}

# start NAME PATTERN PORT COMMAND...: starts COMMAND in the background unless NAME is already running.
start() {
    local name="$1" pattern="$2" port="$3"
    shift 3
    if alive "$name" "$pattern"; then
        say "$name already running (pid $(cat "$STATE/$name.pid"))"
        return 0
    fi
    rm -f "$STATE/$name.pid"
    if port_open "$CONNECT_HOST" "$port"; then
        die "port $port is in use by another program; cannot start $name (set its port variable to move it)"
    fi
    say "starting $name on port $port (log: $STATE/$name.log)"
    printf '\n=== %s: starting %s ===\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >>"$STATE/$name.log"
    nohup "$@" >>"$STATE/$name.log" 2>&1 </dev/null &
    echo "$!" >"$STATE/$name.pid"
}

# wait_ready NAME...: polls each process's /readyz until all answer 200 or TIMEOUT passes.
wait_ready() {
    local deadline=$((SECONDS + TIMEOUT)) name pending
    while :; do
        pending=()
        for name in "$@"; do
            if ! alive "$name" "serve $name"; then
                say "$name exited during start-up" >&2
                log_tail "$name"
                die "$name is not running; see $STATE/$name.log"
            fi
            http_ok "http://$CONNECT_HOST:${PORT[$name]}/readyz" || pending+=("$name")
        done
        ((${#pending[@]} == 0)) && return 0
        if ((SECONDS >= deadline)); then
            for name in "${pending[@]}"; do
                say "$name is not ready after ${TIMEOUT}s (http://$CONNECT_HOST:${PORT[$name]}/readyz)" >&2
                log_tail "$name"
            done
            die "not ready: ${pending[*]} (processes left running; stop them with 'make down-local')"
        fi
        sleep 1
    done
}

ensure_database() {
    local url="$1"
    case "$url" in
        postgresql*) ;;
        *) return 0 ;; # SQLite or another engine: nothing to create
    esac
    local fields host port user password dbname
    fields="$("$BIN/python" - "$url" <<'PY'
import sys
from urllib.parse import unquote, urlsplit
parts = urlsplit(sys.argv[1])
name = parts.path.lstrip("/") or "postgres"
for value in (parts.hostname or "127.0.0.1", parts.port or 5432, unquote(parts.username or "postgres"),
              unquote(parts.password or ""), unquote(name)):
    print(value)
PY
)"
    {
        read -r host
        read -r port
        read -r user
        read -r password
        read -r dbname
    } <<<"$fields"
    port_open "$host" "$port" || die "PostgreSQL is not reachable at $host:$port (SARABUN_DATABASE_URL)"
    if command -v psql >/dev/null 2>&1; then
        local exists
        exists="$(PGPASSWORD="$password" psql -w -h "$host" -p "$port" -U "$user" -d postgres -tA \
            -v name="$dbname" <<<"SELECT 1 FROM pg_database WHERE datname = :'name';")" \
            || die "cannot query PostgreSQL at $host:$port as $user"
        if [[ "$exists" != "1" ]]; then
            say "creating database $dbname"
            PGPASSWORD="$password" psql -w -h "$host" -p "$port" -U "$user" -d postgres -q \
                -v ON_ERROR_STOP=1 -v name="$dbname" <<<'CREATE DATABASE :"name";' \
                || die "cannot create database $dbname"
        fi
    else
        "$BIN/python" - "$host" "$port" "$user" "$password" "$dbname" <<'PY' || die "cannot create database $dbname"
import asyncio, sys
import asyncpg

host, port, user, password, name = sys.argv[1:]

async def main() -> None:
    conn = await asyncpg.connect(host=host, port=int(port), user=user, password=password or None,
                                 database="postgres")
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            print(f"[up-local] creating database {name}")
            await conn.execute('CREATE DATABASE "%s"' % name.replace('"', '""'))
    finally:
        await conn.close()

asyncio.run(main())
PY
    fi
}

# --- infrastructure ---------------------------------------------------------------------------------
say "database: $SARABUN_DATABASE_URL"
ensure_database "$SARABUN_DATABASE_URL"

case "$SARABUN_BUS_URL" in
    amqp*)
        read -r bus_host bus_port <<<"$(host_port "$SARABUN_BUS_URL" 5672)"
        port_open "$bus_host" "$bus_port" \
            || die "RabbitMQ is not reachable at $bus_host:$bus_port (SARABUN_BUS_URL)"
        say "bus: $bus_host:$bus_port"
        ;;
esac

# The infrastructure answers: from here on processes start, so these settings are the deployment's.
"$BIN/python" "$ROOT/deploy/local/fingerprint.py" record "$FINGERPRINT" || die "cannot write $FINGERPRINT"

if ((USE_MOTO)); then
    [[ -x "$BIN/moto_server" ]] || die "$BIN/moto_server not found: run 'make install' (dev extras)"
    start moto moto_server "$S3_PORT" "$BIN/moto_server" -H 127.0.0.1 -p "$S3_PORT"
    deadline=$((SECONDS + TIMEOUT))
    until http_ok "http://127.0.0.1:$S3_PORT/"; do
        if ! alive moto moto_server || ((SECONDS >= deadline)); then
            log_tail moto
            die "moto's S3 server did not start on 127.0.0.1:$S3_PORT"
        fi
        sleep 0.5
    done
    # moto keeps objects in memory: make sure the bucket exists (again, after a restart of moto).
    "$BIN/python" - "$SARABUN_STORAGE_URL" <<'PY' || die "cannot create the bucket on moto's S3 server"
import asyncio, sys
from pathlib import Path
from shared.objectstore import open_store
asyncio.run(open_store(sys.argv[1], Path("var")).ensure())
PY
    say "object store: moto S3 server on 127.0.0.1:$S3_PORT (in memory; objects are lost when it stops)"
else
    say "object store: ${SARABUN_STORAGE_URL%%://*}://… (from SARABUN_STORAGE_URL)"
fi

# --- services first, the gateway last ---------------------------------------------------------------
for name in "${SERVICES[@]}"; do
    start "$name" "serve $name" "${PORT[$name]}" "$BIN/sarabun" serve "$name" --port "${PORT[$name]}"
done
wait_ready "${SERVICES[@]}"

start gateway "serve gateway" "${PORT[gateway]}" "$BIN/sarabun" serve gateway --port "${PORT[gateway]}"
wait_ready gateway "${SERVICES[@]}"

say "ready: gateway on http://$CONNECT_HOST:${PORT[gateway]} (logs and pid files in $STATE)"
