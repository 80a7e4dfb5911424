// Package dnitest is for tests of packages built on dni: it runs a
// [dni.Service] end to end, over HTTP, the way a host would, so a test can
// keep only what is specific to it.
//
// # Harness
//
// [New] builds a service on a memstore with the fake provider, a spool
// directory and a settable [Clock], exporting through an [export.Exporter]
// to the test's sinks, and serves its handler from an httptest server.
// [Harness.Visit] posts v1/visit as the tracker would, [Harness.Call]
// places a call with [fake.Caller], [Harness.Close] drains the service and
// [Harness.DeliverAll] delivers until nothing is due.
//
// Like the conformance suites (storetest, providertest, pooltest), it
// starts no goroutine of its own beyond the test server's.
package dnitest
