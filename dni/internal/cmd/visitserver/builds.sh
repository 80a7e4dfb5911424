#!/bin/sh
# Interleaved rounds of wrk against two builds of visitserver on the same
# store kind: the way to compare a change with the build before it.
# Usage, from the repository root, with two binaries built from the two
# commits (go build -o before ./dni/internal/cmd/visitserver, and after):
#
#	sh dni/internal/cmd/visitserver/builds.sh ./before ./after sqlite 3
#
# Prints one line per round and build: requests/s, p99, and the server
# process's CPU time per request (user + system, from /proc).
set -eu
before=$1
after=$2
kind=${3:-memory}
rounds=${4:-3}
"$before" -store "$kind" -addr 127.0.0.1:8091 >/dev/null & a=$!
"$after" -store "$kind" -addr 127.0.0.1:8092 >/dev/null & b=$!
trap 'kill $a 2>/dev/null; kill $b 2>/dev/null' EXIT
for port in 8091 8092; do
	i=0
	until curl -s -o /dev/null "http://127.0.0.1:$port/"; do
		i=$((i + 1))
		if [ $i -ge 300 ]; then
			echo "builds.sh: nothing listens on port $port" >&2
			exit 1
		fi
		sleep 0.1
	done
done
lua=dni/internal/cmd/visitserver/visit.lua
hz=$(getconf CLK_TCK)
ticks() { awk '{sub(/^.*\) /, ""); print $12 + $13}' "/proc/$1/stat"; }
for r in $(seq "$rounds"); do
	for side in before:8091:$a after:8092:$b; do
		name=${side%%:*}
		rest=${side#*:}
		port=${rest%%:*}
		pid=${rest#*:}
		s0=$(ticks "$pid")
		out=$(wrk -t2 -c32 -d10s --latency -s "$lua" "http://127.0.0.1:$port/dni/v1/visit")
		s1=$(ticks "$pid")
		echo "$out" | awk -v n="$name" -v r="$r" -v hz="$hz" -v sv=$((s1 - s0)) '
			/requests in/ {c=$1} /Requests\/sec/ {rps=$2} / 99%/ {p99=$2}
			END {printf "round %d %-6s %10s req/s  p99 %8s  cpu/req %.0f us\n", r, n, rps, p99, sv*1e6/hz/c}'
	done
done
