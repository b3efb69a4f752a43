#!/usr/bin/env bash
# Installs what is missing, builds readsync, and shows it working: a device
# saves the three seed articles, lists them, annotates and searches them.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
swift build --product readsync 2>&1 | grep -vE "CMakeLists|^$" | tail -n 3
readsync="$(swift build --show-bin-path)/readsync"

demo=$(mktemp -d "${TMPDIR:-/tmp}/readsync-demo.XXXXXX")
trap 'rm -rf "$demo"' EXIT
laptop="$demo/laptop"

run() { echo; echo "\$ readsync $*"; "$readsync" "$@"; }

for seed in seeds/*.txt; do
    run client --home "$laptop" add "$seed"
done
first=$("$readsync" client --home "$laptop" list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["id"][:8])')
run client --home "$laptop" note "$first" "Compare with the 2015 speech"
run client --home "$laptop" read "$first"
run client --home "$laptop" list
run client --home "$laptop" search speech
run client --home "$laptop" status
echo
echo "\$ readsync client --home $laptop progress $first 150   # an error, on purpose"
"$readsync" client --home "$laptop" progress "$first" 150 || echo "(exit status $?)"
