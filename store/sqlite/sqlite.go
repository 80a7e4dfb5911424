package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	sqlitedriver "modernc.org/sqlite" // also registers driver "sqlite", so Open needs no other import
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/attriqs/calltrack/store"
	"github.com/attriqs/calltrack/store/internal/sqlstore"
)

//go:generate go run ../internal/storegen

// Store is a [store.Store] and a [store.Outbox] on one SQLite database.
// Its methods are safe for concurrent use; the contract of each is in the
// store interface it implements.
type Store struct {
	engine *sqlstore.Engine // the SQL shared with store/postgres; zz_methods.go delegates to it
	owned  bool             // Close closes the handle: it came from Open
	ckpt   *checkpointer    // the checkpoints Run makes on a store from Open; nil from New
}

var (
	_ store.Store  = (*Store)(nil)
	_ store.Outbox = (*Store)(nil)
)

// Config configures [New] and [Open]. The zero value means the
// documented defaults.
type Config struct {
	// Retry is how operations that fail with SQLITE_BUSY or SQLITE_LOCKED
	// are retried.
	Retry Retry
	// Now is the clock used for creation times and for calls whose events
	// carry no time; nil means time.Now.
	Now func() time.Time
	// Logger receives the failures of the background checkpoints (at
	// Warn: the log then grows until a checkpoint succeeds); nil means
	// slog.Default().
	Logger *slog.Logger
}

// Retry is how the store retries an operation that failed with a transient
// error. Every store write is idempotent, so a retry after an ambiguous
// failure cannot duplicate anything.
type Retry struct {
	// Attempts is the total number of tries; zero (or less) means 4.
	Attempts int
	// Backoff is the wait before the second try, doubled before each later
	// one; zero (or less) means 50ms.
	Backoff time.Duration
}

func (c Config) engine() sqlstore.Options {
	return sqlstore.Options{Retry: sqlstore.Retry(c.Retry), Now: c.Now}
}

// New returns a store over db, a handle of the modernc.org/sqlite driver
// (driver name "sqlite"), or any driver speaking SQLite 3.35 or later. It
// does no I/O: call [Store.Migrate] before use. Write transactions are
// serialised inside the process; configure the handle with busy_timeout so
// other processes writing the same file wait rather than fail, and WAL so
// readers never block the writer ([Open] does both).
func New(db *sql.DB, cfg Config) *Store {
	return newStore(db, cfg.engine())
}

func newStore(db *sql.DB, opt sqlstore.Options) *Store {
	d := sqlstore.SQLite()
	d.Transient = transient
	d.Refused = refused
	return &Store{engine: sqlstore.New(db, d, opt)}
}

// Open opens (creating if needed) the SQLite file at path with the settings
// the store wants: WAL journal, busy_timeout of 5s, foreign keys on,
// synchronous=NORMAL (durable across process crashes; a power loss may
// roll back the last transactions), temp_store=MEMORY (a batch's statement
// journals stay off the disk), a page cache of up to 8 MiB per connection
// (cache_size; see cacheSize) and IMMEDIATE write transactions, so a
// writer takes the write lock when it begins rather than failing to
// upgrade later. While [Store.Run] runs, checkpoints follow the writes
// beside the writer, about every 100ms, so commits do not wait for them
// (wal_autocheckpoint is raised to 10,000 pages as a backstop). The
// package registers the modernc.org/sqlite driver
// itself, so no other import is needed. Open applies the migrations; Close
// closes the handle.
func Open(ctx context.Context, path string, cfg Config) (*Store, error) {
	if path == "" || strings.HasPrefix(path, ":memory:") || strings.HasPrefix(path, "file:") {
		return nil, errors.New("store/sqlite: Open needs a plain file path; use New with your own *sql.DB for anything else")
	}
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "busy_timeout(5000)", "foreign_keys(1)", "synchronous(NORMAL)", "temp_store(MEMORY)", "cache_size(" + cacheSize + ")",
		fmt.Sprintf("wal_autocheckpoint(%d)", checkpointBackstop)} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("store/sqlite: open %s: %w", path, err)
	}
	db.SetMaxIdleConns(maxIdleConns)
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	ckpt := newCheckpointer(db, checkpointEvery, log)
	opt := cfg.engine()
	opt.Wrote = ckpt.wrote
	s := newStore(db, opt)
	s.owned, s.ckpt = true, ckpt
	if err := s.Migrate(ctx); err != nil {
		_ = s.Close() // the checkpointer, the writer's connection, the handle
		return nil, err
	}
	return s, nil
}

