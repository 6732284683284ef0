#!/usr/bin/env bash
# The benchmark suite's peers, from Debian's packages (the suite skips a peer that is missing).
#
#   scripts/peers.sh install   apt-get install redis-server redis-tools activemq (root only)
#   scripts/peers.sh status    which peers are installed (exit 0 only when all are)
#
# Installing does not start any service here: the suite runs each peer itself, in the
# foreground on 127.0.0.1 with a private data directory, and stops it by PID.
set -euo pipefail

packages=(redis-server redis-tools activemq)
activemq_jar=/usr/share/activemq/bin/activemq.jar

installed() {
  command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null &&
    command -v java >/dev/null && [ -f "$activemq_jar" ]
}

install() {
  if [ "$(id -u)" != 0 ]; then
    echo "peers.sh: installing needs root; run: sudo apt-get install -y ${packages[*]}" >&2
    exit 1
  fi
  command -v apt-get >/dev/null || { echo "peers.sh: apt-get not found (Debian's packages are needed)" >&2; exit 1; }
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -q "${packages[@]}" >/dev/null 2>&1; then
    apt-get update -q >/dev/null || { echo "peers.sh: apt-get update failed" >&2; exit 1; }
    apt-get install -y -q "${packages[@]}" >/dev/null || { echo "peers.sh: apt-get install ${packages[*]} failed" >&2; exit 1; }
  fi
  installed || { echo "peers.sh: packages installed but redis-benchmark, java or $activemq_jar is missing" >&2; exit 1; }
  echo "peers installed: $(redis-server --version | cut -d' ' -f1-3), activemq $(dpkg-query -W -f='${Version}' activemq)"
}

status() {
  local ok=0
  if command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null; then
    echo "redis: $(redis-server --version | cut -d' ' -f3)"
  else
    echo "redis: not installed"; ok=1
  fi
  if command -v java >/dev/null && [ -f "$activemq_jar" ]; then
    echo "activemq: $(dpkg-query -W -f='${Version}' activemq 2>/dev/null || echo installed)"
  else
    echo "activemq: not installed"; ok=1
  fi
  return "$ok"
}

case "${1:-}" in
  install) install ;;
  status) status ;;
  *) sed -n '2,7p' "$0" >&2; exit 2 ;;
esac
