#!/usr/bin/env bash
# Fuzz every fuzz target of the repository (every func FuzzX in a _test.go
# file, found afresh each run) for FUZZTIME each, one after the other, and
# report the executions and crashes of each. A crash leaves its input in
# the package's testdata/fuzz/FuzzX/ (commit it: it becomes a seed that
# `go test` runs from then on) and makes the script exit 1.
#
# Usage: scripts/fuzz.sh [TARGET-REGEXP]     (make fuzz runs this)
# Env:   FUZZTIME      how long each target runs (default 30s; go test's
#                      -fuzztime: 30s, 2m, or 10000x)
#        FUZZMINIMIZE  the budget for minimizing a new input (default 100x;
#                      go's default of 60s can stall a short run)
#        GO            the go command (default go)
set -uo pipefail

cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-30s}
FUZZMINIMIZE=${FUZZMINIMIZE:-100x}
GO=${GO:-go}
only=${1:-.}

# Temporary files of the targets (case directories, log files) on a
# memory file system when there is one: fuzzing writes many of them.
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
	export TMPDIR=/dev/shm
fi

targets=$(grep -rlE '^func Fuzz[A-Za-z0-9_]*\(f \*testing\.F\)' --include='*_test.go' . |
	while read -r file; do
		dir=$(dirname "$file")
		grep -oE '^func Fuzz[A-Za-z0-9_]*' "$file" | sed "s|^func |$dir |"
	done | sort | grep -E -- "$only" || true)
if [ -z "$targets" ]; then
	echo "fuzz: no target matches $only" >&2
	exit 1
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
summary=""
total_crashes=0
while read -r dir name; do
	printf '==> %s %s (%s)\n' "$dir" "$name" "$FUZZTIME"
	"$GO" test "$dir" -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" -fuzzminimizetime "$FUZZMINIMIZE" >"$log" 2>&1
	rc=$?
	execs=$(grep -oE 'execs: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+')
	crashes=0
	note=""
	if [ $rc -ne 0 ]; then
		crashes=1
		note=$(grep -m1 -oE 'testdata/fuzz/[^ ]+' "$log" || true)
		[ -n "$note" ] || note="go test failed (see above)"
		tail -40 "$log"
	fi
	total_crashes=$((total_crashes + crashes))
	summary+=$(printf '%-20s %-22s %12s %8d  %s' "$dir" "$name" "${execs:-0}" "$crashes" "$note")$'\n'
done <<<"$targets"

echo
echo "==== fuzzing, $FUZZTIME per target ===="
printf '%-20s %-22s %12s %8s\n' package target executions crashes
printf '%s' "$summary"
echo "crashes: $total_crashes"
[ "$total_crashes" -eq 0 ]
