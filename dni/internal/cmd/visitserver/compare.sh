#!/bin/sh
# Interleaved rounds of wrk against visitserver on one store and against
# the bare net/http + JSON anchor (-store bare), on the same machine in the
# same run. Usage, from the repository root:
#
#	sh dni/internal/cmd/visitserver/compare.sh memory 5   # or sqlite, postgres; rounds
#
# Prints one line per round and side: requests/s, p50, p99 (wrk --latency).
set -eu
kind=${1:-memory}
rounds=${2:-5}
dir=$(mktemp -d)
trap 'kill $svc $bare 2>/dev/null; rm -rf "$dir"' EXIT
go build -o "$dir/visitserver" ./dni/internal/cmd/visitserver
"$dir/visitserver" -store "$kind" -addr 127.0.0.1:8099 >/dev/null & svc=$!
"$dir/visitserver" -store bare -addr 127.0.0.1:8098 >/dev/null & bare=$!
sleep 2
lua=dni/internal/cmd/visitserver/visit.lua
measure() {
	wrk -t2 -c32 -d10s --latency -s "$lua" "http://127.0.0.1:$2/dni/v1/visit" |
		awk -v side="$1" -v r="$3" '/Requests\/sec/ {rps=$2} / 50%/ {p50=$2} / 99%/ {p99=$2} /Non-2xx/ {bad=$4}
			END {printf "round %d %-8s %10s req/s  p50 %8s  p99 %8s  non-2xx %s\n", r, side, rps, p50, p99, bad+0}'
}
for r in $(seq "$rounds"); do
	measure "$kind" 8099 "$r"
	measure bare 8098 "$r"
done
