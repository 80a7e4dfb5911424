// Package providertest is the conformance suite every provider adapter
// passes, and an in-memory [MemoryRecorder] that implements the
// provider.CallRecorder contract for tests.
//
// # Using the suite
//
// An adapter's test is one call to [Run] with a [Suite]: the adapter
// configured with a known secret and clock, functions that build unsigned
// sample webhooks in the vendor's real shape, and signers (right and wrong
// secret). Each case is a subtest named after the rule it enforces, such
// as "tampered request rejected" or "duplicate events converge through the
// handler". [Features] gates the rules that only apply to some schemes
// (replay tolerance).
package providertest
