package bandwidth

import (
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"

	"github.com/attriqs/calltrack/phone"
	"github.com/attriqs/calltrack/provider"
)

// Credentials are what Bandwidth sends, as HTTP Basic authentication, to
// the callback URLs of a BXML verb.
type Credentials struct {
	Username string
	Password string
}

type response struct {
	XMLName        xml.Name        `xml:"Response"`
	SpeakSentence  *speakSentence  `xml:"SpeakSentence,omitempty"`
	StartRecording *startRecording `xml:"StartRecording,omitempty"`
	Transfer       *transfer       `xml:"Transfer,omitempty"`
	Hangup         *struct{}       `xml:"Hangup,omitempty"`
}

type speakSentence struct {
	Text string `xml:",chardata"`
}

type startRecording struct {
	RecordingAvailableURL    string `xml:"recordingAvailableUrl,attr,omitempty"`
	RecordingAvailableMethod string `xml:"recordingAvailableMethod,attr,omitempty"`
	Username                 string `xml:"username,attr,omitempty"`
	Password                 string `xml:"password,attr,omitempty"`
}

type transfer struct {
	TransferCallerID       string      `xml:"transferCallerId,attr,omitempty"`
	CallTimeout            string      `xml:"callTimeout,attr,omitempty"`
	TransferCompleteURL    string      `xml:"transferCompleteUrl,attr,omitempty"`
	TransferCompleteMethod string      `xml:"transferCompleteMethod,attr,omitempty"`
	Username               string      `xml:"username,attr,omitempty"`
	Password               string      `xml:"password,attr,omitempty"`
	PhoneNumber            phoneNumber `xml:"PhoneNumber"`
}

type phoneNumber struct {
	TransferAnswerURL        string `xml:"transferAnswerUrl,attr,omitempty"`
	TransferAnswerMethod     string `xml:"transferAnswerMethod,attr,omitempty"`
	TransferDisconnectURL    string `xml:"transferDisconnectUrl,attr,omitempty"`
	TransferDisconnectMethod string `xml:"transferDisconnectMethod,attr,omitempty"`
	Username                 string `xml:"username,attr,omitempty"`
	Password                 string `xml:"password,attr,omitempty"`
	Value                    string `xml:",chardata"`
}

// RenderTransfer renders f as BXML.
//
// A refused call (f.Reject) is <Hangup/>: Bandwidth rejects an unanswered
// call that way, without charge. Otherwise, with recording, a
// <SpeakSentence> caller notice and <StartRecording> (recordingAvailableUrl
// = f.CallbackURL); then <Transfer transferCallerId callTimeout
// transferCompleteUrl> to a <PhoneNumber> whose transferAnswerUrl serves
// the whisper and whose transferDisconnectUrl (f.CallbackURL) reports how
// the business leg ended, whatever happened to the caller. creds are
// written on each verb whose callback URLs are all https (Bandwidth sends
// a verb's credentials over TLS only); an empty f.CallbackURL asks for no
// callbacks.
func RenderTransfer(f provider.Forward, ev provider.CallEvent, creds Credentials) ([]byte, error) {
	if f.Reject {
		return provider.MarshalXML(response{Hangup: &struct{}{}})
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	cb := f.CallbackURL
	t := &transfer{
		TransferCallerID: f.CallerID(ev),
		CallTimeout:      strconv.Itoa(f.RingSeconds()),
		PhoneNumber:      phoneNumber{Value: f.To},
	}
	if cb != "" {
		t.TransferCompleteURL, t.TransferCompleteMethod = cb, "POST"
		t.Username, t.Password = secured(creds, cb)
		t.PhoneNumber.TransferDisconnectURL, t.PhoneNumber.TransferDisconnectMethod = cb, "POST"
	}
	if f.WhisperURL != "" {
		t.PhoneNumber.TransferAnswerURL, t.PhoneNumber.TransferAnswerMethod = f.WhisperURL, "POST"
	}
	if cb != "" || f.WhisperURL != "" {
		t.PhoneNumber.Username, t.PhoneNumber.Password = secured(creds, cb, f.WhisperURL)
	}
	r := response{Transfer: t}
	if f.Record {
		r.SpeakSentence = &speakSentence{Text: f.RecordingNotice}
		r.StartRecording = &startRecording{}
		if cb != "" {
			r.StartRecording.RecordingAvailableURL, r.StartRecording.RecordingAvailableMethod = cb, "POST"
			r.StartRecording.Username, r.StartRecording.Password = secured(creds, cb)
		}
	}
	return provider.MarshalXML(r)
}

// secured returns creds when every non-empty URL is https, and nothing
// otherwise: Bandwidth requires TLS for URLs given credentials, and BXML
// it refuses would drop the call.
func secured(creds Credentials, urls ...string) (user, pass string) {
	for _, u := range urls {
		if u != "" && !strings.HasPrefix(strings.ToLower(u), "https://") {
			return "", ""
		}
	}
	return creds.Username, creds.Password
}

// ParseTransfer reads a rendered <Transfer> back: the number dialled and
// the caller id shown. A document without a <Transfer> (a refusal) is
// provider.ErrMalformedPayload.
func ParseTransfer(doc []byte) (to, callerID string, err error) {
	var r response
	if err := xml.Unmarshal(doc, &r); err != nil {
		return "", "", err
	}
	if r.Transfer == nil {
		return "", "", provider.ErrMalformedPayload
	}
	return r.Transfer.PhoneNumber.Value, r.Transfer.TransferCallerID, nil
}

// FallbackDocument renders the static BXML a host uploads to static
// hosting and sets as the voice application's CallInitiatedFallbackUrl:
// a <Transfer> of the caller to the business line to, with no callback
// and no credentials, so it works while calltrack is down. Without
// transferCallerId Bandwidth shows the caller's own number.
func FallbackDocument(to string) ([]byte, error) {
	if to == "" || phone.Normalize(to, "") != to {
		return nil, fmt.Errorf("%w: argument to: %q is not an E.164 number", provider.ErrInvalidForward, to)
	}
	return provider.MarshalXML(response{Transfer: &transfer{PhoneNumber: phoneNumber{Value: to}}})
}
