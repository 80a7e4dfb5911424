// Package signalwire adapts SignalWire's Compatibility (LaML/cXML) voice
// webhooks to calltrack.
//
// # Signature
//
// SignalWire copied Twilio's webhook dialect: the same form parameters
// (CallSid, CallStatus, From, To, CallDuration, ...), the same signature
// algorithm — base64(HMAC-SHA1(key, URL + sorted parameters)), with the
// same port normalisation and bodySHA256 variant — and LaML answers that
// are TwiML. What differs is the key (the project's Signing Key from the
// dashboard, not an API token) and the header, X-SignalWire-Signature;
// SignalWire also sends X-Twilio-Signature for drop-in compatibility, so
// that header is accepted when its own is absent. The logic is therefore
// provider/twilio's, reused through twilio.NewCompatible rather than
// copied, and tested here with SignalWire's header and key. SignalWire
// publishes no vectors of its own; the algorithm is the one checked
// against Twilio's vectors in provider/twilio.
//
// # Why no SDK
//
// SignalWire publishes no Go SDK on the module proxy.
package signalwire
