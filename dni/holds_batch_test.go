package dni

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/store/memstore"
)

// Hold records queued while run is not draining go to the store in one
// batch; one of another pool than its stored hold is written alone and
// logged, and the rest land.
func TestHoldWriterWritesQueuedRecordsInOneBatch(t *testing.T) {
	st := &batchLog{Store: memstore.New()}
	from := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	require.NoError(t, st.RecordHold(context.Background(), pool.HoldRecord{Pool: "paid", Number: "+14155550109", SessionID: "x", From: from}))
	w := newHoldWriter(st, quietLogger())
	for _, id := range []string{"a", "b", "c"} {
		w.record(pool.HoldRecord{Pool: "paid", Number: "+14155550101", SessionID: id, From: from})
	}
	w.record(pool.HoldRecord{Pool: "organic", Number: "+14155550109", SessionID: "x", From: from})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.run(ctx) }()
	until(t, func() bool { return len(w.queue) == 0 && len(st.log()) == 1 })
	w.close()
	cancel()
	<-done
	require.Len(t, st.log(), 1)
	assert.Len(t, st.log()[0].Holds, 4)
	holders, err := st.HoldersAt(context.Background(), "+14155550101", from.Add(time.Minute), 0)
	require.NoError(t, err)
	assert.Len(t, holders, 3)
}
