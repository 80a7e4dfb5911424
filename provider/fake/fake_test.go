package fake_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/provider/fake"
	"github.com/attriqs/calltrack/provider/providertest"
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
	providertest.Run(t, providertest.Suite{
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
		Features: providertest.Features{Timestamped: true, Tolerance: fake.DefaultTolerance},
	})
}

func TestVerifySignatureErrors(t *testing.T) {
	body := []byte(`{"type":"call.inbound","call_id":"x"}`)
	good := fake.Sign(secret, body, now)
	cases := []struct {
		name   string
		header string
		secret []byte
		want   error
	}{
		{"no secret", good, nil, provider.ErrNoSecret},
		{"empty header", "", secret, provider.ErrMissingSignature},
		{"no timestamp", "v1=00", secret, provider.ErrMissingTimestamp},
		{"no v1", "t=1", secret, provider.ErrMissingSignature},
		{"garbage", "nonsense", secret, provider.ErrMalformedSignature},
		{"bad hex", "t=1,v1=zz", secret, provider.ErrMalformedSignature},
		{"short mac", "t=1,v1=abcd", secret, provider.ErrMalformedSignature},
		{"bad timestamp", "t=x,v1=00", secret, provider.ErrMalformedSignature},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := fake.VerifySignature(c.secret, c.header, body, now, time.Minute)
			if err != c.want {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
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
