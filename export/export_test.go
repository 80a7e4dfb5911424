package export_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/classify"
	"github.com/attriqs/calltrack/export"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/store"
	"github.com/attriqs/calltrack/store/memstore"
)

var (
	t0    = time.Date(2026, 3, 14, 15, 0, 0, 0, time.UTC)
	quiet = slog.New(slog.DiscardHandler)
)

// clock is a settable fake clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t0.Add(d)
}

// fakeSink records deliveries and answers with fail(attempt).
type fakeSink struct {
	name   string
	accept func(export.Event) bool
	fail   func(m export.Message) error

	mu   sync.Mutex
	got  []export.Message
	hits atomic.Int64
}

func (s *fakeSink) Name() string { return s.name }
func (s *fakeSink) Deliver(ctx context.Context, m export.Message) error {
	s.hits.Add(1)
	s.mu.Lock()
	s.got = append(s.got, m)
	s.mu.Unlock()
	if s.fail != nil {
		return s.fail(m)
	}
	return nil
}

type filteredSink struct{ *fakeSink }

func (s filteredSink) Accepts(ev export.Event) bool { return s.accept(ev) }

func qualifiedCall(id string) export.Event {
	call := provider.CallEvent{Provider: "twilio", CallID: id, From: "+14155550123", To: "+14155550100",
		Direction: provider.DirectionInbound, Status: provider.StatusCompleted, StartedAt: t0.Add(-10 * time.Minute),
		Duration: 3 * time.Minute, Raw: []byte("CallSid=" + id)}
	conv := journey.Conversion{ID: "call:twilio/" + id, Type: journey.ConversionCall, At: t0.Add(-7 * time.Minute),
		VisitorID: "v1", SessionID: "s1", Value: 5000, Currency: "USD", CallProvider: "twilio", CallID: id}
	return export.Event{Conversion: &conv, Call: &call, Source: classify.Source{Channel: classify.ChannelPaidSearch,
		Source: "google", Medium: "cpc", Campaign: "spring", Paid: true,
		ClickID: classify.ClickID{Param: "gclid", Value: "Cj0KCQ", Platform: "Google Ads"}}}
}

func newExporter(t *testing.T, st store.Outbox, clk *clock, cfg export.Config, sinks ...export.Sink) *export.Exporter {
	t.Helper()
	if clk != nil {
		cfg.Now = clk.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = quiet
	}
	x, err := export.New(st, cfg, sinks...)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, x.Close()) })
	return x
}

