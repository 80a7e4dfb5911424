#!/bin/sh
# Interleaved rounds of hyperfine over ChannelAttribution's four anchor
# runs (first + last + linear, Markov orders 1 to 3), whole process, for
# each given binary: calltrack, calltrack-attribute, or a build from
# another commit. A binary whose name ends in "calltrack" is run as
# "calltrack attribute". Usage, from the repository root:
#
#	go build -o calltrack ./cmd/calltrack
#	go build -o calltrack-attribute ./cmd/calltrack-attribute
#	sh journey/attribution/internal/cmd/attribench/rounds.sh paths-1m.csv 5 ./calltrack ./calltrack-attribute
#
# Each round runs every command 5 times after 2 warm-ups; the summary is
# the fastest and the median wall time of all rounds, per command.
set -eu
paths=$1
rounds=$2
shift 2
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for r in $(seq "$rounds"); do
	args=""
	for bin in "$@"; do
		run=$bin
		case $bin in *calltrack) run="$bin attribute" ;; esac
		for m in "first,last,linear" "markov -order 1" "markov -order 2" "markov -order 3"; do
			args="$args -n '$bin $m' '$run -paths $paths -models $m'"
		done
	done
	eval hyperfine -N --style none -w 2 -r 5 --export-json "$out/round$r.json" "$args" >/dev/null
done
python3 - "$out" <<'PY'
import glob, json, statistics, sys
times = {}
for f in sorted(glob.glob(sys.argv[1] + "/round*.json")):
    for r in json.load(open(f))["results"]:
        times.setdefault(r["command"], []).extend(r["times"])
for name, t in times.items():
    print(f"{name:60s} runs {len(t):3d}  fastest {min(t)*1e3:6.1f} ms  median {statistics.median(t)*1e3:6.1f} ms")
PY
