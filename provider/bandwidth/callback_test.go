package bandwidth_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/provider/bandwidth"
	"github.com/attriqs/calltrack/provider/providertest"
)

// The vectors below are Bandwidth's published callback examples
// (dev.bandwidth.com/docs/voice/webhooks/...), copied as data.
const (
	parentID = "c-95ac8d6e-2c7ae496-7558-47a4-b291-4f02a3ca6942"

	docTransferDisconnectAnswered = `{
    "eventType"        : "transferDisconnect",
    "eventTime"        : "2019-12-27T19:19:28.003Z",
    "from"             : "+15551112222",
    "to"               : "+15553334444",
    "direction"        : "outbound",
    "callId"           : "c-95ac8d6e-1a31c52e-b38f-4198-93c1-51633ec68f8d",
    "parentCallId"     : "c-95ac8d6e-2c7ae496-7558-47a4-b291-4f02a3ca6942",
    "callUrl"          : "https://voice.bandwidth.com/api/v2/accounts/55555555/calls/c-95ac8d6e-1a31c52e-b38f-4198-93c1-51633ec68f8d",
    "transferCallerId" : "+15551115555",
    "transferTo"       : "+15556667777",
    "startTime"        : "2019-12-27T19:18:20.721Z",
    "answerTime"       : "2019-12-27T19:18:23.320Z",
    "endTime"          : "2019-12-27T19:19:27.987Z",
    "cause"            : "hangup"
}`
	docTransferDisconnectBusy = `{
    "eventType"        : "transferDisconnect",
    "eventTime"        : "2019-12-27T19:24:00.020Z",
    "from"             : "+15551112222",
    "to"               : "+15553334444",
    "direction"        : "outbound",
    "callId"           : "c-95ac8d6e-1a31c52e-b38f-4198-93c1-51633ec68f8d",
    "parentCallId"     : "c-95ac8d6e-2c7ae496-7558-47a4-b291-4f02a3ca6942",
    "callUrl"          : "https://voice.bandwidth.com/api/v2/accounts/55555555/calls/c-95ac8d6e-1a31c52e-b38f-4198-93c1-51633ec68f8d",
    "transferCallerId" : "+15551115555",
    "transferTo"       : "+15556667777",
    "startTime"        : "2019-12-27T19:23:38.685Z",
    "endTime"          : "2019-12-27T19:23:39.465Z",
    "cause"            : "busy",
    "errorMessage"     : "Callee is busy",
    "errorId"          : "4642074b-7b58-478b-96e4-3a60955c6765"
}`
	docTransferCompleteBusy = `{
	"eventType"        : "transferComplete",
	"eventTime"        : "2019-07-31T13:20:39.810Z",
	"accountId"        : "55555555",
	"applicationId"    : "7fc9698a-b04a-468b-9e8f-91238c0d0086",
	"from"             : "+15551112222",
	"to"               : "+15553334444",
	"direction"        : "outbound",
	"callId"           : "c-95ac8d6e-1a31c52e-b38f-4198-93c1-51633ec68f8d",
	"callUrl"          : "https://voice.bandwidth.com/api/v2/accounts/55555555/calls/c-95ac8d6e-1a31c52e-b38f-4198-93c1-51633ec68f8d",
	"transferCallerId" : "+15551115555",
	"transferTo"       : "+15556667777",
	"startTime"        : "2019-07-31T13:13:34.859Z",
	"answerTime"       : "2019-07-31T13:13:40.644Z",
	"cause"            : "busy",
	"errorMessage"     : "Callee is busy",
	"errorId"          : "4642074b-7b58-478b-96e4-3a60955c6765"
}`
	// The reference's example, eventTime without a zone included.
	docRecordingAvailable = `{
	"eventType"     : "recordingAvailable",
	"eventTime"     : "2019-09-13T16:49:40.500",
	"accountId"     : "55555555",
	"applicationId" : "7fc9698a-b04a-468b-9e8f-91238c0d0086",
	"to"            : "+15553334444",
	"from"          : "+15551112222",
	"direction"     : "outbound",
	"callId"        : "c-95ac8d6e-1a31c52e-b38f-4198-93c1-51633ec68f8d",
	"recordingId"   : "r-115da407-e3d9-4ea7-889f-5f4ad7386a80",
	"channels"      : 1,
	"enqueuedTime"  : "2019-09-13-16:48:27.198Z",
	"startTime"     : "2019-09-13T16:48:29.235Z",
	"endTime"       : "2019-09-13T16:48:48.890Z",
	"duration"      : "PT20.056S",
	"fileFormat"    : "wav",
	"callUrl"       : "https://../{accountId}/calls/{callId-1}",
	"mediaUrl"      : "https://../{accountId}/calls/{callId-1}/recordings/{recordingId}/media",
	"status"        : "complete"
}`
)

