#!/usr/bin/env bash
# Growing past one machine, on one machine: a PostgreSQL database, three
# `readsync serve` processes on it behind nginx, and three devices syncing
# through nginx. One server is killed with SIGKILL in the middle of a big
# sync; the devices sync again and every one ends with the same library.
# Installs PostgreSQL and nginx if they are missing (Debian packages); the
# database is a throwaway cluster (scripts/with-postgres.sh), and everything
# is stopped and removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${READSYNC_TEST_DATABASE_URL:-}" ]; then
    ./scripts/setup.sh
    if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
        echo "Installing nginx (Debian's nginx-light) for the demo" >&2
        sudo_cmd=()
        [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
        "${sudo_cmd[@]}" apt-get update -qq
        DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq nginx-light >/dev/null
    fi
    swift build --product readsync 2>&1 | grep -vE "CMakeLists|^$" | tail -n 1
    exec ./scripts/with-postgres.sh "$0"
fi
database="$READSYNC_TEST_DATABASE_URL"
readsync="$(swift build --show-bin-path)/readsync"
nginx="$(command -v nginx || echo /usr/sbin/nginx)"

demo=$(mktemp -d "${TMPDIR:-/tmp}/readsync-scale-demo.XXXXXX")
chmod 755 "$demo"
pids=()
cleanup() {
    [ -f "$demo/nginx/nginx.pid" ] && "$nginx" -p "$demo/nginx" -c nginx.conf -s stop 2>/dev/null || true
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
    rm -rf "$demo"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for() { for _ in $(seq 100); do python3 -c "import socket; socket.create_connection(('127.0.0.1', $1), 1)" 2>/dev/null && return; sleep 0.1; done; echo "nothing listens on $1" >&2; exit 1; }
run() { echo; echo "\$ readsync $*"; "$readsync" "$@"; }

echo
echo "PostgreSQL at $database"
ports=()
for n in 1 2 3; do
    port=$(free_port)
    ports+=("$port")
    echo "\$ readsync serve --port $port --database $database --log-level warning &"
    "$readsync" serve --port "$port" --database "$database" --log-level warning 2>>"$demo/server-$n.log" &
    pids+=($!)
done
for port in "${ports[@]}"; do wait_for "$port"; done

# nginx in front: any server takes any request. A push sent again is
# absorbed (the protocol is idempotent), so nginx may retry a POST on the
# next server when one dies mid-request.
mkdir -p "$demo/nginx/logs" "$demo/nginx/temp"
chmod 777 "$demo/nginx/temp"
front=$(free_port)
cat > "$demo/nginx/nginx.conf" <<EOF
worker_processes 1;
pid nginx.pid;
error_log logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log logs/access.log;
    client_body_temp_path temp/body;
    proxy_temp_path temp/proxy;
    fastcgi_temp_path temp/fastcgi;
    uwsgi_temp_path temp/uwsgi;
    scgi_temp_path temp/scgi;
    client_max_body_size 64m;
    upstream readsync {
        server 127.0.0.1:${ports[0]} max_fails=1 fail_timeout=5s;
        server 127.0.0.1:${ports[1]} max_fails=1 fail_timeout=5s;
        server 127.0.0.1:${ports[2]} max_fails=1 fail_timeout=5s;
        keepalive 16;
    }
    server {
        listen 127.0.0.1:$front;
        location / {
            proxy_pass http://readsync;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_next_upstream error timeout non_idempotent;
        }
    }
}
EOF
echo
echo "\$ nginx -p $demo/nginx -c nginx.conf   # on port $front, in front of ${ports[*]}"
"$nginx" -p "$demo/nginx" -c nginx.conf
wait_for "$front"

echo
echo "\$ readsync user add alice --database $database"
token=$("$readsync" user add alice --database "$database" | tail -n 1)
echo "(token ${token:0:8}…)"

laptop="$demo/laptop" phone="$demo/phone" tablet="$demo/tablet"
for device in "$laptop" "$phone" "$tablet"; do
    run client --home "$device" init --server "http://127.0.0.1:$front" --token "$token" --name "$(basename "$device")"
done
for seed in seeds/*.txt; do run client --home "$laptop" add "$seed"; done
run client --home "$laptop" sync
run client --home "$phone" sync
first=$("$readsync" client --home "$phone" list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["id"][:8])')
run client --home "$phone" note "$first" "Read on the train"
run client --home "$phone" read "$first"

# The tablet saves 300 articles, then syncs them (several requests); the
# second server is killed with SIGKILL while that sync runs.
mkdir -p "$demo/articles"
python3 - "$demo/articles" <<'EOF'
import random, sys
random.seed(14)
words = "sync offline reading list device server article note clock merge library".split()
for i in range(300):
    with open(f"{sys.argv[1]}/article-{i:03}.txt", "w") as f:
        f.write(f"Article {i}\n\n" + " ".join(random.choice(words) for _ in range(600)) + "\n")
EOF
echo
echo "\$ readsync client --home $tablet add $demo/articles/*.txt   # 300 articles"
"$readsync" client --home "$tablet" add "$demo/articles"/*.txt | tail -n 1
echo
echo "\$ readsync client --home $tablet sync &   # and, during it: kill -KILL <server 2>"
"$readsync" client --home "$tablet" sync &
sync_pid=$!
sleep 0.3
kill -KILL "${pids[1]}"
echo "(server 2 killed: $(kill -0 "${pids[1]}" 2>/dev/null && echo still running || echo gone))"
wait "$sync_pid" && echo "(the tablet's sync went through the other servers)" \
    || echo "(the tablet's sync was cut off; its changes stay queued)"

# Everyone syncs; twice, so each device pulls what the others pushed.
for round in 1 2; do
    for device in "$tablet" "$laptop" "$phone"; do run client --home "$device" sync; done
done
run client --home "$laptop" status
echo
for device in "$laptop" "$phone" "$tablet"; do
    printf '%-8s %s\n' "$(basename "$device")" "$("$readsync" client --home "$device" list --json | sha256sum | cut -c1-16) ($("$readsync" client --home "$device" list --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))') articles)"
done
same=$(for device in "$laptop" "$phone" "$tablet"; do "$readsync" client --home "$device" list --json | sha256sum; done | sort -u | wc -l)
[ "$same" -eq 1 ] && echo "Every device holds the same library." || { echo "The devices differ." >&2; exit 1; }
run user devices alice --database "$database"
