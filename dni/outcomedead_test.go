package dni

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/export"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/provider/fake"
	"github.com/attriqs/calltrack/store"
	"github.com/attriqs/calltrack/store/memstore"
)

// refusingSink refuses every message for good until accept is set, then
// records what it is sent.
type refusingSink struct {
	mu     sync.Mutex
	accept bool
	got    []export.Message
}

func (s *refusingSink) Name() string { return "refusing" }
func (s *refusingSink) Deliver(_ context.Context, m export.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.accept {
		return export.Permanent(errors.New("the platform refused the upload"))
	}
	s.got = append(s.got, m)
	return nil
}

// A value changed after the conversion was dead-lettered is not lost: it
// is queued as an adjustment, dead-lettered behind its conversion, and an
// operator who requeues both sends the conversion, then the new value.
func TestAChangeToADeadLetteredConversionComesBackWithIt(t *testing.T) {
	st := memstore.New()
	sink := &refusingSink{}
	x, err := export.New(st, export.Config{}, sink)
	require.NoError(t, err)
	h := newHarness(t, testConfig(), WithStore(st), WithExports(x))
	ctx := context.Background()
	a := h.visit(t, VisitRequest{URL: "https://example-plumbing.com/?gclid=x"})
	_, err = h.caller.PlaceCall(ctx, h.srv.URL+DefaultPrefix+"webhooks/fake", fake.Call{ID: "CA1", From: caller, To: a.Swaps[0].Number, Answered: true, Duration: 2 * time.Minute})
	require.NoError(t, err)
	require.NoError(t, h.svc.Close())
	deliverAll(t, x)
	conv := "refusing/" + journey.CallConversionID(fake.Name, "CA1")
	m, err := x.Message(ctx, conv)
	require.NoError(t, err)
	require.Equal(t, store.OutboxDead, m.State, "the conversion was refused for good")

	require.NoError(t, h.svc.SetOutcome(ctx, journey.CallTouchpointID(fake.Name, "CA1"), Outcome{Status: OutcomeWon, Value: 90000, Currency: "USD"}))
	deliverAll(t, x)
	adj := "refusing/adjust:" + journey.CallConversionID(fake.Name, "CA1") + "/v1"
	m, err = x.Message(ctx, adj)
	require.NoError(t, err, "the change is queued")
	assert.Equal(t, store.OutboxDead, m.State, "dead behind its conversion")
	assert.Contains(t, m.LastError, conv, "the reason names the conversion")

	sink.mu.Lock()
	sink.accept = true
	sink.mu.Unlock()
	require.NoError(t, x.Requeue(ctx, adj))
	require.NoError(t, x.Requeue(ctx, conv))
	deliverAll(t, x)
	require.Len(t, sink.got, 2)
	assert.Equal(t, conv, sink.got[0].ID, "the conversion first")
	assert.Equal(t, adj, sink.got[1].ID)
	require.NotNil(t, sink.got[1].Adjustment)
	assert.Equal(t, int64(90000), sink.got[1].Adjustment.Value)
}
