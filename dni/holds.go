package dni

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/store"
)

// holdWriter writes the allocator's hold records through to the store
// without making the allocator wait on it: records go into a queue that one
// goroutine drains. When the queue is full, or after close, a record is
// written on the caller's goroutine instead, so nothing is ever dropped.
// The goroutine starts with the first record and close drains and stops it.
type holdWriter struct {
	store store.Leases
	log   *slog.Logger
	queue chan pool.HoldRecord
	done  chan struct{}

	mu      sync.RWMutex // write-held only to start the goroutine and to close
	running bool
	closed  bool
}

const holdQueueSize = 4096

func newHoldWriter(s store.Leases, log *slog.Logger) *holdWriter {
	return &holdWriter{store: s, log: log, queue: make(chan pool.HoldRecord, holdQueueSize), done: make(chan struct{})}
}

func (w *holdWriter) record(h pool.HoldRecord) {
	w.mu.RLock()
	if !w.running && !w.closed {
		w.mu.RUnlock()
		w.mu.Lock()
		if !w.running && !w.closed {
			w.running = true
			go w.run()
		}
		w.mu.Unlock()
		w.mu.RLock()
	}
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
		w.write(h)
	}
}

func (w *holdWriter) run() {
	defer close(w.done)
	for h := range w.queue {
		w.write(h)
	}
}

func (w *holdWriter) write(h pool.HoldRecord) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := w.store.RecordHold(ctx, h); err != nil {
		// The allocator still holds recent history in memory; the store
		// only misses it for audits and for calls after that memory rolls.
		w.log.Error("dni: writing hold history", "number", h.Number, "session", h.SessionID, "err", err)
	}
}

// close drains the queue into the store and stops the goroutine.
func (w *holdWriter) close() {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return
	}
	w.closed = true
	close(w.queue)
	running := w.running
	w.mu.Unlock()
	if running {
		<-w.done
	}
}
