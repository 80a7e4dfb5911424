package twilio

import (
	"encoding/xml"
	"strconv"

	"github.com/attriqs/calltrack/provider"
)

// ContentType of TwiML answers.
const ContentType = "text/xml; charset=utf-8"

type twimlResponse struct {
	XMLName xml.Name `xml:"Response"`
	Say     *say     `xml:"Say,omitempty"`
	Dial    *dial    `xml:"Dial,omitempty"`
}

type say struct {
	Text string `xml:",chardata"`
}

type dial struct {
	CallerID string `xml:"callerId,attr,omitempty"`
	Timeout  string `xml:"timeout,attr"`
	Record   string `xml:"record,attr,omitempty"`
	Number   number `xml:"Number"`
}

type number struct {
	URL    string `xml:"url,attr,omitempty"`
	Method string `xml:"method,attr,omitempty"`
	Value  string `xml:",chardata"`
}

// RenderDial renders f as TwiML: an optional <Say> with the recording
// notice, then <Dial> with the caller id, ring timeout and recording, and
// a <Number> whose url attribute points at the whisper. The output is also
// valid SignalWire LaML and Telnyx TeXML, which copy TwiML's verbs.
func RenderDial(f provider.Forward, ev provider.CallEvent) ([]byte, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	resp := twimlResponse{Dial: &dial{
		CallerID: f.CallerID(ev),
		Timeout:  strconv.Itoa(f.RingSeconds()),
		Number:   number{Value: f.To},
	}}
	if f.Record {
		resp.Say = &say{Text: f.RecordingNotice}
		resp.Dial.Record = "record-from-answer-dual"
	}
	if f.WhisperURL != "" {
		resp.Dial.Number.URL = f.WhisperURL
		resp.Dial.Number.Method = "POST"
	}
	return provider.MarshalXML(resp)
}

// RenderSay renders <Response><Say>text</Say></Response>, the whisper
// document.
func RenderSay(text string) ([]byte, error) {
	return provider.MarshalXML(twimlResponse{Say: &say{Text: text}})
}

// EmptyResponse is the TwiML acknowledgement for status callbacks.
var emptyResponse = []byte(xml.Header + "<Response></Response>")

// EmptyResponse returns an empty TwiML document.
func EmptyResponse() []byte { return append([]byte(nil), emptyResponse...) }

// ParseDial reads a rendered <Dial> back (for tests and tooling): the
// number dialled and the caller id shown.
func ParseDial(doc []byte) (to, callerID string, err error) {
	var r twimlResponse
	if err := xml.Unmarshal(doc, &r); err != nil {
		return "", "", err
	}
	if r.Dial == nil {
		return "", "", provider.ErrMalformedPayload
	}
	return r.Dial.Number.Value, r.Dial.CallerID, nil
}
