// Package telnyx adapts Telnyx voice webhooks to calltrack: Ed25519
// signature verification with a replay window, Call Control v2 events
// (call.initiated, call.answered, call.hangup) and TeXML requests, TeXML
// <Dial> routing answers, and Call Control transfers.
//
// # Signature
//
// Telnyx signs "<telnyx-timestamp>|<raw body>" with Ed25519; the base64
// signature is in Telnyx-Signature-Ed25519, the Unix timestamp in
// Telnyx-Timestamp, and the account's public key is in the portal
// ([ParsePublicKey] reads it). Timestamps more than [DefaultTolerance]
// (five minutes, as in Telnyx's SDKs) from the injected clock are rejected
// with provider.ErrStaleTimestamp. Telnyx publishes no fixed test vector
// (its SDK tests sign with freshly generated keys); the tests here sign
// with the RFC 8032 test key through [Sign] and check the vendor's SDK
// sample payload.
//
// # Routing answer
//
// TeXML applications take the answer in the webhook response, so
// RenderForward returns TeXML, built by provider/twilio's renderer because
// TeXML copies TwiML's verbs. Call Control applications ignore response
// bodies: given Config.APIKey, the provider is a provider.CommandRouter,
// and the handler acknowledges call.initiated and then sends Call
// Control's transfer command (POST /calls/{call_control_id}/actions/transfer)
// with the business line, the ring time (5 to 120 s, Telnyx's bounds) and a
// command id derived from the call, so a webhook delivered twice transfers
// once. Network errors, 429 and 5xx answers are retried; other refusals are
// logged with Telnyx's reason. Events of the leg the transfer dials
// (direction "outgoing") are ignored. A transfer cannot speak a whisper or
// announce a recording to the caller first: for those, use a TeXML
// application.
//
// # Why no SDK
//
// Telnyx's Go SDK is not served by the module proxy here, and the scheme
// is a single crypto/ed25519 call.
package telnyx
