package providertest

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
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
)

// Call identifies a sample call in fixtures.
type Call struct {
	ID   string
	From string // E.164
	To   string // E.164, the tracking number
}

// Features gates rules that apply to some schemes only.
type Features struct {
	// Timestamped: the scheme signs a timestamp and rejects stale ones.
	Timestamped bool
	// Tolerance is the adapter's configured replay tolerance.
	Tolerance time.Duration
	// CredentialsOnly: the scheme authenticates the sender but signs
	// nothing (Bandwidth's callback Basic auth), so a tampered body cannot
	// be detected and the tamper rules do not apply.
	CredentialsOnly bool
}

// Suite is what an adapter supplies to Run.
type Suite struct {
	// Provider under test, verifying with the secret Sign uses and reading
	// time from a clock that returns Now.
	Provider provider.Provider
	Now      time.Time
	// Inbound builds an unsigned inbound-call webhook in the vendor's shape.
	// Its URL must be absolute (https://host/path?query).
	Inbound func(c Call) *provider.Request
	// Status builds an unsigned status callback for st, or returns nil if
	// the vendor has no callback for st.
	Status func(c Call, st provider.Status, talk time.Duration) *provider.Request
	// Sign adds valid signature headers as of t.
	Sign func(r *provider.Request, t time.Time)
	// SignWrongSecret signs as Sign does, with another secret.
	SignWrongSecret func(r *provider.Request, t time.Time)
	// Tamper alters one signed value of a signed request. Default: change
	// the last digit of the caller's number wherever it appears in the body.
	Tamper func(r *provider.Request)
	// SignatureHeaders are the headers the scheme needs; each is removed
	// in turn and must be reported missing.
	SignatureHeaders []string
	// ParseForward reads a rendered routing answer back: the number dialled
	// and the caller id presented.
	ParseForward func(a provider.Answer) (to, callerID string, err error)
	Features     Features
}

var sample = Call{ID: "call-0001", From: "+14158675309", To: "+18005551212"}

