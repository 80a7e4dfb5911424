package sqlite

import (
	"context"
	"database/sql"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// checkpointer copies the write-ahead log into the database file beside
// the writer, so that the writer's commits do not pay for it. Left to
// SQLite, the commit that takes the log past wal_autocheckpoint pages
// runs the checkpoint, and its fsyncs, while every other write waits
// (18 % of the writer's time under the visitor API's load). While
// Store.Run runs it, a passive checkpoint follows the writes at most
// checkpointEvery later; wal_autocheckpoint stays on, raised, as a
// backstop for a host that does not call Run, or should it fall behind.
type checkpointer struct {
	db    *sql.DB
	log   *slog.Logger
	every time.Duration
	dirty atomic.Bool // a write committed since the last checkpoint

	mu      sync.Mutex
	stop    chan struct{} // closed by close
	stopped bool
	runs    sync.WaitGroup
}

const (
	checkpointEvery = 100 * time.Millisecond
	// checkpointBackstop is the wal_autocheckpoint Open sets, in pages:
	// far more than the log grows between two background checkpoints.
	checkpointBackstop = 10000
)

func newCheckpointer(db *sql.DB, every time.Duration, log *slog.Logger) *checkpointer {
	return &checkpointer{db: db, log: log, every: every, stop: make(chan struct{})}
}

// wrote notes that there is log to copy; called after each commit.
func (c *checkpointer) wrote() {
	if !c.dirty.Load() {
		c.dirty.Store(true)
	}
}

// run checkpoints after writes until ctx ends or close is called.
func (c *checkpointer) run(ctx context.Context) error {
	c.mu.Lock()
	if c.stopped {
		c.mu.Unlock()
		return nil
	}
	c.runs.Add(1)
	c.mu.Unlock()
	defer c.runs.Done()
	t := time.NewTicker(c.every)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		c.step()
	}
}

// step checkpoints if a write was noted since the last one.
func (c *checkpointer) step() {
	if !c.dirty.Swap(false) {
		return
	}
	// PASSIVE never waits for the writer or readers: it copies what it
	// can now and the rest next time. After an error (the disk full, the
	// handle closing) the log grows until a checkpoint succeeds, here or
	// at the backstop; the next write tries again.
	if _, err := c.db.ExecContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)"); err != nil {
		c.log.Warn("store/sqlite: background checkpoint failed; the write-ahead log grows until one succeeds", "err", err)
	}
}

// close stops run and waits for it; idempotent.
func (c *checkpointer) close() {
	c.mu.Lock()
	if !c.stopped {
		c.stopped = true
		close(c.stop)
	}
	c.mu.Unlock()
	c.runs.Wait()
}
