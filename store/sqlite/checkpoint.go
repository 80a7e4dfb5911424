package sqlite

import (
	"context"
	"database/sql"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// checkpointer copies the write-ahead log into the database file from a
// goroutine of its own, so that the writer's commits do not pay for it.
// Left to SQLite, the commit that takes the log past wal_autocheckpoint
// pages runs the checkpoint, and its fsyncs, while every other write
// waits (18 % of the writer's time under the visitor API's load). A
// passive checkpoint runs beside the writer; the log's growth between
// two of them is bounded by the interval, and wal_autocheckpoint stays
// on, raised, as a backstop should this goroutine fall behind.
type checkpointer struct {
	db    *sql.DB
	log   *slog.Logger
	every time.Duration
	dirty atomic.Bool // a write committed since the last checkpoint
	stop  chan struct{}
	done  sync.WaitGroup
	once  sync.Once
}

const (
	checkpointEvery = 100 * time.Millisecond
	// checkpointBackstop is the wal_autocheckpoint Open sets, in pages:
	// far more than the log grows between two background checkpoints.
	checkpointBackstop = 10000
)

func startCheckpointer(db *sql.DB, every time.Duration, log *slog.Logger) *checkpointer {
	c := &checkpointer{db: db, log: log, every: every, stop: make(chan struct{})}
	c.done.Add(1)
	go c.run()
	return c
}

// wrote notes that there is log to copy; called after each commit.
func (c *checkpointer) wrote() {
	if !c.dirty.Load() {
		c.dirty.Store(true)
	}
}

func (c *checkpointer) run() {
	defer c.done.Done()
	t := time.NewTicker(c.every)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		if !c.dirty.Swap(false) {
			continue
		}
		// PASSIVE never waits for the writer or readers: it copies what it
		// can now and the rest next time. After an error (the disk full,
		// the handle closing) the log grows until a checkpoint succeeds,
		// here or at the backstop; the next write tries again.
		if _, err := c.db.ExecContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)"); err != nil {
			c.log.Warn("store/sqlite: background checkpoint failed; the write-ahead log grows until one succeeds", "err", err)
		}
	}
}

// close stops the goroutine and waits for it; idempotent.
func (c *checkpointer) close() {
	c.once.Do(func() { close(c.stop) })
	c.done.Wait()
}
