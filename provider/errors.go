package provider

import "errors"

// Signature failures. Each verifier returns exactly one of these (possibly
// wrapped with detail), so callers can tell an attacker from a
// misconfiguration with errors.Is.
var (
	// ErrMissingSignature: the request carries no signature header at all.
	ErrMissingSignature = errors.New("provider: missing signature")
	// ErrMissingTimestamp: a timestamped scheme arrived without its timestamp.
	ErrMissingTimestamp = errors.New("provider: missing signature timestamp")
	// ErrMissingNonce: a nonce-based scheme arrived without its nonce.
	ErrMissingNonce = errors.New("provider: missing signature nonce")
	// ErrMalformedSignature: the signature header is present but cannot be
	// decoded (bad base64, wrong length, not a JWT, ...).
	ErrMalformedSignature = errors.New("provider: malformed signature")
	// ErrBadSignature: the signature is well formed but does not match the
	// request under the configured secret (tampered request or wrong secret).
	ErrBadSignature = errors.New("provider: signature mismatch")
	// ErrBodyHashMismatch: the signed body digest (Twilio bodySHA256, Vonage
	// payload_hash) does not match the body received.
	ErrBodyHashMismatch = errors.New("provider: body hash mismatch")
	// ErrStaleTimestamp: the signed timestamp lies outside the replay
	// tolerance.
	ErrStaleTimestamp = errors.New("provider: stale signature timestamp")
	// ErrNoSecret: the verifier was configured without a key.
	ErrNoSecret = errors.New("provider: no signing secret configured")
)

// Payload and configuration failures.
var (
	// ErrMalformedPayload: the webhook body or parameters cannot be parsed
	// into a call event (bad JSON, missing call id, ...).
	ErrMalformedPayload = errors.New("provider: malformed webhook payload")
	// ErrIgnoredEvent: the webhook is genuine and well formed but carries an
	// event calltrack does not record (e.g. Telnyx call.dtmf.received).
	// Handlers acknowledge it with 200 and record nothing.
	ErrIgnoredEvent = errors.New("provider: event not relevant to call tracking")
	// ErrInvalidForward: a Forward failed validation; the wrapped errors name
	// each offending field.
	ErrInvalidForward = errors.New("provider: invalid forward")
	// ErrInvalidConfig: a constructor was given an unusable configuration;
	// the wrapped errors name each offending field.
	ErrInvalidConfig = errors.New("provider: invalid config")
)
