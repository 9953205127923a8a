#!/usr/bin/env bash
# A throw-away PostgreSQL server for the tests (the store's PostgreSQL tests need one).
#
#   pg_env=$(.ci/postgres.sh start) && eval "$pg_env"   # exports COMMGOV_TEST_POSTGRES_URL, COMMGOV_PG_DIR
#   .ci/postgres.sh stop "$COMMGOV_PG_DIR"
#
# Installs PostgreSQL from the Debian packages when no server binaries are found (needs root;
# idempotent), initialises a cluster in a new temporary folder as a non-root user (PostgreSQL
# refuses to run as root), and starts it listening on a Unix socket in that folder only (no
# TCP port to collide with). Messages go to stderr; only the export lines go to stdout.
set -euo pipefail

find_bin() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/pg_ctl" ] && [ -x "$d/initdb" ]; then echo "$d"; return 0; fi
  done
  if command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
    dirname "$(readlink -f "$(command -v pg_ctl)")"
    return 0
  fi
  return 1
}

as_user() {  # run a command as the cluster's owner
  if [ "$(id -u)" -eq 0 ]; then runuser -u "$PG_USER" -- "$@"; else "$@"; fi
}

start() {
  local bin dir
  if ! bin=$(find_bin); then
    echo "postgres.sh: installing PostgreSQL (apt-get install postgresql)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 && apt-get install -y -qq postgresql >&2
    bin=$(find_bin)
  fi
  PG_USER=$(id -un)
  if [ "$(id -u)" -eq 0 ]; then
    PG_USER=postgres
    id -u "$PG_USER" >/dev/null 2>&1 || useradd --system --no-create-home "$PG_USER"
  fi
  dir=$(mktemp -d "${TMPDIR:-/tmp}/commgov-pg.XXXXXX")
  chmod 755 "$dir"
  [ "$(id -u)" -eq 0 ] && chown "$PG_USER" "$dir"
  echo "$bin" >"$dir/bin"
  echo "$PG_USER" >"$dir/user"
  trap 'stop "$dir"' ERR
  as_user "$bin/initdb" -D "$dir/data" -U commgov -A trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  as_user "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -s \
    -o "-c listen_addresses='' -k $dir -c fsync=off -c full_page_writes=off -c max_connections=200" start >&2 \
    || { cat "$dir/server.log" >&2; exit 1; }
  trap - ERR
  echo "export COMMGOV_PG_DIR='$dir'"
  echo "export COMMGOV_TEST_POSTGRES_URL='postgresql+psycopg://commgov@/postgres?host=$dir'"
}

stop() {
  local dir=${1:?usage: postgres.sh stop DIR}
  [ -f "$dir/bin" ] || { rm -rf "$dir"; return 0; }
  PG_USER=$(cat "$dir/user")
  as_user "$(cat "$dir/bin")/pg_ctl" -D "$dir/data" -m immediate -w -s stop >&2 || true
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:-}" ;;
  *) echo "usage: $0 start | stop DIR" >&2; exit 2 ;;
esac
