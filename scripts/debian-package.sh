#!/usr/bin/env bash
# Makes sure a Debian package is installed, for the scripts that need one
# (zookeeper.sh, kcat.sh, chromium.sh).
#
#   scripts/debian-package.sh ensure PACKAGE FILE
#
# Nothing to do when FILE exists. Otherwise, as root, installs PACKAGE with
# apt-get (running `apt-get update` first only when the install fails); not
# root: one line on stderr with the command to run, exit 1.
set -euo pipefail

ensure() {
  local package=$1 file=$2
  [ -e "$file" ] && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "Debian's $package package is missing; install it with: sudo apt-get install -y $package" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q "$package" >/dev/null 2>&1 ||
    { apt-get update -q >/dev/null && apt-get install -y -q "$package" >/dev/null; }
  [ -e "$file" ] || { echo "installing Debian's $package package failed ($file is still missing)" >&2; exit 1; }
}

case "${1:-}" in
  ensure) [ $# -eq 3 ] || { echo "usage: scripts/debian-package.sh ensure PACKAGE FILE" >&2; exit 2; }; ensure "$2" "$3" ;;
  *) echo "usage: scripts/debian-package.sh ensure PACKAGE FILE" >&2; exit 2 ;;
esac
