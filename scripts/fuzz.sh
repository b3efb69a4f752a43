#!/usr/bin/env bash
# Fuzzes the sync protocol decoder and the HTML extractor with libFuzzer.
#
#   scripts/fuzz.sh [SECONDS]    # each target runs SECONDS (default 60)
#
# SwiftPM cannot build a libFuzzer binary (libFuzzer supplies `main`), so
# this compiles ReadSyncCore, the extractor's files, Fuzz/Checks and
# Fuzz/libFuzzer with swiftc -sanitize=fuzzer into .build/fuzz. Each run
# starts from Fuzz/Corpus and Fuzz/Crashers (copied, so the repository is
# not written) and saves any crashing input to .build/fuzz/crashers/; fix
# the bug, then move that file into Fuzz/Crashers/<target>/ so the test
# suite replays it forever. Exits non-zero if a target crashed.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
out=.build/fuzz
mkdir -p "$out/crashers"

xml_cflags=()
for flag in $(pkg-config --cflags libxml-2.0); do xml_cflags+=(-Xcc "$flag"); done

echo "fuzz: building (swiftc -sanitize=fuzzer -O)…"
swiftc -O -sanitize=fuzzer -parse-as-library -module-name ReadSyncCore \
    -emit-module -emit-module-path "$out/ReadSyncCore.swiftmodule" \
    -emit-library -static -o "$out/libReadSyncCore.a" \
    -I Sources/CSystemZlib $(find Sources/ReadSyncCore -name '*.swift' | sort)
# -package-name: the extractor's files use `package` helpers.
swiftc -O -sanitize=fuzzer -parse-as-library -module-name ReadSyncFuzz -package-name readsync \
    -I "$out" -I Sources/CSystemZlib -I Sources/CLibXML2 "${xml_cflags[@]}" \
    Fuzz/Checks/*.swift Fuzz/libFuzzer/*.swift \
    Articles/Ingestion/HTMLArticleExtractor.swift Articles/Ingestion/TextArticleParser.swift Articles/Ingestion/ArticleDraft.swift Articles/Text/String+Trimming.swift \
    -L "$out" -lReadSyncCore -lxml2 -lz -o "$out/readsync-fuzz"

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
