#!/usr/bin/env bash
# Soak: a Taskwire server on a fresh SQLite file under twload's soak
# scenario (mixed REST load, WebSockets churning) for DURATION, then the
# leak check (goroutines, open files, sockets, heap and RSS back to their
# baseline). Not part of CI: the default is half an hour.
#
#   scripts/soak.sh [DURATION] [twload soak flags...]     # DURATION 30m
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=${GOTOOLCHAIN:-go1.27.3}
GO=${GO:-go}
duration=${1:-30m}
shift || true

dir=$(mktemp -d)
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
$GO build -o "$dir/taskwire" ./cmd/taskwire
$GO build -o "$dir/twload" ./cmd/twload
PORT=0 DATABASE_URL="sqlite:///$dir/soak.db" BCRYPT_COST=4 RATE_LIMIT_AUTH=100000/minute LOG_LEVEL=warn \
	"$dir/taskwire" serve >"$dir/out" 2>"$dir/err" &
pid=$!
for _ in $(seq 100); do grep -q listening "$dir/out" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/^taskwire listening on //p' "$dir/out")
[ -n "$url" ] || { echo "soak: the server did not start"; cat "$dir/err"; exit 1; }
"$dir/twload" soak -url "$url" -duration "$duration" "$@"
