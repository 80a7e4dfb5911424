package provider

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// ErrRejected marks a recorder error as permanent: the event itself is
// refused (it fails validation, breaks a constraint, makes the recorder
// panic) and retrying it cannot succeed. Recorders wrap such errors with
// it, or the host classifies them with IngestConfig.IsPermanent.
var ErrRejected = errors.New("provider: event rejected by the recorder")

// IngestConfig configures an Ingest. Zero values mean the documented
// defaults.
type IngestConfig struct {
	// SpoolDir holds the write-ahead log of events, their dead letters and
	// quarantined damage. Required; it must be on persistent storage.
	SpoolDir string
	// IsPermanent reports whether a recorder error is permanent (the event
	// goes to the dead letters) rather than transient (it is retried with
	// backoff). Errors wrapping ErrRejected are always permanent; default
	// nothing else.
	IsPermanent func(error) bool
	// MemoryQueue bounds the events kept in memory while the spool
	// directory is unusable; default 10,000. Beyond it events are lost,
	// each logged at Error and counted.
	MemoryQueue int
	// RetryInterval is the first wait after the recorder fails; it doubles
	// up to MaxRetryInterval while the failures last. Defaults 1s and 30s.
	RetryInterval    time.Duration
	MaxRetryInterval time.Duration
	// MaxAttempts bounds the failures of one event while other events are
	// recorded (failures of that event, not of the store) before it goes
	// to the dead letters; default 10.
	MaxAttempts int
	// RecordTimeout bounds one RecordCall; default 5s.
	RecordTimeout time.Duration
	// Logger receives failures; default slog.Default().
	Logger *slog.Logger
	// Clock stamps dead letters and outages; default time.Now.
	Clock func() time.Time
	// Redact, when set, rewrites every event before the ingest keeps it
	// anywhere (the spool, the memory queue, the dead letters) and before
	// the recorder sees it: the host's privacy rule, applied at the
	// earliest point after the call was answered. (dni passes
	// journey.RedactCall with its Config.IdentityKey, which keys the
	// caller's number and seals the raw body.) The Handler routes and
	// answers from its own copy of the event, so a Forward with
	// CallerIDPassthrough still shows the caller's number, which then
	// lives in memory only. Redact must keep Provider and CallID, and
	// redacting a redacted event must change nothing: events spooled
	// before it was set are redacted when they are delivered.
	Redact func(CallEvent) CallEvent
}

// IngestStats counts what an Ingest has done since it was created, and
// what waits now.
type IngestStats struct {
	Spooled        int64 // written to the spool and fsynced before their answer
	Recorded       int64 // accepted by the recorder
	Requeued       int64 // failed alone while others were recorded, so moved behind them
	DeadLettered   int64 // refused for good, kept as dead letters
	Lost           int64 // could be kept nowhere: spool unusable and memory queue full
	RecorderErrors int64 // failed RecordCall calls of any class

	Pending     int   // in the spool, not yet recorded
	InMemory    int   // held only in memory because the spool is unusable
	DeadLetters int   // dead letters waiting to be replayed
	SpoolBytes  int64 // size of the spool's log
	// OldestWaiting is when the oldest event still waiting for a failing
	// recorder arrived; zero when nothing waits for one. Now minus it is
	// the replay lag.
	OldestWaiting time.Time
}

