package dni

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/store"
)

// holdWriter writes the allocator's hold records through to the store
// without making the allocator wait on it: records go into a queue that
// visit batches carry in their own commits (take) and that Service.Run
// drains (run), in batches (store.Batches), of what they leave. When the
// queue is full, or after close, a record is written on the caller's
// goroutine instead, so nothing is ever dropped; close writes what is
// still queued. An in-memory store (store.InMemory) is written at once:
// it costs less than the queue.
type holdWriter struct {
	store  store.Leases
	log    *slog.Logger
	queue  chan pool.HoldRecord
	kick   chan struct{} // a record was queued
	direct bool          // the store is in memory: records are written at once, not queued
	// batching reports whether visit batches are being written, to carry
	// queued records; nil for never.
	batching func() bool

	inflight atomic.Int64      // records taken from the queue or set aside, not yet written
	flushing sync.Mutex        // held by flush
	riding   sync.RWMutex      // read-held by a visit batch from take to settling its records
	aside    []pool.HoldRecord // refused in a visit batch, for run to write one by one; under mu

	mu       sync.RWMutex // write-held only to close the queue
	closed   bool
	stopping chan struct{}  // closed by close
	runs     sync.WaitGroup // run, while it drains
}

const holdQueueSize = 4096

func newHoldWriter(s store.Leases, log *slog.Logger) *holdWriter {
	return &holdWriter{store: s, log: log, queue: make(chan pool.HoldRecord, holdQueueSize),
		kick: make(chan struct{}, 1), stopping: make(chan struct{}), direct: store.IsInMemory(s)}
}

func (w *holdWriter) record(h pool.HoldRecord) {
	if w.direct {
		_ = w.recordIn(context.Background(), h) // logged; an in-memory store does no I/O to bound
		return
	}
	w.mu.RLock()
	queued := false
	if !w.closed {
		select {
		case w.queue <- h:
			queued = true
		default:
		}
	}
	w.mu.RUnlock()
	if !queued {
		_ = w.write(h) // logged
		return
	}
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// run writes queued records until ctx ends or close is called. Once a
// record is queued, while visit batches are being written (batching), it
// waits holdLinger, leaving the queue to them, then writes what they
// left in batches; otherwise it writes at once. Records stay in the
// queue meanwhile, where flush and close find them.
func (w *holdWriter) run(ctx context.Context) error {
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
		case <-w.stopping:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
		if w.batching != nil && w.batching() {
			linger := time.NewTimer(holdLinger)
			select {
			case <-linger.C:
			case <-w.stopping:
				linger.Stop()
				return nil // close writes what is queued
			case <-ctx.Done():
				linger.Stop()
				return ctx.Err()
			}
		}
		w.flush()
	}
}

// flush writes the records set aside and those queued now, in batches.
func (w *holdWriter) flush() {
	// One flush at a time: an erasure's waits for the one run is making.
	w.flushing.Lock()
	defer w.flushing.Unlock()
	w.writeAside()
	for {
		hs := w.take(holdBatch)
		if len(hs) == 0 {
			return
		}
		_ = w.writeBatch(hs) // logged
		w.settled(len(hs))
	}
}

// writeAside writes the records set aside, one at a time.
func (w *holdWriter) writeAside() {
	w.mu.Lock()
	aside := w.aside
	w.aside = nil
	w.mu.Unlock()
	for _, h := range aside {
		_ = w.write(h) // logged
		w.settled(1)
	}
}

// flushBeforeErasure is flush once the records riding in visit batches
// have landed (or come back): an erasure that follows finds them all.
func (w *holdWriter) flushBeforeErasure() {
	w.riding.Lock()
	defer w.riding.Unlock()
	w.flush()
}

// setAside hands records a visit batch could not land, because one of
// them was refused, to run, which writes them one at a time to find the
// culprit: on the request's goroutine that would hold it past its
// deadline, and back in the queue they would sink the next batch too.
func (w *holdWriter) setAside(hs []pool.HoldRecord) {
	w.mu.Lock()
	w.aside = append(w.aside, hs...)
	w.mu.Unlock()
	w.inflight.Add(int64(len(hs))) // settled by flush
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// pending is the number of records queued, set aside or being written.
func (w *holdWriter) pending() int { return len(w.queue) + int(w.inflight.Load()) }

// settled ends n records take returned: written, refused or queued again.
func (w *holdWriter) settled(n int) { w.inflight.Add(-int64(n)) }

// take removes up to n queued records without waiting, for a visit batch
// to carry them (writeBehind.write): one commit for both.
func (w *holdWriter) take(n int) []pool.HoldRecord {
	if w.direct {
		return nil
	}
	var hs []pool.HoldRecord
	for len(hs) < n {
		// Counted before it leaves the queue, so pending never misses it.
		w.inflight.Add(1)
		select {
		case h, ok := <-w.queue:
			if ok {
				hs = append(hs, h)
				continue
			}
		default:
		}
		w.inflight.Add(-1)
		break
	}
	return hs
}

// putBack queues again records taken for a batch that was cut before it
// landed; as in record, a full queue means writing them here.
func (w *holdWriter) putBack(hs []pool.HoldRecord) {
	for _, h := range hs {
		w.record(h)
	}
}

// holdLinger is how long run leaves queued records for visit batches to
// carry before writing them in a transaction of their own. The
// allocator's memory has the holds meanwhile.
const holdLinger = 50 * time.Millisecond

// holdBatch bounds the hold records of one transaction.
const holdBatch = 256

// writeBatch writes hs in one transaction when the store can, else (or
// when one record sinks the batch) one at a time.
func (w *holdWriter) writeBatch(hs []pool.HoldRecord) error {
	b, ok := w.store.(store.Batches)
	if !ok || len(hs) == 1 {
		var err error
		for _, h := range hs {
			err = errors.Join(err, w.write(h))
		}
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := b.WriteBatch(ctx, store.Batch{Holds: hs})
	if errors.Is(err, store.ErrInvalid) || errors.Is(err, store.ErrConflict) {
		err = nil
		for _, h := range hs {
			err = errors.Join(err, w.write(h))
		}
		return err
	}
	if err != nil {
		w.log.Error("dni: writing hold history", "records", len(hs), "err", err)
	}
	return err
}

func (w *holdWriter) write(h pool.HoldRecord) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return w.recordIn(ctx, h)
}

func (w *holdWriter) recordIn(ctx context.Context, h pool.HoldRecord) error {
	err := w.store.RecordHold(ctx, h)
	if err != nil {
		// The allocator still holds recent history in memory; the store
		// only misses it for audits and for calls after that memory rolls.
		w.log.Error("dni: writing hold history", "number", h.Number, "session", h.SessionID, "err", err)
	}
	return err
}

// close stops the queue, waits for run to finish and writes what is left,
// giving up once a write times out.
func (w *holdWriter) close() {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return
	}
	w.closed = true
	close(w.queue)
	close(w.stopping)
	w.mu.Unlock()
	w.runs.Wait()
	w.writeAside()
	for h := range w.queue {
		if err := w.write(h); errors.Is(err, context.DeadlineExceeded) {
			// The store stopped answering: each record left would wait
			// out its timeout too, keeping the process from stopping.
			left := len(w.queue)
			w.log.Error("dni: closing: store not answering; hold history not saved", "records", left)
			for range w.queue {
			}
			return
		}
	}
}
