// Package postgres is the production [store.Store]: PostgreSQL on
// github.com/jackc/pgx/v5, shared by any number of app instances.
//
// # Opening
//
// The adapter takes the pool you configured; it never sees a DSN:
//
//	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
//	if err != nil { ... }
//	st := postgres.New(pool, postgres.Config{})
//	if err := st.Migrate(ctx); err != nil { ... }
//
// The tables go into the first schema of the pool's search_path, so one
// database can hold several isolated stores (the tests use a fresh schema
// per store).
//
// # One engine
//
// The store runs the same SQL engine as store/sqlite (store/internal/sqlstore)
// through pgx's database/sql adapter (stdlib.OpenDBFromPool), which borrows
// connections from your pool and keeps none idle of its own. The dialect
// supplies $n placeholders, SELECT ... FOR UPDATE for the read-merge-write
// of a call, and transaction-scoped advisory locks that serialise identity
// merges and migrations across instances.
//
// # Restarts and dropped connections
//
// Every write runs in a transaction, so a connection lost mid-write either
// committed all of it or nothing. After a server restart (or
// pg_terminate_backend) pgxpool discards the broken connections and dials
// new ones; the engine retries an operation that failed with a transient
// error ([Transient]: lost connection, admin shutdown, server starting,
// serialisation failure, deadlock) up to 4 times, waiting 50, 100 and
// 200ms. When the failure shows a connection itself was lost, the store
// first resets the pool (pgxpool's Reset, which is meant for this): a
// restart cuts every idle connection at once, and without the reset each
// retry would pick up the next dead one. Because every store write is
// idempotent, retrying one whose COMMIT may have reached the server is
// safe. Tune it with [Config].Retry. No process restart is needed.
//
// # Migrations
//
// [Store.Migrate] applies the embedded, versioned .sql files not yet listed
// in schema_migrations, each in its own transaction under an advisory lock,
// so several instances may migrate at start-up at once; running it again
// is a no-op.
//
// # Performance
//
// HoldersAt is one index range on holds (number, held_from, session_id),
// bounded below by the longest closed hold of that number, plus a partial
// index over open holds. See bench_test.go for the 1,000,000-hold
// benchmark (bulk-loaded with COPY) and how to run it.
package postgres
