package dni

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/export"
	"github.com/attriqs/calltrack/internal/logbuf"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/provider/fake"
	"github.com/attriqs/calltrack/store"
	"github.com/attriqs/calltrack/store/memstore"
)

// captureSink is an export sink that keeps the ids of what it was given.
type captureSink struct {
	mu   sync.Mutex
	ids  []string
	msgs []export.Message
}

func (c *captureSink) Name() string { return "capture" }
func (c *captureSink) Deliver(_ context.Context, m export.Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ids = append(c.ids, m.ID)
	c.msgs = append(c.msgs, m)
	return nil
}

func (c *captureSink) message(id string) (export.Message, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range c.msgs {
		if m.ID == id {
			return m, true
		}
	}
	return export.Message{}, false
}
func (c *captureSink) delivered() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.ids...)
}

// labeller is a CallAnalyzer that labels every call it is given and, when
// fetch is set, downloads the audio first.
type labeller struct {
	labels []string
	fetch  bool
	during func() // runs while the analyzer works, if set
	calls  atomic.Int32
	bytes  atomic.Int64
}

func (l *labeller) Analyze(ctx context.Context, call provider.CallEvent, audio provider.RecordingFetcher) (provider.Analysis, error) {
	l.calls.Add(1)
	if l.during != nil {
		l.during()
	}
	if l.fetch {
		body, err := audio.FetchRecording(ctx, call.Recording)
		if err != nil {
			return provider.Analysis{}, err
		}
		defer body.Close()
		n, err := io.Copy(io.Discard, body)
		if err != nil {
			return provider.Analysis{}, err
		}
		l.bytes.Add(n)
	}
	return provider.Analysis{Labels: l.labels, Transcript: "caller booked a visit"}, nil
}

// newExportHarness is a harness whose Service exports, through an exporter
// on a memstore, to a captureSink.
func newExportHarness(t *testing.T, cfg Config, opts ...Option) (*harness, *memstore.Store, *export.Exporter, *captureSink) {
	t.Helper()
	st := memstore.New()
	crm := &captureSink{}
	x, err := export.New(st, export.Config{}, crm)
	require.NoError(t, err)
	return newHarness(t, cfg, append([]Option{WithStore(st), WithExports(x)}, opts...)...), st, x, crm
}

// deliverAll delivers the outbox until nothing is due: analyses first,
// then what their results qualified.
func deliverAll(t *testing.T, x *export.Exporter) {
	t.Helper()
	for range 10 {
		n, err := x.DeliverDue(context.Background())
		require.NoError(t, err)
		if n == 0 {
			return
		}
	}
	t.Fatal("the outbox never emptied")
}

// The path a recorded call pays for: the forward is recorded, the
// recording's callback queues one analysis, the analyzer's label
// qualifies the call under a rule that requires it, and the conversion is
// exported once. The library downloads nothing the analyzer does not ask
// for.
func TestRecordedCallIsAnalyzedQualifiedByItsLabelAndExported(t *testing.T) {
	cfg := testConfig()
	cfg.Forward = Forward{Record: true, RecordingNotice: "This call may be recorded."}
	cfg.Qualify = []journey.QualifyRule{{Name: "booked", RequireLabels: []string{"booked"}, Value: 25000, Currency: "USD"}}
	st := memstore.New()
	analyzer := &labeller{labels: []string{" Booked ", "booked", "new-customer"}}
	analysis := NewAnalysisSink(analyzer)
	crm := &captureSink{}
	x, err := export.New(st, export.Config{}, crm, analysis)
	require.NoError(t, err)
	h := newHarness(t, cfg, WithStore(st), WithExports(x), WithAnalysis(analysis))
	ctx := context.Background()

	a := h.visit(t, VisitRequest{URL: "https://example-plumbing.com/?gclid=x"})
	ans, err := h.caller.PlaceCall(ctx, h.srv.URL+DefaultPrefix+"webhooks/fake", fake.Call{ID: "CA1", From: caller, To: a.Swaps[0].Number, Answered: true, Duration: 2 * time.Minute})
	require.NoError(t, err)
	assert.True(t, ans.Record)
	assert.Equal(t, h.srv.URL+DefaultPrefix+"webhooks/fake", ans.CallbackURL, "the vendor reports the forward to the webhook's own URL")
	require.NoError(t, h.svc.Close())

	call, err := st.Call(ctx, fake.Name, "CA1")
	require.NoError(t, err)
	assert.Equal(t, provider.OutcomeAnswered, call.Outcome)
	assert.Equal(t, 2*time.Minute, call.TalkTime)
	assert.Equal(t, "RECA1", call.Recording.ID)
	assert.Empty(t, call.Labels, "not analyzed until the outbox delivers")

	deliverAll(t, x)
	assert.Equal(t, int32(1), analyzer.calls.Load(), "one analysis per recorded call")
	assert.Zero(t, analyzer.bytes.Load(), "nothing downloaded")
	call, err = st.Call(ctx, fake.Name, "CA1")
	require.NoError(t, err)
	assert.Equal(t, []string{"booked", "new-customer"}, call.Labels, "labels are stored clean, sorted, once")
	assert.Equal(t, "caller booked a visit", call.Transcript)
	assert.Equal(t, []string{"capture/call:fake/CA1"}, crm.delivered(), "qualified by its label and exported once")
}

