package fake_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/provider/fake"
	"github.com/attriqs/calltrack/provider/providertest"
	"github.com/attriqs/calltrack/webhooksig"
)

var (
	secret = []byte("fake-secret")
	now    = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
)

func request(e fake.Event) *provider.Request {
	body, _ := json.Marshal(e)
	return &provider.Request{Method: http.MethodPost, URL: "https://example.com/calltrack/fake", Header: http.Header{}, Body: body}
}

func TestConformance(t *testing.T) {
	p, err := fake.New(fake.Config{Secret: secret, Clock: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	sign := func(key []byte) func(*provider.Request, time.Time) {
		return func(r *provider.Request, at time.Time) {
			r.Header.Set(fake.SignatureHeader, fake.Sign(key, r.Body, at))
		}
	}
	providertest.Run(t, providertest.Fixture{
		Provider: p,
		Now:      now,
		Inbound: func(c providertest.Call) *provider.Request {
			return request(fake.Event{Type: fake.EventInbound, CallID: c.ID, From: c.From, To: c.To, OccurredAt: now})
		},
		Status: func(c providertest.Call, st provider.Status, talk time.Duration) *provider.Request {
			return request(fake.Event{Type: fake.EventStatus, CallID: c.ID, From: c.From, To: c.To, Status: string(st), DurationS: int(talk / time.Second), OccurredAt: now})
		},
		Sign:             sign(secret),
		SignWrongSecret:  sign([]byte("not-the-secret")),
		SignatureHeaders: []string{fake.SignatureHeader},
		ParseForward: func(a provider.Answer) (string, string, error) {
			var ans fake.Answer
			err := json.Unmarshal(a.Body, &ans)
			return ans.To, ans.CallerID, err
		},
		Outcome: func(c providertest.Call, callbackURL string, o provider.Outcome, talk time.Duration) *provider.Request {
			r := request(fake.Event{Type: fake.EventForward, CallID: c.ID, Outcome: string(o), TalkS: int(talk / time.Second), OccurredAt: now})
			r.URL = callbackURL
			return r
		},
		Recording: func(c providertest.Call, callbackURL string, rec provider.Recording) *provider.Request {
			r := request(fake.Event{Type: fake.EventRecording, CallID: c.ID, RecordingID: rec.ID, RecordingURL: rec.URL, DurationS: int(rec.Duration / time.Second), OccurredAt: now})
			r.URL = callbackURL
			return r
		},
	}, providertest.Features{Timestamped: true, Tolerance: fake.DefaultTolerance})
}

// Each failure is webhooksig's sentinel and the provider sentinel of the
// same name, and only those.
func TestVerifySignatureErrors(t *testing.T) {
	body := []byte(`{"type":"call.inbound","call_id":"x"}`)
	good := fake.Sign(secret, body, now)
	_, v1, _ := strings.Cut(good, ",")
	cases := []struct {
		name     string
		header   string
		secret   []byte
		now      time.Time
		provider error
		sig      error
	}{
		{"no secret", good, nil, now, provider.ErrNoSecret, webhooksig.ErrNoSecret},
		{"empty header", "", secret, now, provider.ErrMissingSignature, webhooksig.ErrMissingSignature},
		{"no timestamp", v1, secret, now, provider.ErrMissingTimestamp, webhooksig.ErrMissingTimestamp},
		{"no v1", "t=1", secret, now, provider.ErrMissingSignature, webhooksig.ErrMissingSignature},
		{"garbage", "nonsense", secret, now, provider.ErrMalformedSignature, webhooksig.ErrMalformedSignature},
		{"bad hex", "t=1,v1=zz", secret, now, provider.ErrMalformedSignature, webhooksig.ErrMalformedSignature},
		{"short mac", "t=1,v1=abcd", secret, now, provider.ErrMalformedSignature, webhooksig.ErrMalformedSignature},
		{"bad timestamp", "t=x," + v1, secret, now, provider.ErrMalformedSignature, webhooksig.ErrMalformedSignature},
		{"wrong secret", fake.Sign([]byte("other"), body, now), secret, now, provider.ErrBadSignature, webhooksig.ErrBadSignature},
		{"stale", good, secret, now.Add(2 * time.Minute), provider.ErrStaleTimestamp, webhooksig.ErrStaleTimestamp},
	}
	providerSentinels := []error{provider.ErrNoSecret, provider.ErrMissingSignature, provider.ErrMissingTimestamp,
		provider.ErrMalformedSignature, provider.ErrBadSignature, provider.ErrStaleTimestamp}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := fake.VerifySignature(c.secret, c.header, body, c.now, time.Minute)
			if !errors.Is(err, c.provider) || !errors.Is(err, c.sig) {
				t.Fatalf("got %v, want %v and %v", err, c.provider, c.sig)
			}
			for _, s := range providerSentinels {
				if s != c.provider && errors.Is(err, s) {
					t.Fatalf("got %v: also %v", err, s)
				}
			}
		})
	}
	// A header signed under two secrets, the old and the new, verifies.
	rotated := fake.Sign([]byte("old-secret"), body, now) + "," + v1
	if err := fake.VerifySignature(secret, rotated, body, now, time.Minute); err != nil {
		t.Fatalf("rotated: %v", err)
	}
}

func FuzzVerifyAndParse(f *testing.F) {
	body := []byte(`{"type":"call.status","call_id":"c1","from":"+14158675309","to":"+18005551212","status":"completed","duration_s":12}`)
	f.Add(fake.Sign(secret, body, now), body)
	f.Add("t=1,v1=", []byte(`{}`))
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		_ = fake.VerifySignature(secret, header, body, now, time.Minute)
		ev, err := fake.ParseEvent(body)
		if err == nil && ev.CallID == "" {
			t.Fatal("parsed an event without a call id")
		}
	})
}

func TestAnalyzerLabelsByTalkTimeWithoutFetching(t *testing.T) {
	a := fake.Analyzer{}
	for talk, want := range map[time.Duration]string{3 * time.Minute: "booked", 30 * time.Second: "short"} {
		got, err := a.Analyze(context.Background(), provider.CallEvent{TalkTime: talk, Recording: provider.Recording{ID: "RE1"}}, nil)
		if err != nil || len(got.Labels) != 1 || got.Labels[0] != want || got.Transcript == "" {
			t.Errorf("talk %s: %+v, %v; want the label %q and a transcript", talk, got, err, want)
		}
	}
}
