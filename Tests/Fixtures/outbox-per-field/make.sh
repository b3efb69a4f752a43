#!/usr/bin/env bash
# Makes the outbox-per-field fixture with the readsync binary given as $1
# (built from aef2121, the last commit whose outbox kept one row per field),
# so that the upgrade to one row per entity (`v9-outbox-per-entity`) is tested
# on a database the earlier code wrote. Kept to document how it was made.
#
#   laptop       two articles synced, then, not synced: the second's progress
#                written twice (a floor: the first of the two may be on the
#                server; a base of 1: the server has the synced one), a tag,
#                a note, and a third article (bases of 0)
#   server-data  alice's account with what the laptop synced; token in tokens.txt
set -euo pipefail
readsync=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
seeds="$here/../../../seeds"
work=$(mktemp -d)
trap 'kill -TERM $server 2>/dev/null || true; rm -rf "$work"' EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$readsync" serve --port "$port" --data "$work/server-data" --log-level warning &
server=$!
for _ in $(seq 50); do python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null && break; sleep 0.1; done
alice=$("$readsync" user add alice --data "$work/server-data" | tail -n 1)

laptop() { "$readsync" client --home "$work/laptop" "$@"; }
laptop init --server "http://127.0.0.1:$port" --token "$alice"
first=$(laptop add "$seeds/001_60d26cfe24f49f90.txt" | tail -n 1)
second=$(laptop add "$seeds/002_6f6967ff42105706.txt" | tail -n 1)
laptop progress "$second" 40
laptop sync

laptop progress "$second" 60
laptop progress "$second" 80
laptop tag "$first" +pending
laptop note "$second" "Pending: not synced yet"
third=$(laptop add "$seeds/000_0ed9b2d1bfbe0bc0.txt" | tail -n 1)
laptop status > "$work/status.txt"

kill -TERM "$server"; wait "$server" || true
rm -rf "$here/server-data" "$here/laptop"
mkdir -p "$here/laptop" "$here/server-data"
python3 - "$work/laptop/library.sqlite" "$here/laptop/library.sqlite" "$work/server-data/server.sqlite" "$here/server-data/server.sqlite" <<'PY'
import sqlite3, sys
for source, target in ((sys.argv[1], sys.argv[2]), (sys.argv[3], sys.argv[4])):
    database = sqlite3.connect(source)
    database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    database.execute("VACUUM INTO ?", (target,))
PY
printf 'alice %s\n' "$alice" > "$here/tokens.txt"
printf 'first %s\nsecond %s\nthird %s\n' "$first" "$second" "$third" > "$here/articles.txt"
cat "$work/status.txt"
ls -la "$here"/*/
