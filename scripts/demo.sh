#!/usr/bin/env bash
# Installs what is missing, builds readsync, and shows it working: a sync
# server on a free local port, a user, and two devices — the laptop saves the
# three seed articles, a note and a read mark and syncs; the phone syncs and
# has the same library. Both stop cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
swift build --product readsync 2>&1 | grep -vE "CMakeLists|^$" | tail -n 1
readsync="$(swift build --show-bin-path)/readsync"

demo=$(mktemp -d "${TMPDIR:-/tmp}/readsync-demo.XXXXXX")
server_pid=""
cleanup() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then kill -TERM "$server_pid"; wait "$server_pid" || true; fi
    rm -rf "$demo"
}
trap cleanup EXIT

run() { echo; echo "\$ readsync $*"; "$readsync" "$@"; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
echo
echo "\$ readsync serve --port $port --data $demo/server-data &"
"$readsync" serve --port "$port" --data "$demo/server-data" --log-level warning &
server_pid=$!
for _ in $(seq 50); do python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null && break; sleep 0.1; done

echo
echo "\$ readsync user add alice --data $demo/server-data"
token=$("$readsync" user add alice --data "$demo/server-data" | tail -n 1)
echo "(token ${token:0:8}…)"

laptop="$demo/laptop"
phone="$demo/phone"
run client --home "$laptop" init --server "http://127.0.0.1:$port" --token "$token"
for seed in seeds/*.txt; do
    run client --home "$laptop" add "$seed"
done
first=$("$readsync" client --home "$laptop" list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["id"][:8])')
run client --home "$laptop" note "$first" "Compare with the 2015 speech"
run client --home "$laptop" read "$first"
run client --home "$laptop" sync

run client --home "$phone" init --server "http://127.0.0.1:$port" --token "$token"
run client --home "$phone" sync
run client --home "$phone" list
run client --home "$phone" search speech
run client --home "$phone" status

echo
echo "\$ readsync client --home $phone progress $first 150   # an error, on purpose"
"$readsync" client --home "$phone" progress "$first" 150 || echo "(exit status $?)"

echo
echo "\$ kill -TERM %1   # the server stops gracefully"
kill -TERM "$server_pid"
wait "$server_pid" && echo "(server exited with status 0)"
server_pid=""
run client --home "$phone" sync || echo "(exit status $?; the phone's library is intact)"
