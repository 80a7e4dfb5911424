package plivo_test

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/provider/plivo"
	"github.com/attriqs/calltrack/provider/providertest"
)

// Plivo's published V3 vector, from the SDK tests (plivo-go utils_test.go
// TestValidateSignatureV3Pass; plivo-dotnet TestSignatureV3Pass): GET
// https://answer.url, nonce 12345, auth token my_auth_token.
func TestPublishedV3Vector(t *testing.T) {
	params := url.Values{"CallUUID": {"97ceeb52-58b6-11e1-86da-77300b68f8bb"}, "Duration": {"300"}}
	cases := []struct {
		name, sig, token string
		want             error
	}{
		{"published signature", "rXj4UwTSVxH6Kj+W0qX8LaCvVOOvmzPGzY8sQVn3d1I=", "my_auth_token", nil},
		// TestValidateSignatureV3Fail: last character changed, which no
		// longer decodes to a 32-byte MAC.
		{"published failing signature", "rXj4UwTSVxH6Kj+W0qX8LaCvVOOvmzPGzY8sQVn3d1I+", "my_auth_token", provider.ErrMalformedSignature},
		{"wrong token", "rXj4UwTSVxH6Kj+W0qX8LaCvVOOvmzPGzY8sQVn3d1I=", "my_auth_tokens", provider.ErrBadSignature},
		{"one of several signatures", "bm90LWEtc2lnbmF0dXJlLW5vdC1hLXNpZ25hdHVyZSE=,rXj4UwTSVxH6Kj+W0qX8LaCvVOOvmzPGzY8sQVn3d1I=", "my_auth_token", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := plivo.ValidateSignature(c.token, "GET", "https://answer.url", "12345", params, c.sig)
			if !errors.Is(err, c.want) || (c.want == nil && err != nil) {
				t.Fatalf("ValidateSignature = %v, want %v", err, c.want)
			}
		})
	}
}

func TestSignedURLConstruction(t *testing.T) {
	// Computed independently (Python hmac) from the Python SDK construction:
	// "https://x.test/answer?a=1&b=2.CallUUIDabcFrom14155550100" + ".nonce".
	params := url.Values{"From": {"14155550100"}, "CallUUID": {"abc"}}
	got := plivo.Sign("tok", "POST", "https://x.test/answer?b=2&a=1", "nonce", params)
	if err := plivo.ValidateSignature("tok", "POST", "https://x.test/answer?b=2&a=1", "nonce", params, got); err != nil {
		t.Fatal(err)
	}
	if want := "0LnFYlgPyu3Z+Pc8MJXtWbpUr9GR0RVsrVm5dX3Hhr4="; got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
	// Moving a value between query and body must change the signature.
	if err := plivo.ValidateSignature("tok", "POST", "https://x.test/answer?b=2&a=1&From=14155550100", "nonce", url.Values{"CallUUID": {"abc"}}, got); !errors.Is(err, provider.ErrBadSignature) {
		t.Fatalf("err = %v", err)
	}
}

