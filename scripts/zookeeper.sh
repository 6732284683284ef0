#!/usr/bin/env bash
# A local ZooKeeper server from Debian's `zookeeper` package (its jars, no service), or a
# three-node ensemble of them.
#
#   scripts/zookeeper.sh ensure            install the package when missing (root only)
#   scripts/zookeeper.sh run [CONFIG]      run in the foreground (exec: the PID is the server's)
#   scripts/zookeeper.sh start [CONFIG]    run in the background, PID in <dataDir>/zookeeper.pid, wait until ready
#   scripts/zookeeper.sh stop [CONFIG]     stop the background server by its PID
#   scripts/zookeeper.sh ready HOST PORT   wait (at most 20 s) until the server answers `srvr`
#   scripts/zookeeper.sh ensemble start|stop|status
#                                          three nodes from config/zookeeper-ensemble-{1,2,3}.properties
#                                          (clients on 127.0.0.1:2181-2183): brokers then take
#                                          --override zookeeper.connect=127.0.0.1:2181,127.0.0.1:2182,127.0.0.1:2183
#
# CONFIG defaults to config/zookeeper.properties. A CONFIG with server.N lines is a member of an
# ensemble (its dataDir holds its myid; `ensemble start` writes it). Everything stays on 127.0.0.1.
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

# Starts the server of CONFIG in the background (PID in <dataDir>/zookeeper.pid), without waiting.
launch() { # launch CONFIG
  local data
  data=$(prop "$1" dataDir ./data/zookeeper)
  mkdir -p "$data"
  nohup "$0" run "$1" >"$data/zookeeper.out" 2>&1 &
  echo $! >"$data/zookeeper.pid"
}

# Stops the background server of CONFIG by its PID.
halt() { # halt CONFIG
  local data
  data=$(prop "$1" dataDir ./data/zookeeper)
  if [ -f "$data/zookeeper.pid" ]; then
    kill "$(cat "$data/zookeeper.pid")" 2>/dev/null || true
    rm -f "$data/zookeeper.pid"
  fi
}

ensemble_config() { echo "config/zookeeper-ensemble-$1.properties"; }

cmd=${1:-}
config=${2:-config/zookeeper.properties}
case "$cmd" in
  ensure) ensure ;;
  run)
    ensure
    mkdir -p "$(prop "$config" dataDir ./data/zookeeper)"
    # an ensemble member runs the quorum peer (leader election, replication to the others)
    main=org.apache.zookeeper.server.ZooKeeperServerMain
    grep -q '^[[:space:]]*server\.[0-9]' "$config" && main=org.apache.zookeeper.server.quorum.QuorumPeerMain
    exec java -Xmx256m -Dzookeeper.log.dir=/tmp -Dzookeeper.root.logger=WARN,CONSOLE \
      -Dlog4j.configuration=file:/etc/zookeeper/conf_example/log4j.properties \
      -cp "$classpath" "$main" "$config"
    ;;
  start)
    ensure
    launch "$config"
    ready "$(prop "$config" clientPortAddress 127.0.0.1)" "$(prop "$config" clientPort 2181)"
    echo "zookeeper running (pid $(cat "$(prop "$config" dataDir ./data/zookeeper)/zookeeper.pid"))"
    ;;
  stop) halt "$config" ;;
  ready) ready "${2:?host}" "${3:?port}" ;;
  ensemble)
    case "${2:-}" in
      start)
        ensure
        # all three first: a member serves only once a quorum has formed
        for n in 1 2 3; do
          c=$(ensemble_config "$n")
          mkdir -p "$(prop "$c" dataDir "./data/zookeeper-$n")"
          echo "$n" >"$(prop "$c" dataDir "./data/zookeeper-$n")/myid"
          launch "$c"
        done
        for n in 1 2 3; do
          c=$(ensemble_config "$n")
          ready 127.0.0.1 "$(prop "$c" clientPort "218$n")"
          echo "zookeeper node $n running (pid $(cat "$(prop "$c" dataDir "./data/zookeeper-$n")/zookeeper.pid"), 127.0.0.1:$(prop "$c" clientPort "218$n"))"
        done
        echo "ensemble running: zookeeper.connect=127.0.0.1:2181,127.0.0.1:2182,127.0.0.1:2183"
        ;;
      stop) for n in 1 2 3; do halt "$(ensemble_config "$n")"; done ;;
      status)
        up=0
        for n in 1 2 3; do
          c=$(ensemble_config "$n")
          if [ -f "$(prop "$c" dataDir "./data/zookeeper-$n")/zookeeper.pid" ] &&
            kill -0 "$(cat "$(prop "$c" dataDir "./data/zookeeper-$n")/zookeeper.pid")" 2>/dev/null; then
            echo "zookeeper node $n: running"
            up=$((up + 1))
          else
            echo "zookeeper node $n: stopped"
          fi
        done
        [ "$up" = 3 ]
        ;;
      *) sed -n '2,18p' "$0" >&2; exit 2 ;;
    esac
    ;;
  *) sed -n '2,18p' "$0" >&2; exit 2 ;;
esac
