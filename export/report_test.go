package export_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/export"
	"github.com/attriqs/calltrack/store/memstore"
)

// One sink accepts, one refuses for good, one fails and will retry: the
// report counts each and names the reasons.
func TestReportCountsEachSinksDeliveries(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	clk := &clock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
	ok := &fakeSink{name: "ok"}
	refuses := &fakeSink{name: "refuses", fail: func(export.Message) error {
		return export.Permanent(errors.New("INVALID_CONVERSION_ACTION: not found"))
	}}
	busy := &fakeSink{name: "busy", fail: func(export.Message) error { return errors.New("503 busy") }}
	x := newExporter(t, st, clk, export.Config{}, ok, refuses, busy)
	for _, id := range []string{"A", "B"} {
		require.NoError(t, x.Record(ctx, qualifiedCall(id)))
	}
	_, err := x.DeliverDue(ctx)
	require.NoError(t, err)
	require.NoError(t, x.Record(ctx, qualifiedCall("C")))

	report, err := x.Report(ctx)
	require.NoError(t, err)
	require.Len(t, report, 3)
	assert.Equal(t, "ok", report[0].Sink)
	assert.Equal(t, 2, report[0].Accepted)
	assert.Equal(t, 1, report[0].Unsent)
	assert.False(t, report[0].LastAccepted.IsZero())
	assert.Equal(t, 2, report[1].Rejected)
	assert.Equal(t, map[string]int{"INVALID_CONVERSION_ACTION: not found": 2}, report[1].Reasons)
	assert.Equal(t, 3, report[2].Pending)
	assert.Equal(t, 2, report[2].Retrying)
	assert.Contains(t, report[2].LastError, "503 busy")
}
