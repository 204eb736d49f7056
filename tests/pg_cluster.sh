#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for the tests, on 127.0.0.1 and a free port.
#   tests/pg_cluster.sh start DIR   initdb + start; writes DIR/url (postgresql://myocds@HOST:PORT)
#   tests/pg_cluster.sh stop DIR    stop and delete the cluster
#   tests/pg_cluster.sh pause DIR   stop the server only (its data stays: a database outage)
#   tests/pg_cluster.sh resume DIR  start it again on the same port
# The cluster's data lives in DIR/data (or, when the postgres user cannot reach DIR, in a
# temporary directory named in DIR/datadir). As root, the server runs as the `postgres`
# user (PostgreSQL refuses to run as root). Trust authentication, loopback TCP only, no
# Unix socket: nothing but this machine's tests can reach it.
set -euo pipefail

cmd=${1:?usage: pg_cluster.sh start|stop|pause|resume DIR}
dir=$(realpath -m "${2:?usage: pg_cluster.sh start|stop|pause|resume DIR}")
bin=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
[ -x "$bin/pg_ctl" ] || { echo "pg_cluster: no PostgreSQL server binaries (apt-get install postgresql)" >&2; exit 1; }

if [ "$(id -u)" -eq 0 ]; then
    run_as=(runuser -u postgres --)
    owner=postgres
else
    run_as=()
    owner=$(id -un)
fi

data_dir() {
    if [ -f "$dir/datadir" ]; then cat "$dir/datadir"; else echo "$dir/data"; fi
}

stop_cluster() {
    local d
    d=$(data_dir)
    if [ -f "$d/postmaster.pid" ]; then
        "${run_as[@]}" "$bin/pg_ctl" -D "$d" -m fast -w -t 30 stop >/dev/null 2>&1 || true
    fi
    if [ -f "$dir/datadir" ]; then rm -rf "$(cat "$dir/datadir")"; fi
    rm -rf "$dir/data" "$dir/datadir" "$dir/url"
}

server_opts() {
    echo "-c listen_addresses=127.0.0.1 -p $1 -c unix_socket_directories='' -c max_connections=50"
}

pause_server() {
    "${run_as[@]}" "$bin/pg_ctl" -D "$(data_dir)" -m fast -w -t 30 stop >/dev/null
}

resume_server() {
    local port
    port=$(sed -e 's/.*://' "$dir/url")
    "${run_as[@]}" "$bin/pg_ctl" -D "$(data_dir)" -l "$(data_dir)/server.log" -w -t 30 \
        -o "$(server_opts "$port")" start >/dev/null
}

free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_cluster() {
    mkdir -p "$dir"
    stop_cluster
    local d="$dir/data"
    mkdir -p "$d"
    chown "$owner" "$d"
    chmod 700 "$d"
    if ! "${run_as[@]}" test -w "$d"; then
        # An ancestor of DIR is closed to the postgres user: keep the data in /tmp instead.
        rm -rf "$d"
        d=$(mktemp -d /tmp/myocds-pg-XXXXXX)
        chown "$owner" "$d"
        echo "$d" >"$dir/datadir"
    fi
    "${run_as[@]}" "$bin/initdb" -D "$d" -U myocds --auth=trust -E UTF8 --no-locale \
        --no-sync >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    local port tries=0
    while :; do
        port=$(free_port)
        if "${run_as[@]}" "$bin/pg_ctl" -D "$d" -l "$d/server.log" -w -t 30 \
            -o "$(server_opts "$port")" \
            start >/dev/null 2>&1; then
            break
        fi
        tries=$((tries + 1))
        if [ $tries -ge 3 ]; then
            cat "$d/server.log" >&2 || true
            echo "pg_cluster: cannot start PostgreSQL" >&2
            exit 1
        fi
    done
    echo "postgresql://myocds@127.0.0.1:$port" >"$dir/url"
    echo "pg_cluster: PostgreSQL on 127.0.0.1:$port, data in $d"
}

case "$cmd" in
start) start_cluster ;;
stop) stop_cluster; echo "pg_cluster: stopped" ;;
pause) pause_server ;;
resume) resume_server ;;
*) echo "usage: pg_cluster.sh start|stop|pause|resume DIR" >&2; exit 2 ;;
esac