// Ingest makes call events durable and delivers them to a CallRecorder.
//
// Submit appends the event to the spool's write-ahead log and returns
// once it is fsynced (concurrent submits share one fsync), so an answered
// webhook survives kill -9. Run delivers the log in order and classes
// every recorder error:
//
//   - transient (connection lost, timeout): the event waits in the log and
//     is retried with backoff (RetryInterval doubling to MaxRetryInterval),
//     logged at Warn when the outage begins and at Info when it ends;
//   - permanent (IsPermanent, ErrRejected, a panic in the recorder): the
//     event goes to the dead letters, logged at Error, counted, listed by
//     DeadLetters and replayed by ReplayDeadLetters after a fix.
//
// A transient failure is the store's when the next event fails too;
// otherwise it is the event's own, and the event is moved behind the
// others (after MaxAttempts such failures, to the dead letters), so no
// event can hold back another by more than its own retry.
//
// When the spool directory is unusable (missing, read-only, full, a
// failed fsync), Submit keeps events in a bounded memory queue instead,
// never failing the webhook; Health says so, and the spool is reopened
// every RetryInterval, taking the queue back when it works.
//
// Nothing is delivered until the host calls Run, which blocks until its
// context ends or Close is called; events submitted before wait in the
// spool. Close makes one last delivery pass (on Run's goroutine when Run
// is active, else on its own), waits for it and is idempotent; a Submit
// after Close still writes to the spool.
type Ingest struct {
	rec   CallRecorder
	cfg   IngestConfig
	spool *Spool
	dead  *deadLetters

	closing    sync.RWMutex // held by Submit's appends; Close takes it to close the spool
	delivering sync.Mutex   // held by each delivery step (one event, one spool batch); Erase takes it so none is under way
	mu         sync.Mutex
	spoolErr   error // why the spool is unusable; nil when it works
	spoolSince time.Time
	mem        []SpoolEntry // events the spool could not take
	outageErr  error        // the recorder's last transient failure, while it lasts
	outage     time.Time
	oldest     time.Time
	deadErr    error // the dead-letter file's last write failure

	life      sync.Mutex // orders Run's start against Close
	running   bool
	closed    bool
	finalDone atomic.Bool // Run made Close's last delivery pass
	closeOnce sync.Once
	stop      chan struct{}
	finalBy   time.Time // when Close's last delivery pass ends; set before stop closes
	done      chan struct{}
	kick      chan struct{}

	spoolFailing atomic.Bool // spoolErr is set: lets Submit skip the lock when all is well

	spooled, recorded, requeued, deadLettered, lost, recorderErrs atomic.Int64
}

// NewIngest returns an ingest that delivers every event to rec. It
// validates cfg and opens the spool. A spool directory that
// cannot be used is not an error here, since calls must still be
// answered: it is logged at Error, reported by Health and retried. It
// starts no goroutines.
func NewIngest(rec CallRecorder, cfg IngestConfig) (*Ingest, error) {
	var errs []error
	if rec == nil {
		errs = append(errs, errors.New("argument Recorder: required"))
	}
	if cfg.SpoolDir == "" {
		errs = append(errs, errors.New("field SpoolDir: required (events must survive a crash and a store outage)"))
	}
	if cfg.MemoryQueue < 0 || cfg.RetryInterval < 0 || cfg.MaxRetryInterval < 0 || cfg.MaxAttempts < 0 || cfg.RecordTimeout < 0 {
		errs = append(errs, errors.New("fields MemoryQueue, RetryInterval, MaxRetryInterval, MaxAttempts, RecordTimeout: must not be negative"))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, errors.Join(errs...))
	}
	cfg.MemoryQueue = cmpOr(cfg.MemoryQueue, 10_000)
	cfg.RetryInterval = cmpOr(cfg.RetryInterval, time.Second)
	cfg.MaxRetryInterval = max(cmpOr(cfg.MaxRetryInterval, 30*time.Second), cfg.RetryInterval)
	cfg.MaxAttempts = cmpOr(cfg.MaxAttempts, 10)
	cfg.RecordTimeout = cmpOr(cfg.RecordTimeout, 5*time.Second)
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.IsPermanent == nil {
		cfg.IsPermanent = func(error) bool { return false }
	}
	if cfg.Redact == nil {
		cfg.Redact = func(ev CallEvent) CallEvent { return ev }
	}
	in := &Ingest{rec: rec, cfg: cfg, stop: make(chan struct{}), done: make(chan struct{}), kick: make(chan struct{}, 1)}
	in.spool = newSpool(cfg.SpoolDir, cfg.Logger)
	if err := in.spool.Broken(); err != nil {
		in.spoolUnusable(err)
	}
	var err error
	if in.dead, err = openDeadLetters(cfg.SpoolDir, cfg.Logger); err != nil {
		in.deadErr = err
		cfg.Logger.Error("calltrack: dead letters cannot be read; new ones are kept in memory", "err", err)
	}
	return in, nil
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// ErrIngestClosed is returned by Run after Close.
var ErrIngestClosed = errors.New("provider: ingest closed")

