// Package signalwire adapts SignalWire's Compatibility (LaML/cXML) voice
// webhooks to calltrack, and provisions numbers through its Compatibility
// REST API ([NumberClient]).
//
// SignalWire copied Twilio's dialect: the same form parameters (CallSid,
// CallStatus, From, To, CallDuration, ...), <Dial action> reports
// (DialCallStatus, DialCallSid, DialCallDuration), recording callbacks
// (RecordingSid, RecordingUrl, RecordingDuration) and LaML answers that
// are TwiML. The logic is therefore provider/twilio's, reused through
// twilio.NewCompatible rather than copied; see that package for how the
// forward's outcome, the recording, the caller's attestation and a refused
// call are handled. SignalWire documents answering-machine detection only
// for calls it places, not on <Dial><Number>, so there is no voicemail
// outcome here.
//
// # Signature
//
// The key is the project's Signing Key, the header X-SignalWire-Signature
// (X-Twilio-Signature is accepted when it is absent, as the compatibility
// SDK's middleware does). [Verify] follows SignalWire's SDKs: first its
// own scheme, hex(HMAC-SHA1(key, URL + raw body)), which the RELAY SDK's
// WebAPI.validateRequest checks for JSON bodies; then the compatibility
// SDK's (compatibility-api-js lib/webhooks/webhooks.js): Twilio's
// algorithm with the URL tried without its port and with the default
// port, never re-encoded, and a repeated parameter's values in the order
// sent rather than sorted and deduplicated. The tests use the
// compatibility SDK's own vectors and vectors computed by each algorithm.
//
// # Fail-safe
//
// [NumberClient] sets each number's VoiceFallbackUrl (GET), which
// SignalWire fetches when the voice webhook fails, to
// BuyOptions.FallbackURL when given (host [FallbackDocument](FallbackTo)
// on static hosting that does not depend on this application). Without
// one it uses SignalWire's own static hosting, a LaML (cXML) Bin: it finds
// the project's bin named [BinPrefix] + the business line's digits
// ("calltrack-fallback-12125550123") through the LamlBins resource of the
// Compatibility API, creates it or rewrites its contents when they are
// not FallbackDocument(FallbackTo), and points the number at the bin's
// request_url, which serves the document (SignalWire's reference: "the
// unique URL to the raw contents" of the bin, for configuring webhooks).
// The fail-safe therefore depends on SignalWire alone, never on a Twilio
// service. One bin serves every number forwarding to the same business
// line; ReleaseNumber leaves it for them (delete it in the Dashboard, LaML
// Bins, when no number needs it). The API token needs the Voice scope for
// the bins as well as Numbers. By hand: Dashboard, LaML, Bins, New: paste
// FallbackDocument's output and save; then Phone Numbers, the number,
// Edit Settings, Voice and fax: handle calls using LaML webhooks, "When a
// call comes in" is the handler, and set the fallback URL to the bin's
// request URL; Save.
//
// # Recordings
//
// SignalWire's recording URLs are fetched with a plain GET
// (Provider.FetchRecording); projects that protect them need the
// project's API credentials, which a webhook provider does not hold.
//
// # Why no SDK
//
// SignalWire publishes no Go SDK for its Compatibility API on the module
// proxy.
package signalwire