func TestRecordWritesConversionAndOneMessagePerAcceptingSink(t *testing.T) {
	ctx := t.Context()
	st := memstore.New()
	clk := &clock{t: t0}
	all := &fakeSink{name: "webhook"}
	purchasesOnly := filteredSink{&fakeSink{name: "shop", accept: func(ev export.Event) bool { return ev.Call == nil }}}
	x := newExporter(t, st, clk, export.Config{}, all, purchasesOnly)

	ev := qualifiedCall("CA1")
	require.NoError(t, x.Record(ctx, ev))
	require.NoError(t, x.Record(ctx, ev), "recording again is idempotent")

	convs, err := st.ConversionsBetween(ctx, t0.Add(-time.Hour), t0)
	require.NoError(t, err)
	require.Len(t, convs, 1)
	status, err := x.Status(ctx, ev.Conversion.ID)
	require.NoError(t, err)
	require.Len(t, status, 1, "the filtered sink does not take calls")
	require.Equal(t, "webhook/call:twilio/CA1", status[0].ID)
	require.Equal(t, store.OutboxPending, status[0].State)
	require.Equal(t, export.KindConversion, status[0].Kind)
	require.NotContains(t, string(status[0].Payload), "CallSid", "the provider's raw body is not copied into the outbox")

	n, err := x.DeliverDue(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Len(t, all.got, 1)
	m := all.got[0]
	require.Equal(t, "webhook/call:twilio/CA1", m.ID)
	require.Equal(t, 1, m.Attempt)
	require.Equal(t, ev.Conversion.Value, m.Conversion.Value)
	require.Equal(t, "spring", m.Source.Campaign)
	require.Equal(t, 3*time.Minute, m.Call.Duration)
	require.Zero(t, purchasesOnly.hits.Load())

	got, err := x.Message(ctx, m.ID)
	require.NoError(t, err)
	require.Equal(t, store.OutboxDelivered, got.State)
	require.Equal(t, t0, got.DeliveredAt)
	require.Equal(t, export.Stats{Claimed: 1, Delivered: 1}, x.Stats())

	callOnly := export.Event{Call: qualifiedCall("CA2").Call}
	require.NoError(t, x.Record(ctx, callOnly))
	cm, err := x.Message(ctx, "webhook/call:twilio/CA2")
	require.NoError(t, err)
	require.Equal(t, export.KindCall, cm.Kind)
	require.ErrorIs(t, x.Record(ctx, export.Event{}), export.ErrNothingToRecord)
}

func TestRecordRefusesAnInvalidConversionAndQueuesNothing(t *testing.T) {
	st := memstore.New()
	x := newExporter(t, st, &clock{t: t0}, export.Config{}, &fakeSink{name: "webhook"})
	ev := qualifiedCall("CA1")
	ev.Conversion.Currency = "dollars"
	require.ErrorIs(t, x.Record(t.Context(), ev), store.ErrInvalid)
	pending, err := x.ByState(t.Context(), store.OutboxPending, 0)
	require.NoError(t, err)
	require.Empty(t, pending)
}

// errRetry is a retryable failure with an optional Retry-After.
type errRetry struct{ wait time.Duration }

func (e errRetry) Error() string             { return "503 busy" }
func (e errRetry) RetryAfter() time.Duration { return e.wait }

func TestRetriesWithJitteredExponentialBackoffThenDeadLetters(t *testing.T) {
	ctx := t.Context()
	st := memstore.New()
	clk := &clock{t: t0}
	sink := &fakeSink{name: "s", fail: func(export.Message) error { return errRetry{} }}
	x := newExporter(t, st, clk, export.Config{MaxAttempts: 3, BaseDelay: 10 * time.Second,
		Rand: func() float64 { return 0.5 }}, sink)
	require.NoError(t, x.Record(ctx, qualifiedCall("CA1")))
	id := "s/call:twilio/CA1"

	steps := []struct {
		at        time.Duration
		claimed   int
		state     store.OutboxState
		nextAt    time.Duration
		attempts  int
		sinkCalls int64
	}{
		{0, 1, store.OutboxPending, 5 * time.Second, 1, 1},                                // half of 10s
		{5*time.Second - time.Microsecond, 0, store.OutboxPending, 5 * time.Second, 1, 1}, // not yet due
		{5 * time.Second, 1, store.OutboxPending, 15 * time.Second, 2, 2},                 // half of 20s
		{15 * time.Second, 1, store.OutboxDead, 0, 3, 3},                                  // third attempt was the last
		{24 * time.Hour, 0, store.OutboxDead, 0, 3, 3},                                    // dead stays dead
	}
	for _, s := range steps {
		clk.Set(s.at)
		n, err := x.DeliverDue(ctx)
		require.NoError(t, err)
		require.Equal(t, s.claimed, n, "at %s", s.at)
		m, err := x.Message(ctx, id)
		require.NoError(t, err)
		require.Equal(t, s.state, m.State, "at %s", s.at)
		require.Equal(t, s.attempts, m.Attempts, "at %s", s.at)
		require.Equal(t, s.sinkCalls, sink.hits.Load(), "at %s", s.at)
		require.Equal(t, "503 busy", m.LastError)
		if s.state == store.OutboxPending {
			require.Equal(t, t0.Add(s.nextAt), m.NextAt, "at %s", s.at)
		}
	}
	dead, err := x.ByState(ctx, store.OutboxDead, 10)
	require.NoError(t, err)
	require.Len(t, dead, 1)
	require.Equal(t, export.Stats{Claimed: 3, Retried: 2, Dead: 1}, x.Stats())
	require.Equal(t, []int{1, 2, 3}, []int{sink.got[0].Attempt, sink.got[1].Attempt, sink.got[2].Attempt})

	// An operator fixes the receiver and requeues the dead letter.
	sink.fail = nil
	require.NoError(t, x.Requeue(ctx, id))
	n, err := x.DeliverDue(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	m, err := x.Message(ctx, id)
	require.NoError(t, err)
	require.Equal(t, store.OutboxDelivered, m.State)
}

func TestPermanentErrorDeadLettersAtOnce(t *testing.T) {
	ctx := t.Context()
	st := memstore.New()
	sink := &fakeSink{name: "s", fail: func(export.Message) error {
		return &export.HTTPError{Op: "s: post", StatusCode: 422, Body: "bad field"}
	}}
	x := newExporter(t, st, &clock{t: t0}, export.Config{}, sink)
	require.NoError(t, x.Record(ctx, qualifiedCall("CA1")))
	_, err := x.DeliverDue(ctx)
	require.NoError(t, err)
	m, err := x.Message(ctx, "s/call:twilio/CA1")
	require.NoError(t, err)
	require.Equal(t, store.OutboxDead, m.State)
	require.Equal(t, 1, m.Attempts)
	require.Equal(t, "s: post: HTTP 422: bad field", m.LastError)

	require.True(t, export.IsPermanent(export.Permanent(errors.New("x"))))
	require.ErrorIs(t, export.Permanent(context.Canceled), context.Canceled, "the cause stays reachable")
	require.ErrorIs(t, export.Permanent(context.Canceled), export.ErrPermanent)
	require.NoError(t, export.Permanent(nil))
	require.False(t, export.IsPermanent(errors.New("x")))
}

func TestRetryAfterIsHonouredAndCappedByMaxDelay(t *testing.T) {
	x, err := export.New(memstore.New(), export.Config{BaseDelay: time.Second, MaxDelay: time.Hour,
		Rand: func() float64 { return 0 }})
	require.NoError(t, err)
	require.Equal(t, 90*time.Second, x.Backoff(1, errRetry{wait: 90 * time.Second}))
	require.Equal(t, time.Hour, x.Backoff(1, errRetry{wait: 48 * time.Hour}))
	require.Equal(t, time.Duration(0), x.Backoff(1, errRetry{}), "full jitter may retry at once")
}

func TestBackoffCeilingDoublesUpToMaxDelay(t *testing.T) {
	x, err := export.New(memstore.New(), export.Config{BaseDelay: time.Second, MaxDelay: time.Minute,
		Rand: func() float64 { return 0.999999 }})
	require.NoError(t, err)
	for attempt, ceiling := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second,
		6: 32 * time.Second, 7: time.Minute, 100: time.Minute, 0: time.Second} {
		d := x.Backoff(attempt, errors.New("x"))
		require.Less(t, d, ceiling, "attempt %d", attempt)
		require.Greater(t, d, ceiling*99/100, "attempt %d", attempt)
	}
}

func TestUnknownSinkIsRetriedNotLost(t *testing.T) {
	ctx := t.Context()
	st := memstore.New()
	clk := &clock{t: t0}
	old := newExporter(t, st, clk, export.Config{}, &fakeSink{name: "gone"})
	require.NoError(t, old.Record(ctx, qualifiedCall("CA1")))
	x := newExporter(t, st, clk, export.Config{Rand: func() float64 { return 0 }}, &fakeSink{name: "other"})
	_, err := x.DeliverDue(ctx)
	require.NoError(t, err)
	m, err := x.Message(ctx, "gone/call:twilio/CA1")
	require.NoError(t, err)
	require.Equal(t, store.OutboxPending, m.State)
	require.Contains(t, m.LastError, `no sink named "gone"`)
}

func TestMessageWhoseClaimsKeptExpiringIsDeadLetteredWithoutDelivery(t *testing.T) {
	ctx := t.Context()
	st := memstore.New()
	clk := &clock{t: t0}
	sink := &fakeSink{name: "s"}
	x := newExporter(t, st, clk, export.Config{MaxAttempts: 2}, sink)
	require.NoError(t, x.Record(ctx, qualifiedCall("CA1")))
	for i := range 2 { // two claimers that died before recording an outcome
		clk.Set(time.Duration(i) * time.Hour)
		_, err := st.ClaimOutbox(ctx, clk.Now(), 10, time.Minute)
		require.NoError(t, err)
	}
	clk.Set(3 * time.Hour)
	n, err := x.DeliverDue(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Zero(t, sink.hits.Load())
	m, err := x.Message(ctx, "s/call:twilio/CA1")
	require.NoError(t, err)
	require.Equal(t, store.OutboxDead, m.State)
	require.Contains(t, m.LastError, "no outcome recorded after 2 claims")
}

func TestSinkPanicIsARetryableFailure(t *testing.T) {
	ctx := t.Context()
	st := memstore.New()
	x := newExporter(t, st, &clock{t: t0}, export.Config{}, &fakeSink{name: "s", fail: func(export.Message) error { panic("boom") }})
	require.NoError(t, x.Record(ctx, qualifiedCall("CA1")))
	_, err := x.DeliverDue(ctx)
	require.NoError(t, err)
	m, err := x.Message(ctx, "s/call:twilio/CA1")
	require.NoError(t, err)
	require.Equal(t, store.OutboxPending, m.State)
	require.Contains(t, m.LastError, "panicked: boom")
}

func TestRunDeliversUntilCloseAndCloseIsIdempotent(t *testing.T) {
	st := memstore.New()
	delivered := make(chan string, 10)
	sink := &fakeSink{name: "s", fail: func(m export.Message) error { delivered <- m.ID; return nil }}
	x, err := export.New(st, export.Config{Poll: 10 * time.Millisecond}, sink)
	require.NoError(t, err)
	require.NoError(t, x.Close(), "Close without Run")

	x, err = export.New(st, export.Config{Poll: 10 * time.Millisecond}, sink)
	require.NoError(t, err)
	runErr := make(chan error, 1)
	go func() { runErr <- x.Run(context.Background()) }()
	require.NoError(t, x.Record(t.Context(), qualifiedCall("CA1")))
	select {
	case id := <-delivered:
		require.Equal(t, "s/call:twilio/CA1", id)
	case <-time.After(10 * time.Second):
		t.Fatal("Run delivered nothing")
	}
	require.NoError(t, x.Close())
	require.NoError(t, <-runErr, "Run returns nil after Close")
	require.NoError(t, x.Close())
	require.ErrorIs(t, x.Run(context.Background()), export.ErrClosed)
}

func TestRunEndsWithItsContextAndRefusesASecondRun(t *testing.T) {
	st := &claimSignal{Store: memstore.New(), claimed: make(chan struct{}, 1)}
	x, err := export.New(st, export.Config{Poll: time.Millisecond})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- x.Run(ctx) }()
	<-st.claimed // the first Run is polling
	err = x.Run(t.Context())
	require.Error(t, err, "a second Run is refused while the first runs")
	require.NotErrorIs(t, err, context.Canceled)
	cancel()
	require.ErrorIs(t, <-runErr, context.Canceled)
}

// claimSignal reports each claim of the outbox on claimed, when there is
// room, so a test knows Run has started polling.
type claimSignal struct {
	*memstore.Store
	claimed chan struct{}
}

func (s *claimSignal) ClaimOutbox(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]store.OutboxMessage, error) {
	select {
	case s.claimed <- struct{}{}:
	default:
	}
	return s.Store.ClaimOutbox(ctx, now, limit, lease)
}

