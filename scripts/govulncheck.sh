#!/usr/bin/env bash
# Runs govulncheck against a vulnerability database built on this machine
# from the golang.org/x/vulndb module (fetched through the Go module proxy
# like any module), so the scan never asks vuln.go.dev.
#
#   scripts/govulncheck.sh                 # govulncheck ./...
#   scripts/govulncheck.sh -show verbose ./...   # other govulncheck arguments
#
# The database (v1 layout, built by scripts/vulndb from the module's
# data/osv) is cached in $(go env GOCACHE)/taskwire-vulndb/, keyed by the
# vulndb version and the builder's source; VULNDB_CACHE overrides the
# folder. To take newer advisories, bump VULNDB_VERSION below to a newer
# golang.org/x/vulndb pseudo-version.
#
# Exit status: govulncheck's. 0 when no vulnerable code is reached; 3 when
# the code calls a vulnerable symbol (modules that are only imported or
# required are listed but do not fail the run); anything else is an error.
set -euo pipefail

VULNDB_MODULE=golang.org/x/vulndb
VULNDB_VERSION=${VULNDB_VERSION:-v0.0.0-20261105234957-e22db6528018}

cd "$(dirname "$0")/.."
export GOTOOLCHAIN=${GOTOOLCHAIN:-go1.27.3}
GO=${GO:-go}

key=$VULNDB_VERSION-$(cat scripts/vulndb/*.go | sha256sum | cut -c1-12)
cache=${VULNDB_CACHE:-$($GO env GOCACHE)/taskwire-vulndb}
db=$cache/$key

if [ ! -s "$db/index/modules.json" ]; then
	echo "govulncheck.sh: building the vulnerability database from $VULNDB_MODULE@$VULNDB_VERSION"
	# Checked against the checksum database (GOSUMDB) like any module download.
	$GO mod download "$VULNDB_MODULE@$VULNDB_VERSION"
	info=$($GO list -m -f '{{.Dir}}|{{.Time.UTC.Format "2006-01-02T15:04:05Z07:00"}}' "$VULNDB_MODULE@$VULNDB_VERSION")
	dir=${info%|*} time=${info##*|}
	if [ ! -d "$dir/data/osv" ]; then
		echo "govulncheck.sh: $dir/data/osv not found" >&2
		exit 1
	fi
	$GO run ./scripts/vulndb -osv "$dir/data/osv" -out "$db" -modified "$time"
	# Older builds (other versions or builder sources) are of no further use.
	find "$cache" -mindepth 1 -maxdepth 1 ! -name "$key" -exec rm -rf {} +
fi

modified=$(sed -n 's/.*"modified":"\([^"]*\)".*/\1/p' "$db/index/db.json")
entries=$(find "$db/ID" -name 'GO-*.json' | wc -l)
echo "govulncheck.sh: vulnerability database $VULNDB_MODULE@$VULNDB_VERSION: $entries entries, modified $modified"
echo "govulncheck.sh: $db"

if [ $# -eq 0 ]; then
	set -- ./...
fi
exec $GO tool govulncheck -db "file://$db" "$@"
