// Package provider is the provider-neutral side of call tracking: the
// [CallEvent] a telephony webhook becomes, the [Forward] routing answer
// that connects the caller to the real business line, the [Provider]
// interface each vendor adapter implements, and the webhook [Handler] that
// ties them together without ever letting storage delay a caller.
//
// provider is a leaf package: of calltrack it imports only the leaf
// package phone, whose rule every adapter applies to numbers. It
// records calls through [CallRecorder], which it declares for its
// consumers to implement.
//
// # Adapters
//
// One subpackage per vendor: provider/twilio, provider/telnyx,
// provider/vonage, provider/plivo, provider/signalwire (reuses the Twilio
// algorithm under its own header and key) and provider/bandwidth. Each
// verifies the vendor's own signature scheme with pure functions and
// exports a signer for fixtures. provider/fake is a documented dialect for
// tests and simulation; provider/providertest is the conformance suite
// every adapter passes.
//
// Only Twilio publishes a Go SDK on the module proxy (twilio-go). Its
// request validator returns a bare bool (no way to tell a missing header
// from a wrong secret), keeps only the first value of repeated form
// parameters, and the module pulls in etree, golang-jwt, gomock,
// localtunnel and pkg/errors; the REST client is generated code of about
// 27 MB. The algorithms are short and published, so every adapter
// implements them here and is tested against the vendors' own published
// vectors where they exist.
//
// # Signature failures
//
// Verifiers return one sentinel per failure: [ErrMissingSignature],
// [ErrMissingTimestamp], [ErrMissingNonce], [ErrMalformedSignature],
// [ErrBadSignature], [ErrBodyHashMismatch], [ErrStaleTimestamp],
// [ErrNoSecret]. Handlers answer all of them with 403. Verification is
// mandatory; [HandlerConfig.InsecureSkipVerify] turns it off for local
// development and logs a warning when it does.
//
// # The answer never waits on storage
//
// [Handler] verifies, parses, writes the routing answer, flushes it, and
// only then gives the event to an [Ingest], which records it on a
// background goroutine. If the recorder fails, the event goes to a
// [Spool]: an append-only file in a local directory, each record
// length-prefixed and CRC-32C checked, fsynced before Append returns. The
// Ingest replays the spool in order until the recorder accepts it, and a
// new Ingest over the same directory (after a restart) picks up where the
// last one stopped. Replays may repeat an event after a crash; the
// CallRecorder contract (an idempotent upsert through [Merge]) absorbs
// that, so each call is stored once.
//
// # Converging call state
//
// Status callbacks arrive late, twice, or out of order. [Merge] folds
// events by [Status.Rank] so "ringing" never overwrites "completed", and
// keeps every fact any event carried. Stores call it inside their upsert.
//
// # Whisper
//
// Vendors fetch the whisper played to the business side from a URL. A
// Handler serves it itself: it points [Forward.WhisperURL] at its own URL
// with the [WhisperParam] query parameter and answers the vendor's signed
// fetch of that URL with [Provider.RenderWhisper].
//
// # Benchmarks
//
//	go test -run '^$' -bench . -benchmem ./provider/
//
// BenchmarkInboundWebhook is verify + parse + render of one inbound call
// per vendor; BenchmarkRoutingAnswer is the whole Handler with the store
// up and with every event going to the fsynced spool. On the 2-vCPU
// development machine, quiet run (shared and noisy: re-measure):
//
//	vendor       ns/op    allocs/op
//	fake          8400       32
//	bandwidth    16500       42
//	vonage       23800       55
//	plivo        25000       64
//	twilio       33500       75
//	signalwire   37900       77
//	telnyx      140200       47   (Ed25519 verification dominates)
//
//	routing answer, store up     22000–28500 ns/op, 67 allocs/op
//	routing answer, store down   32500–33900 ns/op, 64 allocs/op (1.2–1.5x)
//
// Spooling costs one fsync per batch of queued events (group commit), on
// the background goroutine, so a failing store does not reach the answer.
package provider
