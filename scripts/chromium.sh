#!/usr/bin/env bash
# Debian's Chromium for the browser tests (driven by playwright-core; no browser download).
#
#   scripts/chromium.sh ensure    install the `chromium` package when /usr/bin/chromium is missing (root only)
set -euo pipefail

bin=/usr/bin/chromium

ensure() {
  [ -x "$bin" ] && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "chromium.sh: Debian's chromium package is missing; install it with: sudo apt-get install -y chromium" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }
  [ -x "$bin" ] || { echo "chromium.sh: installing the chromium package failed" >&2; exit 1; }
}

case "${1:-}" in
  ensure) ensure ;;
  *) echo "usage: scripts/chromium.sh ensure" >&2; exit 2 ;;
esac
