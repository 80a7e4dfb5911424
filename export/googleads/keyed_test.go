package googleads_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/classify"
	"github.com/attriqs/calltrack/export/googleads"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/store/memstore"
)

// A call-asset call whose caller number is kept keyed cannot be uploaded
// (Google needs the number): it is skipped, with the reason.
func TestACallAssetCallWithAKeyedNumberIsSkipped(t *testing.T) {
	ctx := t.Context()
	st := memstore.New()
	keyed, err := journey.PhoneID("+14155550123", []byte("key"))
	require.NoError(t, err)
	start := t0.Add(4 * time.Minute)
	_, err = st.RecordCall(ctx, provider.CallEvent{Provider: "twilio", CallID: "CAkeyed", From: keyed.Value, To: asset,
		Direction: provider.DirectionInbound, Status: provider.StatusCompleted, StartedAt: start, Duration: 2 * time.Minute})
	require.NoError(t, err)
	require.NoError(t, st.PutAttribution(ctx, journey.Attribution{Provider: "twilio", CallID: "CAkeyed",
		Source:     classify.Source{Source: "google", Medium: "cpc", Campaign: "call-asset", Paid: true},
		Confidence: journey.ConfidenceDedicated, Reason: "test"}))
	require.NoError(t, st.PutConversion(ctx, journey.Conversion{ID: "call:twilio/CAkeyed", Type: journey.ConversionCall,
		At: start.Add(7 * time.Minute), Value: 5000, Currency: "USD", CallProvider: "twilio", CallID: "CAkeyed"}))
	b, err := newExporter(t, st, googleads.Config{}).Export(ctx, t0.Add(-time.Hour), t0.Add(time.Hour))
	require.NoError(t, err)
	require.Empty(t, b.Calls)
	require.Len(t, b.Skipped, 1)
	require.Contains(t, b.Skipped[0].Reason, "keyed")
}
