package dni

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/store"
)

// writeBehind writes the tracker API's sessions and touchpoints in
// batches (group commit), so a busy site pays one transaction for many
// visits, without answering before the write is durable. Each batch also
// carries the hold records queued in the holdWriter. An in-memory store
// (store.InMemory) is written at once instead.
//
// A request queues its records and waits for them to land, for at most
// its store deadline (Config.StoreWait). While no batch is being written,
// the waiting request writes one itself: everything queued, up to
// writeBehindBatch records, in one transaction when the store has the
// store.Batches role (one write each otherwise). The records queued while
// a batch is written go in the next one, so batches grow with the load and
// an idle service writes at once, with no timer. A request whose deadline
// ends first answers from memory; its records stay queued and the next
// batch, or Service.Run (run), writes them: what a crash can lose is
// what it could lose before batching, the records of requests that were
// answered after StoreWait without them.
//
// Records are keyed: a newer write of a queued record replaces it (a
// session keeps its latest state: an older version, by LastSeenAt, never
// replaces a newer one), and a key is in at most one batch at a time, so
// a session's versions land in order. Queued and in-flight sessions are
// readable (session), so the heartbeats and page views that follow find
// a session the store has not got yet.
//
// The queue is bounded; a write that finds it full is dropped, logged at
// Error and counted. A batch the store refuses as invalid or conflicting
// is written again one record at a time, so one bad record does not sink
// the others; a failure the store answers is logged and not retried (the
// lease stands; a call can still be stitched through the allocator's
// memory). close writes what is still queued, giving up once the store
// stops answering, and waits for run.
type writeBehind struct {
	log     *slog.Logger
	limit   int           // most records queued or in flight at once
	batch   int           // most records in one batch
	timeout time.Duration // bounds one write made by run or close
	holds   *holdWriter   // its queued hold records ride in the batches; nil for none

	mu       sync.Mutex
	pending  map[string]*queuedWrite
	order    []string                // keys of pending, oldest first
	inflight map[string]*queuedWrite // the batch being written
	writing  bool
	turn     chan struct{} // closed when the batch being written ends
	waiting  int           // requests waiting for a batch to end
	kick     chan struct{} // tells run that queued records have no writer
	closing  chan struct{}
	closed   bool
	runs     sync.WaitGroup // run, while it drains

	queued, written, failed, dropped atomic.Uint64
}

type queuedWrite struct {
	key     string
	write   func(ctx context.Context) error // one record alone
	batcher store.Batches                   // nil when the store writes no batches
	session *journey.Session
	touch   *journey.Touchpoint
	done    chan struct{}   // closed once this record, or a newer one of its key, landed or failed
	also    []chan struct{} // done of older writes of the key this one stands for
	left    bool            // its request answered without it (counted in Queued)
}

const (
	writeBehindLimit   = 10000
	writeBehindBatch   = 256
	writeBehindTimeout = 10 * time.Second
)

func newWriteBehind(log *slog.Logger) *writeBehind {
	return &writeBehind{log: log, limit: writeBehindLimit, batch: writeBehindBatch, timeout: writeBehindTimeout,
		pending: map[string]*queuedWrite{}, inflight: map[string]*queuedWrite{},
		kick: make(chan struct{}, 1), closing: make(chan struct{})}
}

// WriteBehindStats counts the tracker API's store writes that did not
// finish within Config.StoreWait and went on in the background.
type WriteBehindStats struct {
	Queued  uint64 // writes whose request answered before they landed (after Config.StoreWait)
	Written uint64 // such writes the store took later
	Failed  uint64 // writes the store refused or did not take in time (logged at Error)
	Dropped uint64 // writes not queued: the queue was full or closed (logged at Error)
	Pending int    // records queued or being written now, hold records too
}

// WriteBehindStats reports the background writes of the tracker API.
func (s *Service) WriteBehindStats() WriteBehindStats { return s.writes.stats() }

