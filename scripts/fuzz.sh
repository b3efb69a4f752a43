#!/usr/bin/env bash
# Fuzzes the sync protocol decoder and the HTML extractor with libFuzzer.
#
#   scripts/fuzz.sh [SECONDS]    # each target runs SECONDS (default 60)
#
# SwiftPM cannot build a libFuzzer binary (libFuzzer supplies `main`), so
# this compiles ReadSyncCore and ReadSyncArticles (every file of each
# folder, so a new file is never missed) as libraries, then Fuzz/Checks and
# Fuzz/libFuzzer against them, all with swiftc -sanitize=fuzzer into
# .build/fuzz. Each run starts from Fuzz/Corpus and Fuzz/Crashers (copied,
# so the repository is not written) and saves any crashing input to
# .build/fuzz/crashers/; fix the bug, then move that file into
# Fuzz/Crashers/<target>/ so the test suite replays it forever. Exits
# non-zero if a target crashed.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
out=.build/fuzz
mkdir -p "$out/crashers"

xml_cflags=()
for flag in $(pkg-config --cflags libxml-2.0); do xml_cflags+=(-Xcc "$flag"); done
# -package-name: the modules share `package` helpers, as in the SwiftPM build.
swiftc_fuzz=(swiftc -O -sanitize=fuzzer -parse-as-library -package-name readsync -I "$out"
    -I Sources/CLibDeflate -I Sources/CLibCrypto -I Sources/CCurl -I Sources/CLibXML2 "${xml_cflags[@]}")

# A static library module NAME from the Swift files given.
library() {  # NAME FILE…
    local name=$1
    shift
    "${swiftc_fuzz[@]}" -module-name "$name" -emit-module -emit-module-path "$out/$name.swiftmodule" \
        -emit-library -static -o "$out/lib$name.a" "$@"
}

echo "fuzz: building (swiftc -sanitize=fuzzer -O)…"
library ReadSyncCore $(find Sources/ReadSyncCore -name '*.swift' | sort)
# Files that import ZIPFoundation (the EPUB writer) are left out: swiftc
# alone cannot build a package, and nothing fuzzed reaches them.
library ReadSyncArticles $(find Articles -name '*.swift' | sort | xargs grep -L '^import ZIPFoundation')
"${swiftc_fuzz[@]}" -module-name ReadSyncFuzz Fuzz/Checks/*.swift Fuzz/libFuzzer/*.swift \
    -L "$out" -lReadSyncArticles -lReadSyncCore -lcurl -lxml2 -ldeflate -lcrypto -o "$out/readsync-fuzz"

status=0
for target in protocol html; do
    corpus="$out/corpus-$target"
    rm -rf "$corpus" && mkdir -p "$corpus"
    cp Fuzz/Corpus/"$target"/* "$corpus"/
    cp Fuzz/Crashers/"$target"/* "$corpus"/ 2>/dev/null || true
    log="$out/$target.log"
    # SWIFT_BACKTRACE off: the runtime's crash handler would otherwise take
    # the signal before libFuzzer can save the crashing input.
    if SWIFT_BACKTRACE=enable=no READSYNC_FUZZ_TARGET="$target" "$out/readsync-fuzz" "$corpus" \
        -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$out/crashers/$target-" -print_final_stats=1 >"$log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
        echo "fuzz: $target: $runs executions in ${seconds}s, 0 crashes"
    else
        status=1
        echo "fuzz: $target: CRASHED — input saved under $out/crashers/; log: $log"
        grep -E "Fatal error|ERROR: libFuzzer|SUMMARY" "$log" | head -5 || true
    fi
done
exit $status
