package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/attriqs/calltrack/store"
)

//go:embed migrations
var migrations embed.FS

// Dialect is what differs between two SQL databases, as data.
type Dialect struct {
	// Name names the dialect in errors ("sqlite", "postgres").
	Name string
	// Dollar selects $1-style placeholders; otherwise '?' is used. The
	// engine writes every statement with '?' and rebinds it once.
	Dollar bool
	// Migrations holds the dialect's NNNN_name.sql files.
	Migrations fs.FS
	// ForUpdate is appended to a SELECT that reads a row the same
	// transaction rewrites (" FOR UPDATE"); empty where writers are
	// serialised anyway.
	ForUpdate string
	// SkipLocked is appended to the SELECT that picks outbox messages to
	// claim (" FOR UPDATE SKIP LOCKED"), so concurrent claimers take
	// different rows without waiting; empty where writers are serialised.
	SkipLocked string
	// LockIdentities, when set, runs first in every transaction that changes
	// the identity graph, serialising merges across connections and
	// processes.
	LockIdentities string
	// LockMigrations, when set, runs first in every migration transaction.
	LockMigrations string
	// SerializeWrites makes the engine run one write transaction at a time
	// in this process: SQLite has a single writer, and waiting on a Go mutex
	// is cheaper and fairer than busy retries.
	SerializeWrites bool
	// CacheStatements keeps reads prepared on the handle. SQLite parses and
	// plans every unprepared statement again; pgx caches prepared
	// statements per connection by itself, so PostgreSQL needs no help.
	CacheStatements bool
	// ArrayBatches makes WriteBatch one statement over arrays (INSERT ...
	// SELECT FROM unnest(...) in WITH clauses): one round trip and one
	// statement text for any batch size. Without it each row runs a
	// cached prepared statement, which costs an embedded database less
	// than parsing one long multi-row statement.
	ArrayBatches bool
	// NotNull names the column ("table.column") whose NOT NULL constraint
	// err reports, "" for other errors. ArrayBatches needs it to tell a
	// conflicting record from an invalid one.
	NotNull func(err error) string
	// Explain prefixes a query to show its plan.
	Explain string
	// Snapshot begins a transaction whose reads all see one snapshot, for
	// reports made of several reads. SQLite's deferred transaction already
	// does in WAL mode; PostgreSQL's default (read committed) does not.
	Snapshot sql.TxOptions
	// Transient reports errors worth retrying: a connection lost, the
	// database busy, a serialisation failure. Nil means none are.
	Transient func(error) bool
	// Refused reports errors in which the database refuses the record
	// itself (a value out of range, bytes a text column cannot hold, a
	// constraint): retrying cannot help, so the engine wraps them with
	// store.ErrInvalid for callers to dead-letter. Nil means none are.
	Refused func(error) bool
	// BeforeRetry, when set, runs after a transient failure and before the
	// next try. PostgreSQL uses it to drop idle connections when one was
	// found dead: they were likely cut by the same restart, and each retry
	// would otherwise pick up the next dead one.
	BeforeRetry func(error)
}

// SQLite returns the SQLite dialect; the adapter adds Transient.
func SQLite() Dialect {
	sub, _ := fs.Sub(migrations, "migrations/sqlite")
	return Dialect{Name: "sqlite", Migrations: sub, SerializeWrites: true, CacheStatements: true,
		Explain: "EXPLAIN QUERY PLAN "}
}

// Postgres returns the PostgreSQL dialect; the adapter adds Transient.
func Postgres() Dialect {
	sub, _ := fs.Sub(migrations, "migrations/postgres")
	return Dialect{
		Name: "postgres", Dollar: true, Migrations: sub, ForUpdate: " FOR UPDATE",
		SkipLocked:   " FOR UPDATE SKIP LOCKED",
		ArrayBatches: true,
		Explain:      "EXPLAIN (ANALYZE, BUFFERS) ",
		// Arbitrary fixed keys, one per purpose; transaction-scoped.
		LockIdentities: "SELECT pg_advisory_xact_lock(4242001)",
		LockMigrations: "SELECT pg_advisory_xact_lock(4242000)",
		Snapshot:       sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true},
	}
}

// Retry is how the engine retries operations that failed with a transient
// error. Every store write is idempotent, so a retry after an ambiguous
// failure (the connection dropped around COMMIT) cannot duplicate anything.
type Retry struct {
	// Attempts is the total number of tries; zero means 4.
	Attempts int
	// Backoff is the wait before the second try, doubled before each later
	// one; zero means 50ms (so 50, 100, 200ms: about 350ms in all).
	Backoff time.Duration
}

// Options configure an [Engine]. The zero value means the documented
// defaults.
type Options struct {
	Retry Retry
	// Now is the clock used for creation times and for calls whose events
	// carry no time; nil means time.Now.
	Now func() time.Time
	// Wrote, when set, is called after each write that committed; it must
	// be fast (SQLite's checkpointer only notes that there is work).
	Wrote func()
}