func (w *writeBehind) stats() WriteBehindStats {
	w.mu.Lock()
	n := len(w.pending) + len(w.inflight)
	w.mu.Unlock()
	if w.holds != nil {
		n += w.holds.pending()
	}
	return WriteBehindStats{Queued: w.queued.Load(), Written: w.written.Load(), Failed: w.failed.Load(),
		Dropped: w.dropped.Load(), Pending: n}
}

type sessionWriter interface {
	PutSession(context.Context, journey.Session) error
}

type touchpointWriter interface {
	AddTouchpoint(context.Context, journey.Touchpoint) error
}

func sessionWrite(st sessionWriter, sess journey.Session) *queuedWrite {
	b, _ := st.(store.Batches)
	return &queuedWrite{key: "session:" + sess.ID, session: &sess, batcher: b,
		write: func(ctx context.Context) error { return st.PutSession(ctx, sess) }}
}

func touchpointWrite(st touchpointWriter, tp journey.Touchpoint) *queuedWrite {
	b, _ := st.(store.Batches)
	return &queuedWrite{key: "touchpoint:" + tp.ID, touch: &tp, batcher: b,
		write: func(ctx context.Context) error { return st.AddTouchpoint(ctx, tp) }}
}

// putSession writes a session, in the background if ctx ends first.
func (w *writeBehind) putSession(ctx context.Context, st sessionWriter, sess journey.Session) {
	w.do(ctx, sessionWrite(st, sess))
}

// putSessionAndTouchpoint writes a new session and its touchpoint, in one
// batch, waiting once.
func (w *writeBehind) putSessionAndTouchpoint(ctx context.Context, st interface {
	sessionWriter
	touchpointWriter
}, sess journey.Session, tp journey.Touchpoint) {
	if b, ok := st.(store.Batches); ok && store.IsInMemory(st) {
		w.writeNow(ctx, b, st, sess, tp)
		return
	}
	w.putSessionWithTouchpoint(ctx, st, sess, tp)
}

// putSessionWithTouchpoint writes a live session and its rewritten
// touchpoint, queued behind the session's earlier writes.
func (w *writeBehind) putSessionWithTouchpoint(ctx context.Context, st interface {
	sessionWriter
	touchpointWriter
}, sess journey.Session, tp journey.Touchpoint) {
	w.do(ctx, sessionWrite(st, sess), touchpointWrite(st, tp))
}

// writeNow writes a new session and its touchpoint to an in-memory store
// at once: queueing them would cost more than the write. No other write
// of a new session's keys can be queued, so order is kept. The write is
// not cut by ctx (it does no I/O); a refusal is logged and counted as a
// batch's would be.
func (w *writeBehind) writeNow(ctx context.Context, b store.Batches, st interface {
	sessionWriter
	touchpointWriter
}, sess journey.Session, tp journey.Touchpoint) {
	ctx = context.WithoutCancel(ctx)
	err := b.WriteBatch(ctx, store.Batch{Sessions: []journey.Session{sess}, Touchpoints: []journey.Touchpoint{tp}})
	if errors.Is(err, store.ErrInvalid) || errors.Is(err, store.ErrConflict) {
		// One record sinks the pair: each alone, so the other lands.
		w.refused("session:"+sess.ID, st.PutSession(ctx, sess))
		w.refused("touchpoint:"+tp.ID, st.AddTouchpoint(ctx, tp))
		return
	}
	w.refused("session:"+sess.ID, err)
	w.refused("touchpoint:"+tp.ID, err)
}

// refused logs and counts a record the store refused; nil is a no-op.
func (w *writeBehind) refused(key string, err error) {
	if err != nil {
		w.failed.Add(1)
		w.log.Error("dni: saving", "record", key, "err", err)
	}
}

// session returns a session whose write is queued or under way.
func (w *writeBehind) session(id string) (journey.Session, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	q, ok := w.pending["session:"+id]
	if !ok {
		q, ok = w.inflight["session:"+id]
	}
	if ok && q.session != nil {
		return *q.session, true
	}
	return journey.Session{}, false
}

