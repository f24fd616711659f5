#!/usr/bin/env bash
# The reliability, security and load suite of RELIABILITY.md, in one go:
# each part runs, its verdict, time and figures go into a summary table at
# the end, and the script fails if any part failed.
#
#   scripts/reliability.sh              # everything, the soak for SOAK_DURATION
#   scripts/reliability.sh crash authz  # only the named parts
#
# Parts: crash outage clients authz input fuzz vulncheck staticcheck soak.
# Environment (defaults are the full local run; CI runs smaller ones):
#   TASKWIRE_CRASH_ROUNDS    kill -9 rounds per crash test          [50]
#   TASKWIRE_OUTAGE_SECONDS  Redis outage length                    [10]
#   FUZZTIME                 fuzzing time per target                [30s]
#   SOAK_DURATION            soak load time (0: skip the soak)      [30m]
#   TASKWIRE_TEST_POSTGRES_URL, TASKWIRE_TEST_REDIS_URL  as for make test;
#   without them the PostgreSQL and Redis parts are skipped.
set -uo pipefail

cd "$(dirname "$0")/.."
export GOTOOLCHAIN=${GOTOOLCHAIN:-go1.27.3}
GO=${GO:-go}
export TASKWIRE_CRASH_ROUNDS=${TASKWIRE_CRASH_ROUNDS:-50}
export TASKWIRE_OUTAGE_SECONDS=${TASKWIRE_OUTAGE_SECONDS:-10}
export FUZZTIME=${FUZZTIME:-30s}
SOAK_DURATION=${SOAK_DURATION:-30m}

parts=("$@")
[ ${#parts[@]} -eq 0 ] && parts=(crash outage clients authz input fuzz vulncheck staticcheck soak)

logs=$(mktemp -d)
summary=()
failed=0

# run NAME COMMAND...: runs the command, keeps its output in $logs/NAME.log
# and records the verdict and time; the figures are pulled from the log
# afterwards by figures().
run() {
	local name=$1
	shift
	echo "=== $name: $*"
	local start=$SECONDS status
	"$@" >"$logs/$name.log" 2>&1
	status=$?
	local took=$((SECONDS - start))
	local verdict=ok
	if [ $status -ne 0 ]; then
		verdict=FAIL
		failed=1
		tail -40 "$logs/$name.log"
	elif grep -q -- '--- SKIP' "$logs/$name.log" && ! grep -q -- '--- PASS' "$logs/$name.log"; then
		verdict=skipped
	fi
	summary+=("$(printf '%-12s %-8s %6ss  %s' "$name" "$verdict" "$took" "$(figures "$name" | paste -sd' ')")")
	echo "--- $name: $verdict in ${took}s (log: $logs/$name.log)"
}

# figures prints the headline figures a part logged, on one line.
figures() {
	local log=$logs/$1.log
	case $1 in
	crash) grep -o 'crash safety: .*' "$log" | sed -E 's/crash safety: ([0-9]) instance\(s\), ([0-9]+) rounds[^:]*: ([0-9]+) writes acknowledged.*; ([0-9]+) events checked.*result (.*)/\1 inst: \2 kills, \3 acked, \4 events, \5/' | paste -sd';' ;;
	outage)
		grep -Eo 'Redis down [0-9.a-z]+ under load|/readyz 200 on both after [0-9.a-zµ]+, every socket had every event up to seq [0-9]+ after [0-9.a-zµ]+' "$log" | paste -sd' ' | sed 's/, every socket had every event up to seq [0-9]* after/, sockets whole after/'
		grep -Eo 'PostgreSQL stopped .* and down [0-9.a-z]+|[0-9]+ answers 503 in all|first 201 after [0-9.a-zµ]+' "$log" | sed -E 's/PostgreSQL stopped .* and down/; PostgreSQL down/' | paste -sd' '
		;;
	clients) grep -Eo 'delivery latency[^,]*, [0-9]+ deliveries: p50 [^,]*, p99 [^,]*' "$log" | head -1 ;;
	authz) echo "$(grep -c -- '--- PASS' "$log") subtests passed" ;;
	input) echo "$(grep -c -- '--- PASS' "$log") subtests passed" ;;
	fuzz) grep -Eo '[0-9]+ targets, [0-9]+ passed, [0-9]+ failed' "$log" | tail -1 ;;
	vulncheck) grep -Eo 'No vulnerabilities found|affected by [0-9]+ vulnerabilit[a-z]*|[0-9]+ entries, modified [^ ]*' "$log" | paste -sd';' ;;
	staticcheck) echo "$(wc -l <"$log") findings" ;;
	soak) grep -E '^(goroutines|open fds|realtime sockets|RSS) ' "$log" | awk '{print $1, $2, $(NF-3) "->" $(NF-1), $NF}' | paste -sd';' ;;
	esac
}

for part in "${parts[@]}"; do
	case $part in
	crash) run crash "$GO" test -race -count=1 -timeout 60m -run 'TestCrashSafety' -v ./cmd/taskwire/ ;;
	outage) run outage "$GO" test -race -count=1 -timeout 20m -run 'TestRedisDown|TestPostgresRestart' -v ./cmd/taskwire/ ;;
	clients) run clients "$GO" test -race -count=1 -timeout 20m -run 'TestHostile(NonReaders|ConnectionFlood|HalfOpen|SocketLimits)' -v ./httpapi/ ;;
	authz) run authz "$GO" test -race -count=1 -timeout 20m -run 'TestAuthz' -v ./httpapi/ ;;
	input) run input "$GO" test -race -count=1 -timeout 20m -run 'TestHostileText|TestHostileLookup|TestHostileOversized|TestHostileDeep|TestToken|TestHeaderInjection' -v ./httpapi/ ./auth/ ./notify/ ;;
	fuzz) run fuzz scripts/fuzz-ci.sh ;;
	vulncheck) run vulncheck scripts/govulncheck.sh ;;
	staticcheck) run staticcheck "$GO" tool staticcheck ./... ;;
	soak)
		if [ "$SOAK_DURATION" = 0 ]; then
			summary+=("$(printf '%-12s %-8s %6s   %s' soak skipped - 'SOAK_DURATION=0')")
			continue
		fi
		run soak scripts/soak.sh "$SOAK_DURATION"
		;;
	*)
		echo "unknown part $part" >&2
		exit 2
		;;
	esac
done

echo
echo "reliability summary ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, logs in $logs)"
printf '%-12s %-8s %7s  %s\n' part verdict time figures
printf '%s\n' "${summary[@]}"
exit $failed
