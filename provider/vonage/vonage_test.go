package vonage_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/provider/providertest"
	"github.com/attriqs/calltrack/provider/vonage"
)

// Published in the tests of Vonage's Python JWT package (vonage_jwt,
// verify_signature): an HS256 token and the secret it verifies under.
const (
	publishedToken  = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJPbmxpbmUgSldUIEJ1aWxkZXIiLCJpYXQiOjE2OTc2MzQ2ODAsImV4cCI6MzMyNTQ1NDA4MjgsImF1ZCI6IiIsInN1YiI6IiJ9.88vJc3I2HhuqEDixHXVhc9R30tA6U_HQHZTC29y6CGM"
	publishedSecret = "qwertyuiopasdfghjklzxcvbnm123456"
)

func TestPublishedTokenVector(t *testing.T) {
	c, err := vonage.VerifyToken(publishedToken, []byte(publishedSecret))
	if err != nil {
		t.Fatalf("valid published token: %v", err)
	}
	if c.IssuedAt != 1697634680 || c.Issuer != "Online JWT Builder" {
		t.Fatalf("claims = %+v", c)
	}
	if _, err := vonage.VerifyToken(publishedToken, []byte("asdf")); !errors.Is(err, provider.ErrBadSignature) {
		t.Fatalf("published invalid secret: %v, want ErrBadSignature", err)
	}
	if _, err := vonage.VerifyToken("asdf", []byte(publishedSecret)); !errors.Is(err, provider.ErrMalformedSignature) {
		t.Fatalf("published malformed token: %v, want ErrMalformedSignature", err)
	}
	// The published token has no payload_hash: with a body it fails on the
	// body check, not the signature; without one (a GET answer) it is
	// checked as Vonage's SDKs check it, signature and iat.
	if err := vonage.VerifyRequest([]byte(publishedSecret), "Bearer "+publishedToken, []byte(`{}`), time.Unix(1697634680, 0), time.Minute); !errors.Is(err, provider.ErrBodyHashMismatch) {
		t.Fatalf("VerifyRequest with a body = %v, want ErrBodyHashMismatch", err)
	}
	if err := vonage.VerifyRequest([]byte(publishedSecret), "Bearer "+publishedToken, nil, time.Unix(1697634680, 0), time.Minute); err != nil {
		t.Fatalf("VerifyRequest without a body = %v, want nil", err)
	}
}

var (
	secret = []byte("vonage-signature-secret")
	now    = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
)