// do queues recs and waits until they land, writing batches itself while
// no one else is, or until ctx ends (they then stay queued).
func (w *writeBehind) do(ctx context.Context, recs ...*queuedWrite) {
	waits := make([]awaited, 0, len(recs))
	w.mu.Lock()
	for _, r := range recs {
		if d := w.enqueue(r); d != nil {
			waits = append(waits, awaited{r.key, d})
		}
	}
	w.mu.Unlock()
	for _, wf := range waits {
		if !w.await(ctx, wf.done) {
			w.leave(waits)
			return
		}
	}
}

// await waits for done, leading batches while no one else writes; false
// when ctx ended first.
func (w *writeBehind) await(ctx context.Context, done chan struct{}) bool {
	for {
		select {
		case <-done:
			return true
		default:
		}
		if ctx.Err() != nil {
			return false
		}
		w.mu.Lock()
		if !w.writing && len(w.order) > 0 {
			w.claim()
			if len(w.order) < w.batch {
				// Let the requests already running queue their records
				// before the batch is cut: a batch of one, taken the
				// moment the last one ended, holds up the rest for a
				// whole commit that writes the same pages.
				w.mu.Unlock()
				runtime.Gosched()
				w.mu.Lock()
			}
			b := w.take()
			w.mu.Unlock()
			w.write(ctx, b)
			continue
		}
		turn := w.turn
		w.waiting++
		w.mu.Unlock()
		if turn == nil {
			// Not writing and nothing queued: done is closed already.
			turn = done
		}
		select {
		case <-done:
		case <-turn:
		case <-ctx.Done():
		}
		w.mu.Lock()
		w.waiting--
		if w.waiting == 0 && isClosed(done) {
			// settle left the queue to its waiters; this one returns
			// without writing, so the records requests left go to run.
			w.kickRun()
		}
		w.mu.Unlock()
	}
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// leave counts the records of a request that answers without them and
// hands them to run.
func (w *writeBehind) leave(waits []awaited) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, wf := range waits {
		for _, q := range []*queuedWrite{w.pending[wf.key], w.inflight[wf.key]} {
			if q != nil && !q.left && (q.done == wf.done || slices.Contains(q.also, wf.done)) {
				q.left = true
				w.queued.Add(1)
			}
		}
	}
	w.kickRun()
}

// awaited is a record a request waits for: its key and what closes when
// it lands.
type awaited struct {
	key  string
	done chan struct{}
}

// kickRun wakes run when records are queued and no request will write
// them; w.mu is held.
func (w *writeBehind) kickRun() {
	if !w.writing && len(w.order) > 0 {
		select {
		case w.kick <- struct{}{}:
		default:
		}
	}
}

// enqueue queues r, or merges it into a queued write of its key, and
// returns what to wait on; nil when r was dropped. w.mu is held.
func (w *writeBehind) enqueue(r *queuedWrite) chan struct{} {
	if q, ok := w.pending[r.key]; ok {
		q.swap(r)
		return q.done
	}
	if f, ok := w.inflight[r.key]; ok && r.session != nil && f.session != nil && r.session.LastSeenAt.Before(f.session.LastSeenAt) {
		return f.done // a newer version is being written
	}
	if w.closed || len(w.pending)+len(w.inflight) >= w.limit {
		w.dropped.Add(1)
		w.log.Error("dni: store too slow and the write-behind queue full or closed; record not saved",
			"record", r.key, "queued", len(w.pending)+len(w.inflight), "closed", w.closed)
		return nil
	}
	r.done = make(chan struct{})
	w.pending[r.key] = r
	w.order = append(w.order, r.key)
	return r.done
}

// swap makes q write r's record instead, unless q holds a newer version
// of the session.
func (q *queuedWrite) swap(r *queuedWrite) {
	if r.session != nil && q.session != nil && r.session.LastSeenAt.Before(q.session.LastSeenAt) {
		return
	}
	q.write, q.batcher, q.session, q.touch = r.write, r.batcher, r.session, r.touch
}

