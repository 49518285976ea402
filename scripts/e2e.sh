#!/usr/bin/env bash
# End-to-end test of the terminal UI: build keyleak, run `keyleak demo` in a
# detached tmux pane of 120x40, drive it with keys from the key entry to the
# report, and check the screen with capture-pane at every step. Every wait
# is bounded and polls; on failure the captured screen is printed and the
# script exits non-zero. The tmux session is killed at the end either way.
#
# Usage: scripts/e2e.sh            (make e2e builds first and runs this)
# Env:   KEYLEAK_BIN   the binary to test (default: builds bin/keyleak)
#        E2E_TIMEOUT   seconds to wait for each screen (default 60)
set -euo pipefail

cd "$(dirname "$0")/.."

if ! command -v tmux >/dev/null 2>&1; then
	echo "e2e: tmux is not installed (apt-get install tmux)" >&2
	exit 1
fi

bin=${KEYLEAK_BIN:-}
if [[ -z "$bin" ]]; then
	bin=bin/keyleak
	go build -o "$bin" ./cmd/keyleak
fi
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
timeout=${E2E_TIMEOUT:-60}

work=$(mktemp -d)
session="keyleak-e2e-$$"
cleanup() {
	tmux kill-session -t "$session" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

screen() { tmux capture-pane -p -t "$session" 2>/dev/null || true; }

fail() {
	echo "e2e: FAIL: $*" >&2
	echo "---- screen ----" >&2
	screen >&2
	echo "----------------" >&2
	exit 1
}

# wait_for TEXT: poll the screen until it shows TEXT, at most $timeout s.
wait_for() {
	local text=$1 deadline=$((SECONDS + timeout))
	while ((SECONDS < deadline)); do
		if screen | grep -qF -- "$text"; then
			echo "e2e: ok: $text"
			return 0
		fi
		sleep 0.2
	done
	fail "no \"$text\" on the screen after ${timeout}s"
}

keys() { tmux send-keys -t "$session" "$@"; }

# confirm_until TEXT: answer Y to each confirmation until the screen shows
# TEXT (containment asks once per round of what the key minted).
confirm_until() {
	local text=$1 deadline=$((SECONDS + timeout))
	while ((SECONDS < deadline)); do
		if screen | grep -qF -- "$text"; then
			echo "e2e: ok: $text"
			return 0
		fi
		if screen | grep -qF -- "Y (shift+y): make these calls"; then
			keys Y
		fi
		sleep 0.3
	done
	fail "no \"$text\" on the screen after ${timeout}s"
}

# The pane runs the demo, then prints its exit code and stays, so that the
# code can be read from the screen.
tmux new-session -d -s "$session" -x 120 -y 40 \
	"cd '$work' && '$bin' demo --dir '$work/cases' --tick 200ms; echo KEYLEAK-EXIT=\$?; sleep 600"

wait_for "Which access key leaked?"
wait_for "a valid access key ID"
keys Enter
wait_for "enter: go on to containment"
keys Enter
wait_for "enter: start"
keys Enter
wait_for "Y (shift+y): make these calls"
keys Y
wait_for "until this policy is in place"
# The leaked key's own calls stop once it is inactive (the status line
# counts the simulated attacker's calls of the last 5 seconds).
wait_for "leaked key 0 ok"
keys Y
confirm_until "enter: go on to the investigation"
keys Enter
wait_for "sweep complete"
keys Enter
wait_for "enter: details"
keys Tab
wait_for "still present"
keys Tab Tab
wait_for "enter: write them"
keys Enter
wait_for "report.xlsx ("
keys q
wait_for "KEYLEAK-EXIT=0"

shopt -s nullglob
cases=("$work"/cases/keyleak-case-*)
((${#cases[@]} == 1)) || fail "want one case directory, found ${#cases[@]}"
for f in journal.jsonl events.jsonl findings.json report.xlsx report.md report.json; do
	[[ -s "${cases[0]}/$f" ]] || fail "the case lacks $f"
done
"$bin" case verify "${cases[0]}" >/dev/null || fail "the case journal does not verify"
tmux kill-session -t "$session" 2>/dev/null || true

# At 80x24 the step list collapses into the header; Esc stops the removal
# loop after its first question; leaving names the case.
rm -rf "$work/cases"
tmux new-session -d -s "$session" -x 80 -y 24 \
	"cd '$work' && '$bin' demo --dir '$work/cases' --tick 200ms; echo KEYLEAK-EXIT=\$?; sleep 600"
wait_for "a valid access key ID"
keys Enter
wait_for "step 1/8 Identify (done)"
keys Enter
wait_for "enter: start"
keys Enter
wait_for "Y (shift+y): make these calls"
keys y
wait_for "press shift+Y"
keys Y
wait_for "until this policy is in place"
keys Y
confirm_until "enter: go on to the investigation"
keys Enter
wait_for "sweep complete"
keys Enter
wait_for "step 4/8 Assess"
wait_for "enter: details"
keys Tab
wait_for "still present"
# D starts the removal once the live check is done; until then it is ignored.
press_until() {
	local key=$1 text=$2 deadline=$((SECONDS + timeout))
	while ((SECONDS < deadline)); do
		if screen | grep -qF -- "$text"; then
			echo "e2e: ok: $text"
			return 0
		fi
		keys "$key"
		sleep 0.5
	done
	fail "no \"$text\" on the screen after ${timeout}s"
}
press_until D "Y (shift+y): remove it"
keys Escape
wait_for "removal stopped (esc)"
keys q
wait_for "KEYLEAK-EXIT=0"
wait_for "Case $work/cases/keyleak-case-"
tmux kill-session -t "$session" 2>/dev/null || true

# At 60x20 the key entry and the first step still fit, with the step named.
tmux new-session -d -s "$session" -x 60 -y 20 \
	"cd '$work' && '$bin' demo --dir '$work/cases60' --tick 200ms; echo KEYLEAK-EXIT=\$?; sleep 600"
wait_for "a valid access key ID"
keys Enter
wait_for "step 1/8 Identify"
keys q
wait_for "KEYLEAK-EXIT=0"
echo "e2e: passed"