// Run runs every rule against the adapter.
func Run(t *testing.T, s Suite) {
	t.Helper()
	if s.Tamper == nil {
		s.Tamper = func(r *provider.Request) {
			r.Body = bytes.Replace(r.Body, []byte("8675309"), []byte("8675308"), 1)
		}
	}
	signed := func(r *provider.Request) *provider.Request { s.Sign(r, s.Now); return r }

	t.Run("valid signature accepted", func(t *testing.T) {
		if err := s.Provider.Verify(signed(s.Inbound(sample))); err != nil {
			t.Fatalf("Verify = %v, want nil", err)
		}
	})
	t.Run("tampered request rejected", func(t *testing.T) {
		if s.Features.CredentialsOnly {
			t.Skip("the scheme signs nothing; only credentials are checked (Features.CredentialsOnly)")
		}
		r := signed(s.Inbound(sample))
		before := string(r.Body) + r.URL
		s.Tamper(r)
		if string(r.Body)+r.URL == before {
			t.Fatal("Tamper did not change the request")
		}
		err := s.Provider.Verify(r)
		if !errors.Is(err, provider.ErrBadSignature) && !errors.Is(err, provider.ErrBodyHashMismatch) {
			t.Fatalf("Verify = %v, want ErrBadSignature or ErrBodyHashMismatch", err)
		}
	})
	t.Run("wrong secret rejected", func(t *testing.T) {
		r := s.Inbound(sample)
		s.SignWrongSecret(r, s.Now)
		if err := s.Provider.Verify(r); !errors.Is(err, provider.ErrBadSignature) {
			t.Fatalf("Verify = %v, want ErrBadSignature", err)
		}
	})
	for _, h := range s.SignatureHeaders {
		t.Run("missing header rejected/"+h, func(t *testing.T) {
			r := signed(s.Inbound(sample))
			r.Header.Del(h)
			err := s.Provider.Verify(r)
			if !errors.Is(err, provider.ErrMissingSignature) && !errors.Is(err, provider.ErrMissingTimestamp) && !errors.Is(err, provider.ErrMissingNonce) {
				t.Fatalf("Verify without %s = %v, want a missing-signature sentinel", h, err)
			}
		})
	}
	t.Run("unsigned request rejected", func(t *testing.T) {
		if err := s.Provider.Verify(s.Inbound(sample)); !errors.Is(err, provider.ErrMissingSignature) {
			t.Fatalf("Verify = %v, want ErrMissingSignature", err)
		}
	})
	if s.Features.Timestamped {
		t.Run("stale timestamp rejected", func(t *testing.T) {
			for _, skew := range []time.Duration{-s.Features.Tolerance - time.Minute, s.Features.Tolerance + time.Minute} {
				r := s.Inbound(sample)
				s.Sign(r, s.Now.Add(skew))
				if err := s.Provider.Verify(r); !errors.Is(err, provider.ErrStaleTimestamp) {
					t.Fatalf("Verify signed %s from now = %v, want ErrStaleTimestamp", skew, err)
				}
			}
		})
		t.Run("timestamp within tolerance accepted", func(t *testing.T) {
			r := s.Inbound(sample)
			s.Sign(r, s.Now.Add(-s.Features.Tolerance/2))
			if err := s.Provider.Verify(r); err != nil {
				t.Fatalf("Verify = %v, want nil", err)
			}
		})
	}
	t.Run("inbound call parsed into CallEvent with E.164 numbers", func(t *testing.T) {
		ev, err := s.Provider.Parse(signed(s.Inbound(sample)))
		if err != nil {
			t.Fatalf("Parse = %v", err)
		}
		type ids struct {
			Provider, CallID, From, To string
			Kind                       provider.Kind
		}
		want := ids{Provider: s.Provider.Name(), CallID: sample.ID, Kind: provider.KindInbound, From: sample.From, To: sample.To}
		got := ids{Provider: ev.Provider, CallID: ev.CallID, Kind: ev.Kind, From: ev.From, To: ev.To}
		if got != want {
			t.Fatalf("Parse = %+v, want %+v", got, want)
		}
		if len(ev.Raw) == 0 {
			t.Fatal("Raw payload not kept")
		}
	})
	t.Run("status callback parsed", func(t *testing.T) {
		cases := []struct {
			status provider.Status
			talk   time.Duration
		}{
			{provider.StatusRinging, 0},
			{provider.StatusInProgress, 0},
			{provider.StatusCompleted, 93 * time.Second},
			{provider.StatusBusy, 0},
			{provider.StatusNoAnswer, 0},
		}
		seen := 0
		for _, c := range cases {
			r := s.Status(sample, c.status, c.talk)
			if r == nil {
				continue
			}
			seen++
			ev, err := s.Provider.Parse(signed(r))
			if err != nil {
				t.Fatalf("Parse(%s) = %v", c.status, err)
			}
			if ev.CallID != sample.ID || ev.Status != c.status || ev.Duration != c.talk {
				t.Fatalf("Parse(%s) = id %q status %q duration %s, want %q %q %s", c.status, ev.CallID, ev.Status, ev.Duration, sample.ID, c.status, c.talk)
			}
		}
		if seen == 0 || s.Status(sample, provider.StatusCompleted, time.Second) == nil {
			t.Fatal("adapter supplies no completed status callback")
		}
	})
	t.Run("malformed payload rejected", func(t *testing.T) {
		r := s.Inbound(sample)
		r.Body = []byte("\x00{not a webhook")
		if _, err := s.Provider.Parse(r); !errors.Is(err, provider.ErrMalformedPayload) {
			t.Fatalf("Parse = %v, want ErrMalformedPayload", err)
		}
	})
	t.Run("forward rendered and parseable", func(t *testing.T) {
		ev, err := s.Provider.Parse(signed(s.Inbound(sample)))
		if err != nil {
			t.Fatal(err)
		}
		for _, passthrough := range []bool{false, true} {
			f := provider.Forward{To: "+12125550123", CallerIDPassthrough: passthrough, Whisper: `Call from "Ads" <&>`, WhisperURL: "https://example.com/w?a=1&b=2"}
			ans, err := s.Provider.RenderForward(f, ev)
			if err != nil {
				t.Fatalf("RenderForward = %v", err)
			}
			wellFormed(t, ans)
			to, cid, err := s.ParseForward(ans)
			if err != nil {
				t.Fatalf("ParseForward = %v\n%s", err, ans.Body)
			}
			wantCID := sample.To
			if passthrough {
				wantCID = sample.From
			}
			if to != f.To || cid != wantCID {
				t.Fatalf("passthrough=%v: dialled %q as %q, want %q as %q\n%s", passthrough, to, cid, f.To, wantCID, ans.Body)
			}
		}
		w, err := s.Provider.RenderWhisper(`Call from "Ads" <&>`)
		if err != nil {
			t.Fatal(err)
		}
		wellFormed(t, w)
	})
	t.Run("recording without caller notice refused", func(t *testing.T) {
		ev, _ := s.Provider.Parse(signed(s.Inbound(sample)))
		_, err := s.Provider.RenderForward(provider.Forward{To: "+12125550123", Record: true}, ev)
		if !errors.Is(err, provider.ErrInvalidForward) {
			t.Fatalf("RenderForward = %v, want ErrInvalidForward", err)
		}
		ans, err := s.Provider.RenderForward(provider.Forward{To: "+12125550123", Record: true, RecordingNotice: "This call is recorded"}, ev)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(ans.Body, []byte("This call is recorded")) {
			t.Fatalf("caller notice missing from answer:\n%s", ans.Body)
		}
	})
	t.Run("recording off by default", func(t *testing.T) {
		ev, _ := s.Provider.Parse(signed(s.Inbound(sample)))
		off, err := s.Provider.RenderForward(provider.Forward{To: "+12125550123"}, ev)
		if err != nil {
			t.Fatal(err)
		}
		on, err := s.Provider.RenderForward(provider.Forward{To: "+12125550123", Record: true, RecordingNotice: "NOTICE-TEXT"}, ev)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(off.Body, on.Body) || bytes.Contains(off.Body, []byte("NOTICE-TEXT")) {
			t.Fatalf("default answer must not record:\n%s", off.Body)
		}
	})
	runHandlerRules(t, s, signed)
}

