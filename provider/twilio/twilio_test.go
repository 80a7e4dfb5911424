package twilio_test

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/provider/providertest"
	"github.com/attriqs/calltrack/provider/twilio"
)

// Twilio's published request-validation vectors. They appear in the
// request validator tests of Twilio's own SDKs (twilio-go
// client/request_validator_test.go, twilio-python
// tests/unit/test_request_validator.py, twilio-node
// spec/unit/webhooks/webhooks.spec.js): auth token "12345", the URL below
// and these parameters.
const (
	vectorToken = "12345"
	vectorURL   = "https://mycompany.com/myapp.php?foo=1&bar=2"
	vectorSig   = "vOEb5UThFn24KEfnOFLQY2AE5FY="
	vectorHTTP  = "n2xBNyzSW7rfYStDtOFiFMv7qNo=" // same, over the http:// URL
	bodyHash    = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
)

var vectorParams = url.Values{
	"Digits":                {"1234"},
	"CallSid":               {"CA1234567890ABCDE"},
	"To":                    {"+18005551212"},
	"Caller":                {"+14158675309"},
	"From":                  {"+14158675309"},
	"ReasonConferenceEnded": {"test"},
	"Reason":                {"Participant"},
}

func TestPublishedVectors(t *testing.T) {
	if got := twilio.Sign(vectorToken, vectorURL, vectorParams); got != vectorSig {
		t.Fatalf("Sign = %q, want Twilio's %q", got, vectorSig)
	}
	cases := []struct {
		name   string
		url    string
		params url.Values
		sig    string
		want   error
	}{
		{"documented URL and params", vectorURL, vectorParams, vectorSig, nil},
		{"https with port, signed without", strings.Replace(vectorURL, ".com", ".com:1234", 1), vectorParams, vectorSig, nil},
		{"http without port", strings.Replace(vectorURL, "https", "http", 1), vectorParams, vectorHTTP, nil},
		{"http with port, signed without", strings.Replace(strings.Replace(vectorURL, ".com", ".com:1234", 1), "https", "http", 1), vectorParams, vectorHTTP, nil},
		// ReasonConferenceEnded sorted before Reason: Twilio's vector for a
		// wrong parameter order, which must fail.
		{"params sorted incorrectly", vectorURL, vectorParams, "95+Bu0JVPi0r/SsESZCVf0dWAjw=", provider.ErrBadSignature},
		{"wrong signature", vectorURL, vectorParams, "WRONG SIGNATURE", provider.ErrMalformedSignature},
		{"empty signature", vectorURL, vectorParams, "", provider.ErrMissingSignature},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := twilio.ValidateSignature(vectorToken, c.url, c.params, c.sig); !errors.Is(err, c.want) || (c.want == nil && err != nil) {
				t.Fatalf("ValidateSignature = %v, want %v", err, c.want)
			}
		})
	}
}

func TestPublishedBodyVectors(t *testing.T) {
	jsonBody := []byte(`{"property": "value", "boolean": true}`)
	if got := twilio.BodySHA256(jsonBody); got != bodyHash {
		t.Fatalf("BodySHA256 = %s, want %s", got, bodyHash)
	}
	cases := []struct {
		name string
		url  string
		body []byte
		sig  string
		want error
	}{
		{"json body via bodySHA256", vectorURL + "&bodySHA256=" + bodyHash, jsonBody, "a9nBmqA0ju/hNViExpshrM61xv4=", nil},
		{"only bodySHA256 in URL", "https://mycompany.com/myapp.php?bodySHA256=" + bodyHash, jsonBody, "y77kIzt2vzLz71DgmJGsen2scGs=", nil},
		{"form body", vectorURL, []byte("property=value&boolean=true"), "NBdBDr/T/lgjI+tlgpXjKZQZs/k=", nil},
		{"json body tampered", vectorURL + "&bodySHA256=" + bodyHash, []byte(`{"property": "evil", "boolean": true}`), "a9nBmqA0ju/hNViExpshrM61xv4=", provider.ErrBodyHashMismatch},
		{"json body without bodySHA256", vectorURL, jsonBody, vectorSig, provider.ErrBadSignature},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := &provider.Request{Method: http.MethodPost, URL: c.url, Header: http.Header{twilio.SignatureHeader: {c.sig}}, Body: c.body}
			if err := twilio.ValidateRequest(vectorToken, r, twilio.SignatureHeader); !errors.Is(err, c.want) || (c.want == nil && err != nil) {
				t.Fatalf("ValidateRequest = %v, want %v", err, c.want)
			}
		})
	}
}

func TestRepeatedParamsAreAllSigned(t *testing.T) {
	params := url.Values{"A": {"2", "1"}}
	sig := twilio.Sign("t", "https://x.test/", params)
	if err := twilio.ValidateSignature("t", "https://x.test/", url.Values{"A": {"1"}}, sig); !errors.Is(err, provider.ErrBadSignature) {
		t.Fatalf("dropping a repeated value must break the signature, got %v", err)
	}
}

