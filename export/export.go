package export

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/attriqs/calltrack/store"
)

// ErrClosed is returned by [Exporter.Run] after [Exporter.Close].
var ErrClosed = errors.New("export: exporter closed")

// ErrNothingToRecord is returned by [Exporter.Record] for an event with
// neither a conversion nor a call.
var ErrNothingToRecord = errors.New("export: event has neither a conversion nor a call")

// Config tunes an [Exporter]. The zero value means the documented defaults.
type Config struct {
	// MaxAttempts is how many deliveries a message gets before it is
	// dead-lettered; 0 means 8.
	MaxAttempts int
	// BaseDelay caps the wait before the first retry; each later retry's
	// cap doubles, up to MaxDelay. The wait itself is drawn uniformly below
	// the cap ("full jitter"), so receivers coming back are not hit by every
	// sender at once. 0 means 30s.
	BaseDelay time.Duration
	// MaxDelay caps every wait, including one a receiver asks for with
	// Retry-After; 0 means 6h.
	MaxDelay time.Duration
	// Timeout bounds one delivery attempt; 0 means 30s.
	Timeout time.Duration
	// Lease is the visibility timeout of a claim: a message claimed by a
	// process that dies comes back after it. It must exceed Timeout; 0
	// means 2m.
	Lease time.Duration
	// Batch is how many messages one claim takes; 0 means 16.
	Batch int
	// Concurrency is how many deliveries of a batch run at once; 0 means 4.
	Concurrency int
	// Poll is the wait between claims when nothing was due; 0 means 1s.
	Poll time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Rand returns a number in [0, 1) for the jitter; nil means
	// math/rand/v2's Float64.
	Rand func() float64
	// Logger receives delivery failures; nil means slog.Default().
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = 8
	}
	def(&c.BaseDelay, 30*time.Second)
	def(&c.MaxDelay, 6*time.Hour)
	def(&c.Timeout, 30*time.Second)
	def(&c.Lease, 2*time.Minute)
	def(&c.Poll, time.Second)
	if c.Batch == 0 {
		c.Batch = 16
	}
	if c.Concurrency == 0 {
		c.Concurrency = 4
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Rand == nil {
		c.Rand = rand.Float64
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

func (c Config) validate() error {
	var errs []error
	neg := func(name string, v int64) {
		if v < 0 {
			errs = append(errs, fmt.Errorf("export: Config.%s is negative", name))
		}
	}
	neg("MaxAttempts", int64(c.MaxAttempts))
	neg("BaseDelay", int64(c.BaseDelay))
	neg("MaxDelay", int64(c.MaxDelay))
	neg("Timeout", int64(c.Timeout))
	neg("Lease", int64(c.Lease))
	neg("Batch", int64(c.Batch))
	neg("Concurrency", int64(c.Concurrency))
	neg("Poll", int64(c.Poll))
	d := c.withDefaults()
	if d.Lease <= d.Timeout && c.Lease >= 0 && c.Timeout >= 0 {
		errs = append(errs, fmt.Errorf("export: Config.Lease (%s) must exceed Config.Timeout (%s), or a slow delivery is claimed twice", d.Lease, d.Timeout))
	}
	if d.MaxDelay < d.BaseDelay && c.MaxDelay >= 0 && c.BaseDelay >= 0 {
		errs = append(errs, fmt.Errorf("export: Config.MaxDelay (%s) is below Config.BaseDelay (%s)", d.MaxDelay, d.BaseDelay))
	}
	return errors.Join(errs...)
}

// Stats counts what an [Exporter] did since it was made.
type Stats struct {
	Claimed   uint64 // messages claimed for delivery
	Delivered uint64 // accepted by their sink
	Retried   uint64 // failed and scheduled again
	Dead      uint64 // dead-lettered
	// Waited counts adjustments handed back unsent, without using an
	// attempt, because their sink did not have the conversion (or an
	// earlier adjustment of it) yet.
	Waited uint64
}

// Exporter records events into the outbox and delivers them to sinks.
// Recording is one store write inside the caller's request; delivery runs
// in [Exporter.Run] (or [Exporter.DeliverDue]) and never blocks it. Its
// methods are safe for concurrent use.
type Exporter struct {
	st    store.Outbox
	cfg   Config
	sinks map[string]Sink
	order []Sink

	mu      sync.Mutex
	running bool
	closed  bool
	cancel  context.CancelFunc
	done    chan struct{}

	claimed, delivered, retried, dead, waited atomic.Uint64
}

// New returns an exporter over st delivering to sinks. It starts nothing:
// call [Exporter.Run]. Every configuration problem is reported at once.
func New(st store.Outbox, cfg Config, sinks ...Sink) (*Exporter, error) {
	var errs []error
	if st == nil {
		errs = append(errs, errors.New("export: store is nil"))
	}
	if err := cfg.validate(); err != nil {
		errs = append(errs, err)
	}
	byName := map[string]Sink{}
	for i, s := range sinks {
		switch {
		case s == nil:
			errs = append(errs, fmt.Errorf("export: sink %d is nil", i))
		case s.Name() == "":
			errs = append(errs, fmt.Errorf("export: sink %d (%T) has no name", i, s))
		case byName[s.Name()] != nil:
			errs = append(errs, fmt.Errorf("export: two sinks are named %q", s.Name()))
		default:
			byName[s.Name()] = s
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &Exporter{st: st, cfg: cfg.withDefaults(), sinks: byName, order: sinks}, nil
}

// HasSink reports whether a sink of that name delivers this exporter's
// messages.
func (x *Exporter) HasSink(name string) bool { return x.sinks[name] != nil }

// MessageID is the id, and idempotency key, of the message reporting ev to
// the sink named sink: "<sink>/<conversion id>" for a conversion,
// "<sink>/call:<provider>/<call id>" for a call alone. It depends only on
// what the event reports, so recording the same conversion again (a call
// qualified twice) queues nothing new.
func MessageID(sink string, ev Event) string {
	if a := ev.Adjustment; a != nil {
		return fmt.Sprintf("%s/adjust:%s/v%d", sink, a.ConversionID, a.Version)
	}
	if ev.Conversion != nil {
		return sink + "/" + ev.Conversion.ID
	}
	if ev.Call != nil {
		return store.CallOutboxID(sink, ev.Call.Provider, ev.Call.CallID)
	}
	return ""
}

// Messages returns the outbox messages Record would write for ev: one per
// sink that accepts it (see [Filter]), due now.
func (x *Exporter) Messages(ev Event) ([]store.OutboxMessage, error) {
	if ev.Conversion == nil && ev.Call == nil && ev.Adjustment == nil {
		return nil, ErrNothingToRecord
	}
	if ev.Call != nil {
		c := *ev.Call
		c.Raw = nil // the provider's body stays in the calls table
		ev.Call = &c
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("export: encode event: %w", err)
	}
	now := x.cfg.Now()
	convID := ""
	switch {
	case ev.Adjustment != nil:
		convID = ev.Adjustment.ConversionID
	case ev.Conversion != nil:
		convID = ev.Conversion.ID
	}
	var msgs []store.OutboxMessage
	for _, s := range x.order {
		if f, ok := s.(Filter); ok && !f.Accepts(ev) {
			continue
		}
		msgs = append(msgs, store.OutboxMessage{ID: MessageID(s.Name(), ev), Sink: s.Name(), Kind: ev.Kind(),
			ConversionID: convID, Payload: payload, CreatedAt: now, NextAt: now})
	}
	return msgs, nil
}

// Record queues ev for every sink that accepts it. When ev carries a
// conversion, Record also writes the conversion, in the same transaction
// as its messages ([store.Outbox.PutConversionWithOutbox]): use it instead
// of PutConversion, and a conversion is never stored without its
// deliveries. Recording again is idempotent (see [MessageID]).
func (x *Exporter) Record(ctx context.Context, ev Event) error {
	msgs, err := x.Messages(ev)
	if err != nil {
		return err
	}
	if ev.Conversion != nil {
		return x.st.PutConversionWithOutbox(ctx, *ev.Conversion, msgs...)
	}
	if len(msgs) == 0 {
		return nil
	}
	return x.st.EnqueueOutbox(ctx, msgs...)
}

// Run delivers due messages until ctx ends or [Exporter.Close] is called,
// then waits for the deliveries in flight. It returns nil after Close,
// ctx's error when ctx ends, and [ErrClosed] if the exporter was already
// closed. Only one Run may be active at a time. Store errors are logged
// and retried after Poll, so a store outage does not end Run.
func (x *Exporter) Run(ctx context.Context) error {
	x.mu.Lock()
	switch {
	case x.closed:
		x.mu.Unlock()
		return ErrClosed
	case x.running:
		x.mu.Unlock()
		return errors.New("export: Run is already running")
	}
	x.running = true
	ctx, cancel := context.WithCancel(ctx)
	x.cancel, x.done = cancel, make(chan struct{})
	done := x.done
	x.mu.Unlock()
	defer func() {
		cancel()
		x.mu.Lock()
		x.running = false
		x.mu.Unlock()
		close(done)
	}()
	for {
		n, err := x.DeliverDue(ctx)
		if ctx.Err() != nil {
			break
		}
		if err != nil {
			x.cfg.Logger.Warn("export: claim failed", "err", err)
		} else if n == x.cfg.Batch {
			continue // more may be due
		}
		t := time.NewTimer(x.cfg.Poll)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
		if ctx.Err() != nil {
			break
		}
	}
	x.mu.Lock()
	closed := x.closed
	x.mu.Unlock()
	if closed {
		return nil
	}
	return context.Cause(ctx)
}

// Close stops Run, waits for it to return (deliveries in flight are
// cancelled and their messages made due again) and makes later Runs fail.
// It is idempotent and safe to call without Run.
func (x *Exporter) Close() error {
	x.mu.Lock()
	x.closed = true
	cancel, done := x.cancel, x.done
	running := x.running
	x.mu.Unlock()
	if running {
		cancel()
		<-done
	}
	return nil
}

// DeliverDue claims one batch of due messages and delivers them, returning
// how many it claimed. Run calls it in a loop; call it yourself to deliver
// from a cron job or a test with a controlled clock.
//
// Conversions and calls of the batch go first, then its adjustments, those
// of one conversion and sink one after the other in version order: an
// adjustment claimed together with the conversion it adjusts finds it
// delivered instead of waiting for a later claim (see "Order" in the
// package documentation for the waiting rule).
func (x *Exporter) DeliverDue(ctx context.Context) (int, error) {
	msgs, err := x.st.ClaimOutbox(ctx, x.cfg.Now(), x.cfg.Batch, x.cfg.Lease)
	if err != nil {
		return 0, err
	}
	x.claimed.Add(uint64(len(msgs)))
	var first [][]store.OutboxMessage
	chains := map[string]int{} // sink and conversion -> index in adjust
	var adjust [][]store.OutboxMessage
	for _, m := range msgs {
		if m.Kind != KindAdjustment {
			first = append(first, []store.OutboxMessage{m})
			continue
		}
		key := m.Sink + "\x00" + m.ConversionID
		i, ok := chains[key]
		if !ok {
			i = len(adjust)
			chains[key] = i
			adjust = append(adjust, nil)
		}
		adjust[i] = append(adjust[i], m)
	}
	for _, chain := range adjust {
		byVersion(chain)
	}
	x.deliverChains(ctx, first)
	x.deliverChains(ctx, adjust)
	return len(msgs), nil
}

// deliverChains delivers the messages of each chain in turn, up to
// Concurrency chains at once.
func (x *Exporter) deliverChains(ctx context.Context, chains [][]store.OutboxMessage) {
	var g errgroup.Group
	g.SetLimit(x.cfg.Concurrency)
	for _, chain := range chains {
		g.Go(func() error {
			for _, m := range chain {
				x.deliver(ctx, m)
			}
			return nil
		})
	}
	_ = g.Wait() // deliver records each outcome itself
}

// byVersion sorts one conversion's adjustments by version, decoding each
// payload once.
func byVersion(chain []store.OutboxMessage) {
	if len(chain) < 2 {
		return
	}
	version := make(map[string]int64, len(chain))
	for _, m := range chain {
		version[m.ID] = adjustmentVersion(m.Payload)
	}
	slices.SortStableFunc(chain, func(a, b store.OutboxMessage) int { return cmp.Compare(version[a.ID], version[b.ID]) })
}

// adjustmentVersion reads the Version of the adjustment a payload carries;
// 0 when it carries none or does not decode (delivery then says why).
func adjustmentVersion(payload []byte) int64 {
	var ev struct {
		Adjustment *struct {
			Version int64 `json:"version"`
		} `json:"adjustment"`
	}
	if json.Unmarshal(payload, &ev) != nil || ev.Adjustment == nil {
		return 0
	}
	return ev.Adjustment.Version
}

// waitMargin puts a waiting adjustment due just after what it waits for,
// so that a claim takes the conversion first.
const waitMargin = time.Second

// ErrConversionDead is the reason an adjustment is dead-lettered when the
// message carrying its conversion to the same sink was: the sink never had
// the conversion, so there is nothing there to adjust. Requeue the
// conversion's message, then the adjustment's ([Exporter.Requeue]); the
// adjustment waits for the conversion again.
var ErrConversionDead = errors.New("export: the conversion this adjusts was dead-lettered")

// wait says whether adjustment m must wait before it is sent: until its
// sink has the conversion it adjusts (the message of kind conversion with
// the same ConversionID and Sink) and every earlier version of it still
// pending there. It returns when to try again, and why, or an error: a
// Permanent one wrapping [ErrConversionDead] when the conversion's message
// was dead-lettered. A conversion message the outbox no longer keeps
// (retention deletes delivered ones) is taken as delivered; a dead earlier
// adjustment is superseded, not waited for.
func (x *Exporter) wait(ctx context.Context, m store.OutboxMessage) (until time.Time, why string, err error) {
	if m.ConversionID == "" {
		return time.Time{}, "", nil
	}
	version := adjustmentVersion(m.Payload)
	all, err := x.st.OutboxOfConversion(ctx, m.ConversionID)
	if err != nil {
		return time.Time{}, "", fmt.Errorf("export: read the deliveries of conversion %q before adjusting it: %w", m.ConversionID, err)
	}
	var blockers []string
	for _, o := range all {
		if o.Sink != m.Sink || o.ID == m.ID {
			continue
		}
		if o.Kind == KindConversion && o.State == store.OutboxDead {
			return time.Time{}, "", Permanent(fmt.Errorf("%w: message %q to %q is dead (%s); requeue it, then this adjustment",
				ErrConversionDead, o.ID, m.Sink, cmp.Or(o.LastError, "no reason recorded")))
		}
		if o.State != store.OutboxPending {
			continue
		}
		switch {
		case o.Kind == KindConversion:
			blockers = append(blockers, fmt.Sprintf("conversion message %q (pending after %d attempts)", o.ID, o.Attempts))
		case o.Kind == KindAdjustment && adjustmentVersion(o.Payload) < version:
			blockers = append(blockers, fmt.Sprintf("earlier adjustment %q (pending after %d attempts)", o.ID, o.Attempts))
		default:
			continue
		}
		if o.NextAt.After(until) {
			until = o.NextAt
		}
	}
	if len(blockers) == 0 {
		return time.Time{}, "", nil
	}
	if now := x.cfg.Now(); now.After(until) {
		until = now
	}
	until = until.Add(waitMargin)
	return until, waitingFor + strings.Join(blockers, " and ") + " to be delivered first", nil
}

// deliver makes one attempt at m and records the outcome. An adjustment
// that must wait (see [Exporter.wait]) is handed back instead, its attempt
// not counted.
func (x *Exporter) deliver(ctx context.Context, m store.OutboxMessage) {
	var derr error
	if m.Kind == KindAdjustment {
		until, why, err := x.wait(ctx, m)
		switch {
		case err != nil:
			derr = err
		case !until.IsZero():
			x.hold(ctx, m, until, why)
			return
		}
	}
	if derr == nil {
		derr = x.attempt(ctx, m)
	}
	// Record the outcome even while shutting down.
	mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	now := x.cfg.Now()
	log := x.cfg.Logger.With("message", m.ID, "sink", m.Sink, "attempt", m.Attempts)
	var err error
	switch {
	case derr == nil:
		err = x.st.MarkOutboxDelivered(mctx, m.ID, now)
		if err == nil {
			x.delivered.Add(1)
		}
	case ctx.Err() != nil:
		// Cancelled by shutdown: not the receiver's fault, due again now.
		err = x.st.MarkOutboxFailed(mctx, m.ID, m.Claim, "interrupted: "+derr.Error(), now, now, false)
	case IsPermanent(derr) || m.Attempts >= x.cfg.MaxAttempts:
		err = x.st.MarkOutboxFailed(mctx, m.ID, m.Claim, derr.Error(), now, time.Time{}, true)
		if err == nil {
			x.dead.Add(1)
			log.Error("export: message dead-lettered", "err", derr)
		}
	default:
		err = x.st.MarkOutboxFailed(mctx, m.ID, m.Claim, derr.Error(), now, now.Add(x.Backoff(m.Attempts, derr)), false)
		if err == nil {
			x.retried.Add(1)
			log.Warn("export: delivery failed, will retry", "err", derr)
		}
	}
	x.logRecordError(log, err, derr)
}

// hold hands adjustment m back unsent, due at until, without counting the
// claim as an attempt.
func (x *Exporter) hold(ctx context.Context, m store.OutboxMessage, until time.Time, why string) {
	mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	log := x.cfg.Logger.With("message", m.ID, "sink", m.Sink)
	// The receiver's last answer stays readable while the message waits.
	// A message held before carries its own waiting reason, and after it
	// the receiver's error, if any.
	last := m.LastError
	if strings.HasPrefix(last, waitingFor) {
		_, last, _ = strings.Cut(last, lastErrorMark)
	}
	if last != "" {
		why += lastErrorMark + last
	}
	err := x.st.DeferOutbox(mctx, m.ID, m.Claim, why, x.cfg.Now(), until)
	if err == nil {
		x.waited.Add(1)
		log.Debug("export: adjustment waits", "reason", why, "until", until)
	}
	x.logRecordError(log, err, nil)
}

// waitingFor begins a waiting adjustment's reason, and lastErrorMark joins
// it to the last error a delivery of it met.
const (
	waitingFor    = "waiting for "
	lastErrorMark = "; last error: "
)

// logRecordError logs a failure to record a delivery's outcome (derr, nil
// for none).
func (x *Exporter) logRecordError(log *slog.Logger, err, derr error) {
	if errors.Is(err, store.ErrConflict) {
		log.Warn("export: lease lost before the outcome was recorded; another claim owns the message", "err", derr, "store_err", err)
	} else if err != nil {
		log.Error("export: recording the outcome failed; the message comes back when its lease ends", "err", err)
	}
}

// attempt runs the sink for m, turning what cannot be delivered into
// errors: a message retried too often without an outcome, a payload that
// does not decode, a sink no longer configured, a panic.
func (x *Exporter) attempt(ctx context.Context, m store.OutboxMessage) (err error) {
	if m.Attempts > x.cfg.MaxAttempts {
		return Permanent(fmt.Errorf("export: no outcome recorded after %d claims (the delivering process died or overran its lease each time)", m.Attempts-1))
	}
	var ev Event
	if err := json.Unmarshal(m.Payload, &ev); err != nil {
		return Permanent(fmt.Errorf("export: payload does not decode: %w", err))
	}
	sink, ok := x.sinks[m.Sink]
	if !ok {
		return fmt.Errorf("export: no sink named %q is configured", m.Sink)
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("export: sink %q panicked: %v", m.Sink, r)
		}
	}()
	dctx, cancel := context.WithTimeout(ctx, x.cfg.Timeout)
	defer cancel()
	return sink.Deliver(dctx, Message{ID: m.ID, Sink: m.Sink, Attempt: m.Attempts, CreatedAt: m.CreatedAt, Event: ev})
}

// Backoff is the wait before retrying after failed attempt number attempt
// (1 for the first): drawn uniformly in [0, min(MaxDelay,
// BaseDelay*2^(attempt-1))), but at least what err asks for with
// RetryAfter, and never above MaxDelay.
func (x *Exporter) Backoff(attempt int, err error) time.Duration {
	ceiling := x.cfg.MaxDelay
	if attempt < 1 {
		attempt = 1
	}
	if attempt <= 62 {
		if c := x.cfg.BaseDelay << (attempt - 1); c > 0 && c < ceiling && c>>(attempt-1) == x.cfg.BaseDelay {
			ceiling = c
		}
	}
	d := time.Duration(x.cfg.Rand() * float64(ceiling))
	if ra, ok := retryAfter(err); ok && ra > d {
		d = ra
	}
	return min(d, x.cfg.MaxDelay)
}

// Stats returns the counters so far.
func (x *Exporter) Stats() Stats {
	return Stats{Claimed: x.claimed.Load(), Delivered: x.delivered.Load(), Retried: x.retried.Load(), Dead: x.dead.Load(),
		Waited: x.waited.Load()}
}

// Status returns the delivery state of a conversion: one message per sink
// it was queued for, ordered by sink.
func (x *Exporter) Status(ctx context.Context, conversionID string) ([]store.OutboxMessage, error) {
	return x.st.OutboxOfConversion(ctx, conversionID)
}

// Message returns one message by id, or store.ErrNotFound.
func (x *Exporter) Message(ctx context.Context, id string) (store.OutboxMessage, error) {
	return x.st.OutboxMessage(ctx, id)
}

// ByState lists up to limit messages in state, most recently updated
// first; limit <= 0 means all. ByState(ctx, store.OutboxDead, 100) is the
// dead-letter queue.
func (x *Exporter) ByState(ctx context.Context, state store.OutboxState, limit int) ([]store.OutboxMessage, error) {
	return x.st.OutboxByState(ctx, state, limit)
}

// Requeue gives a dead message a fresh set of attempts, due now (after
// fixing what made it fail: a token, a field mapping).
func (x *Exporter) Requeue(ctx context.Context, id string) error {
	return x.st.RequeueOutbox(ctx, id, x.cfg.Now())
}
