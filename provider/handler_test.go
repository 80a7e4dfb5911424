package provider_test

import (
	"context"
	"encoding/json"
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
	"github.com/attriqs/calltrack/provider/fake"
	"github.com/attriqs/calltrack/provider/providertest"
)

var (
	secret = []byte("s3cret")
	quiet  = slog.New(slog.DiscardHandler)
)

type rig struct {
	srv    *httptest.Server
	rec    *providertest.MemoryRecorder
	ingest *provider.Ingest
	caller *fake.Caller
}

// rigParts is what NewHandler takes, for a test to change before the rig
// builds its handler.
type rigParts struct {
	provider.HandlerConfig
	Provider provider.Provider
	Route    provider.RouteFunc
}

func newRig(t *testing.T, mutate func(*rigParts)) *rig {
	t.Helper()
	p, err := fake.New(fake.Config{Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	rec := providertest.NewMemoryRecorder()
	in, err := provider.NewIngest(rec, provider.IngestConfig{SpoolDir: t.TempDir(), RetryInterval: 5 * time.Millisecond, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	providertest.RunIngest(t, in)
	parts := rigParts{
		HandlerConfig: provider.HandlerConfig{Logger: quiet},
		Provider:      p,
		Route: func(ctx context.Context, ev provider.CallEvent) (provider.Forward, error) {
			return provider.Forward{To: "+12125550123", Whisper: "Call from Google Ads"}, nil
		},
	}
	if mutate != nil {
		mutate(&parts)
	}
	h, err := provider.NewHandler(parts.Provider, in, parts.Route, parts.HandlerConfig)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() { srv.Close(); in.Close() })
	return &rig{srv: srv, rec: rec, ingest: in, caller: &fake.Caller{Secret: secret, HTTPClient: srv.Client()}}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestHandlerServesWhisperAtItsOwnURL(t *testing.T) {
	r := newRig(t, nil)
	ans, err := r.caller.PlaceCall(context.Background(), r.srv.URL+"/voice", fake.Call{ID: "c1", From: "+14158675309", To: "+18005551212", Answered: true, Duration: 75 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(ans.WhisperURL)
	if err != nil || u.Query().Get(provider.WhisperParam) != "Call from Google Ads" || !strings.HasSuffix(u.Path, "/voice") {
		t.Fatalf("WhisperURL = %q", ans.WhisperURL)
	}
	// The vendor fetches the whisper with a signed POST to that URL.
	body, err := r.caller.Post(context.Background(), ans.WhisperURL, fake.Event{Type: fake.EventStatus, CallID: "c1", Status: "in-progress"})
	if err != nil {
		t.Fatal(err)
	}
	var w fake.Answer
	if err := json.Unmarshal(body, &w); err != nil || w.Say != "Call from Google Ads" {
		t.Fatalf("whisper answer = %s (%v)", body, err)
	}
	waitFor(t, func() bool {
		c, ok := r.rec.Call(fake.Name, "c1")
		return ok && c.Status == provider.StatusCompleted
	})
	if c, _ := r.rec.Call(fake.Name, "c1"); c.Duration != 75*time.Second {
		t.Fatalf("duration = %s", c.Duration)
	}
}

func TestHandlerFallsBackWhenRouteFails(t *testing.T) {
	failing := func(ctx context.Context, ev provider.CallEvent) (provider.Forward, error) {
		return provider.Forward{}, errors.New("number not in any pool")
	}
	t.Run("fallback used", func(t *testing.T) {
		r := newRig(t, func(c *rigParts) {
			c.Route = failing
			c.Fallback = provider.Forward{To: "+12125550199"}
		})
		ans, err := r.caller.PlaceCall(context.Background(), r.srv.URL, fake.Call{ID: "c2", From: "+14158675309", To: "+18005551212"})
		if err != nil || ans.To != "+12125550199" {
			t.Fatalf("answer %+v (%v), want the fallback number", ans, err)
		}
	})
	t.Run("no fallback answers 500 and still records", func(t *testing.T) {
		r := newRig(t, func(c *rigParts) { c.Route = failing })
		_, err := r.caller.Post(context.Background(), r.srv.URL, fake.Event{Type: fake.EventInbound, CallID: "c3", From: "+14158675309", To: "+18005551212"})
		if err == nil || !strings.Contains(err.Error(), "500") {
			t.Fatalf("err = %v, want a 500", err)
		}
		waitFor(t, func() bool { _, ok := r.rec.Call(fake.Name, "c3"); return ok })
	})
}

func TestHandlerInsecureSkipVerify(t *testing.T) {
	r := newRig(t, func(c *rigParts) { c.InsecureSkipVerify = true })
	resp, err := http.Post(r.srv.URL, "application/json", strings.NewReader(`{"type":"call.inbound","call_id":"c4","from":"+14158675309","to":"+18005551212"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("unsigned request with InsecureSkipVerify: %d", resp.StatusCode)
	}
}

func TestHandlerMalformedIs400WithMessage(t *testing.T) {
	r := newRig(t, nil)
	body, err := r.caller.Post(context.Background(), r.srv.URL, fake.Event{Type: "call.unknown", CallID: "x"})
	if err == nil || !strings.Contains(err.Error(), "400") || !strings.Contains(string(body), "malformed") {
		t.Fatalf("err = %v body %q, want a 400 naming the problem", err, body)
	}
}

func TestHandlerUsesPublicURLBehindAProxy(t *testing.T) {
	var seen string
	p, _ := fake.New(fake.Config{Secret: secret})
	spy := &urlSpy{Provider: p, seen: &seen}
	r := newRig(t, func(c *rigParts) {
		c.Provider = spy
		c.PublicURL = "https://calls.example.com/hooks"
	})
	body, err := r.caller.Post(context.Background(), r.srv.URL+"/voice?x=1", fake.Event{Type: fake.EventInbound, CallID: "c5", From: "+14158675309", To: "+18005551212"})
	if err != nil {
		t.Fatal(err)
	}
	if seen != "https://calls.example.com/hooks/voice?x=1" {
		t.Fatalf("verifier saw URL %q", seen)
	}
	var ans fake.Answer
	if err := json.Unmarshal(body, &ans); err != nil || ans.CallbackURL != seen {
		t.Fatalf("the forward's outcome is reported to %q (%v), want the handler's own URL %q", ans.CallbackURL, err, seen)
	}
}

// A vendor configured with "https://host" signs that URL; its request for
// "/" must be verified against it byte for byte, not "https://host/".
func TestHandlerUsesTheConfiguredURLByteForByte(t *testing.T) {
	for public, want := range map[string]string{
		"https://calls.example.com":          "https://calls.example.com",
		"https://calls.example.com/":         "https://calls.example.com/",
		"https://calls.example.com/hooks":    "https://calls.example.com/hooks",
		"https://calls.example.com:443":      "https://calls.example.com:443",
		"https://calls.example.com/a%2Fb/in": "https://calls.example.com/a%2Fb/in",
	} {
		var seen string
		p, _ := fake.New(fake.Config{Secret: secret})
		r := newRig(t, func(c *rigParts) {
			c.Provider = &urlSpy{Provider: p, seen: &seen}
			c.PublicURL = public
		})
		if _, err := r.caller.Post(context.Background(), r.srv.URL, fake.Event{Type: fake.EventInbound, CallID: "c7", From: "+14158675309", To: "+18005551212"}); err != nil {
			t.Fatal(err)
		}
		if seen != want {
			t.Errorf("PublicURL %q: verifier saw %q, want %q", public, seen, want)
		}
	}
}

type urlSpy struct {
	provider.Provider
	seen *string
}

func (s *urlSpy) Verify(r *provider.Request) error { *s.seen = r.URL; return s.Provider.Verify(r) }

func TestNewHandlerNamesEveryProblem(t *testing.T) {
	_, err := provider.NewHandler(nil, nil, nil, provider.HandlerConfig{PublicURL: "not a url", Fallback: provider.Forward{To: "bad"}})
	if !errors.Is(err, provider.ErrInvalidConfig) {
		t.Fatalf("err = %v", err)
	}
	for _, field := range []string{"Provider", "Ingest", "Route", "PublicURL", "Fallback"} {
		if !strings.Contains(err.Error(), field) {
			t.Errorf("error does not name %s: %v", field, err)
		}
	}
}

func TestIngestCloseIsIdempotentAndSpoolsLateEvents(t *testing.T) {
	dir := t.TempDir()
	rec := providertest.NewMemoryRecorder()
	in, err := provider.NewIngest(rec, provider.IngestConfig{SpoolDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := in.Close(); err != nil { // never started
		t.Fatal(err)
	}
	if err := in.Close(); err != nil {
		t.Fatal(err)
	}
	in.Submit(provider.CallEvent{Provider: "p", CallID: "late"})
	if st := in.Stats(); st.Spooled != 1 || rec.Writes() != 0 {
		t.Fatalf("late event: %+v, writes %d", st, rec.Writes())
	}
	in2, err := provider.NewIngest(rec, provider.IngestConfig{SpoolDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	providertest.RunIngest(t, in2)
	if err := in2.Close(); err != nil { // Close delivers once more before it returns
		t.Fatal(err)
	}
	if _, ok := rec.Call("p", "late"); !ok {
		t.Fatal("late event lost across restart")
	}
}

func TestIngestCloseDeliversQueuedEvents(t *testing.T) {
	rec := providertest.NewMemoryRecorder()
	in, _ := provider.NewIngest(rec, provider.IngestConfig{SpoolDir: t.TempDir()})
	for i := range 50 {
		in.Submit(provider.CallEvent{Provider: "p", CallID: string(rune('A' + i))})
	}
	in.Close()
	if got := len(rec.Calls()) + in.Stats().Pending; got != 50 {
		t.Fatalf("recorded+spooled = %d, want 50", got)
	}
}

func TestWhisperQueryWithoutValueIsNotAWhisper(t *testing.T) {
	r := newRig(t, nil)
	body, err := r.caller.Post(context.Background(), r.srv.URL+"/?calltrack_whisperx=1", fake.Event{Type: fake.EventInbound, CallID: "c6", From: "+14158675309", To: "+18005551212"})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(strings.NewReader(string(body)))
	if !strings.Contains(string(b), `"action":"forward"`) {
		t.Fatalf("answer = %s", b)
	}
}

func TestWhisperURLKeepsTheConfiguredQuery(t *testing.T) {
	r := newRig(t, nil)
	ans, err := r.caller.PlaceCall(context.Background(), r.srv.URL+"/voice?site=42", fake.Call{ID: "c7", From: "+14158675309", To: "+18005551212"})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(ans.WhisperURL)
	if u.Query().Get("site") != "42" || u.Query().Get(provider.WhisperParam) == "" {
		t.Fatalf("WhisperURL = %q", ans.WhisperURL)
	}
}

// challenging is a fake provider whose vendor sends credentials only when
// challenged, as Bandwidth does.
type challenging struct{ provider.Provider }

func (challenging) Challenge() string { return `Basic realm="calltrack"` }

func TestHandlerChallengesAVendorThatSendsCredentialsOnlyWhenAsked(t *testing.T) {
	p, _ := fake.New(fake.Config{Secret: secret})
	r := newRig(t, func(c *rigParts) { c.Provider = challenging{p} })
	res, err := http.Post(r.srv.URL, "application/json", strings.NewReader(`{"type":"call.inbound","call_id":"c8"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized || res.Header.Get("WWW-Authenticate") != `Basic realm="calltrack"` {
		t.Fatalf("unsigned request: %d %q, want 401 with the challenge", res.StatusCode, res.Header.Get("WWW-Authenticate"))
	}
	// Credentials that are wrong are still refused outright.
	req, _ := http.NewRequest(http.MethodPost, r.srv.URL, strings.NewReader(`{"type":"call.inbound","call_id":"c8"}`))
	req.Header.Set(fake.SignatureHeader, "t=1,v1=00")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("bad signature: %d, want 403", res.StatusCode)
	}
}
