package signalwire_test

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/provider/providertest"
	"github.com/attriqs/calltrack/provider/signalwire"
	"github.com/attriqs/calltrack/provider/twilio"
)

const (
	signingKey = "PSKXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"
	hookURL    = "https://calls.example.com/calltrack/signalwire"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// laml builds a body in the shape SignalWire's compatibility API posts.
func laml(c providertest.Call, status string, extra url.Values) *provider.Request {
	v := url.Values{
		"AccountSid": {"446e9986-0848-4d46-a617-48793c5f5e07"},
		"ApiVersion": {"2010-04-01"},
		"CallSid":    {c.ID},
		"CallStatus": {status},
		"Direction":  {"inbound"},
		"From":       {c.From},
		"To":         {c.To},
	}
	for k, vs := range extra {
		v[k] = vs
	}
	return &provider.Request{Method: http.MethodPost, URL: hookURL, Header: http.Header{}, Body: []byte(v.Encode())}
}

func signer(key, header string) func(*provider.Request, time.Time) {
	return func(r *provider.Request, _ time.Time) {
		params, _ := url.ParseQuery(string(r.Body))
		r.Header.Set(header, signalwire.Sign(key, r.URL, params))
	}
}

func TestConformance(t *testing.T) {
	p, err := signalwire.New(signalwire.Config{SigningKey: signingKey})
	if err != nil {
		t.Fatal(err)
	}
	providertest.Run(t, providertest.Fixture{
		Provider: p,
		Now:      now,
		Inbound:  func(c providertest.Call) *provider.Request { return laml(c, "ringing", nil) },
		Status: func(c providertest.Call, st provider.Status, talk time.Duration) *provider.Request {
			extra := url.Values{"CallbackSource": {"call-progress-events"}}
			if st == provider.StatusCompleted {
				extra.Set("CallDuration", strconv.Itoa(int(talk/time.Second)))
			}
			return laml(c, string(st), extra)
		},
		Sign:             signer(signingKey, signalwire.SignatureHeader),
		SignWrongSecret:  signer("wrong-key", signalwire.SignatureHeader),
		SignatureHeaders: []string{signalwire.SignatureHeader},
		ParseForward:     func(a provider.Answer) (string, string, error) { return twilio.ParseDial(a.Body) },
		Outcome:          outcomeReport,
		Recording:        recordingReport,
	}, providertest.Features{})
}

// outcomeReport is the request SignalWire's <Dial action> makes when the
// dialled call ends: the call's parameters plus DialCallStatus,
// DialCallSid and DialCallDuration (cXML <Dial> docs). SignalWire has no
// answering-machine detection on <Number>, so no voicemail report.
func outcomeReport(c providertest.Call, callbackURL string, o provider.Outcome, talk time.Duration) *provider.Request {
	extra := url.Values{"DialCallSid": {"9a3c5f4e-1d2b-4c6a-8e7f-0a1b2c3d4e5f"}}
	parent := "in-progress"
	switch o {
	case provider.OutcomeAnswered:
		extra.Set("DialCallStatus", "completed")
		extra.Set("DialCallDuration", strconv.Itoa(int(talk/time.Second)))
	case provider.OutcomeAbandoned:
		extra.Set("DialCallStatus", "no-answer")
		parent = "completed"
	case provider.OutcomeNoAnswer, provider.OutcomeBusy, provider.OutcomeFailed:
		extra.Set("DialCallStatus", string(o))
	default:
		return nil
	}
	r := laml(c, parent, extra)
	r.URL = callbackURL
	return r
}

// recordingReport is SignalWire's recordingStatusCallback request.
func recordingReport(c providertest.Call, callbackURL string, rec provider.Recording) *provider.Request {
	r := laml(c, "", nil)
	r.Body = []byte(url.Values{
		"AccountSid":        {"446e9986-0848-4d46-a617-48793c5f5e07"},
		"CallSid":           {c.ID},
		"RecordingSid":      {rec.ID},
		"RecordingUrl":      {rec.URL},
		"RecordingStatus":   {"completed"},
		"RecordingDuration": {strconv.Itoa(int(rec.Duration / time.Second))},
		"RecordingChannels": {"2"},
		"RecordingSource":   {"DialVerb"},
	}.Encode())
	r.URL = callbackURL
	return r
}

func TestHeaders(t *testing.T) {
	p, _ := signalwire.New(signalwire.Config{SigningKey: signingKey})
	c := providertest.Call{ID: "c1", From: "+14158675309", To: "+18005551212"}
	cases := []struct {
		name string
		sign func(*provider.Request, time.Time)
		want error
	}{
		{"own header", signer(signingKey, signalwire.SignatureHeader), nil},
		{"Twilio compatibility header", signer(signingKey, twilio.SignatureHeader), nil},
		{"signed with a Twilio auth token instead of the signing key", signer("twilio-token", twilio.SignatureHeader), provider.ErrBadSignature},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := laml(c, "ringing", nil)
			tc.sign(r, now)
			if err := p.Verify(r); !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
		})
	}
	if ev, _ := p.Parse(laml(c, "ringing", nil)); ev.Provider != signalwire.Name {
		t.Fatalf("events carry provider %q", ev.Provider)
	}
}

func TestNewNeedsSigningKey(t *testing.T) {
	if _, err := signalwire.New(signalwire.Config{}); !errors.Is(err, provider.ErrInvalidConfig) {
		t.Fatalf("err = %v", err)
	}
}

func FuzzVerify(f *testing.F) {
	p, _ := signalwire.New(signalwire.Config{SigningKey: signingKey})
	r := laml(providertest.Call{ID: "c1", From: "+14158675309", To: "+18005551212"}, "ringing", nil)
	signer(signingKey, signalwire.SignatureHeader)(r, now)
	f.Add(r.URL, string(r.Body), r.Header.Get(signalwire.SignatureHeader))
	f.Fuzz(func(t *testing.T, u, body, sig string) {
		req := &provider.Request{Method: http.MethodPost, URL: u, Header: http.Header{}, Body: []byte(body)}
		req.Header.Set(signalwire.SignatureHeader, sig)
		if p.Verify(req) == nil {
			if _, err := p.Parse(req); err != nil && !errors.Is(err, provider.ErrMalformedPayload) {
				t.Fatalf("verified request parsed with %v", err)
			}
		}
	})
}
