#!/usr/bin/env bash
# The whole test suite: the formatting check (scripts/validate.sh), a
# bounded libFuzzer run of the protocol decoder and the HTML extractor
# (READSYNC_FUZZ_SECONDS per target, default 30), then
# the unit tests of every library and the end-to-end tests that run the
# built readsync binary, beside a throwaway PostgreSQL cluster (installed if
# missing, always stopped at the end) for the PostgreSQL store's tests.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/validate.sh
swift build --build-tests
./scripts/fuzz.sh "${READSYNC_FUZZ_SECONDS:-30}"
./scripts/with-postgres.sh swift test --skip-build
