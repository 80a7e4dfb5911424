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
// # Durable before the answer, never waiting on the store
//
// [Handler] verifies and parses a webhook, then hands the event to an
// [Ingest], whose Submit appends it to a [Spool] and fsyncs before the
// answer is written: an answered webhook survives kill -9. Concurrent
// webhooks share one write and one fsync (group commit). The spool is a
// write-ahead log of framed records (magic, length, CRC-32C): damage found
// on open or on read is cut out and quarantined beside the log, resuming
// at the next intact record, and only a torn last record is truncated.
//
// [Ingest.Run], run by the host (dni.Service.Run does), delivers the log to
// the [CallRecorder] in order. Each recorder error is classed: transient errors (a connection
// lost, a timeout) are retried with backoff while the events wait in the
// log; permanent ones ([ErrRejected], [IngestConfig.IsPermanent], a panic
// in the recorder) put the event in the dead letters
// ([Ingest.DeadLetters], replayed by [Ingest.ReplayDeadLetters] after a
// fix), logged at Error. An event that fails while the next one is
// recorded is moved behind the others, so no event holds the rest back
// by more than its own retry. Replays may repeat an event after a crash;
// the CallRecorder contract (an idempotent upsert through [Merge])
// absorbs that, so each call is stored once.
//
// When the spool directory cannot be used (missing, not a directory, a
// full disk, a failed fsync), Submit keeps events in a bounded memory
// queue instead and the webhook is answered as usual; [Ingest.Health]
// says why, and the spool is reopened until it works.
//
// # Privacy: redaction and erasure
//
// [IngestConfig.Redact] rewrites each event before the ingest keeps it
// anywhere (spool, memory queue, dead letters) and before the recorder
// sees it; the Handler has already routed and answered from its own copy,
// so a Forward that shows the caller's number to the business
// (CallerIDPassthrough) still works while the number stays in memory.
// dni passes journey.RedactCall, which keys the caller's number and seals
// the raw body. [Ingest.Erase] removes the events of a person still
// waiting in the spool or in memory, and their dead letters, and rewrites
// the events that only mention them (another caller's call forwarded from
// their number loses that number and its raw body), rewriting the log
// ([Spool.Erase]); delivery pauses meanwhile, so none of what it removed
// is recorded once it returns.
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
// per vendor; BenchmarkRoutingAnswer is the whole Handler. The answer's
// latency with the spool's fsync, against the same with the spool on
// tmpfs, is measured by BenchmarkWebhookAnswer; docs/benchmarks.md has
// the figures and the commands.
package provider
