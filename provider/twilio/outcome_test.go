package twilio_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/provider/providertest"
	"github.com/attriqs/calltrack/provider/twilio"
)

var caller = providertest.Call{ID: "CA" + strings.Repeat("a", 32), From: "+14158675309", To: "+18005551212"}

// TestDialActionOutcomes maps every DialCallStatus of the <Dial> docs,
// with the caller's own CallStatus in the same request.
func TestDialActionOutcomes(t *testing.T) {
	cases := []struct {
		dial, parent string
		duration     string
		want         provider.Outcome
		talk         time.Duration
	}{
		{"completed", "in-progress", "42", provider.OutcomeAnswered, 42 * time.Second},
		{"completed", "completed", "42", provider.OutcomeAnswered, 42 * time.Second}, // the caller hung up first
		{"answered", "in-progress", "7", provider.OutcomeAnswered, 7 * time.Second},  // a conference
		{"completed", "in-progress", "-1", provider.OutcomeAnswered, 0},              // absurd duration: unknown
		{"busy", "in-progress", "0", provider.OutcomeBusy, 0},
		{"no-answer", "in-progress", "0", provider.OutcomeNoAnswer, 0},
		{"failed", "in-progress", "0", provider.OutcomeFailed, 0},
		// The caller hung up while the business line rang: the forward is
		// cancelled, or reported unanswered with the caller's call over.
		{"canceled", "completed", "0", provider.OutcomeAbandoned, 0},
		{"canceled", "in-progress", "0", provider.OutcomeAbandoned, 0},
		{"no-answer", "completed", "0", provider.OutcomeAbandoned, 0},
		{"exploded", "in-progress", "0", provider.OutcomeUnknown, 0},
	}
	for _, c := range cases {
		t.Run(c.dial+"/"+c.parent, func(t *testing.T) {
			body := form(caller, c.parent, url.Values{"DialCallStatus": {c.dial}, "DialCallSid": {"CA" + strings.Repeat("b", 32)}, "DialCallDuration": {c.duration}}).Encode()
			ev, err := twilio.ParseForm([]byte(body), "")
			if err != nil {
				t.Fatal(err)
			}
			if ev.Kind != provider.KindStatus || ev.CallID != caller.ID || ev.Outcome != c.want || ev.TalkTime != c.talk {
				t.Fatalf("kind %s call %s outcome %q talk %s; want status %s %q %s", ev.Kind, ev.CallID, ev.Outcome, ev.TalkTime, caller.ID, c.want, c.talk)
			}
		})
	}
}

func TestInboundWebhookIsStillInbound(t *testing.T) {
	ev, err := twilio.ParseForm([]byte(form(caller, "ringing", url.Values{"StirVerstat": {"TN-Validation-Passed-A"}}).Encode()), "")
	if err != nil || ev.Kind != provider.KindInbound || ev.Attestation != provider.AttestationFull || ev.Outcome != "" {
		t.Fatalf("ParseForm = %+v, %v; want an inbound call attested A", ev, err)
	}
	for _, v := range []string{"TN-Validation-Failed-B", "No-TN-Validation", ""} {
		ev, _ := twilio.ParseForm([]byte(form(caller, "ringing", url.Values{"StirVerstat": {v}}).Encode()), "")
		if ev.Attestation != "" {
			t.Errorf("StirVerstat %q attested %q", v, ev.Attestation)
		}
	}
}

func TestRecordingCallback(t *testing.T) {
	rec := func(status, duration string) []byte {
		return []byte(url.Values{"AccountSid": {"ACX"}, "CallSid": {caller.ID}, "RecordingSid": {"RE" + strings.Repeat("c", 32)},
			"RecordingUrl":    {"https://api.twilio.com/2010-04-01/Accounts/ACX/Recordings/RE" + strings.Repeat("c", 32)},
			"RecordingStatus": {status}, "RecordingDuration": {duration}, "RecordingSource": {"DialVerb"}}.Encode())
	}
	ev, err := twilio.ParseForm(rec("completed", "41"), "")
	if err != nil || ev.Kind != provider.KindStatus || ev.CallID != caller.ID || ev.Recording.ID != "RE"+strings.Repeat("c", 32) ||
		!strings.HasPrefix(ev.Recording.URL, "https://api.twilio.com/") || ev.Recording.Duration != 41*time.Second || ev.Status != "" {
		t.Fatalf("ParseForm = %+v, %v", ev, err)
	}
	if _, err := twilio.ParseForm(rec("absent", "0"), ""); !errors.Is(err, provider.ErrIgnoredEvent) {
		t.Fatalf("absent recording: %v, want ErrIgnoredEvent", err)
	}
	bad := bytes.Replace(rec("completed", "41"), []byte("RecordingUrl=https"), []byte("RecordingUrl=javascript"), 1)
	if ev, err := twilio.ParseForm(bad, ""); err != nil || ev.Recording.URL != "" || ev.Recording.ID == "" {
		t.Fatalf("a recording URL that is not http(s) is dropped, the recording kept: %+v, %v", ev.Recording, err)
	}
}

