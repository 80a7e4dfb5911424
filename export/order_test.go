package export_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/export"
	"github.com/attriqs/calltrack/internal/logbuf"
	"github.com/attriqs/calltrack/store"
	"github.com/attriqs/calltrack/store/memstore"
	"github.com/attriqs/calltrack/store/postgres"
	"github.com/attriqs/calltrack/store/sqlite"
)

// onEveryStore runs test on a fresh outbox of each store: memstore,
// SQLite and PostgreSQL (skipped when absent, unless services are
// required).
func onEveryStore(t *testing.T, test func(t *testing.T, st store.Outbox)) {
	t.Run("memstore", func(t *testing.T) { test(t, memstore.New()) })
	t.Run("sqlite", func(t *testing.T) {
		st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "calltrack.db"), sqlite.Config{})
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, st.Close()) })
		test(t, st)
	})
	t.Run("postgres", func(t *testing.T) {
		st := postgres.New(schemaPool(t), postgres.Config{})
		require.NoError(t, st.Migrate(t.Context()))
		test(t, st)
	})
}

// orderSink is the sink "ads": answer decides each attempt's outcome, and
// accepted lists what it took, in order.
type orderSink struct {
	answer func(m export.Message) error

	mu       sync.Mutex
	accepted []string
	attempts map[string]int // the Attempt each accepted message came with
}

func (s *orderSink) Name() string { return "ads" }
func (s *orderSink) Deliver(_ context.Context, m export.Message) error {
	if s.answer != nil {
		if err := s.answer(m); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accepted = append(s.accepted, m.ID)
	if s.attempts == nil {
		s.attempts = map[string]int{}
	}
	s.attempts[m.ID] = m.Attempt
	return nil
}

func (s *orderSink) took() ([]string, map[string]int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.accepted), s.attempts
}

// logged is the lines of log written at level.
func logged(log *logbuf.Buffer, level slog.Level) []string {
	var out []string
	for line := range strings.Lines(log.String()) {
		if strings.Contains(line, " level="+level.String()+" ") {
			out = append(out, line)
		}
	}
	return out
}

const (
	convID  = "call:twilio/CA1"
	convMsg = "ads/" + convID
)

func adjustMsg(version int64) string { return fmt.Sprintf("ads/adjust:%s/v%d", convID, version) }

func restate(version int64, value int64) export.Event {
	return export.Event{Adjustment: &export.Adjustment{ConversionID: convID, Type: export.AdjustRestate, Value: value,
		Currency: "USD", Status: "won", At: t0.Add(time.Duration(version) * time.Hour), Version: version}}
}