const (
	token     = "twilio-auth-token"
	sampleURL = "https://calls.example.com/calltrack/twilio?site=42"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// Form builds a webhook body in the shape Twilio documents for the voice
// webhook and status callbacks.
func form(c providertest.Call, status string, extra url.Values) url.Values {
	v := url.Values{
		"AccountSid":  {"ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"},
		"ApiVersion":  {"2010-04-01"},
		"CallSid":     {c.ID},
		"CallStatus":  {status},
		"Called":      {c.To},
		"Caller":      {c.From},
		"Direction":   {"inbound"},
		"From":        {c.From},
		"FromCity":    {"SAN FRANCISCO"},
		"FromCountry": {"US"},
		"FromState":   {"CA"},
		"To":          {c.To},
		"ToCountry":   {"US"},
	}
	for k, vs := range extra {
		v[k] = vs
	}
	return v
}

func req(v url.Values) *provider.Request {
	return &provider.Request{Method: http.MethodPost, URL: sampleURL, Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, Body: []byte(v.Encode())}
}

func signer(key string) func(*provider.Request, time.Time) {
	return func(r *provider.Request, _ time.Time) {
		params, _ := url.ParseQuery(string(r.Body))
		r.Header.Set(twilio.SignatureHeader, twilio.Sign(key, r.URL, params))
	}
}

func TestConformance(t *testing.T) {
	p, err := twilio.New(twilio.Config{AuthToken: token})
	if err != nil {
		t.Fatal(err)
	}
	providertest.Run(t, providertest.Fixture{
		Provider: p,
		Now:      now,
		Inbound: func(c providertest.Call) *provider.Request {
			return req(form(c, "ringing", nil))
		},
		Status: func(c providertest.Call, st provider.Status, talk time.Duration) *provider.Request {
			extra := url.Values{"CallbackSource": {"call-progress-events"}, "SequenceNumber": {"1"}, "Timestamp": {now.Format(time.RFC1123Z)}}
			if st == provider.StatusCompleted {
				extra.Set("CallDuration", strconv.Itoa(int(talk/time.Second)))
				extra.Set("Duration", strconv.Itoa(int((talk+time.Minute-1)/time.Minute)))
			}
			return req(form(c, string(st), extra))
		},
		Sign:             signer(token),
		SignWrongSecret:  signer("not-the-token"),
		SignatureHeaders: []string{twilio.SignatureHeader},
		ParseForward:     func(a provider.Answer) (string, string, error) { return twilio.ParseDial(a.Body) },
		Outcome:          outcomeReport,
		Recording:        recordingReport,
	}, providertest.Features{})
}

// outcomeReport builds what Twilio sends to the <Dial action> URL when the
// dialled leg ends (the caller's call parameters plus DialCallStatus,
// DialCallSid, DialCallDuration and DialBridged, per the <Dial> docs), or
// for voicemail the amdStatusCallback request (the business leg's CallSid,
// AnsweredBy, MachineDetectionDuration) at the URL RenderForward gave it.
func outcomeReport(c providertest.Call, callbackURL string, o provider.Outcome, talk time.Duration) *provider.Request {
	child := "CA" + strings.Repeat("f", 32)
	if o == provider.OutcomeVoicemail {
		v := url.Values{"AccountSid": {"ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"}, "CallSid": {child}, "AnsweredBy": {"machine_start"}, "MachineDetectionDuration": {"2410"}}
		r := req(v)
		sep := "?"
		if strings.Contains(callbackURL, "?") {
			sep = "&"
		}
		r.URL = callbackURL + sep + twilio.ParentParam + "=" + c.ID
		return r
	}
	// The caller is still on the line when the business leg ends, except
	// when they hung up first (abandoned).
	extra := url.Values{"DialCallSid": {child}, "DialBridged": {"false"}}
	parent := "in-progress"
	switch o {
	case provider.OutcomeAnswered:
		extra.Set("DialCallStatus", "completed")
		extra.Set("DialCallDuration", strconv.Itoa(int(talk/time.Second)))
		extra.Set("DialBridged", "true")
	case provider.OutcomeAbandoned:
		extra.Set("DialCallStatus", "no-answer")
		parent = "completed"
	case provider.OutcomeNoAnswer, provider.OutcomeBusy, provider.OutcomeFailed:
		extra.Set("DialCallStatus", string(o))
	default:
		return nil
	}
	r := req(form(c, parent, extra))
	r.URL = callbackURL
	return r
}

// recordingReport is the recordingStatusCallback request of the <Dial>
// docs: CallSid is the parent leg's.
func recordingReport(c providertest.Call, callbackURL string, rec provider.Recording) *provider.Request {
	r := req(url.Values{
		"AccountSid":         {"ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"},
		"CallSid":            {c.ID},
		"RecordingSid":       {rec.ID},
		"RecordingUrl":       {rec.URL},
		"RecordingStatus":    {"completed"},
		"RecordingDuration":  {strconv.Itoa(int(rec.Duration / time.Second))},
		"RecordingChannels":  {"2"},
		"RecordingStartTime": {"Sun, 01 Mar 2026 12:00:05 +0000"},
		"RecordingSource":    {"DialVerb"},
	})
	r.URL = callbackURL
	return r
}

func TestParseFormMapsTwilioFields(t *testing.T) {
	c := providertest.Call{ID: "CA42", From: "+14158675309", To: "+18005551212"}
	ev, err := twilio.ParseForm([]byte(form(c, "completed", url.Values{"CallDuration": {"61"}, "Timestamp": {"Sun, 01 Mar 2026 12:00:00 +0000"}, "CallerName": {"ALICE"}}).Encode()), "")
	if err != nil {
		t.Fatal(err)
	}
	if ev.Kind != provider.KindStatus || ev.Status != provider.StatusCompleted || ev.Duration != 61*time.Second ||
		!ev.EndedAt.Equal(now) || ev.CallerName != "ALICE" || ev.CallerCity != "SAN FRANCISCO" || ev.Direction != provider.DirectionInbound {
		t.Fatalf("ParseForm = %+v", ev)
	}
	for _, bad := range []string{"CallStatus=ringing", "CallSid=CA1&CallStatus=exploded", "%zz"} {
		if _, err := twilio.ParseForm([]byte(bad), ""); !errors.Is(err, provider.ErrMalformedPayload) {
			t.Errorf("ParseForm(%q) = %v, want ErrMalformedPayload", bad, err)
		}
	}
}

func TestRenderDialGolden(t *testing.T) {
	ev := provider.CallEvent{From: "+14158675309", To: "+18005551212"}
	cases := []struct {
		name string
		f    provider.Forward
		want string
	}{
		{"defaults", provider.Forward{To: "+12125550123"},
			`<Response><Dial callerId="+18005551212" timeout="30"><Number>+12125550123</Number></Dial></Response>`},
		{"passthrough, whisper, recording", provider.Forward{To: "+12125550123", CallerIDPassthrough: true, RingTimeout: 20 * time.Second,
			WhisperURL: "https://x.test/w?calltrack_whisper=Ads+%26+more", Record: true, RecordingNotice: `Calls are recorded <for "quality">`},
			`<Response><Say>Calls are recorded &lt;for &#34;quality&#34;&gt;</Say><Dial callerId="+14158675309" timeout="20" record="record-from-answer-dual"><Number url="https://x.test/w?calltrack_whisper=Ads+%26+more" method="POST">+12125550123</Number></Dial></Response>`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := twilio.RenderDial(c.f, ev)
			if err != nil {
				t.Fatal(err)
			}
			if want := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + c.want; string(got) != want {
				t.Fatalf("got\n%s\nwant\n%s", got, want)
			}
		})
	}
}

