package twilio

import (
	"cmp"
	"encoding/xml"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/attriqs/calltrack/phone"
	"github.com/attriqs/calltrack/provider"
)

// ContentType of TwiML answers.
const ContentType = "text/xml; charset=utf-8"

// ParentParam is the query parameter added to the amdStatusCallback URL:
// the answering-machine verdict is reported on the business leg, whose
// CallSid is not the caller's, so the URL (which Twilio signs) names the
// caller's call it belongs to.
const ParentParam = "calltrack_parent"

type twimlResponse struct {
	XMLName xml.Name `xml:"Response"`
	Reject  *reject  `xml:"Reject,omitempty"`
	Say     *say     `xml:"Say,omitempty"`
	Dial    *dial    `xml:"Dial,omitempty"`
}

type reject struct {
	Reason string `xml:"reason,attr,omitempty"`
}

type say struct {
	Text string `xml:",chardata"`
}

type dial struct {
	Action                       string  `xml:"action,attr,omitempty"`
	Method                       string  `xml:"method,attr,omitempty"`
	CallerID                     string  `xml:"callerId,attr,omitempty"`
	Timeout                      string  `xml:"timeout,attr,omitempty"`
	Record                       string  `xml:"record,attr,omitempty"`
	RecordingStatusCallback      string  `xml:"recordingStatusCallback,attr,omitempty"`
	RecordingStatusCallbackMeth  string  `xml:"recordingStatusCallbackMethod,attr,omitempty"`
	RecordingStatusCallbackEvent string  `xml:"recordingStatusCallbackEvent,attr,omitempty"`
	Number                       *number `xml:"Number,omitempty"`
	Text                         string  `xml:",chardata"`
}

type number struct {
	URL                     string `xml:"url,attr,omitempty"`
	Method                  string `xml:"method,attr,omitempty"`
	MachineDetection        string `xml:"machineDetection,attr,omitempty"`
	AMDStatusCallback       string `xml:"amdStatusCallback,attr,omitempty"`
	AMDStatusCallbackMethod string `xml:"amdStatusCallbackMethod,attr,omitempty"`
	Value                   string `xml:",chardata"`
}

// Dialect is what a Twilio-compatible vendor's TwiML takes beyond the
// verbs every copy has.
type Dialect struct {
	// Callbacks renders f.CallbackURL as <Dial action> and, when recording,
	// recordingStatusCallback: the forward's outcome and the recording
	// come back as webhooks.
	Callbacks bool
	// VoicemailDetection also renders <Number machineDetection="Enable"
	// amdStatusCallback>, so a machine answering the business line is
	// reported (Twilio bills each detection).
	VoicemailDetection bool
	// RejectReason is <Reject reason> for f.Reject; empty means "busy".
	RejectReason string
	// MaxRingSeconds caps <Dial timeout> at the longest ring the vendor
	// takes; 0 means no cap.
	MaxRingSeconds int
}

// RenderDial renders f as TwiML without vendor callbacks: an optional
// <Say> with the recording notice, then <Dial> with the caller id, ring
// timeout and recording, and a <Number> whose url attribute points at the
// whisper; or <Reject reason="busy"/> when f.Reject. The output is also
// valid SignalWire LaML and Telnyx TeXML, which copy TwiML's verbs. The
// Twilio provider renders with [RenderDialFor] and its callbacks.
func RenderDial(f provider.Forward, ev provider.CallEvent) ([]byte, error) {
	return RenderDialFor(Dialect{}, f, ev)
}

// RenderDialFor renders f as RenderDial does, with d's callbacks pointed
// at f.CallbackURL when it is set. ev.CallID names the caller's call in
// the amdStatusCallback URL ([ParentParam]).
func RenderDialFor(d Dialect, f provider.Forward, ev provider.CallEvent) ([]byte, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	if f.Reject {
		// A busy signal; Twilio's default, "rejected", plays a
		// not-in-service message. Either way Twilio does not answer, so the
		// refused call is not billed.
		return provider.MarshalXML(twimlResponse{Reject: &reject{Reason: cmp.Or(d.RejectReason, "busy")}})
	}
	ring := f.RingSeconds()
	if d.MaxRingSeconds > 0 {
		ring = min(ring, d.MaxRingSeconds)
	}
	resp := twimlResponse{Dial: &dial{
		CallerID: f.CallerID(ev),
		Timeout:  strconv.Itoa(ring),
		Number:   &number{Value: f.To},
	}}
	if f.Record {
		resp.Say = &say{Text: f.RecordingNotice}
		resp.Dial.Record = "record-from-answer-dual"
	}
	if f.WhisperURL != "" {
		resp.Dial.Number.URL = f.WhisperURL
		resp.Dial.Number.Method = "POST"
	}
	if d.Callbacks && f.CallbackURL != "" {
		resp.Dial.Action, resp.Dial.Method = f.CallbackURL, "POST"
		if f.Record {
			resp.Dial.RecordingStatusCallback = f.CallbackURL
			resp.Dial.RecordingStatusCallbackMeth = "POST"
			resp.Dial.RecordingStatusCallbackEvent = "completed"
		}
		if d.VoicemailDetection && ev.CallID != "" {
			resp.Dial.Number.MachineDetection = "Enable"
			resp.Dial.Number.AMDStatusCallback = withParent(f.CallbackURL, ev.CallID)
			resp.Dial.Number.AMDStatusCallbackMethod = "POST"
		}
	}
	return provider.MarshalXML(resp)
}

// withParent appends the parent call to u without re-encoding the query u
// already has: the handler is configured with u byte for byte.
func withParent(u, callSid string) string {
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	return u + sep + ParentParam + "=" + url.QueryEscape(callSid)
}

// RenderSay renders <Response><Say>text</Say></Response>, the whisper
// document.
func RenderSay(text string) ([]byte, error) {
	return provider.MarshalXML(twimlResponse{Say: &say{Text: text}})
}

// FallbackDocument renders the static TwiML that connects a caller to the
// business line to: <Response><Dial>to</Dial></Response>. Host it where
// Twilio can fetch it without this application (a TwiML Bin, static
// hosting) and give its URL as BuyOptions.FallbackURL; see the package
// doc's Fail-safe section.
func FallbackDocument(to string) ([]byte, error) {
	if to == "" || phone.Normalize(to, "") != to {
		return nil, fmt.Errorf("%w: field To: %q is not an E.164 number", provider.ErrInvalidForward, to)
	}
	return provider.MarshalXML(twimlResponse{Dial: &dial{Text: to}})
}

// EmptyResponse is the TwiML acknowledgement for status callbacks.
var emptyResponse = []byte(xml.Header + "<Response></Response>")

// EmptyResponse returns an empty TwiML document. As the answer to a <Dial
// action> request it ends the caller's call, which is what a finished
// forward wants.
func EmptyResponse() []byte { return append([]byte(nil), emptyResponse...) }

// ParseDial reads a rendered <Dial> back (for tests and tooling): the
// number dialled and the caller id shown. A document without <Dial> (a
// <Reject>) is ErrMalformedPayload.
func ParseDial(doc []byte) (to, callerID string, err error) {
	var r twimlResponse
	if err := xml.Unmarshal(doc, &r); err != nil {
		return "", "", err
	}
	if r.Dial == nil {
		return "", "", provider.ErrMalformedPayload
	}
	if r.Dial.Number == nil {
		return strings.TrimSpace(r.Dial.Text), r.Dial.CallerID, nil
	}
	return r.Dial.Number.Value, r.Dial.CallerID, nil
}
