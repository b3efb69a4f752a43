#!/usr/bin/env bash
# Makes the storage-v1 fixture databases with the readsync binary given as
# $1 (built from dba93df, the last commit of the first storage format), so
# that upgrade tests open databases written by the released code itself, not
# by a reconstruction of it. Kept to document how they were made; running it
# with a later binary would make later-format databases.
#
#   alice's laptop  articles (3 seeds), notes, tags, read-state, a favourite,
#                   progress, a conflict, an article in the trash, and
#                   changes not yet synced (a note, a tag, a read mark)
#   alice's phone   the same library as of the last sync, with the conflict
#   bob's e-reader  one article of bob's own
#   server-data     both users; tokens in tokens.txt
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
bob=$("$readsync" user add bob --data "$work/server-data" | tail -n 1)

laptop() { "$readsync" client --home "$work/laptop" "$@"; }
phone() { "$readsync" client --home "$work/phone" "$@"; }
reader() { "$readsync" client --home "$work/e-reader" "$@"; }

laptop init --server "http://127.0.0.1:$port" --token "$alice"
phone init --server "http://127.0.0.1:$port" --token "$alice"
reader init --server "http://127.0.0.1:$port" --token "$bob"

first=$(laptop add "$seeds/001_60d26cfe24f49f90.txt" | tail -n 1)
second=$(laptop add "$seeds/002_6f6967ff42105706.txt" --tag politics | tail -n 1)
third=$(laptop add "$seeds/000_0ed9b2d1bfbe0bc0.txt" | tail -n 1)
laptop note "$first" "Compare with the 2015 speech" --quote "a new day"
laptop tag "$first" +israel +us
laptop favorite "$second"
laptop progress "$second" 40
laptop sync
phone sync

# Concurrent edits of one field: the phone's later progress wins, the
# laptop's is listed as a conflict on both.
laptop progress "$first" 30
phone progress "$first" 70
laptop sync
phone sync
laptop sync

# The trash, on every device.
phone delete "$third"
phone sync
laptop sync

# Written on the laptop after its last sync: pending.
laptop note "$second" "Pending: not synced yet"
laptop tag "$second" +pending
laptop read "$first"

reader add "$seeds/002_6f6967ff42105706.txt" --tag bob
reader sync

kill -TERM "$server"; wait "$server" || true
rm -rf "$here/server-data" "$here/laptop" "$here/phone" "$here/e-reader"
for device in laptop phone e-reader; do
    mkdir -p "$here/$device"
    python3 - "$work/$device/library.sqlite" "$here/$device/library.sqlite" <<'PY'
import sqlite3, sys
source = sqlite3.connect(sys.argv[1])
source.execute("PRAGMA wal_checkpoint(TRUNCATE)")
source.execute("VACUUM INTO ?", (sys.argv[2],))
PY
done
mkdir -p "$here/server-data"
python3 - "$work/server-data/server.sqlite" "$here/server-data/server.sqlite" <<'PY'
import sqlite3, sys
sqlite3.connect(sys.argv[1]).execute("VACUUM INTO ?", (sys.argv[2],))
PY
printf 'alice %s\nbob %s\n' "$alice" "$bob" > "$here/tokens.txt"
printf 'first %s\nsecond %s\nthird %s\n' "$first" "$second" "$third" > "$here/articles.txt"
ls -la "$here"/*/
