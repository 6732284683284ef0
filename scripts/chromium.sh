#!/usr/bin/env bash
# Debian's Chromium for the browser tests (driven by playwright-core; no browser download).
#
#   scripts/chromium.sh ensure    install the `chromium` package when /usr/bin/chromium is missing (root only)
set -euo pipefail
case "${1:-}" in
  ensure) exec bash "$(dirname "$0")/debian-package.sh" ensure chromium /usr/bin/chromium ;;
  *) echo "usage: scripts/chromium.sh ensure" >&2; exit 2 ;;
esac
