// Package store defines how calltrack persists sessions, number holds,
// calls, attributions, identities, claims, touchpoints and conversions:
// small role interfaces composed into [Store], for people writing or
// choosing an adapter.
//
// # Roles
//
// [Store] embeds [Sessions], [Leases], [Calls], [CallRecords],
// [Attributions], [Identities], [Claims], [Touchpoints], [Conversions],
// [Outcomes], [Journeys], [Spends] and [Retention]. Consumers depend on the role they need (call stitching
// needs [Leases.HoldersAt]; qualification rules read the caller history,
// [Calls.CallsBefore]). Each interface's doc comment is its contract, and
// the storetest package checks every sentence of it.
//
// A call is written in two steps: [Calls.RecordCall] merges the provider's
// event into the call and returns the merged call, and
// [CallRecords.PutCallRecord] writes what the journey package derived from
// it (attribution, caller link, touchpoint, conversion and its outbox
// messages) in one transaction. Reports read a period's journeys in one
// pass with [Journeys.JourneysBetween]. [Outcomes.SetOutcome] writes an
// outcome set by hand with the conversion it makes or retracts and its
// export adjustments in one transaction.
//
// # Outbox
//
// [Outbox] is an optional role, found by type assertion: a persistent
// queue of deliveries to export sinks (CRMs, ad platforms, webhooks).
// [Outbox.PutConversionWithOutbox] writes a conversion and the messages
// reporting it in one transaction, so a crash never keeps one without the
// other; claims lease due messages with a visibility timeout, so a crashed
// worker's messages come back. The export package delivers them. All three
// adapters implement it.
//
// # Contract shared by all roles
//
//   - Methods are safe for concurrent use and take ctx first.
//   - Times are stored and returned in UTC truncated to the microsecond
//     ([Micro]); a zero time stays zero.
//   - Writes keyed by natural ids are idempotent, so every write may be
//     retried after an error or a lost connection without duplicates.
//   - Invalid records are refused with an error wrapping [ErrInvalid] that
//     names every bad field, and nothing of the write is stored.
//   - Missing records are [ErrNotFound]; a write that contradicts what
//     identifies an existing record is [ErrConflict].
//   - Periods are half-open, from <= t < to.
//
// # Adapters
//
//   - store/memstore: in memory, standard library only; tests and demos.
//   - store/sqlite: the embedded default on modernc.org/sqlite (no cgo).
//   - store/postgres: production and several app instances, on pgx/v5.
//
// The two SQL adapters share one engine (store/internal/sqlstore): the
// logic is written once over database/sql, and a dialect value supplies
// what differs between SQLite and PostgreSQL (placeholders, migrations,
// row locking, how writers are serialised, which errors are transient).
// PostgreSQL reaches the engine through pgx's database/sql adapter over the
// caller's *pgxpool.Pool, so both adapters run the same code paths and the
// same conformance suite.
//
// # Benchmarks
//
// With 1,000,000 holds loaded (1,000 numbers, 1,000 holds each; COPY for
// PostgreSQL, multi-row INSERTs in one transaction for SQLite), the
// benchmarks time HoldersAt at random numbers and times with a 60-minute
// grace, report p50 and p99, and log the query plan:
//
//	CALLTRACK_BIG=1 go test -run '^$' -bench HoldersAt1M -benchtime 20000x ./store/sqlite/ ./store/postgres/
//	go test -run '^$' -bench 'PutSession|Select1' -benchtime 3s ./store/sqlite/ ./store/postgres/
//
// # Batches
//
// [Sessions.PutSessions] writes many sessions in one transaction; use it
// for imports and high-rate ingestion. The other roles write one record per
// call: their writes are small and each must be individually idempotent.
package store
