# Shared by compare.sh and builds.sh (sourced, not run).

# listening waits until something answers HTTP on each given local port.
listening() {
	for port in "$@"; do
		i=0
		until curl -s -o /dev/null "http://127.0.0.1:$port/"; do
			i=$((i + 1))
			if [ $i -ge 300 ]; then
				echo "nothing listens on port $port" >&2
				exit 1
			fi
			sleep 0.1
		done
	done
}

# pidticks prints "pid ticks" for each given process still running.
pidticks() {
	for p in "$@"; do
		awk -v p="$p" '{sub(/^.*\) /, ""); print p, $12 + $13}' "/proc/$p/stat" 2>/dev/null || true
	done
}

# ticksSince prints the ticks used between two pidticks files by the
# processes in both: one that exited meanwhile is left out, not counted
# as negative.
ticksSince() {
	awk 'NR == FNR {t0[$1] = $2; next} ($1 in t0) {t += $2 - t0[$1]} END {print t + 0}' "$1" "$2"
}

# ticks prints the CPU clock ticks (user + system) the given processes used.
ticks() {
	for p in "$@"; do cat "/proc/$p/stat" 2>/dev/null; done |
		awk '{sub(/^.*\) /, ""); t += $12 + $13} END {print t + 0}'
}