// take moves the oldest queued records, up to one batch, in flight and
// makes the caller the writer. w.mu is held.
func (w *writeBehind) take() []*queuedWrite {
	n := min(len(w.order), w.batch)
	b := make([]*queuedWrite, n)
	for i, key := range w.order[:n] {
		b[i] = w.pending[key]
		delete(w.pending, key)
		w.inflight[key] = b[i]
	}
	w.order = w.order[n:]
	if len(w.order) == 0 {
		w.order = nil // let the backing array go
	}
	w.claim()
	return b
}

// claim makes the caller the writer: others queue behind its batch. w.mu
// is held.
func (w *writeBehind) claim() {
	if !w.writing {
		w.writing = true
		w.turn = make(chan struct{})
	}
}

type outcome int

const (
	landed  outcome = iota
	refused         // the store answered with an error
	cut             // ctx ended before the store answered
)

// write writes batch under ctx and settles each record.
func (w *writeBehind) write(ctx context.Context, batch []*queuedWrite) {
	out := make([]outcome, len(batch))
	errs := make([]error, len(batch))
	var together []int
	var b store.Batch
	var batcher store.Batches
	for i, q := range batch {
		if q.batcher == nil {
			continue
		}
		// One store behind a Service: the first record's batcher is theirs too.
		batcher = q.batcher
		together = append(together, i)
		if q.session != nil {
			b.Sessions = append(b.Sessions, *q.session)
		}
		if q.touch != nil {
			b.Touchpoints = append(b.Touchpoints, *q.touch)
		}
	}
	alone := make([]bool, len(batch))
	for i := range alone {
		alone[i] = true
	}
	if len(together) > 0 {
		if w.holds != nil {
			w.holds.riding.RLock()
			b.Holds = w.holds.take(holdBatch)
		}
		err := batcher.WriteBatch(ctx, b)
		if w.holds != nil {
			w.settleHolds(ctx, b.Holds, err)
			w.holds.riding.RUnlock()
		}
		// A refusal of a batch of one record is that record's own, unless
		// hold records rode along: then it may be theirs.
		if err == nil || !(errors.Is(err, store.ErrInvalid) || errors.Is(err, store.ErrConflict)) || len(together)+len(b.Holds) == 1 {
			o := landed
			switch {
			case err != nil && ctx.Err() != nil:
				o = cut
			case err != nil:
				o = refused
			}
			for _, i := range together {
				out[i], errs[i], alone[i] = o, err, false
			}
		}
		// Otherwise one record sinks the batch: each is written alone below.
	}
	for i, q := range batch {
		if !alone[i] {
			continue
		}
		if ctx.Err() != nil {
			out[i] = cut
			continue
		}
		if err := q.write(ctx); err != nil {
			out[i], errs[i] = refused, err
			if ctx.Err() != nil {
				out[i] = cut
			}
		}
	}
	w.settle(batch, out, errs)
}

// settleHolds deals with the hold records a batch carried once the store
// has answered it (err): a batch cut short queues them again; one refused
// as invalid or conflicting sets them aside for the hold writer's run,
// which finds the culprit one record at a time; any other refusal is
// logged as the hold writer logs its own.
func (w *writeBehind) settleHolds(ctx context.Context, hs []pool.HoldRecord, err error) {
	defer w.holds.settled(len(hs))
	switch {
	case err == nil || len(hs) == 0:
	case ctx.Err() != nil:
		w.holds.putBack(hs)
	case errors.Is(err, store.ErrInvalid) || errors.Is(err, store.ErrConflict):
		w.holds.setAside(hs)
	default:
		w.holds.log.Error("dni: writing hold history", "records", len(hs), "err", err)
	}
}

