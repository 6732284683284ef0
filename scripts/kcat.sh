#!/usr/bin/env bash
# Debian's kcat (librdkafka's command-line client) for the Kafka-protocol tests.
#
#   scripts/kcat.sh ensure    install the `kcat` package when /usr/bin/kcat is missing (root only)
set -euo pipefail

bin=/usr/bin/kcat

ensure() {
  [ -x "$bin" ] && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "kcat.sh: Debian's kcat package is missing; install it with: sudo apt-get install -y kcat" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q kcat >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q kcat >/dev/null; }
  [ -x "$bin" ] || { echo "kcat.sh: installing the kcat package failed" >&2; exit 1; }
}

case "${1:-}" in
  ensure) ensure ;;
  *) echo "usage: scripts/kcat.sh ensure" >&2; exit 2 ;;
esac
