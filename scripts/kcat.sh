#!/usr/bin/env bash
# Debian's kcat (librdkafka's command-line client) for the Kafka-protocol tests and bench:kafka.
#
#   scripts/kcat.sh ensure    install the `kcat` package when /usr/bin/kcat is missing (root only)
set -euo pipefail
case "${1:-}" in
  ensure) exec bash "$(dirname "$0")/debian-package.sh" ensure kcat /usr/bin/kcat ;;
  *) echo "usage: scripts/kcat.sh ensure" >&2; exit 2 ;;
esac
