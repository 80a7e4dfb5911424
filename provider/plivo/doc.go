// Package plivo adapts Plivo Voice to calltrack: signature verification,
// the answer_url and hangup_url callbacks, Plivo XML <Dial> answers that
// report the forward's outcome and recording, and a [Numbers] provisioner.
//
// # Signature
//
// V3: base64(HMAC-SHA256(auth token, signed URL + "." + nonce)), the nonce
// coming in X-Plivo-Signature-V3-Nonce. For POST callbacks the signed URL
// is the URL without its query, "?", the query parameters sorted as
// "k=v&k=v", a "." when there was a query, then every POST parameter as
// name+value with names sorted (plivo-python's signature_v3.py and
// plivo-go's GenerateUrl agree; see [Sign], tested with plivo-go's
// vectors). The header may hold several comma-separated signatures (one
// per active auth token); any match passes. The main account's
// X-Plivo-Signature-Ma-V3 is accepted when the sub-account header is
// absent. An older GET form of the Go and .NET SDKs' first vector
// ("https://answer.url/?CallUUID=...&Duration=300&") is accepted too.
//
// V2, used only when Config.SignatureV2 says so: base64(HMAC-SHA256(auth
// token, scheme://host/path + nonce)) in X-Plivo-Signature-V2 (or -Ma-V2)
// with X-Plivo-Signature-V2-Nonce, as plivo-python's validate_signature
// and plivo-go's ValidateSignatureV2 compute it ([SignV2]). V2 signs
// neither the query nor the body, so the request never picks the scheme:
// a V3 provider does not fall back to V2 when the V3 header is missing
// (Plivo sends both; a forger would strip V3 and keep a captured V2).
//
// # Answers
//
// Plivo XML takes numbers as international digits without "+"; the
// whisper is Dial's confirmSound URL, played to the business side before
// bridging; recording is <Record startOnDialAnswer="true"> after a <Speak>
// caller notice. A rejected call gets <Hangup reason="rejected"/>.
//
// # Forward outcome
//
// With Forward.CallbackURL set, <Dial> carries action and callbackUrl
// (both POST) pointing there, and <Record> a callbackUrl. All come back to
// the Handler's URL and [ParseForm] tells them apart by their parameters.
// Each becomes a status event of the caller's call: DialALegUUID, the A
// leg, is the inbound call's CallUUID.
//
//   - callbackUrl DialAction=answer or connected: answered.
//   - callbackUrl DialAction=hangup: DialBLegDuration > 0 is answered with
//     that talk time (DialBLegBillDuration is rounded up to the billing
//     increment and is not used). Otherwise the hangup cause decides:
//     USER_BUSY, CALL_REJECTED ("Busy Line", "Rejected") busy; NO_ANSWER,
//     NO_USER_RESPONSE, ALLOTTED_TIMEOUT ("No Answer", "Ring Timeout
//     Reached") no-answer; ORIGINATOR_CANCEL or hangup source "Caller"
//     abandoned; NORMAL_CLEARING without talk time nothing; anything else
//     failed.
//   - action DialStatus: completed answered, busy busy, no-answer and
//     timeout no-answer, failed failed, cancel abandoned.
//
// When the caller hangs up while the business line rings, Plivo ends the
// dial with the A leg's cancel: the standard cause ORIGINATOR_CANCEL
// (DialHangupCause on the action URL, DialBLegHangupCause on the hangup
// event; Plivo's open-source engine names the A leg in that case). Either
// makes the outcome abandoned, whatever DialStatus says. Plivo does not
// document a DialStatus of its own for it.
//
// Plivo's <Dial> has no answering-machine detection (machine_detection
// exists only on the Make Call API), so no outcome is ever voicemail.
//
// # Recording
//
// <Record callbackUrl> fires when the file is ready, with RecordUrl,
// RecordingID, RecordingDuration (seconds) and RecordingDurationMs; the
// Record Call API's snake-case form (record_url, recording_id, ...) is
// read as well. Plivo serves RecordUrl publicly (no credentials needed to
// fetch it), so the package has no RecordingFetcher.
//
// # Attestation
//
// Plivo passes its STIR/SHAKEN verification on the call webhooks as
// STIRVerification: "Verified" is attestation A; "Not Verified" (B, C or
// unsigned) and "Not Applicable" (non-US) name no level. A
// STIRAttestation parameter ("A", "B", "C") is read first where sent.
//
// # Fail-safe
//
// [Numbers] gives each number an Application of its own
// ("calltrack-<number>") whose fallback_answer_url is
// BuyOptions.FallbackURL: Plivo fetches it when answer_url fails or
// answers invalid XML. Plivo has no static forward of its own, so
// FallbackURL is required: upload [FallbackDocument](FallbackTo) to static
// hosting that does not depend on this application and give its URL.
// Plivo fetches it with fallback_method, which Numbers sets to GET
// (Plivo's default is POST, which object stores and CDNs commonly refuse).
// By hand: in the Plivo console open the application the number uses
// (Voice, Applications), set its Fallback URL to that document's URL with
// method GET and save; then check on the number's page (Phone Numbers)
// that it uses that application.
package plivo
