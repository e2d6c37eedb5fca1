#!/usr/bin/env bash
# Install Debian's chromium, the headless browser the report test renders the quickstart-like report in
# (tests/browser.py; nothing is downloaded at run time: the browser is a Debian package, no drivers).
#
# Idempotent: does nothing when `chromium` (or `chromium-browser`) is on PATH. Otherwise
# `apt-get install -y chromium` (needs root or sudo; `apt-get update` runs only if that install fails).
set -euo pipefail

for name in chromium chromium-browser; do
    if command -v "$name" >/dev/null 2>&1; then
        echo "$name at $(command -v "$name"): nothing to do"
        exit 0
    fi
done

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get install -y --no-install-recommends chromium fonts-dejavu-core; then
    $SUDO apt-get update
    $SUDO apt-get install -y --no-install-recommends chromium fonts-dejavu-core
fi
command -v chromium