func TestCloseInterruptsADeliveryAndMakesItDueAgainAtOnce(t *testing.T) {
	st := memstore.New()
	started := make(chan struct{})
	blocking := ctxSink{&fakeSink{name: "s"}, started}
	x, err := export.New(st, export.Config{Poll: time.Millisecond}, blocking)
	require.NoError(t, err)
	require.NoError(t, x.Record(t.Context(), qualifiedCall("CA1")))
	runErr := make(chan error, 1)
	go func() { runErr <- x.Run(context.Background()) }()
	<-started
	require.NoError(t, x.Close())
	require.NoError(t, <-runErr)
	m, err := st.OutboxMessage(t.Context(), "s/call:twilio/CA1")
	require.NoError(t, err)
	require.Equal(t, store.OutboxPending, m.State)
	require.Contains(t, m.LastError, "interrupted")
	require.False(t, m.NextAt.After(time.Now()), "due again now, not after the lease")
}

// ctxSink blocks each delivery until its context ends.
type ctxSink struct {
	*fakeSink
	started chan struct{}
}

func (s ctxSink) Deliver(ctx context.Context, m export.Message) error {
	close(s.started)
	<-ctx.Done()
	return ctx.Err()
}

func TestNewReportsEveryProblemAtOnce(t *testing.T) {
	_, err := export.New(nil, export.Config{MaxAttempts: -1, Lease: time.Second, Timeout: time.Minute},
		&fakeSink{name: ""}, &fakeSink{name: "a"}, &fakeSink{name: "a"}, nil)
	require.Error(t, err)
	for _, want := range []string{"store is nil", "MaxAttempts is negative", "Lease (1s) must exceed Config.Timeout (1m0s)",
		"sink 0", "two sinks are named \"a\"", "sink 3 is nil"} {
		require.Contains(t, err.Error(), want)
	}
}

