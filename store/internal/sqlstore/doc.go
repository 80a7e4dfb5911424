// Package sqlstore is the one SQL engine behind the sqlite and postgres
// store adapters: the logic of every [store.Store] method is written once
// over database/sql, and a [Dialect] value carries what differs between
// the two databases.
//
// # Dialects as data
//
// A [Dialect] says which placeholders to use (statements are written with
// '?' and rebound once for $n), where its embedded migrations are, how to
// lock a row it is about to rewrite (FOR UPDATE, or nothing where writes
// are serialised), which statement serialises identity merges and
// migrations across processes (PostgreSQL advisory locks), whether writes
// are serialised in process (SQLite's single writer), whether reads are
// kept prepared, how to ask for a query plan, and which errors are
// transient. [SQLite] and [Postgres] return the two dialects; the adapters
// add the error classification, which needs driver knowledge.
//
// # Storage conventions
//
// Times are BIGINT/INTEGER microseconds since the Unix epoch in UTC, NULL
// for the zero time: exact, identical in both databases, cheap to index and
// free of time zone ambiguity. Nested values (a session's classify.Source,
// an attribution's candidates, a touchpoint's attributes, a call's labels)
// are JSON text; a label that is not UTF-8 is refused with store.ErrInvalid
// rather than altered by the encoding. Durations are BIGINT/INTEGER
// nanoseconds. A call is one row, every field of provider.CallEvent a
// column, so its merge is one locked read and one rewrite.
// Every write runs in one transaction or one statement, so a refused or
// interrupted write leaves nothing behind.
//
// # Migrations
//
// Migrations are NNNN_name.sql files per dialect, embedded in the binary.
// [Engine.Migrate] applies, in version order, those not yet recorded in
// schema_migrations, each in its own transaction together with its record;
// a second run finds every version recorded and does nothing.
//
// # Outbox claims
//
// [Engine.ClaimOutbox] selects the due pending messages in due order and
// moves them to the end of their lease in one write transaction. On
// PostgreSQL the selection is FOR UPDATE SKIP LOCKED ([Dialect.SkipLocked]),
// so claimers in several processes take disjoint rows without waiting;
// on SQLite writes are serialised (in process by a mutex, across processes
// by the database's write lock), so the selection cannot race.
//
// # Retries
//
// Operations failing with a transient error are retried with exponential
// backoff ([Retry]); this is safe because every store write is idempotent.
package sqlstore
