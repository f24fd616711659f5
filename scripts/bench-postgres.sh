#!/usr/bin/env bash
# bench-postgres.sh BINARY CLIENTS PROJECTS [twload patch flags...]
#
# One row of BENCHMARKS.md's "REST writes on PostgreSQL": a fresh schema
# "bench" in this machine's PostgreSQL (database test), the server pinned to
# core 0, `twload patch` pinned to core 1, then the server is stopped.
# TWLOAD names the load tool (default bin/twload).
set -euo pipefail
bin=$1 clients=$2 projects=$3
shift 3
twload=${TWLOAD:-bin/twload}
port=${BENCH_PORT:-18181}
psql -q -h 127.0.0.1 -U postgres -d test -c 'DROP SCHEMA IF EXISTS bench CASCADE; CREATE SCHEMA bench' >/dev/null 2>&1
DATABASE_URL='postgres://postgres@127.0.0.1:5432/test?sslmode=disable&search_path=bench' \
  JWT_SECRET=bench-secret-bench-secret-bench-secret-bench RATE_LIMIT_AUTH=100000/minute \
  BCRYPT_COST=4 PORT=$port LOG_LEVEL=warn taskset -c 0 "$bin" serve >/dev/null 2>"${BENCH_LOG:-/dev/stderr}" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
taskset -c 1 "$twload" patch -url "http://127.0.0.1:$port" -clients "$clients" -projects "$projects" "$@"
