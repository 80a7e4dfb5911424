package telnyx

import (
	"encoding/xml"
	"fmt"
	"net/url"
	"strconv"

	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/provider/twilio"
)

// ContentType of TeXML answers.
const ContentType = "text/xml; charset=utf-8"

// maxDialTimeout is the longest ring TeXML's <Dial timeout> takes (5–120 s).
const maxDialTimeout = 120

type texmlResponse struct {
	XMLName xml.Name     `xml:"Response"`
	Say     *texmlSay    `xml:"Say,omitempty"`
	Dial    *texmlDial   `xml:"Dial,omitempty"`
	Reject  *texmlReject `xml:"Reject,omitempty"`
}

type texmlSay struct {
	Text string `xml:",chardata"`
}

type texmlReject struct {
	Reason string `xml:"reason,attr,omitempty"`
}

type texmlDial struct {
	Action                        string      `xml:"action,attr,omitempty"`
	Method                        string      `xml:"method,attr,omitempty"`
	CallerID                      string      `xml:"callerId,attr,omitempty"`
	Timeout                       string      `xml:"timeout,attr"`
	Record                        string      `xml:"record,attr,omitempty"`
	RecordingStatusCallback       string      `xml:"recordingStatusCallback,attr,omitempty"`
	RecordingStatusCallbackMethod string      `xml:"recordingStatusCallbackMethod,attr,omitempty"`
	RecordingStatusCallbackEvent  string      `xml:"recordingStatusCallbackEvent,attr,omitempty"`
	Number                        texmlNumber `xml:"Number"`
}

type texmlNumber struct {
	URL    string `xml:"url,attr,omitempty"`
	Method string `xml:"method,attr,omitempty"`
	Value  string `xml:",chardata"`
}

// RenderTeXML renders f as a TeXML document. f.Reject renders
// <Reject reason="rejected"/>. Otherwise: the recording notice as <Say>
// when f.Record, then <Dial> with the caller id, the ring time (capped at
// TeXML's 120 s), recording from the answer on two channels, and, when
// f.CallbackURL is set, action (the dial's outcome) and
// recordingStatusCallback (the saved recording) pointing at it; the
// <Number> fetches the whisper from f.WhisperURL.
func RenderTeXML(f provider.Forward, ev provider.CallEvent) ([]byte, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	if f.Reject {
		return provider.MarshalXML(texmlResponse{Reject: &texmlReject{Reason: "rejected"}})
	}
	d := &texmlDial{
		CallerID: f.CallerID(ev),
		Timeout:  strconv.Itoa(min(f.RingSeconds(), maxDialTimeout)),
		Number:   texmlNumber{Value: f.To},
	}
	if f.CallbackURL != "" {
		d.Action, d.Method = f.CallbackURL, "POST"
	}
	resp := texmlResponse{Dial: d}
	if f.Record {
		resp.Say = &texmlSay{Text: f.RecordingNotice}
		d.Record = "record-from-answer-dual"
		if f.CallbackURL != "" {
			d.RecordingStatusCallback, d.RecordingStatusCallbackMethod, d.RecordingStatusCallbackEvent = f.CallbackURL, "POST", "completed"
		}
	}
	if f.WhisperURL != "" {
		d.Number.URL, d.Number.Method = f.WhisperURL, "POST"
	}
	return provider.MarshalXML(resp)
}

// FallbackDocument is the static TeXML that forwards every caller to
// the business line to: what a TeXML application's voice fallback URL
// should serve from hosting that does not depend on this application.
// (Call Control numbers need none: see [NumberClient] and the package
// documentation, "Fail-safe".)
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
		ev.Recording = provider.Recording{
			ID:       provider.CleanText(form.Get("RecordingSid"), provider.MaxTextLen),
			URL:      provider.CleanText(form.Get("RecordingUrl"), maxURLLen),
			Duration: dur,
		}
		return ev, nil
	}
	ev.Outcome = dialOutcomes[form.Get("DialCallStatus")]
	if ev.Outcome == provider.OutcomeAnswered {
		ev.TalkTime, _ = provider.ParseSeconds("DialCallDuration", form.Get("DialCallDuration"))
	}
	return ev, nil
}
