// Package webhook is the export sink that POSTs each conversion or call as
// signed JSON to a URL, and the verification function receivers use.
//
// # Request
//
// One POST per message, body [Body] as JSON, with the headers
//
//	Content-Type: application/json
//	Idempotency-Key: <message id, the same on every attempt>
//	Calltrack-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
//
// The signature scheme follows Stripe's: the timestamp is signed with the
// body, so a captured request cannot be replayed later.
//
// # Answers
//
// A 2xx answer delivers the message. 4xx answers other than 408 and 429 are
// permanent: the message is dead-lettered at once. 5xx, 408, 429 (waiting
// at least its Retry-After), timeouts ([Config].Timeout, default 10s) and
// connection errors are retried with backoff by the exporter.
//
// # Receiving
//
// Verify before decoding, with the raw body. A Go receiver calls
// [webhooksig.Verify], whose package needs nothing outside the standard
// library ([VerifySignature] here is the same function):
//
//	body, _ := io.ReadAll(r.Body)
//	err := webhooksig.Verify(secret, r.Header.Get("Calltrack-Signature"), body, time.Now(), 0)
//
// Each failure has its sentinel, checked with errors.Is:
// [webhooksig.ErrMissingSignature], [webhooksig.ErrMissingTimestamp],
// [webhooksig.ErrMalformedSignature], [webhooksig.ErrBadSignature],
// [webhooksig.ErrStaleTimestamp], and [webhooksig.ErrNoSecret] for an empty
// secret. Then dedupe on the Idempotency-Key: delivery is at least once.
// [Sign] makes signatures for receivers' tests.
package webhook
