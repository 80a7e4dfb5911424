package plivo_test

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/provider/plivo"
)

// Plivo's published V2 vector: plivo-python tests/resources/test_signature.py
// and plivo-go utils_test.go TestValidateSignatureV2Pass.
func TestPublishedV2Vector(t *testing.T) {
	const sig = "ehV3IKhLysWBxC1sy8INm0qGoQYdYsHwuoKjsX7FsXc="
	if got := plivo.SignV2("my_auth_token", "https://answer.url", "12345"); got != sig {
		t.Fatalf("SignV2 = %s, want %s", got, sig)
	}
	cases := []struct {
		name, url, token, header string
		want                     error
	}{
		{"published signature", "https://answer.url", "my_auth_token", sig, nil},
		{"the query is not signed", "https://answer.url?CallUUID=abc", "my_auth_token", sig, nil},
		{"wrong token", "https://answer.url", "my_auth_tokens", sig, provider.ErrBadSignature},
		{"another path", "https://answer.url/other", "my_auth_token", sig, provider.ErrBadSignature},
		{"not a signature", "https://answer.url", "my_auth_token", "abc", provider.ErrMalformedSignature},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := plivo.ValidateSignatureV2(c.token, c.url, "12345", c.header)
			if !errors.Is(err, c.want) || (c.want == nil && err != nil) {
				t.Fatalf("ValidateSignatureV2 = %v, want %v", err, c.want)
			}
		})
	}
}

// Plivo's V3 vectors from plivo-go utils_test.go
// (TestValidateSignatureV3Pass1..4): a real StartApp request signed with
// auth token Y2Q2ZDgxZmY5YWRiOTI5YmQ1Njg0MTAxZWIyOTc4, with and without a
// query, by POST and GET.
func TestPublishedV3Vectors(t *testing.T) {
	params := url.Values{
		"Direction": {"outbound"}, "From": {"19792014278"}, "ALegUUID": {"3e82ae9d-2c78-4d85-b1a4-6eae7dbafb36"},
		"CallStatus": {"in-progress"}, "BillRate": {"0.002"}, "ParentAuthID": {"MANWVLYTK4ZWU1YTY4QA"},
		"To":              {"sip:PlivoSignature382029104058171078704104@phone-qa.voice.plivodev.com"},
		"ALegRequestUUID": {"3e82ae9d-2c78-4d85-b1a4-6eae7dbafb36"}, "CallUUID": {"3e82ae9d-2c78-4d85-b1a4-6eae7dbafb36"},
		"RequestUUID":  {"3e82ae9d-2c78-4d85-b1a4-6eae7dbafb36"},
		"SIP-H-To":     {"<sip:PlivoSignature382029104058171078704104@52.9.11.55;transport=udp>;tag=1"},
		"SessionStart": {"2020-04-08 11:34:33.238707"}, "Event": {"StartApp"},
	}
	const token, nonce = "Y2Q2ZDgxZmY5YWRiOTI5YmQ1Njg0MTAxZWIyOTc4", "31627761595286130198"
	const withQuery = "https://plivobin.non-prod.plivops.com/api/v1/validate_signature03.xml/?a=b&c=d"
	const noQuery = "https://plivobin.non-prod.plivops.com/api/v1/validate_signature03.xml"
	cases := []struct{ name, method, url, sig string }{
		{"POST with query", "POST", withQuery, "k7Pusd4OxCIjR5IfA9iedDNu/h/gbdYqdzG/MiYtd1c="},
		{"GET with query", "GET", withQuery, "UBq8jAtd32wR8EK9VgxbBn4n5rpI/l1H9iN4WfSEHFQ="},
		{"POST", "POST", noQuery, "iAjE5QqI37mbkYe4w3jTMudqEzbDufdqi7sYwTu64e0="},
		{"GET", "GET", noQuery, "i/MQsaQSAd6fiKhOh2qeeeLHZ9faldADSb3/7+Akfbc="},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := plivo.Sign(token, c.method, c.url, nonce, params); got != c.sig {
				t.Fatalf("Sign = %s, want %s", got, c.sig)
			}
		})
	}
}

