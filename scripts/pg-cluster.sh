#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests: never for data anyone wants to keep.
#
#   scripts/pg-cluster.sh start <dir>   initialise and start a cluster in <dir> (empty or absent) on a free
#                                       loopback port; prints only its URL on stdout, e.g.
#                                       postgres://postgres@127.0.0.1:41234/postgres
#   scripts/pg-cluster.sh stop <dir>    stop it and delete <dir>
#
# As root it runs initdb/pg_ctl as the `postgres` user (initdb refuses root); otherwise as the caller.
# The cluster listens on 127.0.0.1 only, with trust auth, fsync off and its unix socket inside <dir>.
# PG_BIN may name the folder holding initdb/pg_ctl; by default the newest /usr/lib/postgresql/*/bin.
set -euo pipefail

die() { echo "pg-cluster: $*" >&2; exit 1; }

pg_bin() {
  if [[ -n "${PG_BIN:-}" ]]; then echo "$PG_BIN"; return; fi
  local newest
  newest=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [[ -n "$newest" && -x "$newest/initdb" ]]; then echo "$newest"; return; fi
  if command -v initdb >/dev/null 2>&1; then dirname "$(command -v initdb)"; return; fi
  die "PostgreSQL is not installed (no initdb in /usr/lib/postgresql/*/bin nor on PATH); apt-get install postgresql"
}

# Runs a command as the cluster's owner, from inside the cluster folder (postgres may not read the caller's cwd).
as_owner() {
  if [[ $EUID -eq 0 ]]; then
    (cd "$DIR" && runuser -u postgres -- "$@")
  else
    (cd "$DIR" && "$@")
  fi
}

# A port nobody listens on right now (the kernel picks it); postgres may still lose a race for it: we retry.
free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})' 2>/dev/null \
    || python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])' 2>/dev/null \
    || die "cannot find a free port: neither node nor python3 is available"
}

start() {
  local bin port attempt
  bin=$(pg_bin)
  mkdir -p "$DIR"
  [[ -z "$(ls -A "$DIR")" ]] || die "$DIR is not empty; give an empty or new folder"
  chmod 700 "$DIR"
  if [[ $EUID -eq 0 ]]; then
    id postgres >/dev/null 2>&1 || die "running as root needs a 'postgres' user to own the cluster"
    chown postgres: "$DIR"
    runuser -u postgres -- test -w "$DIR" \
      || die "the postgres user cannot reach $DIR: put it under a folder others may traverse (e.g. /tmp)"
  fi

  if ! as_owner "$bin/initdb" -D "$DIR/data" -U postgres -A trust -E UTF8 --locale=C --no-sync \
      >"$DIR/initdb.log" 2>&1; then
    cat "$DIR/initdb.log" >&2
    die "initdb failed"
  fi
  cat >>"$DIR/data/postgresql.conf" <<EOF

# throwaway test cluster (scripts/pg-cluster.sh)
listen_addresses = '127.0.0.1'
unix_socket_directories = '$DIR'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
EOF

  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    echo "port = $port" >"$DIR/data/postgresql.auto.conf"
    if as_owner "$bin/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 start >/dev/null 2>&1; then
      echo "postgres://postgres@127.0.0.1:$port/postgres"
      return
    fi
    echo "pg-cluster: start on port $port failed (attempt $attempt)" >&2
  done
  tail -n 30 "$DIR/server.log" >&2 || true
  die "could not start PostgreSQL in $DIR"
}

stop() {
  [[ -d "$DIR" ]] || return 0
  if [[ -f "$DIR/data/postmaster.pid" ]]; then
    # Immediate: nothing here is worth a checkpoint.
    as_owner "$(pg_bin)/pg_ctl" -D "$DIR/data" -m immediate -w -t 30 stop >/dev/null 2>&1 \
      || echo "pg-cluster: pg_ctl stop failed in $DIR (already stopped?)" >&2
  fi
  rm -rf "$DIR"
}

[[ $# -eq 2 ]] || die "usage: $0 start|stop <dir>"
DIR=$(realpath -m "$2")
case "$1" in
  start) start ;;
  stop) stop ;;
  *) die "usage: $0 start|stop <dir>" ;;
esac
