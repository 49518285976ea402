#!/usr/bin/env bash
# Fuzz every fuzz target of the repository (every func FuzzX in a _test.go
# file, found afresh each run) for FUZZTIME each, one after the other, and
# report the executions and crashes of each. A crash leaves its input in
# the package's testdata/fuzz/FuzzX/ (commit it: it becomes a seed that
# `go test` runs from then on) and makes the script exit 1.
#
# A bare "context deadline exceeded" with no failing input is Go's own
# coordinator race (see deadline_only): the target runs again, and is
# reported as a race, not a crash, when no run finds anything.
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

# fuzz_once DIR NAME: one fuzzing run into $log; its exit status.
fuzz_once() {
	"$GO" test "$1" -run '^$' -fuzz "^${2}\$" -fuzztime "$FUZZTIME" -fuzzminimizetime "$FUZZMINIMIZE" >"$log" 2>&1
}

# deadline_only NAME: the run failed with nothing but Go's own "context deadline
# exceeded" at the end of -fuzztime, and wrote no failing input. That is a
# race in Go 1.26's fuzzing coordinator (go.dev/issue/75804, fixed in Go
# 1.27) when a loaded machine preempts it at the deadline, not a finding.
deadline_only() {
	grep -qx '    context deadline exceeded' "$log" &&
		! grep -qE 'Failing input written to|testdata/fuzz/|panic:' "$log" &&
		[ "$(grep -c -- '--- FAIL' "$log")" -eq 1 ] &&
		grep -q -- "^--- FAIL: $1 (" "$log"
}

summary=""
total_crashes=0
total_races=0
while read -r dir name; do
	printf '==> %s %s (%s)\n' "$dir" "$name" "$FUZZTIME"
	fuzz_once "$dir" "$name"
	rc=$?
	note=""
	# Go's deadline race: run the target again once; a second bare deadline
	# is still no finding if the target's seed corpus passes, and the table
	# says so. A failing input or any other failure is a crash.
	if [ $rc -ne 0 ] && deadline_only "$name"; then
		echo "fuzz: $name ended on Go's fuzzing deadline race (go.dev/issue/75804) with no failing input; running it again"
		fuzz_once "$dir" "$name"
		rc=$?
		note="ran twice: Go's deadline race"
		if [ $rc -ne 0 ] && deadline_only "$name" && "$GO" test "$dir" -run "^${name}\$" >/dev/null 2>&1; then
			rc=0
			total_races=$((total_races + 1))
			note="Go's deadline race twice, no failing input; seeds pass"
		fi
	fi
	execs=$(grep -oE 'execs: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+')
	crashes=0
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
[ "$total_races" -eq 0 ] || echo "deadline races without a finding: $total_races (go.dev/issue/75804)"
[ "$total_crashes" -eq 0 ]