// Run delivers events, from the spool and from memory, until ctx ends or
// Close is called, and also what earlier processes spooled. It returns
// nil after Close, ctx's error when ctx ends (what is undelivered stays in
// the spool), and an error if the ingest is closed or Run is already
// running.
func (in *Ingest) Run(ctx context.Context) error {
	in.life.Lock()
	switch {
	case in.closed:
		in.life.Unlock()
		return ErrIngestClosed
	case in.running:
		in.life.Unlock()
		return errors.New("provider: ingest Run is already running")
	}
	in.running = true
	in.life.Unlock()
	defer close(in.done)
	return in.run(ctx)
}

// Kick asks Run to retry now rather than at the end
// of its backoff (e.g. when the host knows the store is back).
func (in *Ingest) Kick() {
	select {
	case in.kick <- struct{}{}:
	default:
	}
}

// Submit makes ev durable: it returns once ev, redacted
// (IngestConfig.Redact), is fsynced in the spool, or kept in memory when
// the spool is unusable. It never waits on the recorder, so handlers call
// it before writing their answer.
func (in *Ingest) Submit(ev CallEvent) {
	ev = in.cfg.Redact(ev)
	in.closing.RLock()
	err := in.spool.Append(ev)
	in.closing.RUnlock()
	if errors.Is(err, ErrSpoolClosed) {
		in.appendLate(ev)
		return
	}
	if err == nil {
		in.spooled.Add(1)
		in.spoolAppended(0)
		return
	}
	in.spoolUnusable(err)
	in.holdInMemory(SpoolEntry{Event: ev, SpooledAt: in.cfg.Clock().UTC()})
}

// appendLate writes an event that arrives after Close (a handler still
// running during shutdown) through the same spool, reopened for it, one
// at a time: nothing delivers from it any more, and the next process
// finds the event there. If even that fails the event is lost, and said.
func (in *Ingest) appendLate(ev CallEvent) {
	in.closing.Lock()
	defer in.closing.Unlock()
	err := in.spool.Reopen()
	if err == nil {
		err = in.spool.Append(ev)
	}
	if cerr := in.spool.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		in.lost.Add(1)
		in.cfg.Logger.Error("calltrack: call event lost: it arrived after Close and the spool could not take it",
			"provider", ev.Provider, "call_id", ev.CallID, "err", err)
		return
	}
	in.spooled.Add(1)
}

// spoolUnusable records why the spool cannot take events.
func (in *Ingest) spoolUnusable(err error) {
	in.mu.Lock()
	first := in.spoolErr == nil
	if first {
		in.spoolSince = in.cfg.Clock()
	}
	in.spoolErr = err
	in.spoolFailing.Store(true)
	in.mu.Unlock()
	if first {
		in.cfg.Logger.Error("calltrack: the spool is unusable: call events are kept in memory only, up to a limit, until it works again",
			"dir", in.cfg.SpoolDir, "memory_queue", in.cfg.MemoryQueue, "err", err)
	}
}

func (in *Ingest) holdInMemory(e SpoolEntry) {
	in.mu.Lock()
	full := len(in.mem) >= in.cfg.MemoryQueue
	if !full {
		in.mem = append(in.mem, e)
	}
	in.mu.Unlock()
	if full {
		in.lost.Add(1)
		in.cfg.Logger.Error("calltrack: call event lost: the spool is unusable and the memory queue is full",
			"provider", e.Event.Provider, "call_id", e.Event.CallID, "memory_queue", in.cfg.MemoryQueue)
		return
	}
	in.Kick()
}

// Stats returns counters; safe to call at any time.
func (in *Ingest) Stats() IngestStats {
	in.mu.Lock()
	inMem, oldest := len(in.mem), in.oldest
	in.mu.Unlock()
	return IngestStats{
		Spooled:        in.spooled.Load(),
		Recorded:       in.recorded.Load(),
		Requeued:       in.requeued.Load(),
		DeadLettered:   in.deadLettered.Load(),
		Lost:           in.lost.Load(),
		RecorderErrors: in.recorderErrs.Load(),
		Pending:        in.spool.Pending(),
		InMemory:       inMem,
		DeadLetters:    in.dead.count(),
		SpoolBytes:     in.spool.Bytes(),
		OldestWaiting:  oldest,
	}
}

