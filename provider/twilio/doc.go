// Package twilio adapts Twilio Programmable Voice to calltrack: it
// verifies X-Twilio-Signature, parses the voice webhook and status
// callbacks into provider.CallEvent, answers with TwiML <Dial>, and buys
// and releases tracking numbers through the REST API ([NumberClient]).
//
// # Signature
//
// base64(HMAC-SHA1(auth token, full URL + each POST parameter's name and
// value, names sorted)). When Twilio posts JSON it adds bodySHA256 (hex
// SHA-256 of the body) to the URL and signs the URL alone; [ValidateRequest]
// then also checks the body against it ([provider.ErrBodyHashMismatch]).
// Twilio is inconsistent about ports in the signed URL, so the URL is tried
// as given and with the port removed or the default port added, as
// Twilio's own SDKs do. The tests use the vectors published in Twilio's
// SDK test suites. [Sign] produces signatures for fixtures.
//
// # Why not twilio-go
//
// github.com/twilio/twilio-go (v1.31.0 on the module proxy) is maintained,
// but its RequestValidator answers only true/false, keeps only the first
// value of a repeated parameter, and the module brings etree, golang-jwt,
// gomock, localtunnel and pkg/errors into every importer of calltrack. The
// algorithm is 40 lines, and the REST surface calltrack needs is three
// calls, so both are implemented here against Twilio's documented shapes.
//
// # Configuration at Twilio
//
// Point the number's Voice URL and Status Callback URL at the handler with
// method POST. The handler tells the voice webhook from a status callback
// by its parameters (see [ParseForm]).
//
// # Twilio-compatible vendors
//
// [NewCompatible] serves vendors that copied Twilio's dialect under their
// own name and header; provider/signalwire uses it. [RenderDial] output is
// also valid SignalWire LaML and Telnyx TeXML.
package twilio