// Engine implements store.Store over a *sql.DB in one [Dialect].
type Engine struct {
	db    *sql.DB
	d     Dialect
	opt   Options
	wmu   sync.Mutex
	wconn *sql.Conn // with SerializeWrites, the connection writes run on; under wmu
	binds sync.Map  // query with '?' -> rebound query
	stmts sync.Map  // rebound query -> *sql.Stmt, with CacheStatements
}

var _ store.Store = (*Engine)(nil)

// New returns an engine over db. It does no I/O; call [Engine.Migrate]
// before use.
func New(db *sql.DB, d Dialect, opt Options) *Engine {
	if opt.Retry.Attempts <= 0 {
		opt.Retry.Attempts = 4
	}
	if opt.Retry.Backoff <= 0 {
		opt.Retry.Backoff = 50 * time.Millisecond
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Engine{db: db, d: d, opt: opt}
}

// DB returns the handle the engine runs on.
func (e *Engine) DB() *sql.DB { return e.db }

// q rebinds a '?' query for the dialect.
func (e *Engine) q(query string) string {
	if !e.d.Dollar {
		return query
	}
	if v, ok := e.binds.Load(query); ok {
		return v.(string)
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	out := b.String()
	e.binds.Store(query, out)
	return out
}

// retry runs op until it succeeds, fails with a non-transient error, or
// the attempts are spent.
func (e *Engine) retry(ctx context.Context, op func() error) error {
	wait := e.opt.Retry.Backoff
	var err error
	for attempt := 1; ; attempt++ {
		err = op()
		if err != nil && e.d.Refused != nil && !errors.Is(err, store.ErrInvalid) && !errors.Is(err, store.ErrConflict) && e.d.Refused(err) {
			return fmt.Errorf("%w: %w", store.ErrInvalid, err)
		}
		if err == nil || attempt >= e.opt.Retry.Attempts || !e.transient(err) {
			return err
		}
		if e.d.BeforeRetry != nil {
			e.d.BeforeRetry(err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.Join(err, ctx.Err())
		case <-t.C:
		}
		wait *= 2
	}
}

func (e *Engine) transient(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if errors.Is(err, store.ErrInvalid) || errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
		return false
	}
	return e.d.Transient != nil && e.d.Transient(err)
}

// tx runs fn in a write transaction, retried on transient errors.
func (e *Engine) tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return e.retry(ctx, func() error {
		var tx *sql.Tx
		var err error
		if e.d.SerializeWrites {
			e.wmu.Lock()
			defer e.wmu.Unlock()
			var c *sql.Conn
			if c, err = e.writer(ctx); err == nil {
				tx, err = c.BeginTx(ctx, nil)
			}
		} else {
			tx, err = e.db.BeginTx(ctx, nil)
		}
		if err != nil {
			e.checkWriter(ctx, err)
			return fmt.Errorf("store/%s: begin: %w", e.d.Name, err)
		}
		if err := fn(tx); err != nil {
			_ = tx.Rollback()
			e.checkWriter(ctx, err)
			return err
		}
		if err := tx.Commit(); err != nil {
			e.checkWriter(ctx, errCommit)
			return fmt.Errorf("store/%s: commit: %w", e.d.Name, err)
		}
		e.wrote()
		return nil
	})
}

// writer returns the one connection serialised writes run on, opening it
// on first use. SQLite drops a connection's whole page cache when another
// connection has written since its last transaction: a writer that moved
// between the handle's connections would read its indexes from the file
// again on most commits. e.wmu is held.
func (e *Engine) writer(ctx context.Context) (*sql.Conn, error) {
	if e.wconn == nil {
		c, err := e.db.Conn(ctx)
		if err != nil {
			return nil, err
		}
		e.wconn = c
	}
	return e.wconn, nil
}

// errCommit marks a failed COMMIT for checkWriter.
var errCommit = errors.New("commit failed")

// checkWriter lets the writer's connection go when a write on it failed
// in a way that may leave it unusable, so the next write takes another:
// the connection is bad, a COMMIT failed, or ctx ended (database/sql then
// rolls the transaction back on a goroutine of its own, and a BEGIN on
// the same connection could come first). Close waits for that rollback.
// e.wmu is held.
func (e *Engine) checkWriter(ctx context.Context, err error) {
	if e.wconn == nil || err == nil {
		return
	}
	if ctx.Err() != nil || errors.Is(err, errCommit) || errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) {
		_ = e.wconn.Close()
		e.wconn = nil
	}
}

func (e *Engine) wrote() {
	if e.opt.Wrote != nil {
		e.opt.Wrote()
	}
}

// exec runs one write statement outside an explicit transaction.
func (e *Engine) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	var res sql.Result
	err := e.retry(ctx, func() error {
		var err error
		if e.d.SerializeWrites {
			e.wmu.Lock()
			defer e.wmu.Unlock()
			var c *sql.Conn
			if c, err = e.writer(ctx); err == nil {
				res, err = c.ExecContext(ctx, e.q(query), args...)
			}
			e.checkWriter(ctx, err)
		} else {
			res, err = e.db.ExecContext(ctx, e.q(query), args...)
		}
		if err == nil {
			e.wrote()
		}
		return err
	})
	return res, err
}

