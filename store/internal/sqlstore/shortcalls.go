package sqlstore

import (
	"context"
	"time"

	"github.com/attriqs/calltrack/store"
)

// ShortCallsBetween implements store.Calls. A call's length is its billed
// duration, else from start to end, as journey.CallLength measures it;
// times are stored in microseconds, durations in nanoseconds.
func (e *Engine) ShortCallsBetween(ctx context.Context, from string, since, before time.Time, shorter time.Duration) (int, error) {
	if from == "" {
		return 0, nil
	}
	var n int64
	err := e.queryRow(ctx, "short calls", []any{&n},
		`SELECT COUNT(*) FROM calls WHERE from_number = ? AND call_at >= ? AND call_at < ? AND ended_at IS NOT NULL
		   AND (CASE WHEN duration_ns > 0 THEN duration_ns ELSE (ended_at - started_at) * 1000 END) < ?`,
		from, micro(store.Micro(since)), micro(store.Micro(before)), int64(shorter))
	return int(n), err
}