func TestVerifyRequestErrors(t *testing.T) {
	body := []byte(`{"uuid":"u"}`)
	good := vonage.Sign(secret, body, vonage.Claims{IssuedAt: now.Unix(), ID: "j1"})
	// alg "none" with an empty signature: must never verify.
	none := "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJpYXQiOjE3NzIzNjY0MDB9."
	cases := []struct {
		name, auth string
		body       []byte
		at         time.Time
		want       error
	}{
		{"valid", "Bearer " + good, body, now, nil},
		{"no header", "", body, now, provider.ErrMissingSignature},
		{"not bearer", "Basic abc", body, now, provider.ErrMalformedSignature},
		{"two parts", "Bearer a.b", body, now, provider.ErrMalformedSignature},
		{"alg none", "Bearer " + none, body, now, provider.ErrBadSignature},
		{"body changed", "Bearer " + good, []byte(`{"uuid":"v"}`), now, provider.ErrBodyHashMismatch},
		{"stale", "Bearer " + good, body, now.Add(10 * time.Minute), provider.ErrStaleTimestamp},
		{"no iat", "Bearer " + vonage.Sign(secret, body, vonage.Claims{}), body, now, provider.ErrMissingTimestamp},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := vonage.VerifyRequest(secret, c.auth, c.body, c.at, vonage.DefaultTolerance)
			if !errors.Is(err, c.want) || (c.want == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
}

const hookURL = "https://calls.example.com/calltrack/vonage"

// answer and event bodies in the shape of Vonage's webhook reference.
func answer(c providertest.Call) *provider.Request {
	body := fmt.Sprintf(`{"to":%q,"from":%q,"uuid":%q,"conversation_uuid":"CON-f972836a-550f-45fa-956c-12a2ab5b7d22","region_url":"https://api-us-3.vonage.com","custom_data":{}}`, c.To[1:], c.From[1:], c.ID)
	return &provider.Request{Method: http.MethodPost, URL: hookURL, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(body)}
}

func event(c providertest.Call, status string, extra string) *provider.Request {
	body := fmt.Sprintf(`{"from":%q,"to":%q,"uuid":%q,"conversation_uuid":"CON-f972836a-550f-45fa-956c-12a2ab5b7d22","status":%q,"direction":"inbound","timestamp":"2026-03-01T12:00:00.000Z"%s}`, c.From[1:], c.To[1:], c.ID, status, extra)
	return &provider.Request{Method: http.MethodPost, URL: hookURL, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(body)}
}

func signer(key []byte) func(*provider.Request, time.Time) {
	return func(r *provider.Request, at time.Time) {
		tok := vonage.Sign(key, r.Body, vonage.Claims{IssuedAt: at.Unix(), ID: "jti-1", APIKey: "abcd1234", ApplicationID: "aaaaaaaa-bbbb-cccc-dddd-0123456789ab"})
		r.Header.Set(vonage.AuthorizationHeader, "Bearer "+tok)
	}
}

func TestConformance(t *testing.T) {
	p, err := vonage.New(vonage.Config{SignatureSecret: secret, Clock: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	providertest.Run(t, providertest.Fixture{
		Provider: p,
		Now:      now,
		Inbound:  answer,
		Status: func(c providertest.Call, st provider.Status, talk time.Duration) *provider.Request {
			switch st {
			case provider.StatusCompleted:
				return event(c, "completed", fmt.Sprintf(`,"duration":"%d","start_time":"2026-03-01T12:00:00.000Z","end_time":"2026-03-01T12:01:33.000Z","rate":"0.00450000","price":"0.00697500","network":"US-FIXED"`, int(talk/time.Second)))
			case provider.StatusInProgress:
				return event(c, "answered", `,"start_time":null,"rate":null,"network":null`)
			case provider.StatusNoAnswer:
				return event(c, "unanswered", "")
			}
			return event(c, string(st), "")
		},
		Outcome:          legOutcome,
		Recording:        legRecording,
		Sign:             signer(secret),
		SignWrongSecret:  signer([]byte("wrong")),
		SignatureHeaders: []string{vonage.AuthorizationHeader},
		ParseForward:     func(a provider.Answer) (string, string, error) { return vonage.ParseConnect(a.Body) },
	}, providertest.Features{Timestamped: true, Tolerance: vonage.DefaultTolerance})
}

// legEvent is Vonage's event on the forwarded leg, in the shape of the
// webhook reference: the leg's own uuid, the caller's conversation, the
// tracking number as from (the caller id the connect presented).
func legEvent(c providertest.Call, eventURL, status, extra string) *provider.Request {
	body := fmt.Sprintf(`{"from":%q,"to":"12125550123","uuid":"bbbbbbbb-1111-2222-3333-0123456789ab","conversation_uuid":"CON-f972836a-550f-45fa-956c-12a2ab5b7d22","status":%q,"direction":"outbound","timestamp":"2026-03-01T12:00:05.000Z"%s}`, c.To[1:], status, extra)
	return &provider.Request{Method: http.MethodPost, URL: eventURL, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(body)}
}

// legOutcome reports o as Vonage reports it to the connect action's
// eventUrl: completed with the leg's duration when answered; timeout when
// the connect timeout ran out; busy; cancelled when the caller hung up
// while it rang; failed; machine from machine detection.
func legOutcome(c providertest.Call, callbackURL string, o provider.Outcome, talk time.Duration) *provider.Request {
	u, err := vonage.LegEventURL(secret, callbackURL, c.ID, o == provider.OutcomeVoicemail)
	if err != nil {
		panic(err)
	}
	switch o {
	case provider.OutcomeAnswered:
		end := time.Date(2026, 3, 1, 12, 0, 10, 0, time.UTC).Add(talk)
		return legEvent(c, u, "completed", fmt.Sprintf(`,"duration":"%d","start_time":"2026-03-01T12:00:10.000Z","end_time":%q,"rate":"0.00450000","price":"0.00697500","network":"US-FIXED"`, int(talk/time.Second), end.Format(time.RFC3339)))
	case provider.OutcomeNoAnswer:
		return legEvent(c, u, "timeout", "")
	case provider.OutcomeBusy:
		return legEvent(c, u, "busy", "")
	case provider.OutcomeAbandoned:
		return legEvent(c, u, "cancelled", "")
	case provider.OutcomeFailed:
		return legEvent(c, u, "failed", `,"detail":"cannot_route"`)
	case provider.OutcomeVoicemail:
		return legEvent(c, u, "machine", "")
	}
	return nil
}

// legRecording is the record action's report to its eventUrl, in the
// shape of the NCCO reference: no call uuid, the length as start_time
// and end_time.
func legRecording(c providertest.Call, callbackURL string, rec provider.Recording) *provider.Request {
	u, err := vonage.LegEventURL(secret, callbackURL, c.ID, false)
	if err != nil {
		panic(err)
	}
	start := time.Date(2026, 3, 1, 12, 0, 10, 0, time.UTC)
	body := fmt.Sprintf(`{"start_time":%q,"recording_url":%q,"size":12345,"recording_uuid":%q,"end_time":%q,"conversation_uuid":"CON-f972836a-550f-45fa-956c-12a2ab5b7d22","timestamp":"2026-03-01T12:02:00.000Z"}`,
		start.Format(time.RFC3339), rec.URL, rec.ID, start.Add(rec.Duration).Format(time.RFC3339))
	return &provider.Request{Method: http.MethodPost, URL: u, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(body)}
}

func TestRenderConnectGolden(t *testing.T) {
	ev := provider.CallEvent{From: "+14158675309", To: "+18005551212"}
	got, err := vonage.RenderConnect(provider.Forward{To: "+12125550123", WhisperURL: "https://x.test/w?calltrack_whisper=hi", Record: true, RecordingNotice: "Recorded <always>"}, ev)
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"action":"talk","text":"Recorded \u003calways\u003e"},{"action":"record"},{"action":"connect","from":"18005551212","timeout":30,"endpoint":[{"type":"phone","number":"12125550123","onAnswer":{"url":"https://x.test/w?calltrack_whisper=hi"}}]}]`
	if string(got) != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

func TestParseIgnoresNonCallStatuses(t *testing.T) {
	c := providertest.Call{ID: "u1", From: "+14158675309", To: "+18005551212"}
	if _, err := vonage.ParseWebhook(event(c, "human", "").Body); !errors.Is(err, provider.ErrIgnoredEvent) {
		t.Fatalf("err = %v", err)
	}
}

func FuzzVerifyRequest(f *testing.F) {
	body := answer(providertest.Call{ID: "u", From: "+14158675309", To: "+18005551212"}).Body
	f.Add("Bearer "+vonage.Sign(secret, body, vonage.Claims{IssuedAt: now.Unix()}), body)
	f.Add("Bearer "+publishedToken, []byte{})
	f.Fuzz(func(t *testing.T, auth string, body []byte) {
		_ = vonage.VerifyRequest(secret, auth, body, now, vonage.DefaultTolerance)
	})
}

func FuzzParseWebhook(f *testing.F) {
	c := providertest.Call{ID: "u", From: "+14158675309", To: "+18005551212"}
	f.Add(answer(c).Body)
	f.Add(event(c, "completed", `,"duration":"93"`).Body)
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := vonage.ParseWebhook(body)
		if err == nil && (ev.CallID == "" || ev.Duration < 0) {
			t.Fatalf("accepted %q as %+v", body, ev)
		}
	})
}
