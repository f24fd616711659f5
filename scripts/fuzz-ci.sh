#!/usr/bin/env bash
# Runs every fuzz target of the module, one at a time, each for a bounded
# time, and fails if any of them fails (a crasher, or a seed that already
# fails, or a package that does not build).
#
#   scripts/fuzz-ci.sh                  # every target, FUZZTIME each (10s)
#   FUZZTIME=1m scripts/fuzz-ci.sh      # longer
#   scripts/fuzz-ci.sh 'httpapi\.'      # only targets whose "dir.Name" matches
#                                       # (an awk regexp; dir as ./auth, . for the root)
#
# Targets are found by grepping *_test.go files for `func FuzzXxx(f
# *testing.F)`, so a new target is picked up without editing this script.
# Environment:
#   FUZZTIME        -fuzztime per target (a duration such as 10s, or Nx) [10s]
#   FUZZ_PARALLEL   -parallel for the fuzzing workers [go's default: GOMAXPROCS]
#   GO              the go command [go]
# A crasher is written by go test to <package>/testdata/fuzz/<Target>/; the
# summary names it. Commit it to keep the case as a regression test.
set -uo pipefail

cd "$(dirname "$0")/.."
export GOTOOLCHAIN=${GOTOOLCHAIN:-go1.27.3}
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-10s}
filter=${1:-}

# dir<TAB>Name for every fuzz target, sorted, without duplicates.
targets=$(
	grep -rEo --include='*_test.go' --exclude-dir=vendor --exclude-dir=testdata --exclude-dir='.?*' \
		'^func Fuzz[A-Za-z0-9_]*\([A-Za-z_][A-Za-z0-9_]* \*testing\.F\)' . |
		sed -E 's#^(.*)/[^/]+_test\.go:func (Fuzz[A-Za-z0-9_]*)\(.*#\1\t\2#' |
		sort -u
)
if [ -n "$filter" ]; then
	targets=$(printf '%s\n' "$targets" | FUZZ_FILTER=$filter awk -F'\t' '($1 "." $2) ~ ENVIRON["FUZZ_FILTER"]')
fi
if [ -z "$targets" ]; then
	echo "fuzz-ci: no fuzz targets found${filter:+ matching $filter}" >&2
	exit 1
fi

logdir=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-ci.XXXXXX")
trap 'rm -rf "$logdir"' EXIT
parallel=()
if [ -n "${FUZZ_PARALLEL:-}" ]; then
	parallel=(-parallel "$FUZZ_PARALLEL")
fi

total=0
failed=0
summary=()
while IFS=$'\t' read -r dir name; do
	total=$((total + 1))
	log=$logdir/$total.log
	echo "fuzz-ci: $dir $name for $FUZZTIME" >&2
	start=$(date +%s)
	"$GO" test -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" "${parallel[@]}" "$dir" >"$log" 2>&1
	status=$?
	took=$(($(date +%s) - start))s
	execs=$(grep -Eo 'execs: [0-9]+' "$log" | tail -n 1 | grep -Eo '[0-9]+' || true)
	if [ "$status" -eq 0 ]; then
		summary+=("$(printf 'ok     %-14s %-26s %6s  %s execs' "$dir" "$name" "$took" "${execs:-?}")")
		continue
	fi
	failed=$((failed + 1))
	crasher=$(grep -Eo 'testdata/fuzz/[^ ]+' "$log" | tail -n 1 || true)
	if [ -n "$crasher" ]; then
		what="CRASH  input: $dir/$crasher (go test -run '^${name}\$' $dir)"
	else
		what="FAIL   (no crasher written: build error, failing seed or setup)"
	fi
	summary+=("$(printf 'FAIL   %-14s %-26s %6s  %s' "$dir" "$name" "$took" "$what")")
	echo "---- $dir $name: go test exited $status; last lines:" >&2
	tail -n 40 "$log" >&2
	echo "----" >&2
done <<<"$targets"

echo
echo "fuzz-ci summary (FUZZTIME=$FUZZTIME):"
printf '%s\n' "${summary[@]}"
echo "fuzz-ci: $total targets, $((total - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
