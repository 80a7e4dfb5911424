package dni

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/attriqs/calltrack/journey"
)

// writeBehind lets the tracker API answer from memory when the store is
// slow. A request writes on its own goroutine under its store deadline
// (Config.StoreWait); a write that the deadline cut short is queued, and
// one goroutine finishes it. The store's writes are idempotent by natural
// id (store.Store), so repeating one that may have landed is harmless.
//
// Queued writes are keyed by the record they write: a newer write of a
// record that is still queued replaces the queued one, and is queued
// rather than written directly; an older session version cut short is
// not queued over a newer one that is queued or being written (versions
// are ordered by LastSeenAt), so an older version never lands after a
// newer one. Queued sessions are readable (session), so the heartbeats
// and page views that follow find a session the store has not got yet.
//
// The queue is bounded; a write that finds it full is dropped, logged at
// Error and counted. Service.Run drains it (run); close writes what is
// still queued, gives up on the rest once the store stops answering, and
// waits for run.
type writeBehind struct {
	log     *slog.Logger
	limit   int           // most records queued at once
	timeout time.Duration // bounds one write on the goroutine

	mu      sync.Mutex
	wake    *sync.Cond
	pending map[string]*queuedWrite
	order   []string           // keys of pending, oldest first
	flying  map[string]*flight // session writes under way directly, by key
	closed  bool
	runs    sync.WaitGroup // run, while it drains

	queued, written, failed, dropped atomic.Uint64
}

// flight is the direct writes of one session under way: the newest
// version any of them writes outlives the ones that finished, so an older
// write cut short afterwards is not queued over it.
type flight struct {
	writes int
	newest time.Time
}

type queuedWrite struct {
	write   func(ctx context.Context) error
	session *journey.Session // for session writes, what the store will hold
	gen     uint64           // bumped when a newer write replaces this one
}

const (
	writeBehindLimit   = 10000
	writeBehindTimeout = 10 * time.Second
)

func newWriteBehind(log *slog.Logger) *writeBehind {
	w := &writeBehind{log: log, limit: writeBehindLimit, timeout: writeBehindTimeout,
		pending: map[string]*queuedWrite{}, flying: map[string]*flight{}}
	w.wake = sync.NewCond(&w.mu)
	return w
}

// WriteBehindStats counts the tracker API's store writes that did not
// finish within Config.StoreWait and went on in the background.
type WriteBehindStats struct {
	Queued  uint64 // writes queued after their request's store deadline
	Written uint64 // queued writes the store took
	Failed  uint64 // writes the store refused or did not take in time (logged at Error)
	Dropped uint64 // writes not queued: the queue was full or closed (logged at Error)
	Pending int    // records queued now
}

// WriteBehindStats reports the background writes of the tracker API.
func (s *Service) WriteBehindStats() WriteBehindStats { return s.writes.stats() }

func (w *writeBehind) stats() WriteBehindStats {
	w.mu.Lock()
	n := len(w.pending)
	w.mu.Unlock()
	return WriteBehindStats{Queued: w.queued.Load(), Written: w.written.Load(), Failed: w.failed.Load(),
		Dropped: w.dropped.Load(), Pending: n}
}

// putSession writes a session, in the background if ctx ends first.
func (w *writeBehind) putSession(ctx context.Context, st interface {
	PutSession(context.Context, journey.Session) error
}, sess journey.Session) {
	w.do(ctx, "session:"+sess.ID, &sess, func(ctx context.Context) error { return st.PutSession(ctx, sess) })
}

// addTouchpoint writes a touchpoint, in the background if ctx ends first.
func (w *writeBehind) addTouchpoint(ctx context.Context, st interface {
	AddTouchpoint(context.Context, journey.Touchpoint) error
}, tp journey.Touchpoint) {
	w.do(ctx, "touchpoint:"+tp.ID, nil, func(ctx context.Context) error { return st.AddTouchpoint(ctx, tp) })
}

// session returns a session whose write is still queued.
func (w *writeBehind) session(id string) (journey.Session, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if q, ok := w.pending["session:"+id]; ok && q.session != nil {
		return *q.session, true
	}
	return journey.Session{}, false
}

// do writes now under ctx, or queues the write when ctx ends before the
// store answers or an older write of the same record is still queued.
func (w *writeBehind) do(ctx context.Context, key string, sess *journey.Session, write func(context.Context) error) {
	if w.replace(key, sess, write) {
		return
	}
	if sess != nil {
		w.takeOff(key, sess.LastSeenAt)
		defer w.land(key)
	}
	if ctx.Err() == nil {
		err := write(ctx)
		if err == nil {
			return
		}
		if ctx.Err() == nil {
			// The store answered with a failure: queuing would only repeat
			// it. The lease stands and the numbers show; a call can still
			// be stitched through the allocator's memory.
			w.failed.Add(1)
			w.log.Error("dni: saving", "record", key, "err", err)
			return
		}
	}
	w.enqueue(key, sess, write)
}