func TestPublishedTransferCallbacks(t *testing.T) {
	ev, err := bandwidth.ParseCallback([]byte(docTransferDisconnectAnswered))
	if err != nil {
		t.Fatal(err)
	}
	// 19:18:23.320 to 19:19:27.987, whole seconds.
	if ev.CallID != parentID || ev.Kind != provider.KindStatus || ev.Outcome != provider.OutcomeAnswered || ev.TalkTime != 64*time.Second ||
		!ev.AnsweredAt.Equal(time.Date(2019, 12, 27, 19, 18, 23, 320e6, time.UTC)) || ev.Status != "" || ev.Direction != "" || ev.From != "+15551112222" {
		t.Fatalf("answered transferDisconnect = %+v", ev)
	}
	ev, err = bandwidth.ParseCallback([]byte(docTransferDisconnectBusy))
	if err != nil || ev.CallID != parentID || ev.Outcome != provider.OutcomeBusy || ev.TalkTime != 0 || !ev.AnsweredAt.IsZero() {
		t.Fatalf("busy transferDisconnect = %+v, %v", ev, err)
	}
	// transferComplete is sent on the call that ran <Transfer>: its callId.
	ev, err = bandwidth.ParseCallback([]byte(docTransferCompleteBusy))
	if err != nil || ev.CallID != "c-95ac8d6e-1a31c52e-b38f-4198-93c1-51633ec68f8d" || ev.Outcome != provider.OutcomeBusy {
		t.Fatalf("busy transferComplete = %+v, %v", ev, err)
	}
}

func TestTransferCauses(t *testing.T) {
	cases := []struct {
		event, cause string
		answered     bool
		want         provider.Outcome
	}{
		{"transferDisconnect", "hangup", true, provider.OutcomeAnswered},
		{"transferDisconnect", "timeout", false, provider.OutcomeNoAnswer},
		{"transferDisconnect", "busy", false, provider.OutcomeBusy},
		{"transferDisconnect", "rejected", false, provider.OutcomeBusy},
		{"transferDisconnect", "cancel", false, provider.OutcomeAbandoned},
		{"transferDisconnect", "hangup", false, provider.OutcomeAbandoned},
		{"transferDisconnect", "callback-error", true, provider.OutcomeFailed},
		{"transferDisconnect", "account-limit", false, provider.OutcomeFailed},
		{"transferDisconnect", "a-cause-added-later", false, provider.OutcomeFailed},
		{"transferComplete", "hangup", true, provider.OutcomeAnswered},
		{"transferComplete", "timeout", true, provider.OutcomeNoAnswer},
		{"transferAnswer", "", true, provider.OutcomeAnswered},
	}
	for _, c := range cases {
		t.Run(c.event+" "+c.cause, func(t *testing.T) {
			body := strings.Replace(docTransferDisconnectAnswered, `"transferDisconnect"`, `"`+c.event+`"`, 1)
			body = strings.Replace(body, `"cause"            : "hangup"`, `"cause":"`+c.cause+`"`, 1)
			if !c.answered {
				body = strings.Replace(body, `"answerTime"       : "2019-12-27T19:18:23.320Z",`, "", 1)
			}
			ev, err := bandwidth.ParseCallback([]byte(body))
			if err != nil || ev.Outcome != c.want {
				t.Fatalf("outcome %q (%v), want %q", ev.Outcome, err, c.want)
			}
		})
	}
}

func TestTransferLegWithoutParentIsMalformed(t *testing.T) {
	body := strings.Replace(docTransferDisconnectBusy, `"parentCallId"     : "c-95ac8d6e-2c7ae496-7558-47a4-b291-4f02a3ca6942",`, "", 1)
	if _, err := bandwidth.ParseCallback([]byte(body)); !errors.Is(err, provider.ErrMalformedPayload) || !strings.Contains(err.Error(), "parentCallId") {
		t.Fatalf("transferDisconnect without parentCallId: %v", err)
	}
}