// Health says why the ingest is degraded, one reason per problem; nil
// means healthy.
func (in *Ingest) Health() []string {
	in.mu.Lock()
	defer in.mu.Unlock()
	var reasons []string
	if in.spoolErr != nil {
		reasons = append(reasons, fmt.Sprintf("spool unusable since %s: %v; %d call events held only in memory (limit %d)",
			in.spoolSince.UTC().Format(time.RFC3339), in.spoolErr, len(in.mem), in.cfg.MemoryQueue))
	}
	if in.outageErr != nil {
		reasons = append(reasons, fmt.Sprintf("recorder failing since %s: %v; %d call events wait in the spool",
			in.outage.UTC().Format(time.RFC3339), in.outageErr, in.spool.Pending()+len(in.mem)))
	}
	if in.deadErr != nil {
		reasons = append(reasons, fmt.Sprintf("dead-letter file unwritable: %v", in.deadErr))
	}
	return reasons
}

// DeadLetters lists the events the recorder refused for good, oldest
// first.
func (in *Ingest) DeadLetters() []DeadLetter { return in.dead.list() }

// ReplayDeadLetters records the dead letters with the given ids again (all
// of them when none is given), typically after the cause was fixed.
// Those recorded are removed; the rest stay, and their errors are
// returned joined.
func (in *Ingest) ReplayDeadLetters(ctx context.Context, ids ...string) (replayed int, err error) {
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	done := map[string]bool{}
	var errs []error
	for _, l := range in.dead.list() {
		if len(ids) > 0 && !want[l.ID] {
			continue
		}
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		in.delivering.Lock()
		// As it is now: an erasure meanwhile may have dropped or
		// scrubbed it.
		l, ok := in.dead.get(l.ID)
		if !ok {
			in.delivering.Unlock()
			continue
		}
		err := in.record(ctx, l.Event)
		in.delivering.Unlock()
		if err != nil {
			errs = append(errs, fmt.Errorf("dead letter %s (%s): %w", l.ID, l.Event.Key(), err))
			continue
		}
		in.recorded.Add(1)
		done[l.ID] = true
	}
	if len(done) > 0 {
		if err := in.dead.remove(done, nil); err != nil {
			errs = append(errs, err)
		}
	}
	return len(done), errors.Join(errs...)
}

// Erase applies a person's erasure to everything the ingest keeps and
// returns how many events it changed: the events waiting in memory and in
// the spool (whose log is rewritten, without the events already recorded
// too, see Spool.Erase) and the dead letters. For each event edit says
// whether to drop it (the person's own call) or returns a rewrite of it
// (someone else's call that mentions them, such as one forwarded from
// their number: it is kept, and recorded, without what names them); an
// event neither dropped nor rewritten is left as it was. A rewrite should
// keep the event's Key. It is the ingest's part of a person's erasure;
// what was recorded already is the recorder's to erase. Delivery pauses
// while Erase runs: when it returns, no dropped event is being recorded or
// will be, and a rewritten one is recorded only as rewritten. It works
// after Close too, on the spool the next process will read. Bytes of
// damaged records (the quarantine file) are not searched: they cannot be
// read as events. edit must not call the Ingest.
func (in *Ingest) Erase(edit func(CallEvent) (drop bool, rewrite *CallEvent)) (int, error) {
	in.delivering.Lock()
	defer in.delivering.Unlock()
	in.mu.Lock()
	removed := 0
	kept := in.mem[:0]
	for _, e := range in.mem {
		drop, rw := edit(e.Event)
		if drop || rw != nil {
			removed++
		}
		if drop {
			continue
		}
		if rw != nil {
			e.Event = *rw
		}
		kept = append(kept, e)
	}
	clear(in.mem[len(kept):]) // no copy of a dropped event lingers
	in.mem = kept
	in.mu.Unlock()

	var errs []error
	n, err := in.spool.Erase(edit)
	switch {
	case errors.Is(err, ErrSpoolClosed):
		// After Close: open the log again for the next process's sake.
		in.closing.Lock()
		if err = in.spool.Reopen(); err == nil {
			n, err = in.spool.Erase(edit)
			err = errors.Join(err, in.spool.Close())
		}
		in.closing.Unlock()
	case err != nil && in.spool.Broken() != nil:
		if err = in.spool.Reopen(); err == nil {
			n, err = in.spool.Erase(edit)
		}
	}
	removed += n
	if err != nil {
		errs = append(errs, fmt.Errorf("provider: erase from the spool: %w", err))
	}
	n, err = in.dead.erase(edit)
	removed += n
	if err != nil {
		errs = append(errs, err)
	}
	return removed, errors.Join(errs...)
}

