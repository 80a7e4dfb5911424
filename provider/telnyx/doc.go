// Package telnyx adapts Telnyx voice to calltrack: Ed25519 signature
// verification with a replay window, Call Control v2 events and TeXML
// requests, TeXML routing answers, Call Control commands (transfer,
// reject, answer and speak for the recording notice, hangup of an
// answered caller whose transfer failed), the forward's
// outcome and recording from either, and number provisioning
// ([NumberClient]).
//
// # Signature
//
// Telnyx signs "<telnyx-timestamp>|<raw body>" with Ed25519; the base64
// signature is in Telnyx-Signature-Ed25519, the Unix timestamp in
// Telnyx-Timestamp, and the account's public key is in the portal
// ([ParsePublicKey] reads it). As in telnyx-python
// (lib/webhook_verification.py) and telnyx-node (src/lib/webhooks.ts), a
// timestamp more than [DefaultTolerance] (300 s) from the clock, compared
// in whole seconds, is refused (provider.ErrStaleTimestamp). Telnyx
// publishes no fixed test vector (its SDK tests sign with fresh keys); the
// tests sign with the RFC 8032 test key through [Sign].
//
// # Routing answer
//
// TeXML applications take the answer in the webhook response:
// [RenderTeXML] renders <Dial> (or <Reject reason="rejected"> for a
// refused caller), with the recording notice as <Say> before it and the
// whisper fetched by the <Number>. Call Control applications ignore
// response bodies: given Config.APIKey the provider is a
// provider.CommandRouter, and the handler acknowledges each routing
// webhook and then sends commands (POST
// /v2/calls/{call_control_id}/actions/...), each with a command id
// derived from the call, so a webhook delivered twice acts once (Telnyx
// ignores a command id it has already had on the call; its webhook guide
// says within 60 seconds). Network errors, 429 and 5xx are retried; other
// refusals are logged with Telnyx's reason.
//
// A call that is not recorded is transferred on call.initiated: the
// transfer command with the business line, the ring time (5 to 600 s) and
// the caller id; a refused caller gets the reject command (cause
// CALL_REJECTED).
//
// A recorded call must tell the caller first, and a transfer plays
// nothing to the caller, so it takes three webhooks, each an inbound
// event of the call that the handler routes again ([ParseEvent],
// [Provider.RouteCall]):
//
//   - call.initiated: the answer command, whose client_state marks the
//     caller's leg as waiting for the notice (with the call's numbers);
//   - that leg's call.answered: the speak command with
//     Forward.RecordingNotice (Config.Voice, Config.Language);
//   - the notice's call.speak.ended, status completed: the transfer, with
//     record "record-from-answer" and record_channels "dual", so the
//     recording starts when the business line answers.
//
// A caller who hangs up during the notice (call.speak.ended with status
// call_hangup) is not transferred. A notice Telnyx will not speak gets
// the caller transferred at once without recording, logged as an error
// (Config.Logger): an answered caller is never left waiting, and one who
// was not told is never recorded. A route that refuses the caller after
// the answer hangs the call up. The handler's RouteFunc runs at each step
// and should give the same Forward for the same call.
//
// A failed transfer leaves the caller's leg up: Telnyx sends the business
// leg's call.hangup, and "the original call will remain active". A caller
// Telnyx never answered (no recording) is ended by Telnyx's own handling
// of unanswered calls, as before; one answered for the notice would sit
// on a silent, billed line. So the transfer of an answered caller (the
// notice played, or could not be) puts the caller's call_control_id and
// the call's numbers in target_leg_client_state, and the business leg's
// call.hangup with an unanswered outcome (no-answer, busy, failed: see
// Forward outcomes) is a fourth step: still the forward's outcome, and
// the hangup command on the caller's leg, with one command id per call,
// so copies of the webhook in any order hang up once. A caller's leg
// already gone when it arrives (Telnyx: 422, code 90018, the call has
// already ended) is not an error. A business leg that answered sends
// nothing: the bridge ends the caller's leg with it (the transfer sets no
// park_after_unbridge, whose default hangs the other leg up), nor does a
// caller who hung up while the business line rang (originator_cancel).
//
// The whisper: a transfer plays the business line an audio file when it
// answers, before the legs are bridged (audio_url; the SDKs: "played
// back when the transfer destination answers before bridging the call"),
// not text. Config.WhisperAudio maps each Forward.Whisper text to the URL
// of a WAV or MP3 recording of it; a whisper without one is left out of
// the transfer, with a warning. Forward.WhisperURL (the TeXML whisper
// document) is not used in Call Control.
//
// # Forward outcomes
//
// TeXML: <Dial action> and recordingStatusCallback point at
// Forward.CallbackURL. Telnyx's TeXML is TwiML-compatible: the action
// request carries CallSid (the caller's call) and DialCallStatus —
// completed (answered; DialCallDuration is the talk time), busy,
// no-answer, failed, canceled (the caller hung up while it rang:
// abandoned). The recording callback carries RecordingSid, RecordingUrl
// and RecordingDuration; in-progress and absent reports are ignored.
// <Dial> runs no machine detection, so TeXML reports no voicemail.
//
// Call Control: the transfer sets client_state and target_leg_client_state
// to base64 JSON naming the caller's leg. Telnyx echoes it on every later
// event of both legs, so an event whose call_leg_id is another leg is the
// business leg's and becomes a status event of the caller's call, never
// changing its Status:
//
//   - call.answered: answered, AnsweredAt its occurred_at;
//   - call.hangup by hangup_cause: normal_clearing and time_limit
//     answered, user_busy and call_rejected (603) busy, timeout and
//     no_answer no-answer, originator_cancel abandoned (the caller's leg
//     hung up while the business line rang: Telnyx cancels the dialled
//     leg), not_found, unspecified and anything else failed;
//   - with Config.MachineDetection, the transfer's
//     answering_machine_detection runs and call.machine.detection.ended
//     or call.machine.premium.detection.ended says who answered: machine
//     (or fax_detected) is voicemail, human* and not_sure answered; the
//     leg's call.answered and a normal hangup then claim no outcome, since
//     "answered" outranks "voicemail" in provider.Merge;
//   - call.recording.saved: the recording (public_recording_urls before
//     recording_urls, which Telnyx signs for ten minutes; recording_id
//     when present) and, as recording starts at the answer, its length as
//     the talk time.
//
// Telnyx may report the transfer's recording on the caller's leg rather
// than the business leg: there the client_state says the transfer
// recorded, and the recording and its length as the talk time land on
// the call the same way. The caller's own call.answered while the notice
// plays sets no AnsweredAt: the business line's answer is the call's.
//
// Telnyx reports no talk time on a single Call Control event: the hangup
// carries start_time, when the leg was dialled, not when it was answered.
// An answered, unrecorded transfer therefore has AnsweredAt but TalkTime 0.
//
// # STIR/SHAKEN
//
// call.initiated's shaken_stir_attestation counts only when
// shaken_stir_validated is true; an unvalidated level attests nothing.
//
// # Fail-safe
//
// What keeps callers reaching the business while this application is
// down depends on the kind of Telnyx application the numbers are on
// (NumberClientConfig.Application). [NumberClient] sets what Telnyx offers
// for each, and refuses to provision a number without
// BuyOptions.FallbackTo.
//
// A TeXML application has a voice fallback URL, which Telnyx fetches when
// the voice URL fails (Telnyx: an error answer; its webhook documentation
// counts a URL that does not resolve and any answer but 2xx).
// [NumberClient.ConfigureNumber] sets the application's
// voice_fallback_url to BuyOptions.FallbackURL, required here, where the
// host serves [FallbackDocument](FallbackTo) from hosting that does not
// depend on this application (PATCH /v2/texml_applications/{id}, with the
// friendly_name and voice_url Telnyx requires in the same request, read
// first). Telnyx has no method setting of its own for the fallback (the
// application's voice_method is the only one), so the hosting must serve
// the document to that method: POST, as the Handler needs. The setting
// is the application's, so every number on it falls back to the same
// business line: numbers of different business lines belong on different
// TeXML applications. By hand: Mission Control Portal, Voice, TeXML
// Applications, the application, "Voice Fallback URL".
//
// A Call Control application has no such thing. Telnyx parks the call and
// waits for a command, and a webhook answer cannot carry one, so no static
// document can forward the call: BuyOptions.FallbackURL is refused. Its
// webhook_event_failover_url (PATCH /v2/call_control_applications/{id}),
// set from NumberClientConfig.FailoverWebhookURL, sends the webhooks the
// application's own URL did not take to a second deployment of this
// application: that covers one host or region going down, not the
// application itself. Without a second deployment, a caller of a Call
// Control number whose application is down hears nothing until the
// application's first-command timeout (first_command_timeout_secs, when
// first_command_timeout is on) hangs up. Use a TeXML application where a
// static fail-safe is required.
//
// Both kinds: every number also gets call forwarding to FallbackTo on
// failure (PATCH /v2/phone_numbers/{id}/voice, call_forwarding:
// call_forwarding_enabled, forwards_to, forwarding_type "on-failure"), a
// second layer. Telnyx documents it as firing when a call cannot be
// delivered to the number's connection (an endpoint that is not
// registered, an INVITE declined), not when an application's webhook
// fails, so it does not cover an application that is down; Telnyx bills
// it monthly per number.
//
// # Why no SDK
//
// Telnyx's Go SDK is not served by the module proxy here, and the scheme
// is a single crypto/ed25519 call.
package telnyx