// transferComplete (no talk time) and transferDisconnect (talk time) of
// one answered transfer, in either order and twice, are one answered call
// with the leg's talk time.
func TestTransferReportsConverge(t *testing.T) {
	complete := strings.NewReplacer(`"transferDisconnect"`, `"transferComplete"`, `"callId"           : "c-95ac8d6e-1a31c52e-b38f-4198-93c1-51633ec68f8d",`, "",
		`"parentCallId"`, `"callId"`).Replace(docTransferDisconnectAnswered)
	a, err := bandwidth.ParseCallback([]byte(complete))
	if err != nil {
		t.Fatal(err)
	}
	b, err := bandwidth.ParseCallback([]byte(docTransferDisconnectAnswered))
	if err != nil {
		t.Fatal(err)
	}
	ab := provider.Merge(provider.Merge(provider.Merge(a, b), a), b)
	ba := provider.Merge(provider.Merge(provider.Merge(b, a), b), a)
	for _, got := range []provider.CallEvent{ab, ba} {
		if got.CallID != parentID || got.Outcome != provider.OutcomeAnswered || got.TalkTime != 64*time.Second {
			t.Fatalf("merged to %s %q %s", got.CallID, got.Outcome, got.TalkTime)
		}
	}
}

func TestPublishedRecordingAvailable(t *testing.T) {
	ev, err := bandwidth.ParseCallback([]byte(docRecordingAvailable))
	if err != nil {
		t.Fatal(err)
	}
	want := provider.Recording{ID: "r-115da407-e3d9-4ea7-889f-5f4ad7386a80", URL: "https://../{accountId}/calls/{callId-1}/recordings/{recordingId}/media", Duration: 20056 * time.Millisecond}
	if ev.CallID != "c-95ac8d6e-1a31c52e-b38f-4198-93c1-51633ec68f8d" || ev.Recording != want || ev.Kind != provider.KindStatus ||
		!ev.OccurredAt.Equal(time.Date(2019, 9, 13, 16, 49, 40, 500e6, time.UTC)) {
		t.Fatalf("recordingAvailable = %+v", ev)
	}
	// A recording of the transferred leg belongs to the caller's call.
	leg := strings.Replace(docRecordingAvailable, `"recordingId"`, `"parentCallId":"`+parentID+`","recordingId"`, 1)
	if ev, err := bandwidth.ParseCallback([]byte(leg)); err != nil || ev.CallID != parentID {
		t.Fatalf("the leg's recording went to %q (%v), want %s", ev.CallID, err, parentID)
	}
	failed := strings.Replace(docRecordingAvailable, `"status"        : "complete"`, `"status":"error"`, 1)
	if _, err := bandwidth.ParseCallback([]byte(failed)); !errors.Is(err, provider.ErrIgnoredEvent) {
		t.Fatalf("a recording in error: %v", err)
	}
}

func TestAttestationOnlyWhenVerificationPassed(t *testing.T) {
	c := providertest.Call{ID: "c-1", From: "+14158675309", To: "+18005551212"}
	cases := []struct {
		stir string
		want provider.Attestation
	}{
		{`,"stirShaken":{"verstat":"TN-Validation-Passed","attestationIndicator":"A","originatingId":"abc"}`, provider.AttestationFull},
		{`,"stirShaken":{"verstat":"TN-Verification-Passed","attestationIndicator":"C"}`, provider.AttestationGateway},
		{`,"stirShaken":{"verstat":"TN-Validation-Failed","attestationIndicator":"A"}`, ""},
		{`,"stirShaken":{"attestationIndicator":"A"}`, ""},
		{`,"stirShaken":{"verstat":"TN-Validation-Passed","attestationIndicator":"Z"}`, ""},
		{``, ""},
	}
	for _, k := range cases {
		ev, err := bandwidth.ParseCallback(callback(c, "initiate", k.stir).Body)
		if err != nil || ev.Attestation != k.want {
			t.Errorf("initiate%s: attestation %q (%v), want %q", k.stir, ev.Attestation, err, k.want)
		}
	}
}

func TestParseISODuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"PT20.056S": 20056 * time.Millisecond, "PT13.67S": 13670 * time.Millisecond, "PT0S": 0,
		"PT1M5S": 65 * time.Second, "PT1H0M2.5S": time.Hour + 2500*time.Millisecond, "P1DT2H": 26 * time.Hour,
	} {
		if got, err := bandwidth.ParseISODuration(in); err != nil || got != want {
			t.Errorf("ParseISODuration(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{"", "P", "PT", "20S", "PT-1S", "P1Y", "PT1S1", "PTS", "PT1.2.3S", "P1H", "PT1D", "P8D", "PT1ST1S"} {
		if got, err := bandwidth.ParseISODuration(in); !errors.Is(err, provider.ErrMalformedPayload) {
			t.Errorf("ParseISODuration(%q) = %s, %v; want malformed", in, got, err)
		}
	}
}

func FuzzParseISODuration(f *testing.F) {
	f.Add("PT20.056S")
	f.Add("P1DT2H3M4.5S")
	f.Fuzz(func(t *testing.T, s string) {
		d, err := bandwidth.ParseISODuration(s)
		if err == nil && (d < 0 || d > provider.MaxCallDuration) {
			t.Fatalf("ParseISODuration(%q) = %s", s, d)
		}
	})
}

func TestRejectRendersHangup(t *testing.T) {
	p, _ := bandwidth.New(bandwidth.Config{CallbackUsername: "u", CallbackPassword: "p"})
	a, err := p.RenderForward(provider.Forward{Reject: true, To: "+12125550123"}, provider.CallEvent{})
	want := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<Response><Hangup></Hangup></Response>`
	if err != nil || string(a.Body) != want {
		t.Fatalf("reject = %s, %v; want %s", a.Body, err, want)
	}
}

// Bandwidth takes a verb's credentials only with https URLs; over http
// (local development) they are left out rather than have the BXML, and
// with it the call, refused.
func TestCredentialsOnlyOverTLS(t *testing.T) {
	f := provider.Forward{To: "+12125550123", CallbackURL: "http://localhost:8080/bw", Record: true, RecordingNotice: "Recorded"}
	doc, err := bandwidth.RenderTransfer(f, provider.CallEvent{To: "+18005551212"}, bandwidth.Credentials{Username: "u", Password: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(doc), "secret") || !strings.Contains(string(doc), `transferDisconnectUrl="http://localhost:8080/bw"`) {
		t.Fatalf("over http:\n%s", doc)
	}
	f.CallbackURL = ""
	doc, _ = bandwidth.RenderTransfer(f, provider.CallEvent{To: "+18005551212"}, bandwidth.Credentials{Username: "u", Password: "secret"})
	if strings.Contains(string(doc), "Url=") || strings.Contains(string(doc), "secret") {
		t.Fatalf("without a callback URL:\n%s", doc)
	}
}

func TestChallenge(t *testing.T) {
	p, _ := bandwidth.New(bandwidth.Config{CallbackUsername: "u", CallbackPassword: "p"})
	if !strings.HasPrefix(p.Challenge(), "Basic realm=") {
		t.Fatalf("Challenge = %q", p.Challenge())
	}
	if err := p.Verify(&provider.Request{Header: http.Header{}}); !errors.Is(err, provider.ErrMissingSignature) {
		t.Fatalf("first, credential-less attempt: %v, want ErrMissingSignature (answered with the challenge)", err)
	}
}

func TestFetchRecording(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "api-user" || p != "api-pass" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		io.WriteString(w, "RIFF....WAVE")
	}))
	defer srv.Close()
	media := srv.URL + "/api/v2/accounts/9900000/calls/c-1/recordings/r-1/media"
	p, err := bandwidth.New(bandwidth.Config{CallbackUsername: "u", CallbackPassword: "p", APIUsername: "api-user", APIPassword: "api-pass", VoiceAPIBase: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	rc, err := p.FetchRecording(context.Background(), provider.Recording{ID: "r-1", URL: media})
	if err != nil {
		t.Fatal(err)
	}
	audio, _ := io.ReadAll(rc)
	rc.Close()
	if string(audio) != "RIFF....WAVE" {
		t.Fatalf("fetched %q", audio)
	}
	if _, err := p.FetchRecording(context.Background(), provider.Recording{ID: "r-1", URL: "https://elsewhere.example.com/api/v2/x"}); err == nil || !strings.Contains(err.Error(), "Recording.URL") {
		t.Fatalf("a recording elsewhere: %v (the credentials must not leave for it)", err)
	}
	wrong, _ := bandwidth.New(bandwidth.Config{CallbackUsername: "u", CallbackPassword: "p", APIUsername: "api-user", APIPassword: "guess", VoiceAPIBase: srv.URL})
	if _, err := wrong.FetchRecording(context.Background(), provider.Recording{ID: "r-1", URL: media}); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("wrong credentials: %v", err)
	}
	none, _ := bandwidth.New(bandwidth.Config{CallbackUsername: "u", CallbackPassword: "p"})
	if _, err := none.FetchRecording(context.Background(), provider.Recording{ID: "r-1", URL: media}); !errors.Is(err, bandwidth.ErrNoAPICredentials) {
		t.Fatalf("no API user: %v", err)
	}
	if _, err := bandwidth.New(bandwidth.Config{CallbackUsername: "u", CallbackPassword: "p", APIUsername: "only-user"}); err == nil || !strings.Contains(err.Error(), "field APIUsername, APIPassword") {
		t.Fatalf("half the API credentials: %v", err)
	}
}
