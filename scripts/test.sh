#!/usr/bin/env bash
# The whole test suite: unit tests of every library and the end-to-end tests
# that run the built readsync binary.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
swift build --build-tests
swift test --skip-build
