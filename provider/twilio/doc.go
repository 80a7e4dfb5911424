// Package twilio adapts Twilio Programmable Voice to calltrack: it
// verifies X-Twilio-Signature, parses the voice webhook and its callbacks
// into provider.CallEvent, answers with TwiML <Dial> (or <Reject>), and
// buys, configures, lists and releases tracking numbers through the REST
// API ([NumberClient], a provider.Provisioner).
//
// # Signature
//
// base64(HMAC-SHA1(auth token, URL + each POST parameter's name and
// value, names sorted)), checked as Twilio's current SDKs check it
// (twilio-python twilio/request_validator.py, twilio-node
// src/webhooks/webhooks.ts): a repeated parameter's distinct values
// sorted; the URL without its port and with the scheme's default port;
// with twilio-node, also the URL as new URL() normalises its query and
// with the query re-encoded by Node's legacy querystring. When Twilio
// posts JSON it adds bodySHA256 (hex SHA-256 of the body) to the URL and
// signs the URL alone; [ValidateRequest] then also compares the body's
// hash with it byte for byte ([provider.ErrBodyHashMismatch]). The tests
// use the vectors of those SDKs' test suites and of Twilio's webhook
// security page. [Sign] produces signatures for fixtures.
//
// # The forward's outcome
//
// The caller's call "completes" whether or not the business picked up, so
// the outcome comes from the forwarded leg. [Provider.RenderForward]
// points three Twilio mechanisms at Forward.CallbackURL (the handler's
// own URL), all POST:
//
//   - <Dial action>: when the dialled leg ends Twilio requests it with
//     the caller's CallSid and CallStatus plus DialCallStatus,
//     DialCallSid, DialCallDuration and DialBridged. completed (answered,
//     for a conference) is provider.OutcomeAnswered with TalkTime =
//     DialCallDuration; busy, no-answer and failed map to themselves.
//     Twilio documents canceled as "canceled via the REST API before it
//     was answered"; calltrack never cancels a forward, and Twilio does
//     not document what it reports when the caller hangs up while the
//     business line rings, so canceled, or no-answer arriving with the
//     caller's own CallStatus already completed, is
//     provider.OutcomeAbandoned. The answer to this request continues the
//     caller's call: the empty <Response> of [Provider.Ack] ends it.
//     Twilio sends no time with it, so AnsweredAt stays unknown.
//   - recordingStatusCallback (with record, event completed): CallSid is
//     the parent leg's, RecordingSid, RecordingUrl and RecordingDuration
//     become CallEvent.Recording; RecordingStatus absent is ignored.
//   - <Number machineDetection="Enable" amdStatusCallback>: AnsweredBy
//     machine_start, machine_end_* or fax is provider.OutcomeVoicemail,
//     human OutcomeAnswered. Its CallSid is the business leg's, so the
//     callback URL carries the caller's CallSid in [ParentParam] (signed
//     with the URL) and the verdict is filed under it, without the
//     business leg's numbers. Twilio bills each detection;
//     Config.NoVoicemailDetection turns it off.
//
// All three reports are status events of the caller's CallSid, so
// provider.Merge folds them into the call in any order. Without
// CallbackURL, and from [RenderDial] (which Telnyx's TeXML uses), no
// callbacks are rendered.
//
// # Attestation and refusal
//
// The inbound webhook's StirVerstat ("TN-Validation-Passed-A") becomes
// CallEvent.Attestation. Forward.Reject renders <Reject reason="busy"/>: a
// busy signal (Twilio's default reason, rejected, plays a not-in-service
// message); Twilio does not answer, so the refused call is not billed.
//
// # Recordings
//
// Twilio's account setting "Enforce HTTP Auth on Media URLs" makes
// recording URLs need the account's credentials: set Config.AccountSID
// and [Provider.FetchRecording] sends AccountSID:AuthToken as Basic auth,
// over HTTPS to the API host only.
//
// # Fail-safe
//
// Each number's VoiceFallbackUrl is what Twilio fetches when the voice
// URL fails (an error, a timeout, a host that is down). BuyNumber and
// ConfigureNumber set it, with VoiceFallbackMethod GET so static hosting
// can serve it: BuyOptions.FallbackURL when given (host the document
// [FallbackDocument] renders, e.g. in a TwiML Bin or a bucket), else
// Twilio Labs' Forward twimlet, https://twimlets.com/forward?PhoneNumber=
// followed by the E.164 business line ([TwimletForward]), which Twilio
// serves. By hand: Console, Phone Numbers, Manage, Active numbers, the
// number, Voice Configuration, "Primary handler fails": choose Webhook,
// paste the URL and method GET, Save.
//
// # Why not twilio-go
//
// github.com/twilio/twilio-go is maintained, but its RequestValidator
// answers only true/false, keeps only the first value of a repeated
// parameter, and the module brings etree, golang-jwt, gomock, localtunnel
// and pkg/errors into every importer of calltrack. The algorithm is short
// and the REST surface calltrack needs is a handful of calls, so both are
// implemented here against Twilio's documented shapes.
//
// # Configuration at Twilio
//
// Point the number's Voice URL and Status Callback URL at the handler with
// method POST. The handler tells the voice webhook from the callbacks by
// their parameters (see [ParseForm]).
//
// # Twilio-compatible vendors
//
// [NewCompatible] serves vendors that copied Twilio's dialect under their
// own name, headers and verification; provider/signalwire uses it.
// [RenderDial] output is also valid SignalWire LaML and Telnyx TeXML.
package twilio
