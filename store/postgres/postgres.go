package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/attriqs/calltrack/store"
	"github.com/attriqs/calltrack/store/internal/sqlstore"
)

//go:generate go run ../internal/storegen

// Store is a [store.Store] and a [store.Outbox] on a PostgreSQL database.
// Its methods are safe for concurrent use; the contract of each is in the
// store interface it implements.
type Store struct {
	engine *sqlstore.Engine // the SQL shared with store/sqlite; zz_methods.go delegates to it
	pool   *pgxpool.Pool
}

var (
	_ store.Store  = (*Store)(nil)
	_ store.Outbox = (*Store)(nil)
)

// Config configures [New]. The zero value means the documented defaults.
type Config struct {
	// Retry is how operations that fail with a [Transient] error are
	// retried.
	Retry Retry
	// Now is the clock used for creation times and for calls whose events
	// carry no time; nil means time.Now.
	Now func() time.Time
}

// Retry is how the store retries an operation that failed with a transient
// error. Every store write is idempotent, so a retry after an ambiguous
// failure (the connection dropped around COMMIT) cannot duplicate anything.
type Retry struct {
	// Attempts is the total number of tries; zero (or less) means 4.
	Attempts int
	// Backoff is the wait before the second try, doubled before each later
	// one; zero (or less) means 50ms (so 50, 100, 200ms: about 350ms in
	// all).
	Backoff time.Duration
}

func (c Config) engine() sqlstore.Options {
	return sqlstore.Options{Retry: sqlstore.Retry(c.Retry), Now: c.Now}
}

// New returns a store over pool. It does no I/O: call [Store.Migrate]
// before use. The tables live in the first schema of the pool's
// search_path. The pool stays the caller's: [Store.Close] does not close
// it.
func New(pool *pgxpool.Pool, cfg Config) *Store {
	d := sqlstore.Postgres()
	d.Transient = Transient
	d.Refused = Refused
	d.NotNull = notNull
	d.BeforeRetry = func(err error) {
		if connectionLost(err) {
			pool.Reset()
		}
	}
	// OpenDBFromPool keeps no idle connections of its own, so the pool
	// stays the one place connections live and Close order does not matter.
	return &Store{engine: sqlstore.New(stdlib.OpenDBFromPool(pool), d, cfg.engine()), pool: pool}
}

// Pool returns the pool the store runs on, for bulk work such as COPY.
func (st *Store) Pool() *pgxpool.Pool { return st.pool }

// Close releases the database/sql wrapper around the pool; the pool itself
// stays open. Close is idempotent.
func (st *Store) Close() error { return errors.Join(st.engine.Close(), st.DB().Close()) }

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

// connectionLost reports whether err means the connection itself is gone
// (terminated, server shutting down, network), as opposed to a conflict
// that a retry on the same connection would clear.
func connectionLost(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return strings.HasPrefix(pgErr.Code, "08") || strings.HasPrefix(pgErr.Code, "57P")
	}
	return Transient(err)
}

// Refused reports whether err is PostgreSQL refusing the record itself:
// a data exception (class 22: a value out of range, a NUL byte or invalid
// UTF-8 in text), an integrity constraint (class 23) or a size limit
// (class 54). Retrying such a write cannot succeed.
func Refused(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	return strings.HasPrefix(pgErr.Code, "22") || strings.HasPrefix(pgErr.Code, "23") || strings.HasPrefix(pgErr.Code, "54")
}

// notNull names the column whose NOT NULL constraint err reports
// ("table.column"), "" for any other error.
func notNull(err error) string {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "23502" {
		return ""
	}
	return pgErr.TableName + "." + pgErr.ColumnName
}

// Transient reports whether err is worth retrying: a connection lost or
// refused (a server restart, pg_terminate_backend, a network blip), the
// server shutting down or starting up, a serialisation failure or a
// deadlock.
func Transient(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case strings.HasPrefix(pgErr.Code, "08"), // connection exception
			pgErr.Code == "57P01", // admin_shutdown (pg_terminate_backend)
			pgErr.Code == "57P02", // crash_shutdown
			pgErr.Code == "57P03", // cannot_connect_now (starting up)
			pgErr.Code == "40001", // serialization_failure
			pgErr.Code == "40P01": // deadlock_detected
			return true
		}
		return false
	}
	var netErr net.Error
	var connectErr *pgconn.ConnectError
	switch {
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, sql.ErrConnDone), errors.As(err, &netErr), errors.As(err, &connectErr),
		pgconn.SafeToRetry(err):
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "conn closed") || strings.Contains(msg, "connection reset") ||
		strings.Contains(msg, "broken pipe") || strings.Contains(msg, "unexpected EOF")
}
