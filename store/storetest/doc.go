// Package storetest is the conformance suite every [store.Store] adapter
// passes.
//
// # Using the suite
//
// An adapter's test is one call to [Run] with a [Factory] and [Features]:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store {
//			return memstore.New()
//		}, storetest.Features{Outbox: true})
//	}
//
// The factory returns a fresh, empty store for each case and registers its
// clean-up with t.Cleanup. [Features] declares the optional roles the store
// implements (today only [store.Outbox]) and, in Dump, how the erasure case
// reads everything the store holds ([DumpSQL] for a SQL store,
// [DumpMemory] for one in memory). A declared role is checked like
// any other, and every one of its cases fails when the store does not
// implement it; an undeclared one is said once in the test log, and Run
// fails if the store implements it anyway, so no role the application will
// find by type assertion goes unchecked.
//
// # What it checks
//
// Subtests are named role/rule, one group per role interface of package
// store (Sessions, Leases, Calls, CallRecords, Attributions, Identities,
// Touchpoints, Conversions, Outcomes, Journeys, Spends, Retention, and
// Outbox when declared),
// plus Store and Concurrency for the rules every role shares. Each case
// is named after the sentence of the role's doc comment it enforces, such
// as Calls/RecordCallConvergesInEveryOrderLateRingingNeverOverwritesCompleted
// or Outbox/MarkFailedRetriesOrDeadLettersForTheHoldingClaimOnly.
//
// Together they cover round trips in UTC with microsecond precision,
// idempotent writes by natural id, [store.ErrNotFound] and
// [store.ErrConflict], validation errors that name the field and write
// nothing, the order of every list and empty lists on no match, half-open
// periods, call status convergence over every order of a call's callbacks,
// identity merges that keep both histories, journeys built without writing,
// the retention cut-off, complete erasure of a person (written through
// every path, then every value the store holds searched for theirs with
// [Features.Dump]), caller numbers kept in their keyed form, and parallel
// writers on one call, one person and one hold losing no update. For the
// Outbox: enqueue idempotency, the conversion and its messages committed
// together or not at all, claims in due order with leases that come back
// when they run out, parallel claimers never sharing a message, failures
// accepted only from the holding claim, dead letters, requeue, status
// queries, retention and the erasure of a call's messages.
//
// Time is fixed, not read: the fixtures' base time lies outside UTC and
// carries nanoseconds, so every comparison also checks the zone and the
// precision. Only the two rules about the store's own clock (an outbox
// message's default creation time and the filing time of a call with no
// time of its own) compare with the wall clock, with generous slack.
package storetest
