#!/usr/bin/env bash
# A local three-broker Sluice cluster: ZooKeeper (scripts/zookeeper.sh, config/zookeeper.properties)
# and brokers 1..3 from config/server-1..3.properties (ports 9093-9095), run from dist/
# (built first when missing or older than src/).
#
#   scripts/cluster.sh start     start ZooKeeper and the three brokers in the background
#   scripts/cluster.sh stop      stop the brokers (SIGTERM, SIGKILL after a bounded wait), then ZooKeeper
#   scripts/cluster.sh status    which of them run (exit 0 only when all four do)
#   scripts/cluster.sh restart   rolling restart: one broker at a time, SIGTERM (a controlled shutdown: its
#                                leaderships move to the other brokers first), start it again, and wait until
#                                it is back in the ISR of every partition it replicates (topic describe)
#                                before the next one
#
# PID files and broker logs: ./data/cluster/broker-N.{pid,log}. Processes are stopped by PID only.
# SLUICE_CLUSTER_START_TIMEOUT / SLUICE_CLUSTER_STOP_TIMEOUT (seconds, default 60 / 15) bound the waits;
# SLUICE_CLUSTER_ISR_TIMEOUT (seconds, default 120) bounds a restart's wait for a broker to rejoin every ISR.
set -euo pipefail
cd "$(dirname "$0")/.."

run_dir=data/cluster
zk_config=config/zookeeper.properties
ids=(1 2 3)
start_timeout=${SLUICE_CLUSTER_START_TIMEOUT:-60}
stop_timeout=${SLUICE_CLUSTER_STOP_TIMEOUT:-15}
isr_timeout=${SLUICE_CLUSTER_ISR_TIMEOUT:-120}

die() { echo "cluster.sh: $*" >&2; exit 1; }

prop() { # prop FILE KEY DEFAULT
  local v
  v=$(sed -n "s/^[[:space:]]*$2[[:space:]]*=[[:space:]]*//p" "$1" | tail -n 1)
  echo "${v:-$3}"
}

# The PID in FILE when that process still runs the command we started (a recycled PID is not ours).
live_pid() { # live_pid PIDFILE PATTERN
  local pid
  [ -f "$1" ] || return 1
  pid=$(cat "$1")
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$2" || return 1
  echo "$pid"
}

broker_pid() { live_pid "$run_dir/broker-$1.pid" "config/server-$1.properties"; }
zk_pid_file() { echo "$(prop "$zk_config" dataDir ./data/zookeeper)/zookeeper.pid"; }
zk_pid() { live_pid "$(zk_pid_file)" ZooKeeperServerMain; }

# Waits (bounded) until PID has exited; SIGKILL when it has not.
wait_exit() { # wait_exit PID WHAT
  local deadline=$((SECONDS + stop_timeout))
  while kill -0 "$1" 2>/dev/null; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "cluster.sh: $2 (pid $1) still running after ${stop_timeout} s, sending SIGKILL" >&2
      kill -KILL "$1" 2>/dev/null || true
      sleep 0.2
      return 0
    fi
    sleep 0.1
  done
}

stop_brokers() { # stop_brokers ID...
  local id pid pids=()
  for id in "$@"; do
    if pid=$(broker_pid "$id"); then
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$id:$pid")
    fi
  done
  for entry in "${pids[@]+"${pids[@]}"}"; do
    wait_exit "${entry#*:}" "broker ${entry%%:*}"
    echo "broker ${entry%%:*} stopped (pid ${entry#*:})"
  done
  for id in "$@"; do rm -f "$run_dir/broker-$id.pid"; done
}