// Close ends Run after one last delivery pass, bounded by RecordTimeout,
// and waits for it; without Run, Close makes that pass itself. Events not
// delivered stay in the spool for the next process. Idempotent.
func (in *Ingest) Close() error {
	var err error
	in.closeOnce.Do(func() {
		in.life.Lock()
		in.closed = true
		running := in.running
		in.life.Unlock()
		in.finalBy = time.Now().Add(in.cfg.RecordTimeout)
		close(in.stop)
		if running {
			<-in.done
		}
		if !in.finalDone.Load() { // no Run, or it ended with its context
			in.finalPass(0)
		}
		in.mu.Lock()
		left := len(in.mem)
		in.mu.Unlock()
		if left > 0 {
			in.cfg.Logger.Error("calltrack: call events held in memory are lost at shutdown: the spool was unusable", "events", left)
			in.lost.Add(int64(left))
		}
		// Appends in flight finish first; later ones take appendLate.
		in.closing.Lock()
		err = in.spool.Close()
		in.closing.Unlock()
	})
	return err
}

func (in *Ingest) run(ctx context.Context) error {
	var backoff time.Duration
	for {
		if in.deliver() {
			backoff = min(max(2*backoff, in.cfg.RetryInterval), in.cfg.MaxRetryInterval)
		} else {
			backoff = 0
		}
		var retry <-chan time.Time
		wake := in.spool.Appended()
		switch {
		case backoff > 0:
			wake = nil // the recorder is failing: new events wait for the retry
			retry = time.After(backoff)
		case in.spool.Broken() != nil:
			retry = time.After(in.cfg.RetryInterval)
		}
		select {
		case <-in.stop:
			in.finalPass(backoff)
			in.finalDone.Store(true)
			return nil
		case <-ctx.Done():
			in.rescueMemory()
			return ctx.Err()
		case <-wake:
		case <-in.kick:
		case <-retry:
		}
	}
}

// finalPass is Close's last delivery, skipped while the recorder fails.
func (in *Ingest) finalPass(backoff time.Duration) {
	if backoff == 0 {
		in.deliver()
	} else {
		in.rescueMemory() // the recorder is failing, but the disk may work
	}
}

// deliver brings the spool back if it failed, then delivers what waits in
// memory and in the spool. It reports whether the recorder is failing.
func (in *Ingest) deliver() (stalled bool) {
	in.rescueMemory()
	if in.deliverMemory() {
		return true
	}
	return in.deliverSpool()
}

// rescueMemory reopens a broken spool and moves the events held in memory
// into it whenever it takes them: also when it never broke but an append
// failed for another reason, or raced with the last rescue.
func (in *Ingest) rescueMemory() {
	in.delivering.Lock()
	defer in.delivering.Unlock()
	if in.spool.Broken() != nil && in.spool.Reopen() != nil {
		return
	}
	in.spoolWorks()
}

// spoolWorks moves the events held in memory into the reopened spool.
// Only an append that succeeds shows the spool works again: reopening
// alone proves nothing (a full disk opens fine).
func (in *Ingest) spoolWorks() {
	in.mu.Lock()
	held := in.mem
	in.mu.Unlock()
	if len(held) == 0 {
		return
	}
	if err := in.spool.append(held); err != nil {
		in.spoolUnusable(err)
		return
	}
	in.mu.Lock()
	in.mem = in.mem[len(held):]
	in.mu.Unlock()
	in.spooled.Add(int64(len(held)))
	in.spoolAppended(len(held))
}

