#!/usr/bin/env bash
# `make run`: Vexil on this machine, in the foreground, until Ctrl-C.
#   1. builds everything (./build.sh → dist/vexil, the wasm modules)
#   2. installs Debian's redis-server when it is missing (as root; otherwise says what to run)
#   3. starts Redis with a project-local data directory (.cache/run/redis, AOF on, so flags
#      survive restarts) on 127.0.0.1:$VEXIL_REDIS_PORT (default 6390)
#   4. starts `vexil serve` on $VEXIL_LISTEN (default 127.0.0.1:8470) with an admin token made
#      once and kept in .cache/run/admin-token
#   5. seeds the environments production and staging with core/testdata/example.json, once
#   6. serves the JS host's demo page (hosts/js/demo) on $VEXIL_DEMO_LISTEN (default 127.0.0.1:8480)
#      when node is installed
#   7. prints the URLs, the admin token, the SDK keys and commands to try
# Ctrl-C (or SIGTERM) stops the daemon gracefully, then Redis (which flushes its AOF).
set -euo pipefail
cd "$(dirname "$0")/.."

REDIS_PORT=${VEXIL_REDIS_PORT:-6390}
LISTEN=${VEXIL_LISTEN:-127.0.0.1:8470}
DATA=.cache/run
URL="http://$LISTEN"

say() { printf '\033[1m%s\033[0m\n' "$*" >&2; }

./build.sh

if ! command -v redis-server >/dev/null; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		say "installing Debian's redis-server"
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
	else
		say "make run needs redis-server: sudo apt-get install redis-server (Debian/Ubuntu), brew install redis (macOS)"
		exit 1
	fi
fi

mkdir -p "$DATA/redis"
if [ ! -s "$DATA/admin-token" ]; then
	(umask 077 && head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$DATA/admin-token")
fi
TOKEN=$(cat "$DATA/admin-token")

redis_pid= vexil_pid= demo_pid=
cleanup() {
	trap - INT TERM EXIT
	[ -z "$demo_pid" ] || kill -TERM "$demo_pid" 2>/dev/null || true
	if [ -n "$vexil_pid" ] && kill -0 "$vexil_pid" 2>/dev/null; then
		kill -TERM "$vexil_pid" 2>/dev/null || true
		wait "$vexil_pid" 2>/dev/null || true
	fi
	if [ -n "$redis_pid" ] && kill -0 "$redis_pid" 2>/dev/null; then
		kill -TERM "$redis_pid" 2>/dev/null || true
		wait "$redis_pid" 2>/dev/null || true
	fi
	say "stopped Vexil and Redis (data kept in $DATA/redis)"
}
trap cleanup INT TERM EXIT

redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$PWD/$DATA/redis" \
	--appendonly yes --appendfsync everysec --daemonize no --logfile "$PWD/$DATA/redis/redis.log" &
redis_pid=$!
for _ in $(seq 100); do
	if (exec 3<>"/dev/tcp/127.0.0.1/$REDIS_PORT" && printf 'PING\r\n' >&3 && head -c 5 <&3 | grep -q PONG) 2>/dev/null; then
		break
	fi
	kill -0 "$redis_pid" 2>/dev/null || { say "redis-server did not start (port $REDIS_PORT in use?); see $DATA/redis/redis.log"; exit 1; }
	sleep 0.1
done

export VEXIL_URL=$URL VEXIL_ADMIN_TOKEN=$TOKEN
dist/vexil serve --redis "redis://127.0.0.1:$REDIS_PORT" --listen "$LISTEN" --admin-token "$TOKEN" 2>>"$DATA/vexil.log" &
vexil_pid=$!
for _ in $(seq 100); do
	dist/vexil env list >/dev/null 2>&1 && break
	kill -0 "$vexil_pid" 2>/dev/null || { say "vexil serve did not start (address $LISTEN in use?); see $DATA/vexil.log"; tail -5 "$DATA/vexil.log" >&2; exit 1; }
	sleep 0.1
done

for env in production staging; do
	if ! dist/vexil env get "$env" >/dev/null 2>&1; then
		dist/vexil env create "$env" --description "demo ($env)" >/dev/null
		dist/vexil env import "$env" core/testdata/example.json
	fi
done

server_key=$(dist/vexil env keys production --json | sed -n 's/.*"server": "\(.*\)".*/\1/p')
client_key=$(dist/vexil env keys production --json | sed -n 's/.*"client": "\(.*\)".*/\1/p')
# The JS host's demo page (hosts/js/demo): production's client-side flags, evaluated in the browser.
DEMO_LISTEN=${VEXIL_DEMO_LISTEN:-127.0.0.1:8480}
demo="(needs node)"
if command -v node >/dev/null; then
	node hosts/js/demo/server.mjs --daemon "$URL" --client-key "$client_key" --listen "$DEMO_LISTEN" >>"$DATA/demo.log" 2>&1 &
	demo_pid=$! demo="http://$DEMO_LISTEN"
fi
cat <<INFO

  Vexil is running.
    admin API     $URL/api/v1           (OpenAPI: $URL/api/v1/openapi.json)
    health        $URL/healthz  $URL/readyz  $URL/metrics
    demo page     $demo   (flags evaluated in the browser, live)
    admin token   $TOKEN
    production    server key $server_key
                  client key $client_key
    Redis         redis://127.0.0.1:$REDIS_PORT  (data: $DATA/redis, AOF on)
    daemon log    $DATA/vexil.log

  Try, in another shell:
    export VEXIL_URL=$URL VEXIL_ADMIN_TOKEN=$TOKEN
    dist/vexil flag list
    dist/vexil flag rollout new-checkout 30
    dist/vexil explain --flag new-checkout --context '{"targetingKey":"user-7","plan":"pro"}'
    dist/vexil flag kill --tag checkout
    dist/vexil audit
    curl -H "Authorization: Bearer \$VEXIL_ADMIN_TOKEN" $URL/api/v1/environments/production/snapshot

  The web admin UI arrives with a later issue. Press Ctrl-C to stop.

INFO

wait "$vexil_pid"
