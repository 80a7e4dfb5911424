package providertest

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/attriqs/calltrack/provider"
)

// callbackURL is where the harness's handler asks the vendor to report the
// forwarded leg: its own URL, the one the inbound webhook came to.
func (s *suite) callbackURL() string {
	u := s.fx.Inbound(sample).URL
	if g, ok := s.fx.Provider.(provider.GETAnswerer); ok && g.AnswersGET() && methodOf(s.fx.Inbound(sample)) == http.MethodGet {
		u, _, _ = strings.Cut(u, "?")
	}
	return u
}

// outcome builds the fixture's report of o, skipping the case when the
// vendor cannot report it.
func (s *suite) outcome(t *testing.T, o provider.Outcome, talk time.Duration) *provider.Request {
	t.Helper()
	r := s.fx.Outcome(sample, s.callbackURL(), o, talk)
	if r == nil {
		t.Skipf("the vendor does not report the outcome %q", o)
	}
	return r
}

// forwardEnds sends the inbound call, the forward's outcome and the
// caller's final status through the handler, and returns the call as
// recorded.
func (s *suite) forwardEnds(t *testing.T, o provider.Outcome, talk time.Duration) provider.CallEvent {
	t.Helper()
	report := s.outcome(t, o, talk)
	h := s.newHarness(t)
	reqs := []*provider.Request{s.fx.Inbound(sample), report, s.fx.Status(sample, provider.StatusCompleted, talk+20*time.Second)}
	for _, r := range reqs {
		if code, body := h.send(t, methodOf(r), s.signed(r)); code != http.StatusOK {
			t.Fatalf("status %d: %s", code, body)
		}
	}
	h.settle(t, len(reqs))
	got, ok := h.recorder.Call(s.fx.Provider.Name(), sample.ID)
	if !ok {
		t.Fatalf("the forward's outcome was not recorded on the call %s: recorded %v", sample.ID, h.recorder.Calls())
	}
	if n := len(h.recorder.Calls()); n != 1 {
		t.Fatalf("recorded %d calls, want the one caller's call: %v", n, h.recorder.Calls())
	}
	return got
}

func (s *suite) forwardThatRingsOutEndsMissed(t *testing.T) {
	got := s.forwardEnds(t, provider.OutcomeNoAnswer, 0)
	if got.Outcome != provider.OutcomeNoAnswer || !got.Outcome.Missed() || got.TalkTime != 0 {
		t.Fatalf("outcome %q talk %s, want no-answer (missed) with no talk time", got.Outcome, got.TalkTime)
	}
}

func (s *suite) answeredForwardEndsAnswered(t *testing.T) {
	got := s.forwardEnds(t, provider.OutcomeAnswered, 42*time.Second)
	if got.Outcome != provider.OutcomeAnswered || got.TalkTime != 42*time.Second {
		t.Fatalf("outcome %q talk %s, want answered after 42s", got.Outcome, got.TalkTime)
	}
}

func (s *suite) busyForwardEndsBusy(t *testing.T) {
	if got := s.forwardEnds(t, provider.OutcomeBusy, 0); got.Outcome != provider.OutcomeBusy {
		t.Fatalf("outcome %q, want busy", got.Outcome)
	}
}

func (s *suite) abandonedForwardEndsAbandoned(t *testing.T) {
	if got := s.forwardEnds(t, provider.OutcomeAbandoned, 0); got.Outcome != provider.OutcomeAbandoned {
		t.Fatalf("outcome %q, want abandoned", got.Outcome)
	}
}

func (s *suite) outcomeConvergesInAnyOrder(t *testing.T) {
	answered := s.outcome(t, provider.OutcomeAnswered, 42*time.Second)
	h := s.newHarness(t)
	reqs := []*provider.Request{
		answered,
		s.fx.Status(sample, provider.StatusCompleted, 62*time.Second),
		s.fx.Outcome(sample, s.callbackURL(), provider.OutcomeAnswered, 42*time.Second),
		s.fx.Inbound(sample),
		s.fx.Status(sample, provider.StatusCompleted, 62*time.Second),
	}
	for _, r := range reqs {
		if code, body := h.send(t, methodOf(r), s.signed(r)); code != http.StatusOK {
			t.Fatalf("status %d: %s", code, body)
		}
	}
	h.settle(t, len(reqs))
	if n := len(h.recorder.Calls()); n != 1 {
		t.Fatalf("recorded %d calls, want 1: %v", n, h.recorder.Calls())
	}
	got, _ := h.recorder.Call(s.fx.Provider.Name(), sample.ID)
	if got.Outcome != provider.OutcomeAnswered || got.TalkTime != 42*time.Second || got.Status != provider.StatusCompleted || got.From != sample.From {
		t.Fatalf("converged to outcome %q talk %s status %q from %q, want answered 42s completed %s", got.Outcome, got.TalkTime, got.Status, got.From, sample.From)
	}
}

func (s *suite) recordingCallbackRecordsTheRecording(t *testing.T) {
	want := provider.Recording{ID: "rec-0001", URL: "https://media.example.com/recordings/rec-0001", Duration: 41 * time.Second}
	r := s.fx.Recording(sample, s.callbackURL(), want)
	if r == nil {
		t.Fatal("field Recording: the fixture built no recording callback")
	}
	h := s.newHarness(t)
	for _, r := range []*provider.Request{s.fx.Inbound(sample), r} {
		if code, body := h.send(t, methodOf(r), s.signed(r)); code != http.StatusOK {
			t.Fatalf("status %d: %s", code, body)
		}
	}
	h.settle(t, 2)
	got, _ := h.recorder.Call(s.fx.Provider.Name(), sample.ID)
	if got.Recording.ID != want.ID || got.Recording.URL == "" || got.Recording.Duration != want.Duration {
		t.Fatalf("recorded recording %+v, want id %s, a URL and %s", got.Recording, want.ID, want.Duration)
	}
}

func (s *suite) rejectedCallIsRendered(t *testing.T) {
	if cr, ok := s.fx.Provider.(provider.CommandRouter); ok && cr.RoutesByCommand(s.parsedInbound(t)) {
		t.Skip("the vendor refuses calls by command (provider.CommandRouter); the adapter tests it")
	}
	a, err := s.fx.Provider.RenderForward(provider.Forward{Reject: true}, s.parsedInbound(t))
	if err != nil || len(a.Body) == 0 {
		t.Fatalf("reject renders %q, %v; want the vendor's refusal", a.Body, err)
	}
	if to, _, err := s.fx.ParseForward(a); err == nil && to != "" {
		t.Fatalf("a refused call is connected to %q", to)
	}
}

func (s *suite) parsedInbound(t *testing.T) provider.CallEvent {
	t.Helper()
	ev, err := s.fx.Provider.Parse(s.fx.Inbound(sample))
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// methodOf is the method a fixture's request is sent with: POST unless the
// fixture says otherwise (Vonage's GET answer).
func methodOf(r *provider.Request) string {
	if r.Method == "" {
		return http.MethodPost
	}
	return r.Method
}
