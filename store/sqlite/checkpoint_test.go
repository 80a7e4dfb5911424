package sqlite

import (
	"context"
	"database/sql"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/journey"
)

// Every connection of Open's handle has the raised wal_autocheckpoint,
// not only the first: the pragma is in the DSN.
func TestOpenSetsTheCheckpointBackstopOnEveryConnection(t *testing.T) {
	ctx := t.Context()
	st, err := Open(ctx, filepath.Join(t.TempDir(), "calltrack.db"), Config{})
	require.NoError(t, err)
	defer st.Close()
	// Held at once, so each is a connection of its own.
	for i := range 3 {
		c, err := st.DB().Conn(ctx)
		require.NoError(t, err)
		defer c.Close()
		var pages int
		require.NoError(t, c.QueryRowContext(ctx, "PRAGMA wal_autocheckpoint").Scan(&pages))
		assert.Equal(t, checkpointBackstop, pages, "connection %d", i)
	}
}

// Open's handle keeps maxIdleConns connections once they are put back,
// rather than database/sql's two.
func TestOpenKeepsMaxIdleConnsConnections(t *testing.T) {
	ctx := t.Context()
	st, err := Open(ctx, filepath.Join(t.TempDir(), "calltrack.db"), Config{})
	require.NoError(t, err)
	defer st.Close()
	st.ckpt.close() // its checkpoints would borrow a connection; Close stops it again
	db := st.DB()
	conns := make([]*sql.Conn, maxIdleConns+2)
	for i := range conns {
		conns[i], err = db.Conn(ctx)
		require.NoError(t, err)
	}
	closedBefore := db.Stats().MaxIdleClosed
	for _, c := range conns {
		require.NoError(t, c.Close())
	}
	stats := db.Stats()
	assert.Equal(t, maxIdleConns, stats.Idle)
	assert.Equal(t, int64(2), stats.MaxIdleClosed-closedBefore, "only those beyond maxIdleConns closed")
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	return fi.Size()
}

// The checkpointer copies the log into the database file only after a
// write was noted (wrote): ticks without one do nothing. The database
// file's size tells, since the log holds every page written since the
// last checkpoint and the backstop keeps SQLite from checkpointing by
// itself. In a synctest bubble, ticks come when the test sleeps, and
// synctest.Wait returns once the checkpointer is waiting for the next.
func TestCheckpointerCheckpointsOnlyAfterAWrite(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "wal.db")
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=wal_autocheckpoint(10000)")
		require.NoError(t, err)
		defer db.Close()
		_, err = db.Exec("CREATE TABLE t (b BLOB)")
		require.NoError(t, err)
		for range 50 {
			_, err = db.Exec("INSERT INTO t (b) VALUES (randomblob(2000))")
			require.NoError(t, err)
		}
		before := fileSize(t, path)

		const every = time.Second
		c := newCheckpointer(db, every, slog.New(slog.DiscardHandler))
		ran := make(chan error, 1)
		go func() { ran <- c.run(context.Background()) }()
		time.Sleep(10 * every)
		synctest.Wait()
		assert.Equal(t, before, fileSize(t, path), "ten ticks and no write noted: no checkpoint")

		c.wrote()
		assert.True(t, c.dirty.Load())
		time.Sleep(every)
		synctest.Wait()
		assert.False(t, c.dirty.Load(), "the tick took the note")
		assert.Greater(t, fileSize(t, path), before+50*2000, "the log's pages copied into the file")

		c.close()
		c.close() // idempotent
		require.NoError(t, <-ran, "close ends run")
		require.NoError(t, c.run(context.Background()), "run after close returns at once")
	})
}

// Open wires the engine's writes to the checkpointer, Run checkpoints
// them, and Close (twice is safe) stops Run: the synctest bubble fails if
// any goroutine outlives Close.
func TestOpenCheckpointsAfterStoreWritesAndCloseStopsIt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		st, err := Open(ctx, filepath.Join(t.TempDir(), "calltrack.db"), Config{})
		require.NoError(t, err)
		ran := make(chan error, 1)
		go func() { ran <- st.Run(ctx) }()
		time.Sleep(checkpointEvery) // the migrations' checkpoint
		synctest.Wait()
		require.False(t, st.ckpt.dirty.Load())

		at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
		require.NoError(t, st.PutSession(ctx, journey.Session{ID: "s", VisitorID: "v", StartedAt: at, LastSeenAt: at}))
		assert.True(t, st.ckpt.dirty.Load(), "a store write is noted")
		time.Sleep(checkpointEvery)
		synctest.Wait()
		assert.False(t, st.ckpt.dirty.Load(), "and checkpointed at the next tick")

		require.NoError(t, st.Close())
		require.NoError(t, <-ran, "Close ends Run")
		require.NoError(t, st.Close())
	})
}

// openFiles counts this process's open files whose path starts with path
// (the database, its -wal and -shm files).
func openFiles(t *testing.T, path string) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd:", err)
	}
	n := 0
	for _, e := range ents {
		if l, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name())); err == nil && strings.HasPrefix(l, path) {
			n++
		}
	}
	return n
}

// An Open whose migrations fail closes every connection it opened. The
// engine's writer connection, pinned by the failed migration's
// transaction, is released only by the engine's Close, which Open's error
// path does not call: db.Close leaves a connection in use open.
func TestOpenThatFailsToMigrateLeavesNoFileOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "calltrack.db")
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	// A table Migrate cannot read: its first migration fails.
	_, err = db.Exec("CREATE TABLE schema_migrations (x INTEGER)")
	require.NoError(t, err)
	require.NoError(t, db.Close())
	require.Zero(t, openFiles(t, path))

	_, err = Open(t.Context(), path, Config{})
	require.ErrorContains(t, err, "version")
	assert.Zero(t, openFiles(t, path), "the database's files are closed")
}
