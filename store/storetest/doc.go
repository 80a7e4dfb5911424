// Package storetest is the conformance suite every [store.Store] adapter
// passes: one call per adapter.
//
// # Usage
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store {
//			return memstore.New()
//		})
//	}
//
// # What it checks
//
// [Run] runs one named subtest per contract sentence of the store role
// interfaces, each on a fresh store: round trips in UTC with microsecond
// precision, idempotent writes by natural id, [store.ErrNotFound] and
// [store.ErrConflict], ordering of every list, half-open periods, call
// status convergence over every order of a call's callbacks, identity
// merges that keep both histories, retention cut-off, complete erasure of a
// person, validation errors that name the field and write nothing, and
// parallel writers on one call, one person and one hold losing no update.
// On stores that implement the optional [store.Outbox] role (the three
// adapters here do; others skip those cases) it checks enqueue
// idempotency, the conversion and its messages committed together or not
// at all, claims in due order with leases that come back when they run out,
// parallel claimers never sharing a message, failures accepted only from
// the holding claim, dead letters, requeue, status queries and retention.
//
// The base time of the fixtures lies outside UTC and carries nanoseconds, so
// every comparison also checks the zone and the precision.
package storetest
