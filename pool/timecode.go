package pool

import "time"

// Times are packed into atomic words as milliseconds since 2000-01-01 UTC in
// 42 bits, which lasts until 2139. Earlier times clamp to the epoch.
const (
	epochUnixMilli = 946684800000
	timeBits       = 42
	maxTimeCode    = 1<<timeBits - 1
)

func encodeTime(t time.Time) uint64 {
	ms := t.UnixMilli() - epochUnixMilli
	if ms < 0 {
		return 0
	}
	if ms > maxTimeCode {
		return maxTimeCode
	}
	return uint64(ms)
}

func decodeTime(code uint64) time.Time {
	return time.UnixMilli(int64(code) + epochUnixMilli).UTC()
}

func durationCode(d time.Duration) uint64 { return uint64(d / time.Millisecond) }