// orderExporter is an exporter over st delivering to sink on clk, with
// no jitter, logging every level into log, or nowhere when log is nil.
func orderExporter(t *testing.T, st store.Outbox, clk *clock, cfg export.Config, sink export.Sink, log *logbuf.Buffer) *export.Exporter {
	t.Helper()
	cfg.Rand = func() float64 { return 0 }
	if log != nil {
		cfg.Logger = slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return newExporter(t, st, clk, cfg, sink)
}

func deliverDue(t *testing.T, x *export.Exporter) {
	t.Helper()
	for range 10 {
		n, err := x.DeliverDue(t.Context())
		require.NoError(t, err)
		if n == 0 {
			return
		}
	}
}

func message(t *testing.T, x *export.Exporter, id string) store.OutboxMessage {
	t.Helper()
	m, err := x.Message(t.Context(), id)
	require.NoError(t, err)
	return m
}

// An adjustment whose conversion another instance holds is handed back to
// wait, its claim not counted: with MaxAttempts 1 it is still sent, at
// attempt 1, once the conversion is delivered, and waiting is logged at
// Debug.
func TestAnAdjustmentWaitsForItsConversionWithoutUsingAttempts(t *testing.T) {
	onEveryStore(t, func(t *testing.T, st store.Outbox) {
		ctx := t.Context()
		clk := &clock{t: t0}
		sink := &orderSink{}
		log := &logbuf.Buffer{}
		x := orderExporter(t, st, clk, export.Config{MaxAttempts: 1, Lease: 2 * time.Minute}, sink, log)
		require.NoError(t, x.Record(ctx, qualifiedCall("CA1")))
		clk.Set(time.Minute)
		require.NoError(t, x.Record(ctx, restate(1, 9000)))

		// Another instance claims the conversion and is still delivering it.
		held, err := st.ClaimOutbox(ctx, clk.Now(), 1, 2*time.Minute)
		require.NoError(t, err)
		require.Equal(t, []string{convMsg}, ids(held))

		deliverDue(t, x)
		took, _ := sink.took()
		require.Empty(t, took, "the adjustment is not sent before its conversion")
		adj := message(t, x, adjustMsg(1))
		require.Equal(t, store.OutboxPending, adj.State)
		require.Zero(t, adj.Attempts, "waiting is not an attempt")
		require.Equal(t, t0.Add(3*time.Minute+time.Second), adj.NextAt, "due just after the conversion's lease ends")
		require.Contains(t, adj.LastError, convMsg, "the reason names what it waits for")
		require.Equal(t, uint64(1), x.Stats().Waited)

		clk.Set(2 * time.Minute)
		require.NoError(t, st.MarkOutboxDelivered(ctx, convMsg, clk.Now()), "the other instance delivered it")
		clk.Set(4 * time.Minute)
		deliverDue(t, x)
		took, attempts := sink.took()
		require.Equal(t, []string{adjustMsg(1)}, took)
		require.Equal(t, 1, attempts[adjustMsg(1)], "sent at its first attempt, within MaxAttempts 1")
		require.Equal(t, store.OutboxDelivered, message(t, x, adjustMsg(1)).State)
		require.Zero(t, x.Stats().Dead)
		require.NotEmpty(t, logged(log, slog.LevelDebug), "waiting is logged at Debug")
		require.Empty(t, logged(log, slog.LevelWarn))
		require.Empty(t, logged(log, slog.LevelError))
	})
}

// retryIn is a retryable failure asking for a wait, as Google's
// TOO_RECENT_EVENT does.
type retryIn time.Duration

func (r retryIn) Error() string             { return fmt.Sprintf("too recent, retry in %v", time.Duration(r)) }
func (r retryIn) RetryAfter() time.Duration { return time.Duration(r) }

// The conversion is retried 6 hours later, twice; the value changed an
// hour after the first try. The adjustment waits for each retry without
// being dead-lettered or using its attempts, and goes after the
// conversion is accepted.
func TestAnAdjustmentWaitsWhileItsConversionRetries(t *testing.T) {
	onEveryStore(t, func(t *testing.T, st store.Outbox) {
		ctx := t.Context()
		clk := &clock{t: t0}
		sink := &orderSink{answer: func(m export.Message) error {
			if m.Conversion != nil && m.Attempt < 3 {
				return retryIn(6 * time.Hour)
			}
			return nil
		}}
		log := &logbuf.Buffer{}
		x := orderExporter(t, st, clk, export.Config{MaxAttempts: 3}, sink, log)
		require.NoError(t, x.Record(ctx, qualifiedCall("CA1")))
		deliverDue(t, x)
		clk.Set(time.Hour)
		require.NoError(t, x.Record(ctx, restate(1, 9000)))
		for h := 1; h <= 14; h++ {
			clk.Set(time.Duration(h) * time.Hour)
			deliverDue(t, x)
			if adj := message(t, x, adjustMsg(1)); adj.State == store.OutboxPending {
				require.Zero(t, adj.Attempts, "hour %d: waiting uses no attempt", h)
				require.NotContains(t, adj.LastError, "last error", "hour %d: never sent, it has no receiver's error, however often held", h)
			}
		}
		took, attempts := sink.took()
		require.Equal(t, []string{convMsg, adjustMsg(1)}, took, "the conversion first, then its adjustment")
		require.Equal(t, 1, attempts[adjustMsg(1)])
		require.Equal(t, 3, attempts[convMsg])
		st1 := x.Stats()
		require.Zero(t, st1.Dead)
		require.Equal(t, uint64(2), st1.Waited, "once per retry of the conversion")
		require.Empty(t, logged(log, slog.LevelError))
	})
}

// Adjustments of one conversion go in version order: a later one waits
// while an earlier one retries, and two claimed together go by version
// (v9 before v10, whatever their ids' order).
func TestAdjustmentsOfAConversionGoInVersionOrder(t *testing.T) {
	onEveryStore(t, func(t *testing.T, st store.Outbox) {
		ctx := t.Context()
		clk := &clock{t: t0}
		failV1 := true
		var mu sync.Mutex
		sink := &orderSink{answer: func(m export.Message) error {
			mu.Lock()
			defer mu.Unlock()
			if m.Adjustment != nil && m.Adjustment.Version == 1 && failV1 {
				failV1 = false
				return retryIn(30 * time.Minute)
			}
			return nil
		}}
		x := orderExporter(t, st, clk, export.Config{BaseDelay: time.Minute, Concurrency: 4}, sink, nil)
		require.NoError(t, x.Record(ctx, qualifiedCall("CA1")))
		deliverDue(t, x)
		require.NoError(t, x.Record(ctx, restate(1, 1000)))
		deliverDue(t, x) // v1 fails, retried after its backoff
		require.NoError(t, x.Record(ctx, restate(2, 2000)))
		deliverDue(t, x)
		took, _ := sink.took()
		require.Equal(t, []string{convMsg}, took, "v2 waits for v1")
		require.Zero(t, message(t, x, adjustMsg(2)).Attempts)

		clk.Set(time.Hour)
		deliverDue(t, x)
		require.NoError(t, x.Record(ctx, restate(9, 9000)))
		require.NoError(t, x.Record(ctx, restate(10, 10000)))
		deliverDue(t, x)
		took, _ = sink.took()
		require.Equal(t, []string{convMsg, adjustMsg(1), adjustMsg(2), adjustMsg(9), adjustMsg(10)}, took)
		require.Zero(t, x.Stats().Dead)
	})
}

// A conversion and its adjustment claimed together: the conversion is
// delivered first, and the adjustment goes in the same claim.
func TestAConversionAndItsAdjustmentClaimedTogetherGoConversionFirst(t *testing.T) {
	onEveryStore(t, func(t *testing.T, st store.Outbox) {
		ctx := t.Context()
		clk := &clock{t: t0}
		sink := &orderSink{}
		x := orderExporter(t, st, clk, export.Config{Concurrency: 4}, sink, nil)
		require.NoError(t, x.Record(ctx, qualifiedCall("CA1")))
		require.NoError(t, x.Record(ctx, restate(1, 9000)))
		require.Less(t, adjustMsg(1), convMsg, "the claim takes the adjustment first")
		n, err := x.DeliverDue(ctx)
		require.NoError(t, err)
		require.Equal(t, 2, n)
		took, _ := sink.took()
		require.Equal(t, []string{convMsg, adjustMsg(1)}, took)
		require.Zero(t, x.Stats().Waited)
	})
}

// When the conversion's message is dead-lettered, so is its adjustment,
// with a reason naming the conversion's message, at Error; an operator's
// requeue of both (in either order) sends them conversion first.
func TestAnAdjustmentOfADeadConversionIsDeadLetteredNamingIt(t *testing.T) {
	onEveryStore(t, func(t *testing.T, st store.Outbox) {
		ctx := t.Context()
		clk := &clock{t: t0}
		broken := true
		var mu sync.Mutex
		sink := &orderSink{answer: func(m export.Message) error {
			mu.Lock()
			defer mu.Unlock()
			if m.Conversion != nil && broken {
				return export.Permanent(errors.New("401 bad credentials"))
			}
			return nil
		}}
		log := &logbuf.Buffer{}
		x := orderExporter(t, st, clk, export.Config{}, sink, log)
		require.NoError(t, x.Record(ctx, qualifiedCall("CA1")))
		deliverDue(t, x)
		require.Equal(t, store.OutboxDead, message(t, x, convMsg).State)
		require.NoError(t, x.Record(ctx, restate(1, 9000)))
		deliverDue(t, x)
		adj := message(t, x, adjustMsg(1))
		require.Equal(t, store.OutboxDead, adj.State)
		require.Contains(t, adj.LastError, convMsg)
		require.Contains(t, adj.LastError, "401 bad credentials")
		require.Contains(t, adj.LastError, "dead-lettered")
		errs := logged(log, slog.LevelError)
		require.Len(t, errs, 2, "both dead letters at Error")
		require.True(t, strings.Contains(errs[1], adjustMsg(1)), errs[1])

		mu.Lock()
		broken = false // the operator fixed the credentials
		mu.Unlock()
		clk.Set(time.Hour)
		require.NoError(t, x.Requeue(ctx, adjustMsg(1)))
		clk.Set(time.Hour + time.Second)
		require.NoError(t, x.Requeue(ctx, convMsg))
		clk.Set(2 * time.Hour)
		deliverDue(t, x)
		took, _ := sink.took()
		require.Equal(t, []string{convMsg, adjustMsg(1)}, took)
		require.Equal(t, store.OutboxDelivered, message(t, x, adjustMsg(1)).State)
	})
}

func ids(ms []store.OutboxMessage) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

// A waiting adjustment keeps its last delivery error readable: v2 met a
// receiver error, then waits behind v1 (requeued by an operator and
// retrying); its last error says both.
func TestAWaitingAdjustmentKeepsItsLastError(t *testing.T) {
	onEveryStore(t, func(t *testing.T, st store.Outbox) {
		ctx := t.Context()
		clk := &clock{t: t0}
		var mu sync.Mutex
		answers := map[int64][]error{
			1: {export.Permanent(errors.New("v1 refused")), retryIn(30 * time.Minute)},
			2: {retryIn(time.Minute)},
		}
		sink := &orderSink{answer: func(m export.Message) error {
			if m.Adjustment == nil {
				return nil
			}
			mu.Lock()
			defer mu.Unlock()
			q := answers[m.Adjustment.Version]
			if len(q) == 0 {
				return nil
			}
			answers[m.Adjustment.Version] = q[1:]
			return q[0]
		}}
		x := orderExporter(t, st, clk, export.Config{}, sink, nil)
		require.NoError(t, x.Record(ctx, qualifiedCall("CA1")))
		require.NoError(t, x.Record(ctx, restate(1, 1000)))
		require.NoError(t, x.Record(ctx, restate(2, 2000)))
		deliverDue(t, x) // v1 dead; v2 goes past it and meets a receiver error
		require.Equal(t, store.OutboxDead, message(t, x, adjustMsg(1)).State)
		require.Contains(t, message(t, x, adjustMsg(2)).LastError, "too recent")

		clk.Set(2 * time.Minute)
		require.NoError(t, x.Requeue(ctx, adjustMsg(1)))
		deliverDue(t, x) // v1 retries; v2 waits behind it
		adj := message(t, x, adjustMsg(2))
		require.Equal(t, store.OutboxPending, adj.State)
		require.Contains(t, adj.LastError, adjustMsg(1), "what it waits for")
		require.Contains(t, adj.LastError, "last error: too recent", "and what the receiver last said")

		clk.Set(3 * time.Minute)
		deliverDue(t, x) // still waiting: the receiver's answer is not lost
		require.Contains(t, message(t, x, adjustMsg(2)).LastError, "last error: too recent")
		require.Equal(t, 1, strings.Count(message(t, x, adjustMsg(2)).LastError, "last error"))
	})
}