func FuzzValidateRequest(f *testing.F) {
	body := form(providertest.Call{ID: "CA1", From: "+14158675309", To: "+18005551212"}, "ringing", nil).Encode()
	f.Add(sampleURL, body, twilio.Sign(token, sampleURL, nil))
	f.Add(vectorURL+"&bodySHA256="+bodyHash, `{"property": "value", "boolean": true}`, "a9nBmqA0ju/hNViExpshrM61xv4=")
	f.Fuzz(func(t *testing.T, u, body, sig string) {
		r := &provider.Request{Method: http.MethodPost, URL: u, Header: http.Header{twilio.SignatureHeader: {sig}}, Body: []byte(body)}
		_ = twilio.ValidateRequest(token, r, twilio.SignatureHeader)
	})
}

func FuzzParseForm(f *testing.F) {
	f.Add(form(providertest.Call{ID: "CA1", From: "+14158675309", To: "+18005551212"}, "ringing", nil).Encode())
	f.Add("CallSid=CA1&CallStatus=completed&CallDuration=12&Timestamp=Sun,+01+Mar+2026+12:00:00+%2B0000")
	f.Add("CallSid=CA1&CallStatus=in-progress&DialCallStatus=completed&DialCallDuration=42&DialCallSid=CA2")
	f.Add("CallSid=CA1&RecordingSid=RE1&RecordingUrl=https%3A%2F%2Fapi.twilio.com%2Fr&RecordingStatus=completed&RecordingDuration=9")
	f.Add("CallSid=CA2&AnsweredBy=machine_start&MachineDetectionDuration=2400")
	f.Fuzz(func(t *testing.T, body string) {
		ev, err := twilio.ParseForm([]byte(body), "US")
		if err == nil && (ev.CallID == "" || ev.Duration < 0 || ev.TalkTime < 0 || ev.Recording.Duration < 0 || !ev.Outcome.Valid()) {
			t.Fatalf("accepted %q as %+v", body, ev)
		}
	})
}
