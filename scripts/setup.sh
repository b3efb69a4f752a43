#!/usr/bin/env bash
# Installs the system libraries readsync builds against (and the tools its
# tests use), only if missing.
# Idempotent; safe to run on every CI run.
set -euo pipefail

# openssl: the HTTPS end-to-end test makes its certificate authority with it.
packages=(pkg-config libsqlite3-dev libcurl4-openssl-dev libxml2-dev zlib1g-dev openssl)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done

if [ ${#missing[@]} -gt 0 ]; then
    echo "Installing system packages: ${missing[*]}" >&2
    sudo_cmd=()
    [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi

command -v swift >/dev/null || { echo "swift is not on PATH; install Swift 6.1 or later" >&2; exit 1; }