func TestCheckResponseClassifiesAnswers(t *testing.T) {
	now := t0
	cases := []struct {
		status    int
		header    string
		ok        bool
		permanent bool
		wait      time.Duration
	}{
		{200, "", true, false, 0},
		{204, "", true, false, 0},
		{400, "", false, true, 0},
		{401, "", false, true, 0},
		{404, "", false, true, 0},
		{409, "", false, true, 0},
		{408, "", false, false, 0},
		{429, "7", false, false, 7 * time.Second},
		{429, now.Add(2 * time.Minute).Format(http.TimeFormat), false, false, 2 * time.Minute},
		{500, "", false, false, 0},
		{503, "junk", false, false, 0},
	}
	for _, c := range cases {
		t.Run(http.StatusText(c.status), func(t *testing.T) {
			rec := httptest.NewRecorder()
			if c.header != "" {
				rec.Header().Set("Retry-After", c.header)
			}
			rec.WriteHeader(c.status)
			_, _ = rec.WriteString("  details  ")
			err := export.CheckResponse("op", rec.Result(), now)
			if c.ok {
				require.NoError(t, err)
				return
			}
			var he *export.HTTPError
			require.ErrorAs(t, err, &he)
			require.Equal(t, c.status, he.StatusCode)
			require.Equal(t, "details", he.Body)
			require.Equal(t, c.permanent, export.IsPermanent(err))
			require.Equal(t, c.wait, he.RetryAfter())
		})
	}
}
