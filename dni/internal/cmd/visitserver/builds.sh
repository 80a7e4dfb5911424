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
. dni/internal/cmd/visitserver/lib.sh
listening 8091 8092
lua=dni/internal/cmd/visitserver/visit.lua
hz=$(getconf CLK_TCK)
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
