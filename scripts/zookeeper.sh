#!/usr/bin/env bash
# A local ZooKeeper server from Debian's `zookeeper` package (its jars, no service).
#
#   scripts/zookeeper.sh ensure            install the package when missing (root only)
#   scripts/zookeeper.sh run [CONFIG]      run in the foreground (exec: the PID is the server's)
#   scripts/zookeeper.sh start [CONFIG]    run in the background, PID in <dataDir>/zookeeper.pid, wait until ready
#   scripts/zookeeper.sh stop [CONFIG]     stop the background server by its PID
#   scripts/zookeeper.sh ready HOST PORT   wait (at most 20 s) until the server answers `srvr`
#
# CONFIG defaults to config/zookeeper.properties. Everything stays on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

jar=/usr/share/java/zookeeper.jar
classpath="$jar:/usr/share/java/slf4j-log4j12.jar:/usr/share/java/log4j-1.2.jar:/etc/zookeeper/conf_example"

ensure() {
  command -v java >/dev/null && [ -f "$jar" ] && return 0
  bash scripts/debian-package.sh ensure zookeeper "$jar"
  command -v java >/dev/null || { echo "zookeeper.sh: java is missing although the zookeeper package is installed" >&2; exit 1; }
}

prop() { # prop FILE KEY DEFAULT
  local v
  v=$(sed -n "s/^[[:space:]]*$2[[:space:]]*=[[:space:]]*//p" "$1" | tail -n 1)
  echo "${v:-$3}"
}

ready() { # ready HOST PORT
  local host=$1 port=$2
  for _ in $(seq 1 200); do
    # `ruok` answers before sessions can be served; `srvr` answers once the server runs
    if { exec 3<>"/dev/tcp/$host/$port"; } 2>/dev/null; then
      printf 'srvr' >&3
      if timeout 1 cat <&3 2>/dev/null | grep -q 'Zookeeper version'; then exec 3>&-; return 0; fi
      exec 3>&- || true
    fi
    sleep 0.1
  done
  echo "zookeeper.sh: no answer from $host:$port after 20 s" >&2
  return 1
}

cmd=${1:-}
config=${2:-config/zookeeper.properties}
case "$cmd" in
  ensure) ensure ;;
  run)
    ensure
    mkdir -p "$(prop "$config" dataDir ./data/zookeeper)"
    exec java -Xmx256m -Dzookeeper.log.dir=/tmp -Dzookeeper.root.logger=WARN,CONSOLE \
      -Dlog4j.configuration=file:/etc/zookeeper/conf_example/log4j.properties \
      -cp "$classpath" org.apache.zookeeper.server.ZooKeeperServerMain "$config"
    ;;
  start)
    ensure
    data=$(prop "$config" dataDir ./data/zookeeper)
    mkdir -p "$data"
    nohup "$0" run "$config" >"$data/zookeeper.out" 2>&1 &
    echo $! >"$data/zookeeper.pid"
    ready "$(prop "$config" clientPortAddress 127.0.0.1)" "$(prop "$config" clientPort 2181)"
    echo "zookeeper running (pid $(cat "$data/zookeeper.pid"))"
    ;;
  stop)
    data=$(prop "$config" dataDir ./data/zookeeper)
    if [ -f "$data/zookeeper.pid" ]; then
      kill "$(cat "$data/zookeeper.pid")" 2>/dev/null || true
      rm -f "$data/zookeeper.pid"
    fi
    ;;
  ready) ready "${2:?host}" "${3:?port}" ;;
  *) sed -n '2,10p' "$0" >&2; exit 2 ;;
esac
