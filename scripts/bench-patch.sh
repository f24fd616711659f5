#!/usr/bin/env bash
# One row of BENCHMARKS.md's REST write figures on SQLite: starts BINARY on a
# fresh SQLite file pinned to core 0, runs `twload patch` with CLIENTS
# clients for 10 s pinned to core 1, prints its summary line, stops it.
#
#   scripts/bench-patch.sh ./bin/taskwire 64
#
# Build the load tool first: go build -o bin/twload ./cmd/twload
set -euo pipefail
bin=$1
clients=$2
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
ulimit -n 20000
DATABASE_URL="sqlite:///$dir/bench.db" PORT=18181 LOG_LEVEL=warn BCRYPT_COST=4 RATE_LIMIT_AUTH=100000/minute \
	JWT_SECRET=bench-secret-bench-secret-bench-secret taskset -c 0 "$bin" serve >/dev/null 2>"$dir/stderr" &
pid=$!
for _ in $(seq 100); do curl -fs -o /dev/null http://127.0.0.1:18181/healthz && break; sleep 0.1; done
taskset -c 1 "$root/bin/twload" patch -url http://127.0.0.1:18181 -clients "$clients" -duration 10s 2>&1 |
	grep -E 'req/s|p99' | tr '\n' ' '
echo
kill "$pid"
wait "$pid" 2>/dev/null || true
