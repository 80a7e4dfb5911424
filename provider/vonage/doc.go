// Package vonage adapts the Vonage Voice API to calltrack: signed-webhook
// verification, the answer webhook (by GET or POST) and event webhooks,
// NCCO connect answers that report the forward's outcome and recording,
// recording downloads, and number provisioning with its fail-safe.
//
// # Signature
//
// With signed webhooks, Vonage sends "Authorization: Bearer <JWT>", HS256
// over claims that include iat, jti, iss "Vonage", api_key,
// application_id and payload_hash, the hex SHA-256 of the body.
// [VerifyRequest] checks the HS256 signature with the account's signature
// secret (only HS256 is accepted, whatever the token's header claims),
// then payload_hash against the body (provider.ErrBodyHashMismatch), then
// iat against the injected clock (provider.ErrStaleTimestamp). A request
// without a body, the answer webhook by GET, is checked as Vonage's SDKs
// check every webhook (vonage_jwt.verify_signature, @vonage/jwt
// verifySignature: the signature only), plus iat: Vonage hashes a JSON
// re-encoding of the query for GET whose exact bytes it does not specify,
// and a re-encoding off by one byte would refuse real calls. [Sign]
// produces tokens for fixtures. The tests check [VerifyToken] against the
// token and secret published in the tests of Vonage's Python JWT package.
//
// # Answer by GET
//
// A new Vonage application fetches its answer URL with GET, the call in
// the query (to, from, uuid, conversation_uuid, ...). [Provider]
// implements provider.GETAnswerer, and Parse reads the query of a GET
// ([ParseQuery]); Raw then keeps the query. The answer webhook carries no
// STIR/SHAKEN verdict (Vonage's webhook reference lists none), so
// Attestation stays empty.
//
// # Forward outcome
//
// The connect action asks for the forwarded leg's events at
// Forward.CallbackURL by POST (eventUrl, eventMethod). Vonage reports
// that leg under its own uuid and never names the caller's leg, so the
// eventUrl carries it: [LegEventURL] adds [ParentParam] (the caller's
// uuid) to CallbackURL, bound by a MAC (see below). [ParseLegEvent]
// turns the leg's events into status events of the caller's call
// carrying only the outcome, talk time and answer time:
// answered and completed (duration > 0, the talk time) are answered; busy
// is busy; timeout (the connect's ring timeout ran out) and unanswered
// are no-answer; rejected is busy when the callee declined, else failed;
// failed is failed. When the caller hangs up while the business line
// rings, Vonage cancels the attempt and sends cancelled: abandoned. After
// busy, timeout or cancelled Vonage also sends completed with duration 0,
// which is ignored, as are started and ringing.
//
// Config.MachineDetection runs Vonage's standard machine detection
// (free of charge) on the leg: the machine event is voicemail, human is
// answered. A voicemail answers the leg too, so on such a leg (the
// eventUrl then carries [MachineParam]) answered and completed give only
// the answer time and talk time, and the verdict decides in any order.
//
// # The leg's event URL
//
// Vonage's JWT signs the body, not the URL, so a signed leg report
// replayed within the tolerance could otherwise be filed under any call
// by editing [ParentParam], or have machine detection ignored by dropping
// [MachineParam]. [LegEventURL] therefore adds [MACParam],
// base64url(HMAC-SHA256(SignatureSecret, "calltrack-leg|" + parent + "|"
// + amd)) truncated to 16 bytes, amd "1" or "0"; [VerifyLegEventURL]
// checks it in constant time, and Verify and Parse refuse a report whose
// MAC is missing or wrong with provider.ErrBadSignature (the Handler
// answers 403). Changing the signature secret therefore also refuses the
// reports of calls still in progress, as does upgrading from a release
// that rendered no MAC. [RenderConnect], which has no secret, refuses a
// Forward with a CallbackURL.
//
// The MAC does not bind the body's conversation_uuid, though the answer
// webhook carries the caller's: Vonage documents a transfer event that
// moves a leg from one conversation to another (conversation_uuid_from,
// conversation_uuid_to) but not which conversation a connect leg's
// started, ringing, busy, timeout, unanswered, rejected or cancelled
// events name before it joins the caller's, nor that a failed leg's
// report names one at all. Those are the outcomes calltrack needs most,
// and a report refused with 403 is lost. A replayed body can therefore
// still be re-sent to its own call's URL, where duplicates converge
// (provider.Merge), but to no other call.
//
// # Recording
//
// With Forward.Record, the record action (before connect, so it records
// the whole conversation) reports to the same eventUrl; its report names
// no call, only recording_uuid, recording_url, start_time, end_time and
// conversation_uuid, and becomes CallEvent.Recording {recording_uuid,
// recording_url, end_time − start_time}. Vonage serves recordings only
// to an application JWT: [Provider.FetchRecording] signs one (RS256 with
// Config.PrivateKey, claims application_id, iat, jti, exp) and sends it
// only to Vonage's hosts over HTTPS; without a key it fails naming the
// field.
//
// # Refusing a call
//
// Vonage answers the call before it asks for the NCCO and has no hangup
// action; a call ends when its NCCO's last action ends, and an NCCO
// Vonage cannot read sends the call to the fallback answer URL, which
// would connect it. A refused call (Forward.Reject) therefore hears
// [RejectText] in one talk action, and the call ends.
//
// # Provisioning
//
// [Numbers] implements provider.Provisioner: the Numbers API on
// rest.nexmo.com (number/search, number/buy, number/update with app_id,
// number/cancel, account/numbers) and the Application API v2
// (api.nexmo.com/v2/applications/{id}), both with the API key and secret.
// At Vonage a number's webhooks are its application's: BuyNumber and
// ConfigureNumber set the application's voice answer_url and event_url
// (POST) and fallback_answer_url (GET), reading the application first and
// writing it back whole, and link the number to the application.
//
// # One application, one set of webhooks
//
// The answer, event and fallback answer URLs belong to the application
// (NumbersConfig.ApplicationID), so they are shared by every number linked
// to it, and whatever set them last holds for all: one fallback_answer_url
// means one fallback document, hence one business line, for all of them.
// So that one number cannot silently re-point the others, BuyNumber and
// ConfigureNumber write the application only when it lacks the settings
// asked for and no other number is linked to it (account/numbers with
// application_id); otherwise they change nothing and return
// [ErrSharedApplication], naming each field that differs and the other
// numbers. [Numbers.ConfigureApplication] changes the settings of every
// linked number on purpose, and there the last call wins. Numbers that
// must fail over to different business lines need an application each
// (and a Numbers for each). The check is not a lock: a number linked by
// another process between the check and the write is not seen.
//
// # Fail-safe
//
// When the answer URL fails (an error, a timeout, a host that is down),
// Vonage fetches the application's fallback_answer_url and runs the NCCO
// it returns. [FallbackDocument] renders that NCCO, a connect to the
// business line; host it on static hosting that does not depend on this
// application (it is fetched with GET) and pass its URL as
// BuyOptions.FallbackURL, which Numbers requires. It is the application's
// (see above), so every number linked to the application falls back to
// the same business line. To set it by hand: in
// the Vonage API Dashboard open Applications, edit the application, and
// under Capabilities → Voice set "Fallback URL" to the document's URL with
// HTTP GET, then save. (Saving in the Dashboard may turn off settings
// made through the API only; check signed callbacks afterwards.)
//
// # Why no SDK
//
// Vonage's Go SDK (vonage-go-sdk) is not served by the module proxy here;
// the scheme needs only the standard library's crypto.
package vonage
