#!/usr/bin/env bash
# Runs a command against a throwaway PostgreSQL 15 cluster: initdb in a temp folder owned by the
# postgres user, its own port on 127.0.0.1, its unix socket inside the temp folder, and
# DATABASE_URL / PGHOST / PGPORT / PGUSER exported to the command. The cluster is stopped and the
# folder removed when the command ends, whatever the outcome; the command's exit code is kept.
#
#   scripts/pg-throwaway.sh node --test tests/server/*.test.js
#   PG_THROWAWAY_FAST=1 ...   fsync off: for tests, where durability across a crash is not tested
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
for tool in initdb pg_ctl; do
  [[ -x "$PG_BIN/$tool" ]] || { echo "pg-throwaway: $PG_BIN/$tool not found (apt-get install postgresql-15)" >&2; exit 2; }
done

# root cannot run postgres; everything that touches the cluster runs as the postgres user.
as_postgres() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

folder=$(mktemp -d /tmp/pg-throwaway.XXXXXX)
chmod 755 "$folder"
[[ $(id -u) -eq 0 ]] && chown postgres:postgres "$folder"
data="$folder/data"

cleanup() {
  as_postgres "$PG_BIN/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$folder"
}
trap cleanup EXIT
# Interrupted: exit, which runs the EXIT trap once.
trap 'exit 130' INT
trap 'exit 143' TERM

port=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')

as_postgres "$PG_BIN/initdb" -D "$data" -U postgres -A trust -E UTF8 --no-locale >"$folder/initdb.log" 2>&1 || {
  cat "$folder/initdb.log" >&2
  exit 2
}
options="-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$folder -c max_connections=200"
options+=" -c shared_buffers=128MB"
if [[ "${PG_THROWAWAY_FAST:-0}" == 1 ]]; then
  options+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
fi
as_postgres "$PG_BIN/pg_ctl" -D "$data" -l "$folder/postgres.log" -o "$options" -w -t 60 start >/dev/null || {
  cat "$folder/postgres.log" >&2
  exit 2
}

export DATABASE_URL="postgresql://postgres@127.0.0.1:$port/postgres"
export PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres PGDATABASE=postgres
export PG_THROWAWAY_SOCKET_DIR=$folder
status=0
"$@" || status=$?
exit $status
