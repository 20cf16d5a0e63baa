#!/bin/sh
# A throw-away PostgreSQL cluster for the tests, on loopback in a temp dir.
#   tools/pg-cluster.sh start DIR   initdb + pg_ctl start; prints the base URL
#                                   (postgresql://netradrive@127.0.0.1:PORT)
#   tools/pg-cluster.sh stop DIR    pg_ctl stop (fast), then removes DIR
#   tools/pg-cluster.sh halt DIR    stops the server, keeping DIR (outage tests)
#   tools/pg-cluster.sh resume DIR  starts it again on the same port
# initdb refuses to run as root: as root, the cluster runs as the `postgres`
# user (Debian's package creates it), which then owns DIR. Durability is off
# (fsync, full pages): the cluster lives for one test run.
set -eu
PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }
[ -x "$PGBIN/pg_ctl" ] || { echo "pg-cluster: no PostgreSQL binaries (apt-get install postgresql)" >&2; exit 1; }

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# pg_start PORT: starts the server of $dir on PORT, loopback only.
pg_start() {
  as_owner "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 start -o \
    "-c listen_addresses=127.0.0.1 -p $1 -k $dir -c max_connections=400 -c fsync=off \
     -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=64MB \
     -c autovacuum_naptime=1" >/dev/null
}

case "$cmd" in
start)
  mkdir -p "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
  as_owner "$PGBIN/initdb" -D "$dir/data" -U netradrive --auth=trust --no-locale -E UTF8 \
    >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
  # A free port, asked of the kernel (a race with another process is caught
  # by pg_ctl failing, and then we try another).
  for _ in 1 2 3 4 5; do
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    if pg_start "$port"; then
      echo "$port" >"$dir/port"
      echo "postgresql://netradrive@127.0.0.1:$port"
      exit 0
    fi
  done
  cat "$dir/server.log" >&2
  exit 1
  ;;
halt)
  as_owner "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null
  ;;
resume)
  pg_start "$(cat "$dir/port")"
  ;;
stop)
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_owner "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
      as_owner "$PGBIN/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
  ;;
*)
  echo "usage: $0 start|stop DIR" >&2
  exit 2
  ;;
esac
