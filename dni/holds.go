package dni

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/store"
)

// holdWriter writes the allocator's hold records through to the store
// without making the allocator wait on it: records go into a queue that
// Service.Run drains (run), in batches (store.Batches). When the queue is full, or after close, a
// record is written on the caller's goroutine instead, so nothing is ever
// dropped; close writes what is still queued.
type holdWriter struct {
	store store.Leases
	log   *slog.Logger
	queue chan pool.HoldRecord

	mu     sync.RWMutex // write-held only to close the queue
	closed bool
	runs   sync.WaitGroup // run, while it drains
}

const holdQueueSize = 4096

func newHoldWriter(s store.Leases, log *slog.Logger) *holdWriter {
	return &holdWriter{store: s, log: log, queue: make(chan pool.HoldRecord, holdQueueSize)}
}

func (w *holdWriter) record(h pool.HoldRecord) {
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
	}
}

// run writes queued records until ctx ends or close is called: what has
// queued up while the last write ran goes in one batch.
func (w *holdWriter) run(ctx context.Context) error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.runs.Add(1)
	w.mu.Unlock()
	defer w.runs.Done()
	batch := make([]pool.HoldRecord, 0, holdBatch)
	for {
		select {
		case h, ok := <-w.queue:
			if !ok {
				return nil
			}
			batch = append(batch[:0], h)
		more:
			for len(batch) < holdBatch {
				select {
				case h, ok := <-w.queue:
					if !ok {
						break more
					}
					batch = append(batch, h)
				default:
					break more
				}
			}
			_ = w.writeBatch(batch) // logged
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

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
	w.mu.Unlock()
	w.runs.Wait()
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
