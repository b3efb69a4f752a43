#!/usr/bin/env bash
# Formatting: every Swift file as swift-format (in the toolchain) writes it,
# by the rules in .swift-format. Fails, listing the places, when a file
# differs; `scripts/validate.sh --fix` formats them in place.
set -euo pipefail
cd "$(dirname "$0")/.."
folders=(Package.swift Sources Articles Client Server Benchmarks Fuzz Tests)
if [ "${1:-}" = "--fix" ]; then
    exec swift format format --in-place --recursive --parallel "${folders[@]}"
fi
if ! swift format lint --strict --recursive --parallel "${folders[@]}"; then
    echo "validate: some Swift files are not formatted; scripts/validate.sh --fix formats them" >&2
    exit 1
fi
echo "validate: every Swift file is formatted"
