#!/usr/bin/env bash
# Run a command with a throw-away PostgreSQL server, exported as CHATIMG_TEST_POSTGRES_URL.
# PostgreSQL refuses to run as root, so as root the cluster runs as the `postgres` user.
# Without PostgreSQL binaries the command still runs (the PostgreSQL tests then skip; under CI
# they fail instead, see tests/conftest.py).
set -uo pipefail

pg_bin=""
for candidate in /usr/lib/postgresql/*/bin; do
  [ -x "$candidate/pg_ctl" ] && pg_bin="$candidate"
done
if [ -z "$pg_bin" ] && [ "${CI:-}" = "true" ] && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "with-postgres: installing PostgreSQL" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) || true
  for candidate in /usr/lib/postgresql/*/bin; do
    [ -x "$candidate/pg_ctl" ] && pg_bin="$candidate"
  done
fi
if [ -z "$pg_bin" ]; then
  echo "with-postgres: PostgreSQL not found; running without it" >&2
  exec "$@"
fi

run_as=()
owner="$(id -un)"
if [ "$(id -u)" = "0" ]; then
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  owner=postgres
  run_as=(runuser -u postgres --)
fi

dir="$(mktemp -d /tmp/chatimg-pg.XXXXXX)"
chown "$owner" "$dir"
chmod 700 "$dir"
port=$(( 20000 + RANDOM % 20000 ))
cleanup() {
  "${run_as[@]}" "$pg_bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

"${run_as[@]}" "$pg_bin/initdb" -D "$dir/data" -U chatimg --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log" >&2; exit 1; }
"${run_as[@]}" "$pg_bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null \
  || { cat "$dir/server.log" >&2; exit 1; }
"${run_as[@]}" "$pg_bin/createdb" -h 127.0.0.1 -p "$port" -U chatimg chatimg_test

export CHATIMG_TEST_POSTGRES_URL="postgresql+psycopg://chatimg@127.0.0.1:$port/chatimg_test"
echo "with-postgres: PostgreSQL running on 127.0.0.1:$port" >&2
"$@"
status=$?
exit $status
