#!/usr/bin/env bash
# Run a command against private PostgreSQL and Redis instances on 127.0.0.1.
#
#   scripts/with-services.sh pytest
#
# Installs Debian's postgresql and redis-server packages when they are missing
# (as root, or with password-less sudo), starts throw-away instances in a
# temporary directory on free ports (never the system services), exports
# DATABASE_URL and REDIS_URL, runs the command, and stops both instances even
# when the command fails. Exits with the command's status.
set -euo pipefail

log() { printf 'with-services: %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif sudo -n true 2>/dev/null; then sudo "$@"; else return 1; fi
}

pg_bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1; }

if [ -z "$(pg_bindir)" ] || ! command -v redis-server >/dev/null 2>&1; then
  log "installing postgresql and redis-server from Debian packages"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null \
    && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql redis-server >/dev/null \
    || { log "cannot install postgresql/redis-server: run as root or install them first"; exit 1; }
fi

PG_BIN="$(pg_bindir)"
WORK="$(mktemp -d -t portal-social-services.XXXXXX)"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
PG_PORT="$(free_port)"
REDIS_PORT="$(free_port)"

# PostgreSQL refuses to run as root: use Debian's postgres account then.
if [ "$(id -u)" = 0 ]; then
  chown postgres "$WORK"
  AS_PG=(runuser -u postgres --)
else
  AS_PG=()
fi

cleanup() {
  status=$?
  set +e
  [ -f "$WORK/pg/postmaster.pid" ] && "${AS_PG[@]}" "$PG_BIN/pg_ctl" -D "$WORK/pg" -m immediate stop >/dev/null 2>&1
  [ -f "$WORK/redis.pid" ] && kill "$(cat "$WORK/redis.pid")" 2>/dev/null
  sleep 0.5
  rm -rf "$WORK"
  log "services stopped"
  exit "$status"
}
trap cleanup EXIT INT TERM

log "starting PostgreSQL on 127.0.0.1:$PG_PORT and Redis on 127.0.0.1:$REDIS_PORT in $WORK"
"${AS_PG[@]}" "$PG_BIN/initdb" -D "$WORK/pg" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
"${AS_PG[@]}" "$PG_BIN/pg_ctl" -D "$WORK/pg" -l "$WORK/pg.log" -w -t 60 \
  -o "-h 127.0.0.1 -p $PG_PORT -k $WORK -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
  start >/dev/null
redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no \
  --daemonize yes --pidfile "$WORK/redis.pid" --dir "$WORK" --logfile "$WORK/redis.log"
for _ in $(seq 1 50); do
  redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1 && break
  sleep 0.1
done

export DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
export REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
export PORTAL_SOCIAL_PG_BIN="$PG_BIN"
set +e
"$@"
status=$?
set -e
exit "$status"
