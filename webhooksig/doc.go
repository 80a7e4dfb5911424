// Package webhooksig signs and verifies calltrack's timestamped webhook
// signatures, so that a receiver written in Go can check what calltrack
// sends without importing the sender.
//
// # Scheme
//
// The signature travels in one header (the sender names it, e.g.
// Calltrack-Signature):
//
//	t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
//
// The scheme follows Stripe's: the timestamp is signed with the body, so a
// captured request cannot be replayed once it is older than the tolerance.
// A header may carry several v1 entries, one per secret, while a secret is
// rotated; it verifies when any one of them matches. Parts are separated by
// commas, spaces around them are ignored, and keys other than t and v1 are
// ignored so that a later scheme version can be added beside v1.
//
// Receivers in other languages compute the HMAC over the raw body bytes
// exactly as received, compare it in constant time with each v1 entry, then
// check that t lies within five minutes of their clock.
//
// # Errors
//
// [Verify] returns nil or exactly one of these sentinels (wrapped with
// detail), to be checked with errors.Is: [ErrNoSecret], [ErrMissingSignature],
// [ErrMissingTimestamp], [ErrMalformedSignature], [ErrBadSignature],
// [ErrStaleTimestamp]. The other webhook verifiers of calltrack (package
// chat, and export/webhook) return the same sentinels under their own names.
//
// The signature is checked before the timestamp, so [ErrStaleTimestamp]
// always means a genuine request that is too old or too new (a replay or a
// clock out of step), never a forgery.
//
// [Sign] makes signatures for senders and for receivers' test fixtures.
package webhooksig