func wellFormed(t *testing.T, a provider.Answer) {
	t.Helper()
	switch {
	case strings.Contains(a.ContentType, "xml"):
		d := xml.NewDecoder(bytes.NewReader(a.Body))
		for {
			_, err := d.Token()
			if err == io.EOF {
				return
			}
			if err != nil {
				t.Fatalf("answer is not well-formed XML: %v\n%s", err, a.Body)
			}
		}
	case strings.Contains(a.ContentType, "json"):
		if !json.Valid(a.Body) {
			t.Fatalf("answer is not valid JSON:\n%s", a.Body)
		}
	default:
		t.Fatalf("answer has unexpected content type %q", a.ContentType)
	}
}

// harness serves the adapter through a real Handler over HTTP.
type harness struct {
	handler  http.Handler
	srv      *httptest.Server
	recorder *MemoryRecorder
	ingest   *provider.Ingest
}

func newHarness(t *testing.T, s Suite, base *url.URL) *harness {
	t.Helper()
	rec := NewMemoryRecorder()
	quiet := slog.New(slog.DiscardHandler)
	in, err := provider.NewIngest(rec, provider.IngestConfig{SpoolDir: t.TempDir(), RetryInterval: 10 * time.Millisecond, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	RunIngest(t, in)
	h, err := provider.NewHandler(s.Provider, in, func(ctx context.Context, ev provider.CallEvent) (provider.Forward, error) {
		return provider.Forward{To: "+12125550123"}, nil
	}, provider.HandlerConfig{
		PublicURL:    base.Scheme + "://" + base.Host,
		MaxBodyBytes: 16 << 10,
		Logger:       quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() { srv.Close(); _ = in.Close() })
	return &harness{handler: h, srv: srv, recorder: rec, ingest: in}
}

// send posts a provider.Request to the harness at the request's path and
// query, keeping its headers.
func (h *harness) send(t *testing.T, method string, r *provider.Request) (int, []byte) {
	t.Helper()
	u, err := url.Parse(r.URL)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(method, h.srv.URL+u.RequestURI(), bytes.NewReader(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range r.Header {
		req.Header[k] = v
	}
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

// settle waits until the ingest has nothing queued or spooled.
func (h *harness) settle(t *testing.T, writes int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if h.recorder.Writes() >= writes && h.ingest.Stats().Pending == 0 {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatalf("recorder saw %d writes, want %d (stats %+v)", h.recorder.Writes(), writes, h.ingest.Stats())
}

func runHandlerRules(t *testing.T, s Suite, signed func(*provider.Request) *provider.Request) {
	base, err := url.Parse(s.Inbound(sample).URL)
	if err != nil || base.Host == "" {
		t.Fatalf("Inbound fixture URL %q must be absolute", s.Inbound(sample).URL)
	}
	t.Run("handler answers inbound call with the forward", func(t *testing.T) {
		h := newHarness(t, s, base)
		code, body := h.send(t, http.MethodPost, signed(s.Inbound(sample)))
		if code != http.StatusOK {
			t.Fatalf("status %d: %s", code, body)
		}
		to, _, err := s.ParseForward(provider.Answer{ContentType: "application/xml", Body: body})
		if err != nil || to != "+12125550123" {
			t.Fatalf("answer dials %q (%v):\n%s", to, err, body)
		}
		h.settle(t, 1)
	})
	t.Run("duplicate and out-of-order events converge through the handler", func(t *testing.T) {
		h := newHarness(t, s, base)
		reqs := []*provider.Request{
			s.Status(sample, provider.StatusCompleted, 93*time.Second),
			s.Inbound(sample),
			s.Status(sample, provider.StatusCompleted, 93*time.Second),
			s.Status(sample, provider.StatusRinging, 0),
			s.Inbound(sample),
		}
		n := 0
		for _, r := range reqs {
			if r == nil {
				continue
			}
			n++
			if code, body := h.send(t, http.MethodPost, signed(r)); code != http.StatusOK {
				t.Fatalf("status %d: %s", code, body)
			}
		}
		h.settle(t, n)
		calls := h.recorder.Calls()
		if len(calls) != 1 {
			t.Fatalf("recorded %d calls, want 1: %v", len(calls), calls)
		}
		got, _ := h.recorder.Call(s.Provider.Name(), sample.ID)
		if got.Status != provider.StatusCompleted || got.Duration != 93*time.Second || got.From != sample.From {
			t.Fatalf("converged to status %q duration %s from %q, want completed 1m33s %s", got.Status, got.Duration, got.From, sample.From)
		}
	})
	t.Run("handler rejects bad requests with the right status", func(t *testing.T) {
		h := newHarness(t, s, base)
		tampered := signed(s.Inbound(sample))
		s.Tamper(tampered)
		big := signed(s.Inbound(sample))
		big.Body = append(big.Body, bytes.Repeat([]byte(" "), 32<<10)...)
		wrong := s.Inbound(sample)
		s.SignWrongSecret(wrong, s.Now)
		cases := []struct {
			name   string
			method string
			req    *provider.Request
			want   int
		}{
			{"unsigned 403", http.MethodPost, s.Inbound(sample), http.StatusForbidden},
			{"wrong secret 403", http.MethodPost, wrong, http.StatusForbidden},
			{"tampered 403", http.MethodPost, tampered, http.StatusForbidden},
			{"GET 405", http.MethodGet, signed(s.Inbound(sample)), http.StatusMethodNotAllowed},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				if c.req == tampered && s.Features.CredentialsOnly {
					t.Skip("the scheme signs nothing (Features.CredentialsOnly)")
				}
				if code, body := h.send(t, c.method, c.req); code != c.want {
					t.Fatalf("status %d, want %d: %s", code, c.want, body)
				}
			})
		}
		t.Run("oversized 413", func(t *testing.T) {
			// Served in process: over a real connection the server's
			// lingering close after a 413 costs half a second per run.
			u, _ := url.Parse(big.URL)
			r := httptest.NewRequest(http.MethodPost, u.RequestURI(), bytes.NewReader(big.Body))
			r.Host = u.Host
			for k, v := range big.Header {
				r.Header[k] = v
			}
			w := httptest.NewRecorder()
			h.handler.ServeHTTP(w, r)
			if w.Code != http.StatusRequestEntityTooLarge {
				t.Fatalf("status %d, want 413: %s", w.Code, w.Body)
			}
		})
		if h.recorder.Writes() != 0 || h.ingest.Stats().Spooled != 0 {
			t.Fatal("a rejected request was recorded")
		}
	})
	t.Run("routing answer served while the store is down, event replayed later", func(t *testing.T) {
		h := newHarness(t, s, base)
		h.recorder.SetDown(true)
		if code, body := h.send(t, http.MethodPost, signed(s.Inbound(sample))); code != http.StatusOK {
			t.Fatalf("status %d with store down: %s", code, body)
		}
		// The answer came after the event was fsynced in the spool.
		if h.ingest.Stats().Spooled != 1 {
			t.Fatalf("event was not spooled before the answer: %+v", h.ingest.Stats())
		}
		h.recorder.SetDown(false)
		h.settle(t, 1)
		if _, ok := h.recorder.Call(s.Provider.Name(), sample.ID); !ok {
			t.Fatal("spooled call never reached the store")
		}
	})
}