// A missed forward, an answered call and a spam call, through the
// webhooks: the report by source counts the answered and missed calls
// (with how each was missed) and the spam apart, and only the genuine
// call is exported, though the spam call was answered and long enough.
func TestMissedAndSpamCallsBySource(t *testing.T) {
	const spammer = "+12125550999"
	cfg := testConfig()
	cfg.Spam = journey.SpamConfig{Block: []string{spammer}}
	h, _, x, crm := newExportHarness(t, cfg)
	ctx := context.Background()
	hook := h.srv.URL + DefaultPrefix + "webhooks/fake"
	for _, c := range []fake.Call{
		{ID: "CA1", From: caller, To: printNumber, Answered: true, Duration: 2 * time.Minute},
		{ID: "CA2", From: "+12125550124", To: printNumber, Outcome: provider.OutcomeBusy},
		{ID: "CA3", From: spammer, To: printNumber, Answered: true, Duration: 3 * time.Minute},
	} {
		_, err := h.caller.PlaceCall(ctx, hook, c)
		require.NoError(t, err)
		h.clock.add(time.Minute)
	}
	require.NoError(t, h.svc.Close())
	deliverAll(t, x)
	assert.Equal(t, []string{"capture/call:fake/CA1"}, crm.delivered(), "the spam call is never exported")

	rows, err := h.svc.CallsBySource(ctx, h.clock.now().Add(-time.Hour), h.clock.now().Add(time.Hour))
	require.NoError(t, err)
	require.Len(t, rows, 1, "all three dialled the flyer's number")
	assert.Equal(t, SourceCalls{Channel: "Offline", Source: "flyer", Medium: "print", Campaign: "Spring flyer",
		Calls: 3, Answered: 1, Missed: 1, MissedBy: map[provider.Outcome]int{provider.OutcomeBusy: 1}, Spam: 1}, rows[0])
	calls, err := h.svc.Calls(ctx, h.clock.now().Add(-time.Hour), h.clock.now().Add(time.Hour))
	require.NoError(t, err)
	require.Len(t, calls, 3)
	assert.Contains(t, calls[2].Spam, "block list")
}

func TestBlockedCallerIsRejectedAtAnswer(t *testing.T) {
	const spammer = "+12125550999"
	cfg := testConfig()
	cfg.Spam, cfg.RejectBlocked = journey.SpamConfig{Block: []string{spammer}}, true
	h := newHarness(t, cfg)
	ans, err := h.caller.PlaceCall(context.Background(), h.srv.URL+DefaultPrefix+"webhooks/fake", fake.Call{ID: "CA1", From: spammer, To: printNumber})
	require.NoError(t, err)
	assert.Equal(t, "reject", ans.Action)
	ans, err = h.caller.PlaceCall(context.Background(), h.srv.URL+DefaultPrefix+"webhooks/fake", fake.Call{ID: "CA2", From: caller, To: printNumber})
	require.NoError(t, err)
	assert.Equal(t, "forward", ans.Action, "other callers are forwarded")
}

// The recording is downloaded when, and only when, the analyzer asks.
func TestAnalyzerFetchesTheRecordingOnlyWhenItAsks(t *testing.T) {
	var hits atomic.Int32
	media := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = w.Write([]byte("RIFF-audio"))
	}))
	defer media.Close()
	for _, fetch := range []bool{false, true} {
		st := memstore.New()
		analyzer := &labeller{labels: []string{"booked"}, fetch: fetch}
		sink := NewAnalysisSink(analyzer)
		svc, err := New(testConfig(), WithStore(st), WithAnalysis(sink), WithLogger(quietLogger()))
		require.NoError(t, err)
		call := provider.CallEvent{Provider: "fake", CallID: "CA1", From: caller, To: printNumber, Kind: provider.KindInbound,
			Status: provider.StatusCompleted, StartedAt: time.Now(), Recording: provider.Recording{ID: "RE1", URL: media.URL + "/RE1.wav"}}
		require.NoError(t, svc.RecordCall(context.Background(), call))
		require.NoError(t, svc.RecordCall(context.Background(), call), "a duplicate queues nothing more")
		before := hits.Load()
		deliverAll(t, svc.exports)
		assert.Equal(t, int32(1), analyzer.calls.Load())
		if fetch {
			assert.Equal(t, before+1, hits.Load(), "fetched once, because the analyzer asked")
			assert.Equal(t, int64(len("RIFF-audio")), analyzer.bytes.Load())
		} else {
			assert.Equal(t, before, hits.Load(), "never fetched unasked")
		}
		require.NoError(t, svc.Close())
	}
}