// The scheme is the configuration's, never the request's: Plivo sends V2
// and V3 headers together, and V2 signs no body, so a request stripped of
// its V3 headers must not be checked by V2 (a forged body would pass).
func TestValidateRequestNeverDowngradesToV2(t *testing.T) {
	u := "https://calls.example.com/plivo"
	genuine := []byte("CallUUID=abc&From=14155550100&CallStatus=ringing")
	params, _ := url.ParseQuery(string(genuine))
	captured := http.Header{
		plivo.SignatureHeader: {plivo.Sign(token, "POST", u, "n3", params)}, plivo.NonceHeader: {"n3"},
		plivo.SignatureV2Header: {plivo.SignV2(token, u, "n2")}, plivo.NonceV2Header: {"n2"}}
	if err := plivo.ValidateRequest(token, &provider.Request{Method: "POST", URL: u, Body: genuine, Header: captured}); err != nil {
		t.Fatalf("genuine request: %v", err)
	}
	forged := &provider.Request{Method: "POST", URL: u, Body: []byte("CallUUID=other&From=14155550199&CallStatus=ringing"), Header: http.Header{
		plivo.SignatureV2Header: captured[plivo.SignatureV2Header], plivo.NonceV2Header: captured[plivo.NonceV2Header]}}
	p, err := plivo.New(plivo.Config{AuthToken: token})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Verify(forged); !errors.Is(err, provider.ErrMissingSignature) {
		t.Fatalf("V3 stripped, V2 kept: Verify = %v, want ErrMissingSignature", err)
	}
	// An account configured for V2 verifies V2, and only V2.
	p2, err := plivo.New(plivo.Config{AuthToken: token, SignatureV2: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := p2.Verify(forged); err != nil {
		t.Fatalf("SignatureV2: %v", err)
	}
	v3only := &provider.Request{Method: "POST", URL: u, Body: genuine, Header: http.Header{
		plivo.SignatureHeader: captured[plivo.SignatureHeader], plivo.NonceHeader: captured[plivo.NonceHeader]}}
	if err := p2.Verify(v3only); !errors.Is(err, provider.ErrMissingSignature) {
		t.Fatalf("SignatureV2 with only V3 headers: %v", err)
	}
	bad := &provider.Request{Method: "POST", URL: u, Body: genuine, Header: http.Header{
		plivo.SignatureV2Header: {plivo.SignV2("wrong", u, "n2")}, plivo.NonceV2Header: {"n2"}}}
	if err := p2.Verify(bad); !errors.Is(err, provider.ErrBadSignature) {
		t.Fatalf("SignatureV2 with a bad V2 header: %v", err)
	}
}

func form2(kv ...string) []byte {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return []byte(v.Encode())
}

func TestDialCallbacks(t *testing.T) {
	const a = "6f1d4a92-3b77-4d0e-9f2a-1c8b5e7d0431"
	cases := []struct {
		name string
		body []byte
		want provider.Outcome
		talk time.Duration
	}{
		{"answer event", form2("DialAction", "answer", "DialBLegStatus", "answer", "DialALegUUID", a, "DialBLegUUID", "b"), provider.OutcomeAnswered, 0},
		{"connected event", form2("DialAction", "connected", "DialALegUUID", a), provider.OutcomeAnswered, 0},
		{"hangup after talk", form2("DialAction", "hangup", "DialALegUUID", a, "DialBLegDuration", "11", "DialBLegBillDuration", "60", "DialBLegHangupCause", "NORMAL_CLEARING"), provider.OutcomeAnswered, 11 * time.Second},
		{"hangup busy", form2("DialAction", "hangup", "DialALegUUID", a, "DialBLegDuration", "0", "DialBLegHangupCause", "USER_BUSY", "DialBLegHangupCauseName", "Busy Line"), provider.OutcomeBusy, 0},
		{"hangup rang out", form2("DialAction", "hangup", "DialALegUUID", a, "DialBLegDuration", "0", "DialBLegHangupCause", "NO_ANSWER"), provider.OutcomeNoAnswer, 0},
		{"hangup ring timeout by name", form2("DialAction", "hangup", "DialALegUUID", a, "DialBLegHangupCauseName", "Ring Timeout Reached"), provider.OutcomeNoAnswer, 0},
		{"caller gave up", form2("DialAction", "hangup", "DialALegUUID", a, "DialBLegDuration", "0", "DialBLegHangupCause", "ORIGINATOR_CANCEL"), provider.OutcomeAbandoned, 0},
		{"caller gave up by source", form2("DialAction", "hangup", "DialALegUUID", a, "DialBLegHangupSource", "Caller", "DialBLegHangupCauseName", "Canceled"), provider.OutcomeAbandoned, 0},
		{"hangup unreachable", form2("DialAction", "hangup", "DialALegUUID", a, "DialBLegHangupCause", "UNALLOCATED_NUMBER"), provider.OutcomeFailed, 0},
		{"hangup says nothing sure", form2("DialAction", "hangup", "DialALegUUID", a, "DialBLegDuration", "0", "DialBLegHangupCause", "NORMAL_CLEARING"), provider.OutcomeUnknown, 0},
		{"action completed", form2("DialStatus", "completed", "DialALegUUID", a, "DialBLegUUID", "b", "DialHangupCause", "NORMAL_CLEARING"), provider.OutcomeAnswered, 0},
		{"action busy", form2("DialStatus", "busy", "DialALegUUID", a, "DialHangupCause", "USER_BUSY"), provider.OutcomeBusy, 0},
		{"action timeout", form2("DialStatus", "timeout", "DialALegUUID", a), provider.OutcomeNoAnswer, 0},
		{"action failed", form2("DialStatus", "failed", "DialALegUUID", a), provider.OutcomeFailed, 0},
		{"action after the caller gave up", form2("DialStatus", "no-answer", "DialALegUUID", a, "DialHangupCause", "ORIGINATOR_CANCEL"), provider.OutcomeAbandoned, 0},
		{"action parent from CallUUID", form2("DialStatus", "no-answer", "CallUUID", a), provider.OutcomeNoAnswer, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ev, err := plivo.ParseForm(c.body, "")
			if err != nil {
				t.Fatal(err)
			}
			if ev.CallID != a || ev.Kind != provider.KindStatus || ev.Outcome != c.want || ev.TalkTime != c.talk || ev.Status != provider.StatusUnknown {
				t.Fatalf("ParseForm = call %q kind %v outcome %q talk %s status %q; want %s %q %s", ev.CallID, ev.Kind, ev.Outcome, ev.TalkTime, ev.Status, a, c.want, c.talk)
			}
		})
	}
	if _, err := plivo.ParseForm(form2("DialAction", "digits", "DialALegUUID", a, "DialDigitsMatch", "1"), ""); !errors.Is(err, provider.ErrIgnoredEvent) {
		t.Fatalf("digits: err = %v, want ErrIgnoredEvent", err)
	}
	if _, err := plivo.ParseForm(form2("DialStatus", "completed"), ""); !errors.Is(err, provider.ErrMalformedPayload) {
		t.Fatalf("no call id: err = %v, want ErrMalformedPayload", err)
	}
}

func TestRecordingCallback(t *testing.T) {
	cases := []struct {
		name string
		body []byte
		want provider.Recording
	}{
		{"Record element callbackUrl", form2("CallUUID", "call-1", "RecordUrl", "https://media.plivo.com/v1/Account/MA/Recording/r1.mp3", "RecordingID", "r1", "RecordingDuration", "24", "RecordingDurationMs", "24400.00000"),
			provider.Recording{ID: "r1", URL: "https://media.plivo.com/v1/Account/MA/Recording/r1.mp3", Duration: 24400 * time.Millisecond}},
		{"Record API callback_url in snake case", form2("call_uuid", "call-1", "record_url", "https://s3.amazonaws.com/recordings_2013/r2.mp3", "recording_id", "r2", "recording_duration", "345", "recording_duration_ms", "345100.00000"),
			provider.Recording{ID: "r2", URL: "https://s3.amazonaws.com/recordings_2013/r2.mp3", Duration: 345100 * time.Millisecond}},
		{"still running", form2("CallUUID", "call-1", "RecordUrl", "https://media.plivo.com/r3.mp3", "RecordingID", "r3", "RecordingDuration", "-1", "RecordingDurationMs", "-1"),
			provider.Recording{ID: "r3", URL: "https://media.plivo.com/r3.mp3"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ev, err := plivo.ParseForm(c.body, "")
			if err != nil {
				t.Fatal(err)
			}
			if ev.CallID != "call-1" || ev.Kind != provider.KindStatus || ev.Recording != c.want {
				t.Fatalf("ParseForm = %q %v %+v, want %+v", ev.CallID, ev.Kind, ev.Recording, c.want)
			}
		})
	}
}

func TestAttestation(t *testing.T) {
	cases := map[string]provider.Attestation{
		"STIRAttestation=B&STIRVerification=Not+Verified": provider.AttestationPartial,
		"STIRVerification=Verified":                       provider.AttestationFull,
		"STIRVerification=Not+Verified":                   "",
		"STIRVerification=Not+Applicable":                 "",
		"":                                                "",
	}
	for extra, want := range cases {
		body := "CallUUID=c1&CallStatus=ringing&Event=StartApp&From=14158675309&To=18005551212"
		if extra != "" {
			body += "&" + extra
		}
		ev, err := plivo.ParseForm([]byte(body), "")
		if err != nil || ev.Attestation != want || ev.Kind != provider.KindInbound {
			t.Errorf("%q: attestation %q kind %v (%v), want %q", extra, ev.Attestation, ev.Kind, err, want)
		}
	}
}

func TestRenderForwardCallbacksAndReject(t *testing.T) {
	ev := provider.CallEvent{From: "+14158675309", To: "+18005551212"}
	cb := "https://calls.example.com/calltrack/plivo?site=42"
	got, err := plivo.RenderDial(provider.Forward{To: "+12125550123", Record: true, RecordingNotice: "Recorded", CallbackURL: cb}, ev)
	if err != nil {
		t.Fatal(err)
	}
	want := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<Response><Speak>Recorded</Speak><Record startOnDialAnswer="true" redirect="false" callbackUrl="https://calls.example.com/calltrack/plivo?site=42" callbackMethod="POST"></Record>` +
		`<Dial action="https://calls.example.com/calltrack/plivo?site=42" method="POST" callbackUrl="https://calls.example.com/calltrack/plivo?site=42" callbackMethod="POST" callerId="18005551212" timeout="30"><Number>12125550123</Number></Dial></Response>`
	if string(got) != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	rej, err := plivo.RenderDial(provider.Forward{Reject: true}, ev)
	if err != nil {
		t.Fatal(err)
	}
	if want := `<Response><Hangup reason="rejected"></Hangup></Response>`; !strings.HasSuffix(string(rej), want) {
		t.Fatalf("reject = %s, want …%s", rej, want)
	}
}

// Plivo reports an answered forward three times (callbackUrl answer and
// hangup, then the action URL); in any order they merge to answered with
// the hangup's talk time.
func TestAnsweredReportsMergeInAnyOrder(t *testing.T) {
	const a = "call-1"
	bodies := [][]byte{
		form2("DialAction", "answer", "DialALegUUID", a),
		form2("DialAction", "hangup", "DialALegUUID", a, "DialBLegDuration", "42", "DialBLegHangupCause", "NORMAL_CLEARING"),
		form2("DialStatus", "completed", "DialALegUUID", a, "DialHangupCause", "NORMAL_CLEARING"),
	}
	orders := [][]int{{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}, {2, 2, 1, 1, 0}}
	for _, order := range orders {
		var got provider.CallEvent
		for _, i := range order {
			ev, err := plivo.ParseForm(bodies[i], "")
			if err != nil {
				t.Fatal(err)
			}
			got = provider.Merge(got, ev)
		}
		if got.Outcome != provider.OutcomeAnswered || got.TalkTime != 42*time.Second {
			t.Errorf("order %v: outcome %q talk %s", order, got.Outcome, got.TalkTime)
		}
	}
}
