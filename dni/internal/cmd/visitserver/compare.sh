#!/bin/sh
# Interleaved rounds of wrk against visitserver on one store and against
# the bare net/http + JSON anchor (-store bare), on the same machine in the
# same run. Usage, from the repository root:
#
#	sh dni/internal/cmd/visitserver/compare.sh memory 5   # or sqlite, postgres; rounds
#
# Prints one line per round and side: requests/s, p50, p99 (wrk --latency),
# and the server process's CPU time per request (user + system, from
# /proc); on postgres also the database's, summed over its processes that
# ran through the round (one that exits during it is left out).
set -eu
kind=${1:-memory}
rounds=${2:-5}
dir=$(mktemp -d)
trap 'kill $svc 2>/dev/null; kill $bare 2>/dev/null; rm -rf "$dir"' EXIT
go build -o "$dir/visitserver" ./dni/internal/cmd/visitserver
"$dir/visitserver" -store "$kind" -addr 127.0.0.1:8099 >/dev/null & svc=$!
"$dir/visitserver" -store bare -addr 127.0.0.1:8098 >/dev/null & bare=$!
. dni/internal/cmd/visitserver/lib.sh
listening 8099 8098 # building the service takes a moment under load
lua=dni/internal/cmd/visitserver/visit.lua
hz=$(getconf CLK_TCK)
measure() {
	dbs=""
	if [ "$1" = postgres ]; then dbs=$(pgrep -x postgres || true); fi
	s0=$(ticks "$4")
	pidticks $dbs >"$dir/db0"
	wrk -t2 -c32 -d10s --latency -s "$lua" "http://127.0.0.1:$2/dni/v1/visit" >"$dir/wrk.out"
	s1=$(ticks "$4")
	pidticks $dbs >"$dir/db1"
	awk -v side="$1" -v r="$3" -v hz="$hz" -v sv=$((s1 - s0)) -v db="$(ticksSince "$dir/db0" "$dir/db1")" '
		/requests in/ {n=$1} /Requests\/sec/ {rps=$2} / 50%/ {p50=$2} / 99%/ {p99=$2} /Non-2xx/ {bad=$4}
		END {printf "round %d %-8s %10s req/s  p50 %8s  p99 %8s  non-2xx %s  cpu/req %.0f us", r, side, rps, p50, p99, bad+0, sv*1e6/hz/n
			if (side == "postgres") printf " + database %.0f us", db*1e6/hz/n
			printf "\n"}' "$dir/wrk.out"
}
for r in $(seq "$rounds"); do
	measure "$kind" 8099 "$r" "$svc"
	measure bare 8098 "$r" "$bare"
done
