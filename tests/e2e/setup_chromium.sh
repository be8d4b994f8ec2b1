#!/usr/bin/env bash
# Make sure Debian's Chromium is installed for the browser test (test_browser.py), and print
# its path. Installs the `chromium` package with apt as root (or through passwordless sudo)
# when /usr/bin/chromium is missing; anything else is an error that says what to do.
# Playwright drives this browser: no browser is ever downloaded from anywhere else.
set -euo pipefail

CHROMIUM="${AWSAUDIT_CHROMIUM:-/usr/bin/chromium}"
log() { printf 'setup_chromium: %s\n' "$*" >&2; }

if [ -x "$CHROMIUM" ]; then
    printf '%s\n' "$CHROMIUM"
    exit 0
fi

if [ "$CHROMIUM" != /usr/bin/chromium ]; then
    log "AWSAUDIT_CHROMIUM=$CHROMIUM is not an executable"
    exit 1
fi

if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
else
    log "Chromium is not installed and this user cannot install it: run"
    log "  sudo apt-get install -y chromium"
    log "or set AWSAUDIT_CHROMIUM to a Chromium or Chrome binary"
    exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
    log "no apt-get here: install Chromium and set AWSAUDIT_CHROMIUM to its binary"
    exit 1
fi

log "installing Debian's chromium package (once)"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -q >&2
"${as_root[@]}" apt-get install -y -q chromium >&2
"$CHROMIUM" --version >&2
printf '%s\n' "$CHROMIUM"
