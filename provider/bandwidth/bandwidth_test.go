package bandwidth_test

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/provider/bandwidth"
	"github.com/attriqs/calltrack/provider/providertest"
)

// RFC 7617 section 2: user "Aladdin", password "open sesame".
func TestRFC7617Vector(t *testing.T) {
	const header = "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
	if got := bandwidth.BasicAuth("Aladdin", "open sesame"); got != header {
		t.Fatalf("BasicAuth = %q, want RFC 7617's %q", got, header)
	}
	cases := []struct {
		name, header, user, pass string
		want                     error
	}{
		{"RFC credentials", header, "Aladdin", "open sesame", nil},
		{"scheme in lower case", "basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", "Aladdin", "open sesame", nil},
		{"wrong password", header, "Aladdin", "open sesame!", provider.ErrBadSignature},
		{"wrong user", header, "aladdin", "open sesame", provider.ErrBadSignature},
		{"no header", "", "Aladdin", "open sesame", provider.ErrMissingSignature},
		{"bearer instead of basic", "Bearer QWxhZGRpbjpvcGVuIHNlc2FtZQ==", "Aladdin", "open sesame", provider.ErrMalformedSignature},
		{"not base64", "Basic %%%", "Aladdin", "open sesame", provider.ErrMalformedSignature},
		{"no colon", "Basic " + "QWxhZGRpbg==", "Aladdin", "open sesame", provider.ErrMalformedSignature},
		{"not configured", header, "", "", provider.ErrNoSecret},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := bandwidth.VerifyBasicAuth(c.header, c.user, c.pass)
			if !errors.Is(err, c.want) || (c.want == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
}

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// callback builds a body in the shape of Bandwidth's callback reference.
func callback(c providertest.Call, eventType, extra string) *provider.Request {
	body := fmt.Sprintf(`{"eventType":%q,"eventTime":"2026-03-01T12:00:00.000Z","accountId":"9900000","applicationId":"04e88489-df02-4e34-a0ee-27a91849555f",`+
		`"from":%q,"to":%q,"direction":"inbound","callId":%q,"callUrl":"https://voice.bandwidth.com/api/v2/accounts/9900000/calls/%s",`+
		`"startTime":"2026-03-01T12:00:00.000Z"%s}`, eventType, c.From, c.To, c.ID, c.ID, extra)
	return &provider.Request{Method: http.MethodPost, URL: "https://calls.example.com/calltrack/bandwidth", Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(body)}
}

func signer(user, pass string) func(*provider.Request, time.Time) {
	return func(r *provider.Request, _ time.Time) {
		r.Header.Set(bandwidth.AuthorizationHeader, bandwidth.BasicAuth(user, pass))
	}
}

func TestConformance(t *testing.T) {
	p, err := bandwidth.New(bandwidth.Config{CallbackUsername: "calltrack", CallbackPassword: "callback-password"})
	if err != nil {
		t.Fatal(err)
	}
	providertest.Run(t, providertest.Fixture{
		Provider: p,
		Now:      now,
		Inbound:  func(c providertest.Call) *provider.Request { return callback(c, "initiate", "") },
		Status: func(c providertest.Call, st provider.Status, talk time.Duration) *provider.Request {
			answered := `,"answerTime":"2026-03-01T12:00:05.000Z"`
			disconnect := func(cause, answer string, end time.Time) *provider.Request {
				return callback(c, "disconnect", fmt.Sprintf(`%s,"endTime":%q,"cause":%q`, answer, end.Format(time.RFC3339Nano), cause))
			}
			switch st {
			case provider.StatusInProgress:
				return callback(c, "answer", answered)
			case provider.StatusCompleted:
				return disconnect("hangup", answered, now.Add(5*time.Second+talk))
			case provider.StatusBusy:
				return disconnect("busy", "", now.Add(time.Second))
			case provider.StatusNoAnswer:
				return disconnect("timeout", "", now.Add(30*time.Second))
			}
			return nil // no ringing callback for inbound calls
		},
		Outcome:          transferDisconnect,
		Recording:        recordingAvailable,
		Sign:             signer("calltrack", "callback-password"),
		SignWrongSecret:  signer("calltrack", "guessed"),
		SignatureHeaders: []string{bandwidth.AuthorizationHeader},
		ParseForward:     func(a provider.Answer) (string, string, error) { return bandwidth.ParseTransfer(a.Body) },
	}, providertest.Features{CredentialsOnly: true, NoRingingCallback: true})
}

// legID is the transferred leg's call id, another call than c's.
func legID(c providertest.Call) string { return c.ID + "-b" }

// transferDisconnect builds the transferDisconnect Bandwidth sends to
// the <PhoneNumber>'s transferDisconnectUrl, in the shape of the
// callback reference (dev.bandwidth.com/docs/voice/webhooks/transferDisconnect):
// callId is the transferred leg, parentCallId the caller's call, from and
// to those of the caller's call, answerTime only when the leg answered.
func transferDisconnect(c providertest.Call, callbackURL string, o provider.Outcome, talk time.Duration) *provider.Request {
	start := now.Add(time.Second)
	answer, end, cause := "", now.Add(31*time.Second), ""
	switch o {
	case provider.OutcomeAnswered:
		answered := start.Add(4 * time.Second)
		answer, end, cause = fmt.Sprintf(`,"answerTime":%q`, answered.Format(time.RFC3339Nano)), answered.Add(talk), "hangup"
	case provider.OutcomeNoAnswer:
		cause = "timeout"
	case provider.OutcomeBusy:
		end, cause = start.Add(time.Second), "busy"
	case provider.OutcomeAbandoned:
		end, cause = start.Add(9*time.Second), "cancel"
	case provider.OutcomeFailed:
		end, cause = start.Add(time.Second), "error"
	default:
		return nil // Bandwidth's <Transfer> has no machine detection
	}
	body := fmt.Sprintf(`{"eventType":"transferDisconnect","eventTime":%q,"from":%q,"to":%q,"direction":"outbound",`+
		`"callId":%q,"parentCallId":%q,"callUrl":"https://voice.bandwidth.com/api/v2/accounts/9900000/calls/%s",`+
		`"transferCallerId":%q,"transferTo":"+12125550123","startTime":%q%s,"endTime":%q,"cause":%q}`,
		end.Format(time.RFC3339Nano), c.From, c.To, legID(c), c.ID, legID(c), c.To, start.Format(time.RFC3339Nano), answer, end.Format(time.RFC3339Nano), cause)
	return &provider.Request{Method: http.MethodPost, URL: callbackURL, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(body)}
}

// recordingAvailable builds the recordingAvailable Bandwidth sends to
// <StartRecording recordingAvailableUrl> for the caller's call, in the
// shape of the callback reference, duration in ISO 8601.
func recordingAvailable(c providertest.Call, callbackURL string, rec provider.Recording) *provider.Request {
	body := fmt.Sprintf(`{"eventType":"recordingAvailable","eventTime":"2026-03-01T12:02:00.000Z","accountId":"9900000",`+
		`"applicationId":"04e88489-df02-4e34-a0ee-27a91849555f","to":%q,"from":%q,"direction":"inbound","callId":%q,`+
		`"recordingId":%q,"channels":1,"startTime":"2026-03-01T12:00:01.000Z","endTime":"2026-03-01T12:00:42.000Z",`+
		`"duration":"PT%gS","fileFormat":"wav","callUrl":"https://voice.bandwidth.com/api/v2/accounts/9900000/calls/%s",`+
		`"mediaUrl":%q,"status":"complete"}`,
		c.To, c.From, c.ID, rec.ID, rec.Duration.Seconds(), c.ID, rec.URL)
	return &provider.Request{Method: http.MethodPost, URL: callbackURL, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(body)}
}

func TestDisconnectWithoutAnswerIsCanceled(t *testing.T) {
	c := providertest.Call{ID: "c-1", From: "+14158675309", To: "+18005551212"}
	ev, err := bandwidth.ParseCallback(callback(c, "disconnect", `,"endTime":"2026-03-01T12:00:09.000Z","cause":"hangup"`).Body)
	if err != nil || ev.Status != provider.StatusCanceled || ev.Duration != 0 {
		t.Fatalf("ParseCallback = %+v, %v", ev, err)
	}
	if _, err := bandwidth.ParseCallback(callback(c, "gather", `,"digits":"1"`).Body); !errors.Is(err, provider.ErrIgnoredEvent) {
		t.Fatalf("gather: %v", err)
	}
}

func TestRenderTransferGolden(t *testing.T) {
	ev := provider.CallEvent{From: "+14158675309", To: "+18005551212"}
	f := provider.Forward{To: "+12125550123", CallerIDPassthrough: true, RingTimeout: 15 * time.Second, WhisperURL: "https://x.test/w?calltrack_whisper=a&b=1",
		Record: true, RecordingNotice: "Recorded", CallbackURL: "https://x.test/w"}
	got, err := bandwidth.RenderTransfer(f, ev, bandwidth.Credentials{Username: "u", Password: "p&w"})
	if err != nil {
		t.Fatal(err)
	}
	want := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<Response><SpeakSentence>Recorded</SpeakSentence>` +
		`<StartRecording recordingAvailableUrl="https://x.test/w" recordingAvailableMethod="POST" username="u" password="p&amp;w"></StartRecording>` +
		`<Transfer transferCallerId="+14158675309" callTimeout="15" transferCompleteUrl="https://x.test/w" transferCompleteMethod="POST" username="u" password="p&amp;w">` +
		`<PhoneNumber transferAnswerUrl="https://x.test/w?calltrack_whisper=a&amp;b=1" transferAnswerMethod="POST" transferDisconnectUrl="https://x.test/w" transferDisconnectMethod="POST" username="u" password="p&amp;w">+12125550123</PhoneNumber>` +
		`</Transfer></Response>`
	if string(got) != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

func FuzzVerifyBasicAuth(f *testing.F) {
	f.Add("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")
	f.Add("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ")
	f.Fuzz(func(t *testing.T, header string) {
		if bandwidth.VerifyBasicAuth(header, "Aladdin", "open sesame") != nil {
			return
		}
		// Whatever was accepted must carry exactly these credentials.
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(header[len("Basic "):]))
		if err != nil || string(raw) != "Aladdin:open sesame" {
			t.Fatalf("accepted %q", header)
		}
	})
}

func FuzzParseCallback(f *testing.F) {
	c := providertest.Call{ID: "c-1", From: "+14158675309", To: "+18005551212"}
	f.Add(callback(c, "initiate", "").Body)
	f.Add(callback(c, "disconnect", `,"answerTime":"2026-03-01T12:00:05Z","endTime":"2026-03-01T12:01:00Z","cause":"hangup"`).Body)
	f.Add([]byte(docTransferDisconnectAnswered))
	f.Add([]byte(docRecordingAvailable))
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := bandwidth.ParseCallback(body)
		if err == nil && (ev.CallID == "" || ev.Duration < 0 || ev.TalkTime < 0 || ev.TalkTime > provider.MaxCallDuration || !ev.Outcome.Valid()) {
			t.Fatalf("accepted %q as %+v", body, ev)
		}
	})
}
