package telnyx

import (
	"fmt"
	"net/url"

	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/provider/twilio"
)

// ContentType of TeXML answers.
const ContentType = "text/xml; charset=utf-8"

// RenderTeXML renders f as a TeXML document. f.Reject renders
// <Reject reason="rejected"/>. Otherwise: the recording notice as <Say>
// when f.Record, then <Dial> with the caller id, the ring time (capped at
// TeXML's 120 s), recording from the answer on two channels, and, when
// f.CallbackURL is set, action (the dial's outcome) and
// recordingStatusCallback (the saved recording) pointing at it; the
// <Number> fetches the whisper from f.WhisperURL.
func RenderTeXML(f provider.Forward, ev provider.CallEvent) ([]byte, error) {
	// TeXML copies TwiML's verbs: Twilio's renderer with the callbacks,
	// without answering-machine detection, with TeXML's 120 s ring limit
	// and its reject reason.
	return twilio.RenderDialFor(twilio.Dialect{Callbacks: true, RejectReason: "rejected", MaxRingSeconds: 120}, f, ev)
}

// FallbackDocument is the static TeXML that forwards every caller to
// the business line to: what a TeXML application's voice fallback URL
// (BuyOptions.FallbackURL, set by [NumberClient]) serves from hosting
// that does not depend on this application. A Call Control application
// cannot use one: see the package documentation, "Fail-safe".
func FallbackDocument(to string) ([]byte, error) {
	return RenderTeXML(provider.Forward{To: to}, provider.CallEvent{})
}

// dialOutcomes maps <Dial action>'s DialCallStatus. canceled is the dial
// ended before anyone answered because the caller hung up.
var dialOutcomes = map[string]provider.Outcome{
	"completed": provider.OutcomeAnswered,
	"answered":  provider.OutcomeAnswered,
	"busy":      provider.OutcomeBusy,
	"no-answer": provider.OutcomeNoAnswer,
	"failed":    provider.OutcomeFailed,
	"canceled":  provider.OutcomeAbandoned,
}

// ParseTeXML reads a TeXML request: the voice webhook and status
// callbacks (Twilio's parameter set, read by twilio.ParseForm), the
// <Dial action> request (DialCallStatus, DialCallDuration) and the
// recording status callback (RecordingSid, RecordingUrl,
// RecordingDuration). The last two are status events of CallSid, the
// caller's call; an action request without a DialCallStatus Telnyx
// recognises keeps the call's facts and sets no outcome.
func ParseTeXML(body []byte, defaultRegion string) (provider.CallEvent, error) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return provider.CallEvent{}, fmt.Errorf("%w: %v", provider.ErrMalformedPayload, err)
	}
	_, isDial := form["DialCallStatus"]
	_, isRecording := form["RecordingSid"]
	if !isDial && !isRecording {
		ev, err := twilio.ParseForm(body, defaultRegion)
		ev.Provider = Name
		return ev, err
	}
	callSid := form.Get("CallSid")
	if err := provider.CheckCallID("CallSid", callSid); err != nil {
		return provider.CallEvent{}, err
	}
	ev := provider.CallEvent{Provider: Name, CallID: callSid, Kind: provider.KindStatus, Raw: body}
	if isRecording {
		if form.Get("RecordingStatus") != "" && form.Get("RecordingStatus") != "completed" {
			return provider.CallEvent{}, provider.ErrIgnoredEvent // in-progress, absent
		}
		dur, _ := provider.ParseSeconds("RecordingDuration", form.Get("RecordingDuration")) // unknown (0) when absurd
		ev.Recording = provider.Recording{ID: provider.CleanText(form.Get("RecordingSid"), provider.MaxTextLen), Duration: dur}
		// Only a web address is a recording's URL, as for Twilio.
		if u, err := url.Parse(form.Get("RecordingUrl")); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
			ev.Recording.URL = provider.CleanText(u.String(), maxURLLen)
		}
		return ev, nil
	}
	ev.Outcome = dialOutcomes[form.Get("DialCallStatus")]
	if ev.Outcome == provider.OutcomeAnswered {
		ev.TalkTime, _ = provider.ParseSeconds("DialCallDuration", form.Get("DialCallDuration"))
	}
	return ev, nil
}
