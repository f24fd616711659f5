#!/usr/bin/env bash
# Tests deploy/nginx.conf: two taskwire instances on this machine's
# PostgreSQL and Redis behind nginx, then the seed flow (REST + WebSocket
# through nginx) with Python requests + websockets, and a socket opened
# through nginx receiving events whichever instance served the writes.
#   deploy/nginx-test.sh [taskwire binary]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-bin/taskwire}
pg=${TASKWIRE_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
redis=${TASKWIRE_TEST_REDIS_URL:-redis://127.0.0.1:6379/0}
work=$(mktemp -d)
schema="tw_nginx_$$"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  psql "$pg" -qc "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
psql "$pg" -qc "CREATE SCHEMA $schema" >/dev/null
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
front=$(port); one=$(port); two=$(port)
for p in "$one" "$two"; do
  PORT=$p DATABASE_URL="$pg&search_path=$schema" REDIS_URL="$redis" REDIS_PREFIX="nginxtest$$:" \
    JWT_SECRET=nginx-test-secret-of-at-least-32-bytes BCRYPT_COST=4 TRUST_PROXY=true LOG_LEVEL=warn \
    "$bin" serve > "$work/out.$p" 2> "$work/err.$p" &
  pids+=($!)
done
for p in "$one" "$two"; do
  for _ in $(seq 300); do grep -q listening "$work/out.$p" 2>/dev/null && break; sleep 0.1; done
  grep -q listening "$work/out.$p" || { echo "instance :$p did not start:"; cat "$work/err.$p"; exit 1; }
done
sed -e "s/listen 8080/listen 127.0.0.1:$front/" -e "s/127.0.0.1:8081/127.0.0.1:$one/" -e "s/127.0.0.1:8082/127.0.0.1:$two/" \
  -e "s/worker_connections 20000/worker_connections 1024/" deploy/nginx.conf > "$work/nginx.conf"
nginx -c "$work/nginx.conf" -p "$work" -g "pid $work/nginx.pid; error_log $work/nginx-error.log;" 
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$front/healthz" >/dev/null && break; sleep 0.1; done
/usr/bin/python3 scripts/seed_flow.py "http://127.0.0.1:$front"
# Both instances serve requests through nginx.
for _ in $(seq 20); do curl -sf "http://127.0.0.1:$front/healthz" >/dev/null; done
for p in "$one" "$two"; do
  n=$(curl -s "http://127.0.0.1:$p/metrics" | awk '/^taskwire_http_requests_total/ {s+=$NF} END {print s+0}') ||
    { echo "instance :$p does not answer:"; cat "$work/err.$p"; exit 1; }
  echo "instance :$p served $n requests"
  [ "$n" -gt 0 ] || { echo "nginx did not spread requests"; cat "$work"/err.* "$work/nginx-error.log"; curl -s "http://127.0.0.1:$p/healthz"; exit 1; }
done
echo "nginx test OK"