// A call erased while its analysis runs stays erased: the result is not
// recorded as a new call holding the transcript, and the drop is logged.
func TestAnalysisOfACallErasedMeanwhileBringsNothingBack(t *testing.T) {
	st := memstore.New()
	analyzer := &labeller{labels: []string{"booked"}}
	var logs logbuf.Buffer
	svc, err := New(testConfig(), WithStore(st), WithAnalysis(NewAnalysisSink(analyzer)),
		WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))))
	require.NoError(t, err)
	defer svc.Close()
	ctx := context.Background()
	call := provider.CallEvent{Provider: "fake", CallID: "CA1", From: caller, To: printNumber, Kind: provider.KindInbound,
		Status: provider.StatusCompleted, StartedAt: time.Now(), Recording: provider.Recording{ID: "RE1", URL: "https://r/RE1.wav"}}
	require.NoError(t, svc.RecordCall(ctx, call))
	analyzer.during = func() {
		// The erasure of everything: the call goes, with its outbox.
		_, err := st.DeleteBefore(ctx, time.Now().Add(time.Hour))
		require.NoError(t, err)
	}
	deliverAll(t, svc.exports)
	require.Equal(t, int32(1), analyzer.calls.Load())
	_, err = st.Call(ctx, "fake", "CA1")
	require.ErrorIs(t, err, store.ErrNotFound, "the analysis brought the erased call back")
	assert.Contains(t, logs.String(), "level=INFO msg=\"dni: call erased before its analysis was recorded; the analysis is dropped\" provider=fake call_id=CA1")
}

func TestWithAnalysisNeedsTheExporterToDeliverIt(t *testing.T) {
	st := memstore.New()
	x, err := export.New(st, export.Config{}, &captureSink{})
	require.NoError(t, err)
	_, err = New(testConfig(), WithStore(st), WithExports(x), WithAnalysis(NewAnalysisSink(&labeller{})))
	assert.ErrorContains(t, err, "must deliver to the analysis sink")
}

// A number the autoscaler adds at run time (pool.Elastic) is leased,
// routed to its pool's business line and stitched to the session that
// held it, as a configured one is.
func TestNumberAddedAtRunTimeIsRoutedAndStitched(t *testing.T) {
	const added = "+14155550103"
	cfg := testConfig()
	cfg.Pools[0].Numbers = cfg.Pools[0].Numbers[:1]
	var elastic *pool.Elastic
	h := newHarness(t, cfg, WithAllocator(func(c pool.Config) (pool.Allocator, error) {
		var err error
		elastic, err = pool.NewElastic(c)
		return elastic, err
	}))
	ctx := context.Background()
	first := h.visit(t, VisitRequest{URL: "https://example-plumbing.com/?gclid=a"})
	require.NoError(t, elastic.AddNumbers(ctx, "paid-search", added))
	second := h.visit(t, VisitRequest{URL: "https://example-plumbing.com/?gclid=b"})
	require.Equal(t, added, second.Swaps[0].Number, "the added number is leased (the configured one is held)")
	assert.NotEqual(t, first.Swaps[0].Number, second.Swaps[0].Number)

	ans, err := h.caller.PlaceCall(ctx, h.srv.URL+DefaultPrefix+"webhooks/fake", fake.Call{ID: "CA1", From: caller, To: added, Answered: true, Duration: 2 * time.Minute})
	require.NoError(t, err)
	assert.Equal(t, mainLine, ans.To, "routed to the pool's business line")
	require.NoError(t, h.svc.Close())
	attr, err := h.svc.store.Attribution(ctx, "fake", "CA1")
	require.NoError(t, err)
	assert.Equal(t, second.SessionID, attr.SessionID)

	stats, err := h.svc.PoolStats(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, stats["paid-search"].Size, "the pool as it is now, which the audit sizes by")
}

// Reports show the spam verdict a call was derived with, the one that
// decided its export, even after the configuration changed.
func TestReportsKeepTheSpamVerdictTheCallWasDerivedWith(t *testing.T) {
	const spammer = "+12125550999"
	st := memstore.New()
	cfg := testConfig()
	cfg.Spam = journey.SpamConfig{Block: []string{spammer}}
	h := newHarness(t, cfg, WithStore(st))
	ctx := context.Background()
	_, err := h.caller.PlaceCall(ctx, h.srv.URL+DefaultPrefix+"webhooks/fake", fake.Call{ID: "CA1", From: spammer, To: printNumber, Answered: true, Duration: time.Minute})
	require.NoError(t, err)
	require.NoError(t, h.svc.Close())

	later, err := New(testConfig(), WithStore(st), WithLogger(quietLogger())) // the block list emptied since
	require.NoError(t, err)
	defer later.Close()
	calls, err := later.Calls(ctx, h.clock.now().Add(-time.Hour), h.clock.now().Add(time.Hour))
	require.NoError(t, err)
	require.Len(t, calls, 1)
	assert.Contains(t, calls[0].Spam, "block list")
}
