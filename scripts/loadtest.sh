#!/usr/bin/env bash
# Runs the whole test suite N times in a row (default 10) while one core is
# kept busy, to catch tests that depend on timing. Prints pass/fail and the
# wall time of each run, keeps each run's output in a log directory, and
# exits non-zero if any run failed.
#
#   scripts/loadtest.sh [runs] [go test flags...]
#   scripts/loadtest.sh 3 -race ./dni/...
#
# With no packages given it tests ./... . CALLTRACK_LOADTEST_LOGS sets where
# the logs go (default: a new temporary directory).
set -uo pipefail
cd "$(dirname "$0")/.."

runs=${1:-10}
shift || true
args=("$@")
has_pkg=0
for a in "${args[@]+"${args[@]}"}"; do
	case "$a" in ./* | github.com/*) has_pkg=1 ;; esac
done
[ "$has_pkg" = 1 ] || args+=(./...)

# Services the tests need must be there: a skipped test is not a passed one.
export CALLTRACK_REQUIRE_SERVICES=${CALLTRACK_REQUIRE_SERVICES:-1}

logs=${CALLTRACK_LOADTEST_LOGS:-$(mktemp -d -t calltrack-loadtest.XXXXXX)}
mkdir -p "$logs"

# The load: one busy loop, pinned to CPU 0 when taskset exists, so the
# tests share the machine with a process that never sleeps.
if command -v taskset >/dev/null 2>&1; then
	taskset -c 0 yes >/dev/null &
else
	yes >/dev/null &
fi
load=$!
trap 'kill "$load" 2>/dev/null' EXIT

echo "load: busy loop (pid $load)$(command -v taskset >/dev/null 2>&1 && echo ' pinned to CPU 0'); logs in $logs"
failed=0
for i in $(seq 1 "$runs"); do
	start=$(date +%s)
	if go test -count=1 "${args[@]}" >"$logs/run-$i.log" 2>&1; then
		result=pass
	else
		result=FAIL
		failed=$((failed + 1))
	fi
	printf 'run %d/%d: %s in %ds\n' "$i" "$runs" "$result" "$(($(date +%s) - start))"
	if [ "$result" = FAIL ]; then
		grep -E '^(--- FAIL|FAIL|panic:)' "$logs/run-$i.log" | sed 's/^/    /' | head -20
	fi
done
echo "$((runs - failed))/$runs runs passed"
[ "$failed" = 0 ]