start() {
  command -v node >/dev/null || die "node is not on PATH"
  if [ ! -f dist/cli/main.js ] || [ -n "$(find src -newer dist/cli/main.js -name '*.ts' -print -quit)" ]; then
    echo "building dist/ (npm run build)"
    npm run build >/dev/null || die "npm run build failed; run it to see why"
  fi
  mkdir -p "$run_dir"

  local id pid started=() zk_started=0
  if pid=$(zk_pid); then
    echo "zookeeper already running (pid $pid)"
  else
    bash scripts/zookeeper.sh start "$zk_config" || die "ZooKeeper did not start (see $(prop "$zk_config" dataDir ./data/zookeeper)/zookeeper.out)"
    zk_started=1
  fi

  for id in "${ids[@]}"; do
    if pid=$(broker_pid "$id"); then
      echo "broker $id already running (pid $pid)"
      continue
    fi
    nohup node dist/cli/main.js broker start --config "config/server-$id.properties" \
      >"$run_dir/broker-$id.log" 2>&1 </dev/null &
    echo $! >"$run_dir/broker-$id.pid"
    started+=("$id")
  done

  # every broker logs "broker listening" once it serves (a bounded wait for all of them)
  local deadline=$((SECONDS + start_timeout)) failed=""
  for id in "${started[@]+"${started[@]}"}"; do
    local log="$run_dir/broker-$id.log"
    until grep -q '"msg":"broker listening"' "$log" 2>/dev/null; do
      if ! broker_pid "$id" >/dev/null; then
        local last
        # the CLI's one-line error ("sluice: ..."), else the last line of output
        last=$(grep '^sluice: ' "$log" 2>/dev/null | tail -n 1 | cut -c1-300 || true)
        [ -n "$last" ] || last=$(grep -v '^[[:space:]]*$' "$log" 2>/dev/null | tail -n 1 | cut -c1-300 || true)
        failed="broker $id exited during start-up: ${last:-no output} (log: $log)"
        break
      fi
      if [ "$SECONDS" -ge "$deadline" ]; then
        failed="broker $id did not log \"broker listening\" within ${start_timeout} s (log: $log)"
        break
      fi
      sleep 0.2
    done
    [ -n "$failed" ] && break
    echo "broker $id listening on 127.0.0.1:$(prop "config/server-$id.properties" port 9092) (pid $(cat "$run_dir/broker-$id.pid"))"
  done
  if [ -n "$failed" ]; then
    # leave nothing half-started behind: stop what this call started
    stop_brokers "${started[@]+"${started[@]}"}" >/dev/null 2>&1 || true
    [ "$zk_started" = 1 ] && bash scripts/zookeeper.sh stop "$zk_config" >/dev/null 2>&1 || true
    die "$failed"
  fi
  local list=""
  for id in "${ids[@]}"; do list+="${list:+,}127.0.0.1:$(prop "config/server-$id.properties" port 9092)"; done
  echo "cluster running: --brokers $list"
}

stop() {
  stop_brokers "${ids[@]}"
  if pid=$(zk_pid); then
    bash scripts/zookeeper.sh stop "$zk_config"
    wait_exit "$pid" zookeeper
    echo "zookeeper stopped (pid $pid)"
  else
    rm -f "$(zk_pid_file)"
  fi
}

status() {
  local id pid up=0
  if pid=$(zk_pid); then
    echo "zookeeper: running (pid $pid, 127.0.0.1:$(prop "$zk_config" clientPort 2181))"
  else
    echo "zookeeper: stopped"
  fi
  for id in "${ids[@]}"; do
    if pid=$(broker_pid "$id"); then
      echo "broker $id: running (pid $pid, 127.0.0.1:$(prop "config/server-$id.properties" port 9092))"
      up=$((up + 1))
    else
      echo "broker $id: stopped"
    fi
  done
  [ "$up" = "${#ids[@]}" ]
}

brokers_list() {
  local id list=""
  for id in "${ids[@]}"; do list+="${list:+,}127.0.0.1:$(prop "config/server-$id.properties" port 9092)"; done
  echo "$list"
}

# The partitions (topic-partition) that list broker ID among their replicas but not in their ISR, from
# `sluice topic describe` (Kafka's layout: tab-separated "Replicas: a,b,c" and "Isr: a,b" fields);
# fails when the describe fails.
not_in_isr() { # not_in_isr ID
  local out
  out=$(node dist/cli/main.js topic describe --brokers "$(brokers_list)" 2>/dev/null) || return 1
  printf '%s\n' "$out" | awk -F'\t' -v id="$1" '
    $2 ~ /^Topic: / && $3 ~ /^Partition: / {
      topic = substr($2, 8); part = substr($3, 12); reps = ""; isr = ""
      for (i = 4; i <= NF; i++) {
        if ($i ~ /^Replicas: /) reps = substr($i, 11)
        if ($i ~ /^Isr: /) isr = substr($i, 6)
      }
      if (("," reps ",") ~ ("," id ",") && ("," isr ",") !~ ("," id ",")) print topic "-" part
    }'
}

# Rolling restart: one broker at a time, each back in every ISR before the next goes.
restart() {
  status >/dev/null || die "the cluster is not fully running (scripts/cluster.sh status); start it first"
  local id missing deadline
  for id in "${ids[@]}"; do
    echo "restarting broker $id"
    stop_brokers "$id"
    start | grep -v 'already running' || true
    broker_pid "$id" >/dev/null || die "broker $id did not start again (log: $run_dir/broker-$id.log)"
    deadline=$((SECONDS + isr_timeout))
    until missing=$(not_in_isr "$id") && [ -z "$missing" ]; do
      if [ "$SECONDS" -ge "$deadline" ]; then
        die "broker $id is not back in the ISR of every partition after ${isr_timeout} s (missing: $(echo ${missing:-describe failed} | head -c 300))"
      fi
      sleep 0.5
    done
    echo "broker $id is back in every ISR"
  done
  echo "rolling restart done"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  restart) restart ;;
  *) sed -n '2,15p' "$0" >&2; exit 2 ;;
esac
