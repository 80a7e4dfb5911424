// Package bandwidth adapts Bandwidth Voice (API v2, BXML) to calltrack:
// callback credentials, the callbacks of a call and of its forward, BXML
// answers, recording downloads, and number provisioning through the
// Numbers (Dashboard) API.
//
// # Authentication, not a signature
//
// Bandwidth does not sign voice callbacks. It authenticates them with the
// username and password configured on the voice application
// (CallbackCreds), sent as HTTP Basic authentication (RFC 7617).
// [VerifyBasicAuth] compares both in constant time and maps failures onto
// the provider sentinels (no header: ErrMissingSignature; not Basic or
// not decodable: ErrMalformedSignature; wrong credentials:
// ErrBadSignature). Because nothing covers the body, a tampered body with
// valid credentials cannot be detected: serve these callbacks over HTTPS
// only. The conformance suite runs with Features.CredentialsOnly.
//
// Bandwidth follows RFC 7235: it sends an authenticated callback first
// without an Authorization header and sends it again with the
// credentials only after a 401 answer carrying a WWW-Authenticate
// challenge; without the challenge it gives up (dev.bandwidth.com, "Webhooks:
// Authentication"). [Provider.Challenge] is that challenge; the handler
// must answer a callback without credentials with 401 and it.
//
// Callback URLs named in BXML get credentials only from the verb's own
// username and password attributes, so every verb calltrack renders with
// a callback carries the callback credentials ([Credentials]); Bandwidth
// accepts them only for https URLs, so over http (local development)
// they are left out and those callbacks are refused by Verify.
//
// # Answers
//
// The initiate callback is answered with BXML (see [RenderTransfer]): an
// optional <SpeakSentence> caller notice and <StartRecording>, then
// <Transfer transferCallerId callTimeout transferCompleteUrl> to a
// <PhoneNumber transferAnswerUrl transferDisconnectUrl>. transferAnswerUrl
// serves the whisper; the other URLs are Forward.CallbackURL. A refused
// call (Forward.Reject) is answered <Hangup/>, which rejects an unanswered
// call without charge.
//
// # Forward outcomes
//
// Bandwidth reports the forwarded (B) leg in three callbacks, all parsed
// into status events of the caller's call:
//
//   - transferDisconnect, sent to the <PhoneNumber>'s transferDisconnectUrl
//     whenever the leg ends, however it ends: callId is the leg,
//     parentCallId the caller's call, which the event is filed under. Its
//     cause gives the outcome: hangup with an answerTime is answered, with
//     TalkTime = endTime − answerTime of the leg (whisper included);
//     timeout is no-answer; busy is busy; rejected (the business line
//     declined) is busy; cancel, "cancelled by its originator while it was
//     ringing", is the caller hanging up while the business line rang:
//     abandoned, as is a hangup without answerTime; every other cause
//     (callback-error, invalid-bxml, application-error, account-limit,
//     node-capacity-exceeded, error, unknown, and causes added later) is
//     failed.
//   - transferComplete, sent to transferCompleteUrl on the caller's call
//     (callId) only when it is still up after the transfer: the same
//     causes, hangup being the business side hanging up after the bridge
//     (answered, without a talk time, which transferDisconnect supplies).
//     Its answer, an empty BXML document, ends the call as no further
//     verb would.
//   - transferAnswer (answered), when a host points transferAnswerUrl at
//     the handler; calltrack itself uses that URL for the whisper only,
//     which the handler answers before parsing.
//
// Duplicates and any order converge through provider.Merge. Bandwidth's
// <Transfer> has no answering-machine detection (machine detection
// exists for outbound calls created through the API only), so a forward
// is never reported as voicemail.
//
// # Recordings
//
// <StartRecording recordingAvailableUrl> records both sides; the
// recordingAvailable callback (and recordComplete of <Record>) becomes the
// call's Recording: recordingId, mediaUrl and the ISO 8601 duration
// ("PT20.056S", [ParseISODuration]). A recording of the transferred leg
// (parentCallId) is filed under the caller's call; status "error" is
// ignored. Media URLs answer only the account's API user:
// [Provider.FetchRecording] downloads them with Config.APIUsername and
// APIPassword, and only from Config.VoiceAPIBase.
//
// # Attestation
//
// The initiate callback's stirShaken object gives the STIR/SHAKEN level
// (attestationIndicator) when verstat says the verification passed
// ("TN-Validation-Passed"; the callback reference writes
// "TN-Verification-Passed"); a failed verification attests nothing.
//
// Callback times are read leniently: Bandwidth's own examples carry
// times without a zone (read as UTC) and malformed ones (unknown), and a
// time never makes a callback refused.
//
// # Provisioning
//
// [Numbers] implements provider.Provisioner with the Numbers API
// (https://dashboard.bandwidth.com/api/accounts/{accountId}/...):
// availableNumbers to search (by area code and/or localVanity), orders to
// buy (ExistingTelephoneNumberOrderType into the configured site and
// location; the order is asynchronous and is read until COMPLETE, FAILED
// or PARTIAL), inserviceNumbers to list and to check ownership,
// disconnects to release (a number no longer in service is already
// released: nil).
//
// Bandwidth routes calls by location, not by number: once, in the
// Dashboard, create a Voice application, link it to a location (sip
// peer) of a sub-account (site), and give NumbersConfig the three ids.
// Numbers bought into that location ring that application, whose
// callback URLs BuyNumber and ConfigureNumber set (PATCH
// applications/{applicationId}: CallInitiatedCallbackUrl and
// CallStatusCallbackUrl, POST; CallbackCreds when configured;
// CallInitiatedFallbackUrl, GET). They are the application's, shared by
// every number of the location: the last call sets them for all. Numbers
// that must fail over to different business lines need a location and
// application each.
//
// # Fail-safe
//
// When the handler cannot answer the initiate callback (an error, a
// timeout, the host down), Bandwidth fetches the application's
// CallInitiatedFallbackUrl and runs the BXML it finds there. Host
// [FallbackDocument](FallbackTo), a <Transfer> to the business line, on
// static hosting that does not depend on this application, and give its
// URL as BuyOptions.FallbackURL; it is required, since Bandwidth has no
// static forward of its own for Voice API numbers (the location's Final
// Destination URI serves SIP voice only). The fallback is fetched with
// GET, which static hosting serves.
//
// By hand: in the Bandwidth App, open Applications and the Voice
// application of the location, and set its call-initiated fallback URL
// (the API's CallInitiatedFallbackUrl) to the document's URL, method GET,
// without fallback credentials; or PATCH the application with
// <Application><CallInitiatedFallbackUrl>URL</CallInitiatedFallbackUrl>
// <CallInitiatedFallbackMethod>GET</CallInitiatedFallbackMethod>
// </Application>. Check it by taking the host down and calling a number.
//
// # Why no SDK
//
// Bandwidth's Go SDK is not served by the module proxy here; the
// callbacks are JSON, the answers a few BXML elements and the Numbers API
// plain XML over HTTP Basic. The shapes follow Bandwidth's reference
// (dev.bandwidth.com) and the models of Bandwidth/python-sdk.
package bandwidth
