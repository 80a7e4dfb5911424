// Package telnyx adapts Telnyx voice webhooks to calltrack: Ed25519
// signature verification with a replay window, Call Control v2 events
// (call.initiated, call.answered, call.hangup) and TeXML requests, and
// TeXML <Dial> routing answers.
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
// bodies: the handler still records their events, but connecting the
// caller takes a REST "transfer" command, which this package does not
// issue. Use a TeXML application for call tracking numbers.
//
// # Why no SDK
//
// Telnyx's Go SDK is not served by the module proxy here, and the scheme
// is a single crypto/ed25519 call.
package telnyx
