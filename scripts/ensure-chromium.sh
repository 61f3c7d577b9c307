#!/usr/bin/env bash
# Browser tests drive Debian's Chromium (no browser download). Install it when missing.
set -euo pipefail
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [ -x "$CHROMIUM" ]; then
  exit 0
fi
echo "Installing Debian's chromium for the browser tests..."
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }
elif command -v sudo >/dev/null && command -v apt-get >/dev/null; then
  sudo apt-get install -y -q chromium >/dev/null
fi
if [ ! -x "$CHROMIUM" ]; then
  echo "Chromium is needed at $CHROMIUM for the browser tests: run 'apt-get install -y chromium'" >&2
  echo "(or set CHROMIUM=/path/to/chromium)." >&2
  exit 1
fi