// spoolAppended clears the spool's failure once an append succeeded.
func (in *Ingest) spoolAppended(moved int) {
	if !in.spoolFailing.Load() {
		return
	}
	in.mu.Lock()
	since, was := in.spoolSince, in.spoolErr != nil
	in.spoolErr, in.spoolSince = nil, time.Time{}
	in.spoolFailing.Store(false)
	in.mu.Unlock()
	if was {
		in.cfg.Logger.Info("calltrack: the spool works again", "dir", in.cfg.SpoolDir,
			"unusable_for", in.cfg.Clock().Sub(since).Round(time.Second), "events_moved_from_memory", moved)
	}
}

// deliverMemory records events held in memory while the spool is
// unusable.
func (in *Ingest) deliverMemory() (stalled bool) {
	for {
		stalled, more := in.deliverMemoryOne()
		if stalled || !more {
			return stalled
		}
	}
}

// deliverMemoryOne records the first event held in memory; more reports
// whether there may be another.
func (in *Ingest) deliverMemoryOne() (stalled, more bool) {
	in.delivering.Lock()
	defer in.delivering.Unlock()
	in.mu.Lock()
	if len(in.mem) == 0 {
		in.mu.Unlock()
		return false, false
	}
	e := in.mem[0]
	in.mu.Unlock()
	if in.mustStop() {
		return false, false
	}
	err := in.record(context.Background(), e.Event)
	if err != nil && !in.permanent(err) {
		in.outageBegins(err, e.SpooledAt)
		return true, false
	}
	if in.settle(e, err) != nil {
		return true, false // its dead letter could not be written: it stays here
	}
	in.mu.Lock()
	in.mem = in.mem[1:]
	in.mu.Unlock()
	return false, true
}

// deliverBatch is how many spooled events one read hands over.
const deliverBatch = 256

func (in *Ingest) deliverSpool() (stalled bool) {
	for {
		stalled, more := in.deliverSpoolBatch()
		if stalled || !more {
			return stalled
		}
	}
}

// deliverSpoolBatch delivers one read of the spool; more reports whether
// there may be another.
func (in *Ingest) deliverSpoolBatch() (stalled, more bool) {
	in.delivering.Lock()
	defer in.delivering.Unlock()
	entries, err := in.spool.Next(deliverBatch)
	if err != nil && len(entries) == 0 {
		if !errors.Is(err, ErrSpoolClosed) {
			in.spool.markBroken(err)
			in.spoolUnusable(err)
		}
		return false, false
	}
	if len(entries) == 0 {
		in.outageEnds()
		return false, false
	}
	for i := 0; i < len(entries); i++ {
		if in.mustStop() {
			return false, false
		}
		e := entries[i]
		if e.damaged {
			in.handled(e)
			continue
		}
		err := in.record(context.Background(), e.Event)
		if err == nil || in.permanent(err) {
			if in.settle(e, err) != nil {
				return true, false // its dead letter could not be written: it stays in the spool
			}
			in.handled(e)
			continue
		}
		// Transient: the store's failure, or this event's own? The
		// next event tells.
		if i+1 < len(entries) && !entries[i+1].damaged {
			next := entries[i+1]
			nerr := in.record(context.Background(), next.Event)
			if nerr == nil || in.permanent(nerr) {
				// Until e is kept again elsewhere, neither passes the
				// spool's handled mark: a crash then delivers both again.
				if in.retryAlone(e, err) != nil {
					return true, false
				}
				in.handled(e)
				if in.settle(next, nerr) != nil {
					return true, false
				}
				in.handled(next)
				i++
				continue
			}
		}
		in.outageBegins(err, e.SpooledAt)
		return true, false
	}
	return false, true
}

// mustStop reports that Close was called and its last delivery pass has
// run out of time: what is left stays in the spool.
func (in *Ingest) mustStop() bool {
	select {
	case <-in.stop:
		return time.Now().After(in.finalBy)
	default:
		return false
	}
}

