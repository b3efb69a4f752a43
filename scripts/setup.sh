#!/usr/bin/env bash
# Installs the system libraries readsync builds against (and the tools its
# tests use), only if missing.
# Idempotent; safe to run on every CI run.
set -euo pipefail

# openssl: the HTTPS end-to-end test makes its certificate authority with it.
# epubcheck (with its Java): the EPUB tests check every book readsync makes.
# chromium and chromium-driver: the web reader's tests drive a real browser.
# zlib1g-dev: ZIPFoundation (the EPUB writer) builds against zlib; sync
# bodies are gzipped with libdeflate.
# libssl-dev: content-derived ids are SHA-256 digests from OpenSSL's libcrypto.
packages=(pkg-config libsqlite3-dev libcurl4-openssl-dev libxml2-dev libdeflate-dev libssl-dev zlib1g-dev openssl epubcheck chromium chromium-driver)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done

if [ ${#missing[@]} -gt 0 ]; then
    echo "Installing system packages: ${missing[*]}" >&2
    sudo_cmd=()
    [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    # Without recommends: a headless browser needs none of the desktop
    # packages chromium recommends (about a hundred of them).
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

command -v swift >/dev/null || { echo "swift is not on PATH; install Swift 6.1 or later" >&2; exit 1; }

# Third-party software the end-to-end tests use against the server: /metrics
# read with the Prometheus project's own parser (prometheus-client), the
# OPDS catalog with feedparser, the wallabag API driven by the wallabag-client
# CLI, the web reader driven in Chromium by Selenium; from PyPI, kept in a
# virtual environment in the build folder so that nothing of the system's
# Python changes.
tools="$(cd "$(dirname "$0")/.." && pwd)/.build/python-tools"
if ! "$tools/bin/python" -c "import prometheus_client, feedparser, wallabag, selenium" 2>/dev/null; then
    echo "Installing prometheus-client, feedparser, wallabag-client and selenium into $tools" >&2
    sudo_cmd=()
    [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
    command -v python3 >/dev/null || { "${sudo_cmd[@]}" apt-get update -qq; DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq python3 >/dev/null; }
    # Debian's python3 makes venvs only with python3-venv (ensurepip) installed.
    if ! python3 -m venv --clear "$tools" >/dev/null 2>&1; then
        "${sudo_cmd[@]}" apt-get update -qq
        DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq python3-venv >/dev/null
        python3 -m venv --clear "$tools"
    fi
    "$tools/bin/python" -m pip install -q --disable-pip-version-check "prometheus-client>=0.20,<1" "feedparser>=6,<7" "wallabag-client==1.8.12" "selenium>=4.20,<5"
fi