func TestValidateErrors(t *testing.T) {
	cases := []struct {
		name, token, nonce, header string
		want                       error
	}{
		{"no token", "", "1", "x", provider.ErrNoSecret},
		{"no header", "t", "1", "", provider.ErrMissingSignature},
		{"no nonce", "t", "", "c2ln", provider.ErrMissingNonce},
		{"not base64", "t", "1", "%%%", provider.ErrMalformedSignature},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := plivo.ValidateSignature(c.token, "POST", "https://x.test/", c.nonce, nil, c.header); !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
}

const (
	token   = "plivo-auth-token"
	hookURL = "https://calls.example.com/calltrack/plivo?site=42"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// form builds a body in the shape of Plivo's answer_url / hangup_url
// requests (numbers as international digits, no '+').
func form(c providertest.Call, event, status string, extra url.Values) *provider.Request {
	v := url.Values{
		"CallUUID":   {c.ID},
		"CallStatus": {status},
		"Direction":  {"inbound"},
		"Event":      {event},
		"From":       {c.From[1:]},
		"To":         {c.To[1:]},
		"CallerName": {"+" + c.From[1:]},
		"StartTime":  {now.Format("2006-01-02 15:04:05")},
	}
	for k, vs := range extra {
		v[k] = vs
	}
	return &provider.Request{Method: http.MethodPost, URL: hookURL, Header: http.Header{}, Body: []byte(v.Encode())}
}

func signer(key string) func(*provider.Request, time.Time) {
	return func(r *provider.Request, at time.Time) {
		params, _ := url.ParseQuery(string(r.Body))
		nonce := strconv.FormatInt(at.UnixNano(), 10)
		r.Header.Set(plivo.NonceHeader, nonce)
		r.Header.Set(plivo.SignatureHeader, plivo.Sign(key, r.Method, r.URL, nonce, params))
	}
}

func TestConformance(t *testing.T) {
	p, err := plivo.New(plivo.Config{AuthToken: token})
	if err != nil {
		t.Fatal(err)
	}
	providertest.Run(t, providertest.Fixture{
		Provider: p,
		Now:      now,
		Inbound:  func(c providertest.Call) *provider.Request { return form(c, "StartApp", "ringing", nil) },
		Status: func(c providertest.Call, st provider.Status, talk time.Duration) *provider.Request {
			status := map[provider.Status]string{
				provider.StatusRinging: "ringing", provider.StatusInProgress: "in-progress",
				provider.StatusCompleted: "completed", provider.StatusBusy: "busy", provider.StatusNoAnswer: "no-answer",
			}[st]
			extra := url.Values{}
			event := "Hangup"
			if !st.Terminal() {
				event = "CallStatus"
			} else {
				extra.Set("Duration", strconv.Itoa(int(talk/time.Second)))
				extra.Set("BillDuration", strconv.Itoa(int(talk/time.Second)))
				extra.Set("EndTime", now.Add(talk).Format("2006-01-02 15:04:05"))
				extra.Set("HangupCause", "NORMAL_CLEARING")
			}
			return form(c, event, status, extra)
		},
		Sign:             signer(token),
		SignWrongSecret:  signer("wrong"),
		SignatureHeaders: []string{plivo.SignatureHeader, plivo.NonceHeader},
		ParseForward:     func(a provider.Answer) (string, string, error) { return plivo.ParseDial(a.Body) },
		Outcome:          dialReport,
		Recording:        recordingCallback,
	}, providertest.Features{})
}

// dialReport builds what Plivo sends about the business leg, in the shapes
// of its Dial XML reference: the action URL's DialStatus for a line that
// rang out or was busy, and the callbackUrl's hangup event (with the B
// leg's duration and hangup cause) for an answered leg and for a caller
// who hung up while it rang (ORIGINATOR_CANCEL, source Caller).
func dialReport(c providertest.Call, callbackURL string, o provider.Outcome, talk time.Duration) *provider.Request {
	v := url.Values{
		"CallUUID":     {c.ID},
		"DialALegUUID": {c.ID},
		"From":         {c.From[1:]},
		"To":           {c.To[1:]},
		"Direction":    {"inbound"},
		"CallStatus":   {"in-progress"},
	}
	hangup := func(secs int, cause, name, source string) {
		v.Set("Event", "DialHangup")
		v.Set("DialAction", "hangup")
		v.Set("DialBLegStatus", "hangup")
		v.Set("DialBLegUUID", "b-leg-"+c.ID)
		v.Set("DialBLegDuration", strconv.Itoa(secs))
		v.Set("DialBLegBillDuration", strconv.Itoa((secs+59)/60*60))
		v.Set("DialBLegHangupCause", cause)
		v.Set("DialBLegHangupCauseName", name)
		v.Set("DialBLegHangupSource", source)
	}
	action := func(status, cause string) {
		v.Set("Event", "Redirect")
		v.Set("DialStatus", status)
		v.Set("DialRingStatus", "true")
		v.Set("DialHangupCause", cause)
		v.Set("DialBLegUUID", "")
	}
	switch o {
	case provider.OutcomeAnswered:
		hangup(int(talk/time.Second), "NORMAL_CLEARING", "Normal Hangup", "Callee")
	case provider.OutcomeAbandoned:
		hangup(0, "ORIGINATOR_CANCEL", "Canceled", "Caller")
	case provider.OutcomeNoAnswer:
		action("no-answer", "NO_ANSWER")
	case provider.OutcomeBusy:
		action("busy", "USER_BUSY")
	case provider.OutcomeFailed:
		action("failed", "UNALLOCATED_NUMBER")
	default:
		return nil // Plivo's Dial has no answering-machine detection
	}
	return &provider.Request{Method: http.MethodPost, URL: callbackURL, Header: http.Header{}, Body: []byte(v.Encode())}
}

// recordingCallback builds the <Record callbackUrl> request: RecordUrl,
// RecordingID, RecordingDuration in seconds and RecordingDurationMs.
func recordingCallback(c providertest.Call, callbackURL string, rec provider.Recording) *provider.Request {
	v := url.Values{
		"CallUUID":            {c.ID},
		"RecordUrl":           {rec.URL},
		"RecordingID":         {rec.ID},
		"RecordingDuration":   {strconv.Itoa(int(rec.Duration / time.Second))},
		"RecordingDurationMs": {strconv.FormatInt(rec.Duration.Milliseconds(), 10) + ".00000"},
		"RecordingStartMs":    {strconv.FormatInt(now.UnixMilli(), 10) + ".00000"},
		"RecordingEndMs":      {strconv.FormatInt(now.Add(rec.Duration).UnixMilli(), 10) + ".00000"},
	}
	return &provider.Request{Method: http.MethodPost, URL: callbackURL, Header: http.Header{}, Body: []byte(v.Encode())}
}

func TestRenderDialGolden(t *testing.T) {
	ev := provider.CallEvent{From: "+14158675309", To: "+18005551212"}
	got, err := plivo.RenderDial(provider.Forward{To: "+12125550123", WhisperURL: "https://x.test/w?calltrack_whisper=a%26b", Record: true, RecordingNotice: "Recorded & kept"}, ev)
	if err != nil {
		t.Fatal(err)
	}
	want := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<Response><Speak>Recorded &amp; kept</Speak><Record startOnDialAnswer="true" redirect="false"></Record><Dial callerId="18005551212" timeout="30" confirmSound="https://x.test/w?calltrack_whisper=a%26b"><Number>12125550123</Number></Dial></Response>`
	if string(got) != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

func FuzzValidateRequest(f *testing.F) {
	f.Add(hookURL, "CallUUID=abc&From=14155550100", "GET", "12345", "rXj4UwTSVxH6Kj+W0qX8LaCvVOOvmzPGzY8sQVn3d1I=")
	f.Fuzz(func(t *testing.T, u, body, method, nonce, sig string) {
		r := &provider.Request{Method: method, URL: u, Header: http.Header{plivo.SignatureHeader: {sig}, plivo.NonceHeader: {nonce}}, Body: []byte(body)}
		_ = plivo.ValidateRequest(token, r)
	})
}

func FuzzParseForm(f *testing.F) {
	f.Add(string(form(providertest.Call{ID: "a", From: "+14158675309", To: "+18005551212"}, "Hangup", "completed", url.Values{"Duration": {"12"}}).Body))
	f.Add("DialAction=hangup&DialALegUUID=a&DialBLegDuration=11&DialBLegHangupCause=NORMAL_CLEARING")
	f.Add("DialStatus=no-answer&DialALegUUID=a&DialHangupCause=ORIGINATOR_CANCEL")
	f.Add("CallUUID=a&RecordUrl=https%3A%2F%2Fx.test%2Fr.mp3&RecordingID=r&RecordingDurationMs=24400.00000")
	f.Fuzz(func(t *testing.T, body string) {
		ev, err := plivo.ParseForm([]byte(body), "")
		if err == nil && (ev.CallID == "" || ev.Duration < 0 || ev.TalkTime < 0 || ev.Recording.Duration < 0 || !ev.Outcome.Valid()) {
			t.Fatalf("accepted %q as %+v", body, ev)
		}
	})
}
