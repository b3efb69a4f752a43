#!/usr/bin/env bash
# Runs a command beside a throwaway PostgreSQL cluster:
#
#   scripts/with-postgres.sh swift test --skip-build
#
# Installs Debian's `postgresql` if it is missing, creates a cluster in a new
# temporary folder (initdb), starts it on a free loopback port (pg_ctl), runs
# the command with READSYNC_TEST_DATABASE_URL naming it, and always stops and
# removes the cluster afterwards, whatever the command did. PostgreSQL refuses
# to run as root: as root, the cluster belongs to the unprivileged `postgres`
# user the package creates. Tuned for tests (no fsync): never keep data in it.
# READSYNC_POSTGRES_DURABLE=1 keeps PostgreSQL's durable defaults (fsync,
# synchronous commits), as the benchmarks need to compare it with SQLite.
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: $0 COMMAND [ARG...]" >&2; exit 64; }

bin_dir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
if [ -z "$(bin_dir)" ] || [ ! -x "$(bin_dir)/initdb" ]; then
    echo "Installing PostgreSQL (Debian's postgresql) for the tests" >&2
    sudo_cmd=()
    [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    # The package would create and start a cluster of its own on port 5432:
    # the tests need none (read by postgresql-common's postinst).
    if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
        "${sudo_cmd[@]}" mkdir -p /etc/postgresql-common
        echo "create_main_cluster = false" | "${sudo_cmd[@]}" tee /etc/postgresql-common/createcluster.conf >/dev/null
    fi
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq postgresql >/dev/null
fi
bin="$(bin_dir)"

cluster="$(mktemp -d /tmp/readsync-postgres.XXXXXX)"
as_owner=()
if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$cluster"
    as_owner=(runuser -u postgres --)
fi

stop_cluster() {
    "${as_owner[@]}" "$bin/pg_ctl" -D "$cluster/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$cluster"
}
trap stop_cluster EXIT

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"${as_owner[@]}" "$bin/initdb" -D "$cluster/data" -U readsync --auth=trust --encoding=UTF8 --no-locale >"$cluster/initdb.log" 2>&1 \
    || { cat "$cluster/initdb.log" >&2; exit 1; }
tuning="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
[ "${READSYNC_POSTGRES_DURABLE:-}" = 1 ] && tuning=""
"${as_owner[@]}" "$bin/pg_ctl" -D "$cluster/data" -l "$cluster/server.log" -w start -o \
    "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$cluster -c max_connections=300 $tuning" \
    >/dev/null || { cat "$cluster/server.log" >&2; exit 1; }
"${as_owner[@]}" "$bin/createdb" -h 127.0.0.1 -p "$port" -U readsync readsync_test

export READSYNC_TEST_DATABASE_URL="postgres://readsync@127.0.0.1:$port/readsync_test"
echo "PostgreSQL for the tests at $READSYNC_TEST_DATABASE_URL ($("$bin/postgres" --version))" >&2
status=0
"$@" || status=$?
exit $status
