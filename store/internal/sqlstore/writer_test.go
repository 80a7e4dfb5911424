package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"
)

// sqliteEngine is an engine in the SQLite dialect (SerializeWrites) over
// a new file with one table, w, and the number of writes it reported
// through Options.Wrote.
func sqliteEngine(t *testing.T) (*Engine, *atomic.Int64) {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "writer.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	var wrote atomic.Int64
	e := New(db, SQLite(), Options{Wrote: func() { wrote.Add(1) }})
	t.Cleanup(func() { _ = e.Close() }) // before db.Close: cleanups run last first
	_, err = e.exec(t.Context(), "CREATE TABLE w (n INTEGER NOT NULL)")
	require.NoError(t, err)
	wrote.Store(0)
	return e, &wrote
}

func insert(ctx context.Context, n int) func(tx *sql.Tx) error {
	return func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO w (n) VALUES (?)", n)
		return err
	}
}

func countRows(t *testing.T, e *Engine, where string) int {
	t.Helper()
	var n int
	require.NoError(t, e.db.QueryRowContext(t.Context(), "SELECT count(*) FROM w WHERE "+where).Scan(&n))
	return n
}

// A transaction whose context ends inside it is rolled back by
// database/sql on a goroutine of its own; the next write must not start
// on that connection before the rollback ("cannot start a transaction
// within a transaction"). Repeated, since it is a race.
func TestWriteAfterATransactionCutInsideItSucceeds(t *testing.T) {
	e, wrote := sqliteEngine(t)
	bg := context.Background()
	const rounds = 200
	for i := range rounds {
		ctx, cancel := context.WithCancel(bg)
		err := e.tx(ctx, func(tx *sql.Tx) error {
			if err := insert(ctx, -1)(tx); err != nil {
				return err
			}
			cancel() // COMMIT now finds ctx done
			return nil
		})
		// context.Canceled, or sql.ErrTxDone once the rollback came first.
		require.Error(t, err, "round %d", i)
		require.NoError(t, e.tx(bg, insert(bg, i)), "round %d: the write after the cut one", i)
	}
	assert.Equal(t, rounds, countRows(t, e, "n >= 0"))
	assert.Zero(t, countRows(t, e, "n < 0"), "no cut transaction committed")
	assert.Equal(t, int64(rounds), wrote.Load(), "Wrote after each committed write only")
}

// Every write, a transaction or a lone statement, runs on one connection:
// a temporary table, which only the connection that made it sees, is
// there for each of them, while another connection is taken from the
// handle and does not see it.
func TestSerializedWritesRunOnOneConnection(t *testing.T) {
	e, _ := sqliteEngine(t)
	ctx := t.Context()
	_, err := e.exec(ctx, "CREATE TEMP TABLE seen (n INTEGER)")
	require.NoError(t, err)

	// Held, so that a write taking a connection from the handle would
	// have to open another one.
	other, err := e.db.Conn(ctx)
	require.NoError(t, err)
	defer other.Close()
	_, err = other.ExecContext(ctx, "INSERT INTO seen (n) VALUES (0)")
	require.ErrorContains(t, err, "no such table", "the temporary table is the writer's connection's")

	_, err = e.exec(ctx, "INSERT INTO seen (n) VALUES (1)")
	require.NoError(t, err)
	require.NoError(t, e.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO seen (n) VALUES (2)")
		return err
	}))
	var n int
	require.NoError(t, e.tx(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, "SELECT count(*) FROM seen").Scan(&n)
	}))
	assert.Equal(t, 2, n)
	assert.Equal(t, 2, e.db.Stats().InUse, "the writer's connection, pinned, and the test's")
}

// Close lets the writer's connection go back to the handle; the engine
// writes again afterwards, on a connection it takes anew.
func TestCloseReleasesTheWritersConnection(t *testing.T) {
	e, _ := sqliteEngine(t)
	ctx := t.Context()
	require.NoError(t, e.tx(ctx, insert(ctx, 1)))
	require.Equal(t, 1, e.db.Stats().InUse, "pinned between writes")
	require.NoError(t, e.Close())
	assert.Zero(t, e.db.Stats().InUse)
	require.NoError(t, e.tx(ctx, insert(ctx, 2)))
	assert.Equal(t, 2, countRows(t, e, "n > 0"))
}

// Wrote follows each write that committed, a transaction or a statement,
// and no write that failed or rolled back.
func TestWroteFollowsCommittedWritesOnly(t *testing.T) {
	e, wrote := sqliteEngine(t)
	ctx := t.Context()
	_, err := e.exec(ctx, "INSERT INTO w (n) VALUES (1)")
	require.NoError(t, err)
	require.NoError(t, e.tx(ctx, insert(ctx, 2)))
	assert.Equal(t, int64(2), wrote.Load())

	_, err = e.exec(ctx, "INSERT INTO w (n) VALUES (NULL)")
	require.Error(t, err, "NOT NULL")
	refused := errors.New("refused")
	require.ErrorIs(t, e.tx(ctx, func(tx *sql.Tx) error {
		if err := insert(ctx, 3)(tx); err != nil {
			return err
		}
		return refused
	}), refused)
	assert.Equal(t, int64(2), wrote.Load(), "nothing more committed")
	assert.Equal(t, 2, countRows(t, e, "n > 0"))
}
