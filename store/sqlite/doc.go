// Package sqlite is the embedded default [store.Store]: one SQLite file on
// modernc.org/sqlite, pure Go without cgo.
//
// # Opening
//
// [Open] opens a file with the settings the store relies on (WAL, a busy
// timeout, foreign keys, IMMEDIATE write transactions) and migrates it.
// The package registers the modernc.org/sqlite driver (name "sqlite")
// itself, so this one import is all it takes:
//
//	st, err := sqlite.Open(ctx, "calltrack.db", sqlite.Config{})
//	if err != nil { ... }
//	defer st.Close()
//
// [New] wraps a *sql.DB you configured yourself; call [Store.Migrate]
// before use.
//
// # One writer
//
// SQLite lets one transaction write at a time. The store serialises its
// write transactions on a mutex inside the process, so they queue in Go
// instead of spinning on SQLITE_BUSY, while reads run in parallel on WAL
// snapshots. Writers in other processes are held off by the busy timeout;
// a write that still meets SQLITE_BUSY is retried a few times with backoff
// (every store write is idempotent, so retries are safe).
//
// # Schema and migrations
//
// The schema is embedded as versioned .sql files and applied by
// [Store.Migrate], which records each version in schema_migrations and does
// nothing for versions already there. Times are INTEGER microseconds since
// the Unix epoch in UTC. The SQL logic is shared with store/postgres; only
// the dialect differs (see the store package documentation).
//
// # Performance
//
// HoldersAt reads one range of the holds table, which is clustered by
// (number, held_from, session_id) and bounded below by the longest closed
// hold of that number, so its cost does not grow with history. See
// bench_test.go for the 1,000,000-hold benchmark and how to run it.
package sqlite