// settle ends a batch: landed and refused records are done, cut ones are
// queued again (under a newer write of their key, if one came meanwhile).
func (w *writeBehind) settle(batch []*queuedWrite, out []outcome, errs []error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var again []string
	for i, q := range batch {
		delete(w.inflight, q.key)
		switch out[i] {
		case landed:
			if q.left {
				w.written.Add(1)
			}
			q.finish()
		case refused:
			w.refused(q.key, errs[i])
			q.finish()
		case cut:
			if newer, ok := w.pending[q.key]; ok {
				newer.also = append(append(newer.also, q.done), q.also...)
				newer.left = newer.left || q.left
				continue
			}
			w.pending[q.key] = q
			again = append(again, q.key)
		}
	}
	if len(again) > 0 {
		w.order = append(again, w.order...)
	}
	w.writing = false
	close(w.turn)
	w.turn = nil
	if w.waiting == 0 {
		w.kickRun()
	}
}

func (q *queuedWrite) finish() {
	close(q.done)
	for _, d := range q.also {
		close(d)
	}
}

// run writes the queued records no request waits for, until ctx ends or
// close is called.
func (w *writeBehind) run(ctx context.Context) error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.runs.Add(1)
	w.mu.Unlock()
	defer w.runs.Done()
	for {
		select {
		case <-w.kick:
			w.drain(ctx, false)
		case <-w.closing:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// drain writes queued batches, each under its own timeout, until nothing
// is queued, someone else writes (unless closing, when it waits for them),
// or ctx ends. Closing, it gives up on the rest once a write times out:
// each would wait out the timeout too.
func (w *writeBehind) drain(ctx context.Context, closing bool) {
	for ctx.Err() == nil {
		w.mu.Lock()
		if w.writing && closing {
			turn := w.turn
			w.mu.Unlock()
			<-turn
			continue
		}
		if w.writing || len(w.order) == 0 {
			w.mu.Unlock()
			return
		}
		b := w.take()
		w.mu.Unlock()
		wctx, cancel := context.WithTimeout(context.Background(), w.timeout)
		w.writeEach(wctx, b)
		cancel()
	}
}

// writeEach writes batch for drain: records cut by the timeout fail
// rather than queue again, and once Close has begun, the rest of the
// queue with them.
func (w *writeBehind) writeEach(ctx context.Context, batch []*queuedWrite) {
	w.write(ctx, batch)
	if ctx.Err() == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	// Once Close has begun, a timeout means the store is not answering:
	// whichever drain saw it (Run's, still at work, or Close's), the rest
	// of the queue is given up rather than each waiting out the timeout.
	giveUp := w.closed
	n := 0
	keep := w.order[:0]
	for _, key := range w.order {
		q := w.pending[key]
		if giveUp || slices.Contains(batch, q) {
			delete(w.pending, key)
			q.finish()
			n++
			continue
		}
		keep = append(keep, key)
	}
	w.order = keep
	if n > 0 {
		w.failed.Add(uint64(n))
		w.log.Error("dni: store not answering; queued records not saved", "records", n, "closing", giveUp)
	}
}

// batching reports whether a batch is being written or records wait for
// one: the hold writer then leaves its queue to the batches for a moment.
func (w *writeBehind) batching() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.writing || len(w.order) > 0
}

// flush waits until the records queued or being written when it is
// called have landed or failed, writing batches itself while no one else
// is; records queued later are not waited for, so a busy service does
// not keep it waiting. It fails only when ctx ends first.
func (w *writeBehind) flush(ctx context.Context) error {
	w.mu.Lock()
	var waits []chan struct{}
	for _, q := range w.pending {
		waits = append(waits, q.done)
	}
	for _, q := range w.inflight {
		waits = append(waits, q.done)
	}
	w.mu.Unlock()
	for _, done := range waits {
		if !w.await(ctx, done) {
			return ctx.Err()
		}
	}
	return nil
}

// close writes what is queued (giving up once a write times out), waits
// for run and is idempotent; writes queued after it are dropped.
func (w *writeBehind) close() {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.closing)
	}
	w.mu.Unlock()
	w.runs.Wait()
	w.drain(context.Background(), true)
}