// takeOff and land bracket a direct write of a session version.
func (w *writeBehind) takeOff(key string, version time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	f := w.flying[key]
	if f == nil {
		f = &flight{}
		w.flying[key] = f
	}
	f.writes++
	if version.After(f.newest) {
		f.newest = version
	}
}

func (w *writeBehind) land(key string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if f := w.flying[key]; f != nil {
		if f.writes--; f.writes == 0 {
			delete(w.flying, key)
		}
	}
}

// replace swaps in a newer write of a record that is still queued.
func (w *writeBehind) replace(key string, sess *journey.Session, write func(context.Context) error) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	q, ok := w.pending[key]
	if ok {
		q.swap(sess, write)
	}
	return ok
}

// swap makes q write sess instead, unless what q writes is a newer
// version of the session: writes do not land in the order they were
// cut short.
func (q *queuedWrite) swap(sess *journey.Session, write func(context.Context) error) {
	if sess != nil && q.session != nil && sess.LastSeenAt.Before(q.session.LastSeenAt) {
		return
	}
	q.write, q.session = write, sess
	q.gen++
}

func (w *writeBehind) enqueue(key string, sess *journey.Session, write func(context.Context) error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if q, ok := w.pending[key]; ok {
		q.swap(sess, write)
		return
	}
	if f := w.flying[key]; sess != nil && f != nil && sess.LastSeenAt.Before(f.newest) {
		return // a newer version is being written, or was while this one waited
	}
	if w.closed || len(w.pending) >= w.limit {
		w.dropped.Add(1)
		w.log.Error("dni: store too slow and the write-behind queue full or closed; record not saved",
			"record", key, "queued", len(w.pending), "closed", w.closed)
		return
	}
	w.pending[key] = &queuedWrite{write: write, session: sess}
	w.order = append(w.order, key)
	w.queued.Add(1)
	w.wake.Signal()
}

// run writes queued records until ctx ends or close is called.
func (w *writeBehind) run(ctx context.Context) error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.runs.Add(1)
	w.mu.Unlock()
	defer w.runs.Done()
	stop := context.AfterFunc(ctx, func() {
		w.mu.Lock()
		w.wake.Broadcast()
		w.mu.Unlock()
	})
	defer stop()
	w.drain(ctx)
	if w.isClosed() {
		return nil
	}
	return ctx.Err()
}

func (w *writeBehind) isClosed() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.closed
}

// drain writes queued records, oldest first, until the queue is empty
// after close, or ctx ends first (what is left stays queued for close).
func (w *writeBehind) drain(ctx context.Context) {
	giveUp := false
	w.mu.Lock()
	for {
		for len(w.order) == 0 && !w.closed && ctx.Err() == nil {
			w.wake.Wait()
		}
		if len(w.order) == 0 || (ctx.Err() != nil && !w.closed) {
			w.mu.Unlock()
			return
		}
		if giveUp {
			// Closing on a store that stopped answering: the rest would
			// each wait out the timeout too.
			n := len(w.order)
			w.failed.Add(uint64(n))
			w.log.Error("dni: closing: store not answering; queued records not saved", "records", n)
			w.order, w.pending = nil, map[string]*queuedWrite{}
			w.mu.Unlock()
			return
		}
		key := w.order[0]
		w.order = w.order[1:]
		q := w.pending[key]
		gen, write := q.gen, q.write
		w.mu.Unlock()

		ctx, cancel := context.WithTimeout(context.Background(), w.timeout)
		err := write(ctx)
		timedOut := ctx.Err() != nil
		cancel()
		if err != nil {
			w.failed.Add(1)
			w.log.Error("dni: writing behind", "record", key, "err", err)
		} else {
			w.written.Add(1)
		}

		w.mu.Lock()
		if q.gen != gen {
			w.order = append(w.order, key) // a newer version arrived meanwhile
		} else {
			delete(w.pending, key)
		}
		giveUp = w.closed && err != nil && timedOut
	}
}

// close writes what is queued (giving up once a write times out): run
// does when it is draining, close itself otherwise. It waits for run and
// is idempotent; writes queued after it are dropped.
func (w *writeBehind) close() {
	w.mu.Lock()
	w.closed = true
	w.wake.Broadcast()
	w.mu.Unlock()
	w.runs.Wait()
	w.drain(context.Background())
}