func TestAnsweringMachineVerdict(t *testing.T) {
	p, _ := twilio.New(twilio.Config{AuthToken: token})
	child := "CA" + strings.Repeat("d", 32)
	verdict := func(answeredBy, query string) *provider.Request {
		r := req(url.Values{"AccountSid": {"ACX"}, "CallSid": {child}, "AnsweredBy": {answeredBy}, "MachineDetectionDuration": {"2410"}, "To": {"+12125550123"}})
		r.URL = sampleURL + query
		return r
	}
	for answeredBy, want := range map[string]provider.Outcome{"machine_start": provider.OutcomeVoicemail, "machine_end_beep": provider.OutcomeVoicemail, "fax": provider.OutcomeVoicemail, "human": provider.OutcomeAnswered, "unknown": ""} {
		ev, err := p.Parse(verdict(answeredBy, "&"+twilio.ParentParam+"="+caller.ID))
		if err != nil || ev.CallID != caller.ID || ev.Outcome != want || ev.Kind != provider.KindStatus || ev.To != "" {
			t.Errorf("AnsweredBy %s: %+v, %v; want %q on the caller's call, without the business leg's numbers", answeredBy, ev, err, want)
		}
	}
	if _, err := p.Parse(verdict("machine_start", "")); !errors.Is(err, provider.ErrIgnoredEvent) {
		t.Fatalf("a verdict naming no caller's call: %v, want ErrIgnoredEvent", err)
	}
}

