#!/usr/bin/env bash
# The pieces of a wangge deployment beyond one machine, one command each (README, "Deploying
# beyond one machine"; api/tests/replicas.rs starts its primary, standby and cache with them):
#
#   cluster.sh pg-primary DIR PORT              a fresh PostgreSQL primary in DIR on 127.0.0.1:PORT,
#                                               database `wangge` with PostGIS; prints its URL
#   cluster.sh pg-standby DIR PORT PRIMARY_PORT a hot standby of it (pg_basebackup -R, streaming
#                                               replication) in DIR on 127.0.0.1:PORT; prints its URL
#   cluster.sh pg-stop DIR                      stops the cluster in DIR (fast; immediate if need be)
#   cluster.sh cache DIR PORT UPSTREAM...       nginx as a caching reverse proxy on 127.0.0.1:PORT in
#                                               front of the wangge services at UPSTREAM (host:port),
#                                               config, cache and logs in DIR; runs in the foreground
#
# Then, on each machine: `wangge serve --db URL --bind ADDR [--primary-url URL]` with the primary's
# URL for the one service planners write through, a standby's for the read replicas.
# PostgreSQL 15's programs are taken from $PG_BIN (default /usr/lib/postgresql/15/bin); as root
# they run as the `postgres` user (initdb refuses root), so DIR's parent must let it in.
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
# nginx is in /usr/sbin, which a user's PATH may lack.
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}

die() { echo "cluster.sh: $*" >&2; exit 1; }

# Runs a PostgreSQL program as postgres when we are root.
as_pg() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# DIR made, empty, owned by whoever runs PostgreSQL, mode 0700 (PostgreSQL insists).
pg_dir() {
    local dir=$1
    [ -e "$dir" ] && [ -n "$(ls -A "$dir" 2>/dev/null)" ] && die "$dir is not empty"
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
    chmod 0700 "$dir"
}

# Starts the cluster in DIR on 127.0.0.1:PORT, its socket and log in DIR; waits until it accepts.
pg_start() {
    local dir=$1 port=$2
    as_pg "$PG_BIN/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 start \
        -o "-c port=$port -c listen_addresses=127.0.0.1 -c unix_socket_directories=''" >/dev/null \
        || { cat "$dir/server.log" >&2; die "PostgreSQL in $dir did not start"; }
}

case "${1:-}" in
pg-primary)
    [ $# = 3 ] || die "usage: cluster.sh pg-primary DIR PORT"
    dir=$2 port=$3
    [ -x "$PG_BIN/initdb" ] || die "no initdb in $PG_BIN (Debian: postgresql-15; or set PG_BIN)"
    pg_dir "$dir"
    # trust on loopback only, replication included (initdb's pg_hba.conf has the lines).
    as_pg "$PG_BIN/initdb" -D "$dir" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    # Replication settings are PostgreSQL 15's defaults (wal_level replica, 10 WAL senders, hot
    # standby on); said here so that a tuned postgresql.conf keeps them.
    cat >> "$dir/postgresql.conf" <<CONF
wal_level = replica
max_wal_senders = 10
hot_standby = on
CONF
    pg_start "$dir" "$port"
    as_pg "$PG_BIN/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -c "CREATE DATABASE wangge" >/dev/null
    as_pg "$PG_BIN/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d wangge -c "CREATE EXTENSION postgis" >/dev/null
    echo "postgres://postgres@127.0.0.1:$port/wangge"
    ;;
pg-standby)
    [ $# = 4 ] || die "usage: cluster.sh pg-standby DIR PORT PRIMARY_PORT"
    dir=$2 port=$3 primary=$4
    pg_dir "$dir"
    # -R writes standby.signal and primary_conninfo; -X stream copies the WAL made meanwhile.
    as_pg "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$primary" -U postgres -D "$dir" -R -X stream -c fast
    pg_start "$dir" "$port"
    in_recovery=$(as_pg "$PG_BIN/psql" -X -Atq -h 127.0.0.1 -p "$port" -U postgres -d postgres -c "SELECT pg_is_in_recovery()")
    [ "$in_recovery" = t ] || die "the cluster in $dir is not in recovery: not a standby"
    echo "postgres://postgres@127.0.0.1:$port/wangge"
    ;;
pg-stop)
    [ $# = 2 ] || die "usage: cluster.sh pg-stop DIR"
    [ -f "$2/postmaster.pid" ] || exit 0
    as_pg "$PG_BIN/pg_ctl" -D "$2" -w -t 20 -m fast stop >/dev/null 2>&1 \
        || as_pg "$PG_BIN/pg_ctl" -D "$2" -m immediate stop >/dev/null
    ;;
cache)
    [ $# -ge 4 ] || die "usage: cluster.sh cache DIR PORT UPSTREAM..."
    dir=$2 port=$3
    shift 3
    [ -x "$NGINX" ] || die "nginx not found (Debian: apt-get install nginx; or set NGINX)"
    mkdir -p "$dir/cache" "$dir/tmp" "$dir/logs"
    servers=""
    for u in "$@"; do servers="$servers        server $u max_fails=0;
"; done
    user=""
    if [ "$(id -u)" = 0 ]; then
        # The workers drop root: they must reach the cache and temp folders.
        user="user nobody nogroup;"
        chown -R nobody:nogroup "$dir/cache" "$dir/tmp" "$dir/logs"
        chmod a+x "$dir"
    fi
    cat > "$dir/nginx.conf" <<CONF
# wangge behind a caching proxy (scripts/deploy/cluster.sh cache). What it relies on:
#  - /v/{version}/… answers are immutable (Cache-Control: public, max-age=31536000, immutable):
#    kept until evicted, never revalidated;
#  - /style.json and /tiles.json are no-cache with an ETag: revalidated on every request (a 304
#    from a replica costs no body), so the version they name is always the current one;
#  - answers that may change (errors, a version not loaded yet) are no-store: never kept;
#  - a replica still loading a version answers 503: the request goes to the next replica.
$user
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log $dir/logs/access.log;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    proxy_cache_path $dir/cache levels=1:2 keys_zone=wangge:10m max_size=1g inactive=7d use_temp_path=off;
    upstream wangge {
$servers        keepalive 16;
    }
    server {
        listen 127.0.0.1:$port;
        location / {
            proxy_pass http://wangge;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            # The style's and TileJSON's URLs are absolute, made from the Host the client used.
            proxy_set_header Host \$http_host;
            proxy_set_header X-Forwarded-Proto \$scheme;
            proxy_cache wangge;
            proxy_cache_key \$scheme\$http_host\$request_uri;
            # Honour the origin's Cache-Control; revalidate no-cache answers with If-None-Match.
            proxy_cache_revalidate on;
            proxy_cache_lock on;
            proxy_next_upstream error timeout http_502 http_503;
            add_header X-Cache-Status \$upstream_cache_status always;
        }
    }
}
CONF
    "$NGINX" -t -q -p "$dir" -c "$dir/nginx.conf"
    exec "$NGINX" -p "$dir" -c "$dir/nginx.conf" -g "daemon off;"
    ;;
*)
    sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
