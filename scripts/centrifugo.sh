#!/usr/bin/env bash
# Runs Centrifugo v6.9.1 — the realtime server BENCHMARKS.md compares Taskwire's
# fan-out with — pinned to one core, for `twload fanout -target centrifugo`.
#
#   PID=$(scripts/centrifugo.sh)         # install if needed, write the config, start, print the PID
#   scripts/centrifugo.sh install        # only install (prints the binary's path)
#   scripts/centrifugo.sh config         # only write the config (prints its path)
#
# The binary is built with `go install` into a cache folder outside the
# repository and is never committed:
#   ${TASKWIRE_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/taskwire-bench}/centrifugo-v6.9.1/centrifugo
# (a first install downloads and compiles ~300 modules: ~5 minutes on 2 cores).
#
# Environment (the defaults are the ones twload's Centrifugo target assumes;
# not CENTRIFUGO_*, which Centrifugo itself reads as configuration):
#   CF_PORT=8000            HTTP port: /connection/websocket, /api, /health
#   CF_CPU=0                core to pin the server to (taskset -c)
#   CF_API_KEY=twload-api-key
#   CF_HMAC_SECRET=twload-hmac-secret   connection JWTs (HS256) are signed with it
#   CF_HISTORY=0            1: keep 1,000 publications for 5 minutes per channel and
#                           force recovery on subscribe (the analogue of Taskwire's
#                           event log and `since`), 0: plain broadcast
#   CF_WS_TUNED=0           1: the WebSocket memory knobs Centrifugo documents for many
#                           mostly idle connections (websocket.read_buffer_size 512,
#                           websocket.use_write_buffer_pool), as Taskwire's sockets
#                           have small buffers; 0: Centrifugo's defaults
#   CF_LOG_LEVEL=warn
#
# The server's log goes to <cache>/centrifugo.log. It runs with the calling
# shell's `ulimit -n` (raise it first: 10,000 sockets need more than 10,000
# files). Stop it with `kill $PID`.
set -euo pipefail

VERSION=v6.9.1
export GOTOOLCHAIN=${GOTOOLCHAIN:-go1.27.3}
CACHE=${TASKWIRE_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/taskwire-bench}
BINDIR=$CACHE/centrifugo-$VERSION
BIN=$BINDIR/centrifugo
CONFIG=$CACHE/centrifugo.json
LOG=$CACHE/centrifugo.log

PORT=${CF_PORT:-8000}
CPU=${CF_CPU:-0}
API_KEY=${CF_API_KEY:-twload-api-key}
SECRET=${CF_HMAC_SECRET:-twload-hmac-secret}
HISTORY=${CF_HISTORY:-0}
LOG_LEVEL=${CF_LOG_LEVEL:-warn}
WS_TUNED=${CF_WS_TUNED:-0}

install() {
	if [ -x "$BIN" ]; then return; fi
	mkdir -p "$BINDIR"
	echo "installing Centrifugo $VERSION into $BINDIR (go install; a few minutes the first time)" >&2
	# Outside any module, so that the repository's go.mod plays no part; with
	# the flags of Centrifugo's release build (stripped, its version set).
	(cd "$BINDIR" && GOBIN=$BINDIR GOFLAGS= go install \
		-ldflags="-s -w -X github.com/centrifugal/centrifugo/v6/internal/build.Version=${VERSION#v}" \
		"github.com/centrifugal/centrifugo/v6@$VERSION")
}

# config writes a minimal v6 configuration: connections authenticate with a
# JWT signed with SECRET (as Taskwire's sockets carry an access token), any
# authenticated client may subscribe to a channel without a namespace (as
# any member may open its project's room), publishing goes through the HTTP
# API with an API key. No presence, join/leave or admin; usage stats off.
config() {
	mkdir -p "$CACHE"
	local history=""
	if [ "$HISTORY" = 1 ]; then
		history='"history_size": 1000, "history_ttl": "300s", "force_recovery": true,'
	fi
	local websocket=""
	if [ "$WS_TUNED" = 1 ]; then
		websocket='"websocket": { "read_buffer_size": 512, "use_write_buffer_pool": true },'
	fi
	cat >"$CONFIG" <<EOF
{
  "http_server": { "port": $PORT },
  "log": { "level": "$LOG_LEVEL" },
  "client": { "token": { "hmac_secret_key": "$SECRET" } },
  "channel": {
    "without_namespace": {
      $history
      "allow_subscribe_for_client": true
    }
  },
  "http_api": { "key": "$API_KEY" },
  $websocket
  "health": { "enabled": true },
  "usage_stats": { "disabled": true }
}
EOF
	"$BIN" checkconfig -c "$CONFIG" >&2
}

start() {
	install
	config
	if curl -fsS -o /dev/null "http://127.0.0.1:$PORT/health" 2>/dev/null; then
		echo "something already answers on port $PORT; stop it or set CF_PORT" >&2
		exit 1
	fi
	nohup taskset -c "$CPU" "$BIN" -c "$CONFIG" >"$LOG" 2>&1 </dev/null &
	local pid=$!
	for _ in $(seq 100); do
		if curl -fsS -o /dev/null "http://127.0.0.1:$PORT/health" 2>/dev/null; then
			echo "Centrifugo $VERSION pid $pid on :$PORT, core $CPU, history=$HISTORY, tuned WebSocket buffers=$WS_TUNED, open files $(ulimit -n); log $LOG" >&2
			echo "$pid"
			return
		fi
		if ! kill -0 "$pid" 2>/dev/null; then break; fi
		sleep 0.1
	done
	echo "Centrifugo did not become healthy; its log:" >&2
	cat "$LOG" >&2
	kill "$pid" 2>/dev/null || true
	exit 1
}

case "${1:-start}" in
install) install && echo "$BIN" ;;
config) install && config && echo "$CONFIG" ;;
start) start ;;
*) echo "usage: $0 [start|install|config]" >&2; exit 2 ;;
esac
