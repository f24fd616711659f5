#!/usr/bin/env bash
# The Taskwire binary's size and start-up time.
#
#   scripts/startup.sh              # 20 runs of each
#   RUNS=50 CPU=0 scripts/startup.sh
#
# Builds the binary as `make build` does (go build ./cmd/taskwire) and, for
# comparison, with -trimpath, with -ldflags='-s -w' (no symbol table, no
# DWARF) and with both, into a temporary folder, and prints their sizes.
# Then, for the `make build` binary and the -trimpath -s -w one, measures
# start-up: from the exec of `taskwire serve` (pinned with taskset -c $CPU)
# to the first 200 of /readyz (the database answers), the median, minimum
# and maximum of $RUNS runs
#   - on a fresh SQLite file (every migration runs), and
#   - on an existing file (the one a first run migrated; or a copy of
#     $EXISTING_DB when set, e.g. a database with data in it).
# Each run's server is stopped with SIGTERM before the next starts.
set -euo pipefail
cd "$(dirname "$0")/.."

export GOTOOLCHAIN=${GOTOOLCHAIN:-go1.27.3}
GO=${GO:-go}
RUNS=${RUNS:-20}
CPU=${CPU:-0}
PORT=${PORT:-18191}
PYTHON=${PYTHON:-/usr/bin/python3}

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

build() { # name, extra go build flags...
	local name=$1
	shift
	"$GO" build "$@" -o "$dir/$name" ./cmd/taskwire
}
build make
build trimpath -trimpath
build sw -ldflags='-s -w'
build trimpath-sw -trimpath -ldflags='-s -w'

size() { stat -c %s "$1"; }
base=$(size "$dir/make")
echo "binary size ($($GO version | cut -d' ' -f3), $(uname -m)):"
for v in "make:go build (make build)" "trimpath:go build -trimpath" "sw:go build -ldflags='-s -w'" "trimpath-sw:go build -trimpath -ldflags='-s -w'"; do
	name=${v%%:*}
	s=$(size "$dir/$name")
	printf '  %-46s %6.1f MiB (%d bytes, %+.1f%%)\n' "${v#*:}" "$(echo "$s / 1048576" | bc -l)" "$s" "$(echo "($s - $base) * 100 / $base" | bc -l)"
done

# measure BINARY DB_PATH FRESH: prints "median min max" in ms of RUNS starts.
measure() {
	"$PYTHON" - "$@" <<'EOF'
import os, shutil, signal, statistics, subprocess, sys, time, urllib.request

binary, db, fresh, runs, cpu, port, existing = sys.argv[1], sys.argv[2], sys.argv[3] == "1", int(os.environ["RUNS"]), os.environ["CPU"], os.environ["PORT"], os.environ.get("EXISTING_DB", "")
env = dict(os.environ, PORT=port, DATABASE_URL="sqlite:///" + db, LOG_LEVEL="warn")
url = "http://127.0.0.1:%s/readyz" % port

def clear():
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)

def start_once():
    t0 = time.perf_counter()
    p = subprocess.Popen(["taskset", "-c", cpu, binary, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        while True:
            if p.poll() is not None:
                sys.exit("taskwire exited with %d: %s" % (p.returncode, p.stderr.read().decode()))
            try:
                with urllib.request.urlopen(url, timeout=1) as r:
                    if r.status == 200:
                        return (time.perf_counter() - t0) * 1000
            except OSError:
                pass
            if time.perf_counter() - t0 > 30:
                sys.exit("no 200 from /readyz in 30 s")
            time.sleep(0.001)
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait()

if not fresh:
    clear()
    if existing:
        shutil.copy(existing, db)
    else:
        start_once()  # a first run creates and migrates the file
times = []
for _ in range(runs):
    if fresh:
        clear()
    times.append(start_once())
print("median %.1f ms, min %.1f ms, max %.1f ms" % (statistics.median(times), min(times), max(times)))
EOF
}

export RUNS CPU PORT
echo "start-up, exec to the first 200 of /readyz, $RUNS runs each, server on core $CPU:"
for v in "make:make build" "trimpath-sw:-trimpath -s -w"; do
	name=${v%%:*}
	printf '  %-22s fresh SQLite file:    %s\n' "${v#*:}" "$(measure "$dir/$name" "$dir/start.db" 1)"
	printf '  %-22s existing SQLite file: %s\n' "${v#*:}" "$(measure "$dir/$name" "$dir/start.db" 0)"
done