func TestRenderForwardAsksForTheOutcome(t *testing.T) {
	p, _ := twilio.New(twilio.Config{AuthToken: token})
	ev := provider.CallEvent{CallID: caller.ID, From: caller.From, To: caller.To}
	f := provider.Forward{To: "+12125550123", Record: true, RecordingNotice: "Calls are recorded", CallbackURL: "https://calls.example.com/calltrack/twilio?site=42"}
	a, err := p.RenderForward(f, ev)
	if err != nil {
		t.Fatal(err)
	}
	want := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<Response><Say>Calls are recorded</Say><Dial action="https://calls.example.com/calltrack/twilio?site=42" method="POST" callerId="+18005551212" timeout="30" record="record-from-answer-dual"` +
		` recordingStatusCallback="https://calls.example.com/calltrack/twilio?site=42" recordingStatusCallbackMethod="POST" recordingStatusCallbackEvent="completed">` +
		`<Number machineDetection="Enable" amdStatusCallback="https://calls.example.com/calltrack/twilio?site=42&amp;calltrack_parent=` + caller.ID + `" amdStatusCallbackMethod="POST">+12125550123</Number></Dial></Response>`
	if string(a.Body) != want {
		t.Fatalf("got\n%s\nwant\n%s", a.Body, want)
	}
	quiet, _ := twilio.New(twilio.Config{AuthToken: token, NoVoicemailDetection: true})
	if a, _ := quiet.RenderForward(f, ev); bytes.Contains(a.Body, []byte("machineDetection")) {
		t.Fatalf("NoVoicemailDetection still detects:\n%s", a.Body)
	}
	// Without a callback URL, and for the TeXML renderer, no callbacks.
	for _, body := range [][]byte{must(p.RenderForward(provider.Forward{To: "+12125550123"}, ev)).Body, must(twilio.RenderDial(f, ev))} {
		if bytes.Contains(body, []byte("action=")) || bytes.Contains(body, []byte("Callback")) {
			t.Fatalf("callbacks rendered:\n%s", body)
		}
	}
}

func TestRejectAndFallbackDocument(t *testing.T) {
	p, _ := twilio.New(twilio.Config{AuthToken: token})
	a, err := p.RenderForward(provider.Forward{Reject: true}, provider.CallEvent{})
	if err != nil || string(a.Body) != `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<Response><Reject reason="busy"></Reject></Response>` {
		t.Fatalf("reject = %s, %v", a.Body, err)
	}
	doc, err := twilio.FallbackDocument("+12125550123")
	if err != nil || string(doc) != `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<Response><Dial>+12125550123</Dial></Response>` {
		t.Fatalf("FallbackDocument = %s, %v", doc, err)
	}
	if to, _, err := twilio.ParseDial(doc); err != nil || to != "+12125550123" {
		t.Fatalf("the fallback dials %q, %v", to, err)
	}
	if _, err := twilio.FallbackDocument("212-555-0123"); !errors.Is(err, provider.ErrInvalidForward) || !strings.Contains(err.Error(), "field To") {
		t.Fatalf("FallbackDocument of a non-E.164 number: %v", err)
	}
}

// TestVoicemailThroughTheHandler sends the inbound webhook and the
// answering-machine verdict, each signed over the URL Twilio calls, through
// a Handler: the verdict lands on the caller's call.
func TestVoicemailThroughTheHandler(t *testing.T) {
	p, _ := twilio.New(twilio.Config{AuthToken: token})
	rec := providertest.NewMemoryRecorder()
	quiet := slog.New(slog.DiscardHandler)
	in, err := provider.NewIngest(rec, provider.IngestConfig{SpoolDir: t.TempDir(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	route := func(context.Context, provider.CallEvent) (provider.Forward, error) {
		return provider.Forward{To: "+12125550123"}, nil
	}
	h, err := provider.NewHandler(p, in, route, provider.HandlerConfig{PublicURL: "https://calls.example.com", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	send := func(r *provider.Request) []byte {
		t.Helper()
		params, _ := url.ParseQuery(string(r.Body))
		u, _ := url.Parse(r.URL)
		hr := httptest.NewRequest(http.MethodPost, u.RequestURI(), bytes.NewReader(r.Body))
		hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		hr.Header.Set(twilio.SignatureHeader, twilio.Sign(token, r.URL, params))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, hr)
		if w.Code != http.StatusOK {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
		return w.Body.Bytes()
	}
	inbound := req(form(caller, "ringing", nil))
	answer := send(inbound)
	// The verdict comes to the amdStatusCallback URL the answer gave.
	i := bytes.Index(answer, []byte(`amdStatusCallback="`))
	if i < 0 {
		t.Fatalf("no amdStatusCallback in\n%s", answer)
	}
	amdURL, _, _ := strings.Cut(string(answer[i+len(`amdStatusCallback="`):]), `"`)
	amdURL = strings.ReplaceAll(amdURL, "&amp;", "&")
	verdict := outcomeReport(caller, sampleURL, provider.OutcomeVoicemail, 0)
	if verdict.URL != amdURL {
		t.Fatalf("the fixture reports to %s, the answer asked for %s", verdict.URL, amdURL)
	}
	send(verdict)
	send(recordingReport(caller, sampleURL, provider.Recording{ID: "RE1", URL: "https://api.twilio.com/2010-04-01/Accounts/ACX/Recordings/RE1", Duration: 12 * time.Second}))
	if err := in.Close(); err != nil {
		t.Fatal(err)
	}
	got, ok := rec.Call(twilio.Name, caller.ID)
	if !ok || len(rec.Calls()) != 1 || got.Outcome != provider.OutcomeVoicemail || !got.Outcome.Missed() || got.To != caller.To || got.Recording.ID != "RE1" {
		t.Fatalf("recorded %+v (%d calls); want the caller's call ended in voicemail with its recording", got, len(rec.Calls()))
	}
}

func TestFetchRecordingSendsCredentialsToTwilioOnly(t *testing.T) {
	var auth []string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, pw, _ := r.BasicAuth()
		auth = append(auth, u+":"+pw)
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte("RIFF"))
	}))
	defer srv.Close()
	p, _ := twilio.New(twilio.Config{AuthToken: token, AccountSID: "ACX", APIBase: srv.URL, HTTPClient: srv.Client()})
	body, err := p.FetchRecording(context.Background(), provider.Recording{ID: "RE1", URL: srv.URL + "/2010-04-01/Accounts/ACX/Recordings/RE1"})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(body)
	body.Close()
	if string(data) != "RIFF" || auth[0] != "ACX:"+token {
		t.Fatalf("got %q with auth %q", data, auth)
	}
	// Another host never gets them.
	var otherAuth string
	other := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, pw, _ := r.BasicAuth()
		otherAuth = u + pw
		w.Write([]byte("RIFF"))
	}))
	defer other.Close()
	body, err = p.FetchRecording(context.Background(), provider.Recording{URL: other.URL + "/2010-04-01/Accounts/ACX/Recordings/RE1"})
	if err != nil {
		t.Fatal(err)
	}
	body.Close()
	if otherAuth != "" {
		t.Fatalf("credentials sent to %s: %q", other.URL, otherAuth)
	}
	if _, err := p.FetchRecording(context.Background(), provider.Recording{ID: "RE2", URL: srv.URL + "/missing"}); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("missing recording: %v", err)
	}
	if _, err := p.FetchRecording(context.Background(), provider.Recording{URL: "file:///etc/passwd"}); err == nil || !strings.Contains(err.Error(), "field URL") {
		t.Fatalf("non-http URL: %v", err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
