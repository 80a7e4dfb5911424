// Package export pushes conversions and calls to the places that decide
// revenue: CRMs, ad platforms and webhooks, through a persistent outbox.
//
// # Recording and delivering
//
// [Exporter.Record] writes a conversion and one outbox message per [Sink]
// in one store transaction ([store.Outbox.PutConversionWithOutbox]): a
// conversion is never stored without the deliveries it owes, and recording
// is a single store write, so call handling never waits for a receiver.
// [Exporter.Run] claims due messages, calls their sink, and records the
// outcome. [Exporter.Close] stops it and waits; nothing starts in [New].
//
// # Guarantees
//
//   - At least once. A claim leases a message for Config.Lease (a
//     visibility timeout); a process that dies mid-delivery loses nothing,
//     its messages are claimed again when the lease runs out, by the same or
//     another process (PostgreSQL claims with FOR UPDATE SKIP LOCKED, so
//     several instances share the work).
//   - Idempotency keys. A message's ID ([MessageID]: sink and conversion id)
//     is the same on every attempt and is sent to the receiver (the webhook
//     sink's Idempotency-Key header and body id), so receivers drop repeats.
//   - Retries with exponential backoff and full jitter: after attempt n the
//     wait is drawn uniformly below min(MaxDelay, BaseDelay·2^(n-1)), and is
//     at least a receiver's Retry-After. Clock and random source are
//     injectable ([Config].Now, [Config].Rand).
//   - Dead letters. A permanent error ([Permanent]; for HTTP, any 4xx but
//     408 and 429, see [HTTPError]) dead-letters a message at once; other
//     errors (5xx, 408, 429, timeouts, refused connections) are retried
//     until MaxAttempts (default 8). Dead letters keep their last error and
//     attempts; [Exporter.Requeue] sends one again.
//   - Order. An adjustment ([Adjustment]) is not sent to a sink before
//     that sink has the conversion it adjusts: while the conversion's
//     message (same ConversionID and Sink, kind conversion) is pending, or
//     an earlier version of the adjustment is, the adjustment is handed
//     back unsent ([store.Outbox.DeferOutbox]), due just after the next
//     attempt of what it waits for; waiting uses none of its attempts and
//     never dead-letters it (it is logged at Debug, and counted in
//     [Stats].Waited). When the conversion's message is dead-lettered, the
//     adjustment is dead-lettered too, with [ErrConversionDead] naming it:
//     requeue both and they go in order. A dead earlier adjustment does not
//     hold up a later one, which supersedes it. Within one claim,
//     conversions and calls are delivered before adjustments, and the
//     adjustments of one conversion and sink one at a time, by version.
//   - Status. [Exporter.Status] answers for one conversion (pending,
//     delivered or dead, attempts, last error, next try), [Exporter.ByState]
//     lists a state (the dead-letter queue), [Exporter.Stats] counts.
//
// # Sinks
//
//   - export/webhook: signed JSON POSTs (HMAC-SHA256 with a timestamp), with
//     VerifySignature for receivers.
//   - export/hubspot: contact by phone (search, then create or update) and
//     a call engagement with source, campaign and duration.
//   - export/googleads: not a sink; Google Ads offline conversion import
//     files (click conversions by gclid/gbraid/wbraid, call conversions by
//     caller number) for a period, as a function and an HTTP download.
//
// # Writing a sink
//
// A sink is two methods ([Sink]); [Filter] lets it skip events it cannot
// use (a CRM needs a caller's number). Return [Permanent] errors for what
// retrying cannot fix, use [CheckResponse] to classify HTTP answers, and
// make repeats harmless: HubSpot has no idempotency header, so the HubSpot
// sink looks before it creates. A Salesforce sink would upsert a Lead or
// Contact by phone and insert a Task (TaskSubtype "Call", CallDurationInSeconds,
// CallType "Inbound") with the message id in an external-id field; a
// Pipedrive sink would search persons by phone, then add a call log
// (POST /callLogs with person_id, duration, outcome). Both fit [Sink]
// without changes here.
package export
