#!/usr/bin/env bash
# A user's first install, end to end (issue 19): `npm pack`, then in an empty folder
# `npm install <tarball>` (which runs the package's postinstall: the zookeeper addon is
# patched and rebuilt), `npx sluice --version`, a broker started with `npx sluice broker
# start` and no --config (the package's own config), one record produced and consumed
# with the installed CLI, and the console page fetched from its HTTP port.
#   npm run pack:check            (needs the npm registry, or every package in the npm cache)
#   KEEP=1 npm run pack:check     keeps the temp folder for a look afterwards
# Everything it starts is stopped by PID; it prints how long the install took.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/sluice-pack-check-XXXXXX")
broker_pid=""
cleanup() {
  if [[ -n "$broker_pid" ]] && kill -0 "$broker_pid" 2>/dev/null; then
    kill "$broker_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$broker_pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$broker_pid" 2>/dev/null || true
  fi
  if [[ "${KEEP:-}" == 1 ]]; then echo "kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
fail() {
  echo "pack-check: FAILED: $*" >&2
  [[ -f "$work/broker.log" ]] && { echo "--- broker log (last lines)" >&2; tail -n 30 "$work/broker.log" >&2; }
  exit 1
}

echo "== npm pack"
tarball=$(cd "$repo" && npm pack --silent --pack-destination "$work" | tail -n 1)
[[ -f "$work/$tarball" ]] || fail "npm pack made no tarball"

echo "== npm install $tarball in an empty folder"
app="$work/app"
mkdir -p "$app"
cd "$app"
printf '{ "name": "try-sluice", "version": "1.0.0", "private": true }\n' > package.json
started=$(date +%s)
npm install --prefer-offline --no-audit --no-fund "$work/$tarball" > "$work/install.log" 2>&1 ||
  { tail -n 30 "$work/install.log" >&2; fail "npm install"; }
install_s=$(( $(date +%s) - started ))
echo "   installed in ${install_s} s"
grep -q 'sluice-patch' node_modules/zookeeper/src/node-zk.cpp || fail "the postinstall did not patch the zookeeper addon"

echo "== npx sluice --version"
expected=$(node -p "require('$repo/package.json').version")
if version=$(npx --no-install sluice --version 2>/dev/null); then
  [[ "$version" == *"$expected"* ]] || fail "sluice --version printed '$version', expected $expected"
  echo "   $version"
else
  # a CLI without --version yet: its help must run
  npx --no-install sluice --help | grep -q '^Usage: sluice' || fail "sluice --help"
  echo "   (no --version in this CLI) sluice --help runs"
fi

echo "== node_modules/.bin/sluice broker start (no --config: the package's own)"
# the bin itself, not through npx: its PID is the broker's, so the cleanup stops the broker
node_modules/.bin/sluice broker start --override port=0 --override kafka.port=0 --override http.port=0 \
  > "$work/broker.log" 2>&1 &
broker_pid=$!
summary=""
for _ in $(seq 1 150); do
  summary=$(grep -m1 '"msg":"broker listening"' "$work/broker.log" || true)
  [[ -n "$summary" ]] && break
  kill -0 "$broker_pid" 2>/dev/null || fail "the broker exited"
  sleep 0.2
done
[[ -n "$summary" ]] || fail "no 'broker listening' line within 30 s"
field() { node -e 'const v = JSON.parse(process.argv[1])[process.argv[2]]; console.log([v].flat().join(","))' "$summary" "$1"; }
port=$(field port)
http=$(field http)
dirs=$(field dirs)
echo "   native 127.0.0.1:$port, console $http, data $dirs"
[[ "$dirs" == "$app/data" ]] || fail "data went to $dirs, expected $app/data (log.dirs=./data)"

echo "== produce and consume one record"
echo "hello from the package" | npx --no-install sluice --brokers "127.0.0.1:$port" produce greetings ||
  fail "produce"
got=$(npx --no-install sluice --brokers "127.0.0.1:$port" consume greetings --from-beginning \
  --max-messages 1 --timeout-ms 10000) || fail "consume"
[[ "$got" == "hello from the package" ]] || fail "consumed '$got'"
echo "   $got"

echo "== the console page"
page=$(curl -fsS "$http/") || fail "GET $http/"
[[ "$page" == *"<html"* ]] || fail "GET $http/ is not the console page"
css=$(curl -fsS -o /dev/null -w '%{http_code}' "$http/console/console.css") || fail "GET console.css"
[[ "$css" == 200 ]] || fail "console.css: HTTP $css"
echo "   $http/ serves the console"

echo "pack-check: OK (install ${install_s} s)"
