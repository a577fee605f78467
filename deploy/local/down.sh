#!/usr/bin/env bash
# Stops the processes started by up.sh: the gateway first, then the five services (together), then moto's
# S3 server. Each gets SIGTERM, then SIGKILL if it has not exited after SARABUN_LOCAL_STOP_SECONDS
# (default 10). Pid files and the record of the deployment's settings are removed; logs stay in var/local/.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STATE="${SARABUN_LOCAL_DIR:-$ROOT/var/local}"
GRACE="${SARABUN_LOCAL_STOP_SECONDS:-10}"

say() { printf '[down-local] %s\n' "$*"; }

# The pid in NAME's pid file if it still runs the program we started (a stale pid file may name a pid
# that now belongs to something else); otherwise nothing.
running_pid() {
    local name="$1" pattern="$2" pidfile="$STATE/$1.pid" pid
    [[ -f "$pidfile" ]] || return 0
    pid="$(cat "$pidfile" 2>/dev/null || true)"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 0
    kill -0 "$pid" 2>/dev/null || return 0
    if command -v ps >/dev/null 2>&1; then
        ps -o args= -p "$pid" 2>/dev/null | grep -q -- "$pattern" || return 0
    fi
    echo "$pid"
}

# stop NAME...: SIGTERM to all of them at once, wait, then SIGKILL what is left.
stop() {
    local name pid waited alive
    local -a pids=() names=()
    for name in "$@"; do
        pid="$(running_pid "$name" "$(pattern "$name")")"
        if [[ -n "$pid" ]]; then
            say "stopping $name (pid $pid)"
            kill -TERM "$pid" 2>/dev/null || true
            pids+=("$pid")
            names+=("$name")
        elif [[ -f "$STATE/$name.pid" ]]; then
            say "$name was not running"
        fi
    done
    waited=0
    while ((waited < GRACE * 10)); do
        alive=0
        for pid in ${pids[@]+"${pids[@]}"}; do
            kill -0 "$pid" 2>/dev/null && alive=1
        done
        ((alive)) || break
        sleep 0.1
        waited=$((waited + 1))
    done
    for i in "${!pids[@]}"; do
        if kill -0 "${pids[$i]}" 2>/dev/null; then
            say "${names[$i]} did not stop after ${GRACE}s; killing it"
            kill -KILL "${pids[$i]}" 2>/dev/null || true
        fi
    done
    for name in "$@"; do
        rm -f "$STATE/$name.pid"
    done
}

pattern() {
    case "$1" in
        moto) echo moto_server ;;
        *) echo "serve $1" ;;
    esac
}

if [[ ! -d "$STATE" ]]; then
    say "nothing to stop ($STATE does not exist)"
    exit 0
fi

stop gateway
stop intake routing storage audit notify
stop moto
# Everything is stopped: the next up.sh may start afresh with other settings.
if [[ -f "$STATE/deployment.json" ]]; then
    rm -f "$STATE/deployment.json"
    say "forgot the settings the deployment was started with ($STATE/deployment.json)"
fi
say "stopped"