// Run checkpoints the write-ahead log beside the writer until ctx ends or
// the store is closed ([store.Runner]; dni.Service.Run calls it). Without
// it, or on a store made by [New], SQLite checkpoints in the commit that
// takes the log past wal_autocheckpoint pages. It returns nil when
// closed, ctx's error when ctx ends.
func (st *Store) Run(ctx context.Context) error {
	if st.ckpt == nil {
		<-ctx.Done()
		return ctx.Err()
	}
	return st.ckpt.run(ctx)
}

// Close closes the database handle if [Open] opened it; a store made by
// [New] leaves the caller's handle open. Close is idempotent.
func (st *Store) Close() error {
	if st.ckpt != nil {
		st.ckpt.close()
	}
	err := st.engine.Close()
	if !st.owned {
		return err
	}
	return errors.Join(err, st.DB().Close())
}

// Migrate applies the schema migrations the database has not recorded
// yet, in version order, each in its own transaction with its record.
// Running it again is a no-op.
func (st *Store) Migrate(ctx context.Context) error { return st.engine.Migrate(ctx) }

// Migration is one applied schema migration.
type Migration struct {
	Version   int64     // the number its file name starts with
	Name      string    // its file name without ".sql"
	AppliedAt time.Time // when Migrate applied it, in UTC
}

// Migrations lists the applied migrations in version order.
func (st *Store) Migrations(ctx context.Context) ([]Migration, error) {
	ms, err := st.engine.Migrations(ctx)
	out := make([]Migration, len(ms))
	for i, m := range ms {
		out[i] = Migration(m)
	}
	return out, err
}

// DB returns the handle the store runs on.
func (st *Store) DB() *sql.DB { return st.engine.DB() }

// ExplainHoldersAt returns the database's plan for the query behind
// [Store.HoldersAt] with these arguments, one line per row of its EXPLAIN
// output: the benchmarks use it to show the query stays a range scan.
func (st *Store) ExplainHoldersAt(ctx context.Context, number string, at time.Time, grace time.Duration) ([]string, error) {
	return st.engine.ExplainHoldersAt(ctx, number, at, grace)
}

// cacheSize is each connection's page cache, in KiB (negative): 8 MiB.
// A larger one costs more than it saves while visits are written. At the
// end of every write transaction SQLite trims the writer's page cache, and
// a reader's cache is dropped whenever another connection has written;
// for a large cache either walks its whole hash table. With 64 MiB that
// was 15 % of a busy visit path's CPU (pcache1TruncateUnsafe), with 8 MiB
// 2.5 %; the visit path gained 6–18 % and "who held this number" lookups
// over 1,000,000 holds did not change (docs/benchmarks.md).
const cacheSize = "-8192"

// maxIdleConns is how many connections Open's handle keeps open between
// uses. database/sql's default of 2 closes the others as soon as they are
// put back, and each connection opened again starts with an empty page
// cache and unprepared statements; each kept one may hold up to its
// cache_size (8 MiB). The writer's own connection is
// pinned and not counted.
const maxIdleConns = 4

// transient reports SQLite's "busy" and "locked" results, which a retry
// after a short wait resolves. The codes are recognised by their text,
// since New accepts handles of other SQLite drivers too.
func transient(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "SQLITE_BUSY") || strings.Contains(msg, "database is locked") ||
		strings.Contains(msg, "SQLITE_LOCKED") || strings.Contains(msg, "database table is locked")
}

// refused reports SQLite refusing the record itself: a constraint, a
// value too big, a type mismatch or a parameter out of range. Retrying
// cannot help. Codes are read from this driver's errors, and from the
// text of other drivers'.
func refused(err error) bool {
	var e *sqlitedriver.Error
	if errors.As(err, &e) {
		switch e.Code() & 0xff {
		case sqlite3.SQLITE_CONSTRAINT, sqlite3.SQLITE_TOOBIG, sqlite3.SQLITE_MISMATCH, sqlite3.SQLITE_RANGE:
			return true
		}
		return false
	}
	msg := err.Error()
	return strings.Contains(msg, "constraint failed") || strings.Contains(msg, "too big") || strings.Contains(msg, "datatype mismatch")
}