func (in *Ingest) handled(e SpoolEntry) {
	if err := in.spool.Done(e); err != nil {
		in.spoolUnusable(err)
	}
}

// record calls the recorder with a deadline; a panic is a permanent
// failure of that event, not a crash of the process (which would replay
// the same event into the same panic at every start).
func (in *Ingest) record(ctx context.Context, ev CallEvent) (err error) {
	ctx, cancel := context.WithTimeout(ctx, in.cfg.RecordTimeout)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: the recorder panicked: %v", ErrRejected, r)
		}
		if err != nil {
			in.recorderErrs.Add(1)
		}
	}()
	return in.rec.RecordCall(ctx, in.cfg.Redact(ev))
}

func (in *Ingest) permanent(err error) bool {
	return errors.Is(err, ErrRejected) || in.cfg.IsPermanent(err)
}

// settle accounts for an event the recorder accepted (err nil) or
// refused for good. It fails only when the dead letter cannot be written,
// and then the event must stay where it is.
func (in *Ingest) settle(e SpoolEntry, err error) error {
	if err == nil {
		in.recorded.Add(1)
		return nil
	}
	return in.deadLetter(e, err)
}

// retryAlone puts an event that failed while the store worked behind the
// others, or into the dead letters once it has failed MaxAttempts times.
// It fails when the event could be kept in neither place.
func (in *Ingest) retryAlone(e SpoolEntry, err error) error {
	e.Attempts++
	if e.Attempts >= in.cfg.MaxAttempts {
		return in.deadLetter(e, fmt.Errorf("failed %d times while other events were recorded: %w", e.Attempts, err))
	}
	in.cfg.Logger.Warn("calltrack: recording a call event failed while others succeeded; retrying it after them",
		"provider", e.Event.Provider, "call_id", e.Event.CallID, "attempts", e.Attempts, "err", err)
	if rerr := in.spool.Requeue(e); rerr != nil {
		in.spoolUnusable(rerr)
		return rerr
	}
	in.requeued.Add(1)
	return nil
}

// deadLetter keeps e, refused for good, in the dead-letter file. When the
// file cannot be written it returns the error, the event stays where it
// is, and Health says why.
func (in *Ingest) deadLetter(e SpoolEntry, err error) error {
	l, werr := in.dead.add(DeadLetter{Event: in.cfg.Redact(e.Event), Error: err.Error(), At: in.cfg.Clock().UTC(), Attempts: e.Attempts})
	in.mu.Lock()
	in.deadErr = werr
	in.mu.Unlock()
	if werr != nil {
		in.cfg.Logger.Error("calltrack: a call event the recorder refused cannot be kept as a dead letter; it stays in the spool and is retried",
			"provider", e.Event.Provider, "call_id", e.Event.CallID, "refused", err, "err", werr)
		return werr
	}
	in.deadLettered.Add(1)
	in.cfg.Logger.Error("calltrack: call event refused by the recorder; kept as a dead letter to replay after a fix",
		"provider", e.Event.Provider, "call_id", e.Event.CallID, "dead_letter", l.ID, "err", err)
	return nil
}

func (in *Ingest) outageBegins(err error, oldest time.Time) {
	in.mu.Lock()
	first := in.outageErr == nil
	if first {
		in.outage = in.cfg.Clock()
	}
	in.outageErr, in.oldest = err, oldest
	in.mu.Unlock()
	if first {
		in.cfg.Logger.Warn("calltrack: recording calls failed; events wait in the spool and are retried with backoff",
			"pending", in.spool.Pending(), "err", err)
	}
}

func (in *Ingest) outageEnds() {
	in.mu.Lock()
	was, since := in.outageErr != nil, in.outage
	in.outageErr, in.outage, in.oldest = nil, time.Time{}, time.Time{}
	in.mu.Unlock()
	if was {
		in.cfg.Logger.Info("calltrack: recording calls works again; the backlog is delivered",
			"outage", in.cfg.Clock().Sub(since).Round(time.Millisecond))
	}
}
