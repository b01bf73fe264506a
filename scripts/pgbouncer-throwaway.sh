#!/usr/bin/env bash
# Runs a command behind a throwaway pgbouncer in transaction pooling mode, in front of the
# PostgreSQL in DATABASE_URL (e.g. inside scripts/pg-throwaway.sh): pgbouncer on its own port on
# 127.0.0.1, any database name passed through to the same name, trust auth for the users in
# PGBOUNCER_USERS (default: the user of DATABASE_URL). Exported to the command: DATABASE_URL
# pointing at pgbouncer, DIRECT_DATABASE_URL (the PostgreSQL behind it) and DB_POOLER=transaction,
# which the server and the test helpers read. pgbouncer is stopped and its folder removed when
# the command ends; the command's exit code is kept.
#
#   scripts/pg-throwaway.sh scripts/pgbouncer-throwaway.sh node --test tests/server/sync.test.js
set -euo pipefail

PGBOUNCER=${PGBOUNCER:-/usr/sbin/pgbouncer}
[[ -x "$PGBOUNCER" ]] || { echo "pgbouncer-throwaway: $PGBOUNCER not found (apt-get install pgbouncer)" >&2; exit 2; }
[[ -n "${DATABASE_URL:-}" ]] || { echo "pgbouncer-throwaway: DATABASE_URL is not set" >&2; exit 2; }

# pgbouncer refuses to run as root.
as_postgres() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

read -r db_host db_port db_user <<<"$(node -e 'const u=new URL(process.argv[1]);console.log(u.hostname,u.port||5432,decodeURIComponent(u.username)||"postgres")' "$DATABASE_URL")"

folder=$(mktemp -d /tmp/pgbouncer-throwaway.XXXXXX)
chmod 755 "$folder"
[[ $(id -u) -eq 0 ]] && chown postgres:postgres "$folder"

pid=
cleanup() {
  [[ -n "$pid" ]] && kill "$pid" 2>/dev/null && while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  rm -rf "$folder"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')

for user in ${PGBOUNCER_USERS:-$db_user}; do printf '"%s" ""\n' "$user"; done >"$folder/userlist.txt"
# The settings the README's "Behind pgbouncer" recommends, on a throwaway scale. Nothing is
# added to ignore_startup_parameters: the server sends none that pgbouncer refuses.
cat >"$folder/pgbouncer.ini" <<INI
[databases]
* = host=$db_host port=$db_port

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $folder/userlist.txt
pool_mode = transaction
max_client_conn = 1000
default_pool_size = ${PGBOUNCER_POOL_SIZE:-20}
max_db_connections = ${PGBOUNCER_POOL_SIZE:-20}
server_reset_query =
logfile = $folder/pgbouncer.log
pidfile = $folder/pgbouncer.pid
INI
[[ $(id -u) -eq 0 ]] && chown postgres:postgres "$folder"/*

as_postgres "$PGBOUNCER" -d "$folder/pgbouncer.ini" || { cat "$folder/pgbouncer.log" >&2; exit 2; }
for _ in $(seq 100); do
  [[ -s "$folder/pgbouncer.pid" ]] && break
  sleep 0.1
done
pid=$(cat "$folder/pgbouncer.pid" 2>/dev/null || true)
[[ -n "$pid" ]] || { echo "pgbouncer-throwaway: pgbouncer did not start" >&2; cat "$folder/pgbouncer.log" >&2; exit 2; }

database=$(node -e 'console.log(new URL(process.argv[1]).pathname.slice(1)||"postgres")' "$DATABASE_URL")
export DIRECT_DATABASE_URL=$DATABASE_URL
export DATABASE_URL="postgresql://$db_user@127.0.0.1:$port/$database"
export DB_POOLER=transaction
export PGBOUNCER_LOG=$folder/pgbouncer.log
status=0
"$@" || status=$?
exit $status