// prepared returns the cached prepared statement for a rebound query.
func (e *Engine) prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	if v, ok := e.stmts.Load(query); ok {
		return v.(*sql.Stmt), nil
	}
	st, err := e.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if v, loaded := e.stmts.LoadOrStore(query, st); loaded {
		_ = st.Close()
		return v.(*sql.Stmt), nil
	}
	return st, nil
}

func (e *Engine) dbQuery(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if !e.d.CacheStatements {
		return e.db.QueryContext(ctx, query, args...)
	}
	st, err := e.prepared(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

func (e *Engine) dbQueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if e.d.CacheStatements {
		if st, err := e.prepared(ctx, query); err == nil {
			return st.QueryRowContext(ctx, args...)
		}
	}
	return e.db.QueryRowContext(ctx, query, args...)
}

// Close releases the cached prepared statements and the writer's
// connection; the handle stays open. The engine remains usable and
// prepares again on demand.
func (e *Engine) Close() error {
	var errs []error
	e.wmu.Lock()
	if e.wconn != nil {
		errs = append(errs, e.wconn.Close())
		e.wconn = nil
	}
	e.wmu.Unlock()
	e.stmts.Range(func(k, v any) bool {
		e.stmts.Delete(k)
		errs = append(errs, v.(*sql.Stmt).Close())
		return true
	})
	return errors.Join(errs...)
}

// query runs a read and hands every row to scan, retried as a whole on
// transient errors.
func (e *Engine) query(ctx context.Context, scan func(*sql.Rows) error, query string, args ...any) error {
	return e.retry(ctx, func() error {
		rows, err := e.dbQuery(ctx, e.q(query), args...)
		if err != nil {
			return err
		}
		return eachRow(rows, scan)
	})
}

// queryTx runs a read inside tx and hands every row to scan.
func (e *Engine) queryTx(ctx context.Context, tx *sql.Tx, scan func(*sql.Rows) error, query string, args ...any) error {
	rows, err := tx.QueryContext(ctx, e.q(query), args...)
	if err != nil {
		return err
	}
	return eachRow(rows, scan)
}

// eachRow hands every row to scan, then closes rows.
func eachRow(rows *sql.Rows, scan func(*sql.Rows) error) error {
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// queryRow reads one row; sql.ErrNoRows becomes store.ErrNotFound wrapped
// with what.
func (e *Engine) queryRow(ctx context.Context, what string, dest []any, query string, args ...any) error {
	err := e.retry(ctx, func() error {
		return e.dbQueryRow(ctx, e.q(query), args...).Scan(dest...)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return err
}

// Migrate applies the dialect's migrations that are not yet recorded in
// schema_migrations, in version order, each in its own transaction with
// its record. Running it again is a no-op.
func (e *Engine) Migrate(ctx context.Context) error {
	files, err := fs.Glob(e.d.Migrations, "*.sql")
	if err != nil {
		return err
	}
	slices.Sort(files)
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".sql")
		num, _, _ := strings.Cut(name, "_")
		version, err := strconv.ParseInt(num, 10, 64)
		if err != nil {
			return fmt.Errorf("store/%s: migration %s: name must start with a version number", e.d.Name, f)
		}
		script, err := fs.ReadFile(e.d.Migrations, f)
		if err != nil {
			return err
		}
		err = e.tx(ctx, func(tx *sql.Tx) error {
			if e.d.LockMigrations != "" {
				if _, err := tx.ExecContext(ctx, e.d.LockMigrations); err != nil {
					return err
				}
			}
			if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
				version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
				return err
			}
			var one int
			err := tx.QueryRowContext(ctx, e.q(`SELECT 1 FROM schema_migrations WHERE version = ?`), version).Scan(&one)
			if err == nil {
				return nil // already applied
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			if _, err := tx.ExecContext(ctx, string(script)); err != nil {
				return fmt.Errorf("store/%s: migration %s: %w", e.d.Name, name, err)
			}
			_, err = tx.ExecContext(ctx, e.q(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`),
				version, name, e.opt.Now().UnixMicro())
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// Migration is one applied migration.
type Migration struct {
	Version   int64
	Name      string
	AppliedAt time.Time
}

// Migrations lists the applied migrations in version order.
func (e *Engine) Migrations(ctx context.Context) ([]Migration, error) {
	var out []Migration
	err := e.query(ctx, func(r *sql.Rows) error {
		var m Migration
		var at int64
		if err := r.Scan(&m.Version, &m.Name, &at); err != nil {
			return err
		}
		m.AppliedAt = time.UnixMicro(at).UTC()
		out = append(out, m)
		return nil
	}, `SELECT version, name, applied_at FROM schema_migrations ORDER BY version`)
	return out, err
}

// ---- value conversions

// micro is t as stored: microseconds since the epoch, UTC.
func micro(t time.Time) int64 { return t.UnixMicro() }

// nullMicro is micro, or NULL for the zero time.
func nullMicro(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

func fromMicro(v int64) time.Time { return time.UnixMicro(v).UTC() }

func fromNullMicro(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMicro(v.Int64)
}
