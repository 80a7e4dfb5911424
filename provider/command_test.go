package provider

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// commandStub connects calls by command, and each command waits until the
// test lets it go on.
type commandStub struct {
	started, release chan struct{}
	finished         *atomic.Bool
}

func (commandStub) Name() string          { return "stub" }
func (commandStub) Verify(*Request) error { return nil }
func (commandStub) Parse(*Request) (CallEvent, error) {
	return CallEvent{Provider: "stub", CallID: "c1", Kind: KindInbound, From: "+14155550123", To: "+14155550100"}, nil
}
func (commandStub) RenderForward(Forward, CallEvent) (Answer, error) { return Answer{}, nil }
func (commandStub) RenderWhisper(string) (Answer, error)             { return Answer{}, nil }
func (commandStub) Ack() Answer                                      { return Answer{Body: []byte("ok")} }
func (commandStub) RoutesByCommand(CallEvent) bool                   { return true }
func (s commandStub) RouteCall(context.Context, Forward, CallEvent) error {
	close(s.started)
	<-s.release
	s.finished.Store(true)
	return nil
}

// commandRig is a handler for commandStub, whose commands wait for the
// test.
func commandRig(t *testing.T) (commandStub, *Handler) {
	t.Helper()
	stub := commandStub{started: make(chan struct{}), release: make(chan struct{}), finished: &atomic.Bool{}}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	in, err := NewIngest(CallRecorderFunc(func(context.Context, CallEvent) error { return nil }), IngestConfig{SpoolDir: t.TempDir(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = in.Close() })
	route := func(context.Context, CallEvent) (Forward, error) { return Forward{To: "+14155550199"}, nil }
	h, err := NewHandler(stub, in, route, HandlerConfig{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	return stub, h
}

// The vendor gets its whole answer before the command runs, and Wait sees
// the command through: no goroutine of its own, nothing left running.
func TestCommandRunsAfterTheAnswerAndWaitSeesItThrough(t *testing.T) {
	stub, h := commandRig(t)
	srv := httptest.NewServer(h)
	defer srv.Close()

	res, err := http.Post(srv.URL, "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || string(body) != "ok" {
		t.Fatalf("answer %d %q while the command waits: want 200 \"ok\"", res.StatusCode, body)
	}
	<-stub.started
	h.commands.mu.Lock()
	n := h.commands.n
	h.commands.mu.Unlock()
	if n != 1 {
		t.Fatalf("%d commands in flight, want 1", n)
	}
	close(stub.release)
	h.Wait()
	if !stub.finished.Load() {
		t.Fatal("Wait returned before the command finished")
	}
}

// Behind a writer that wraps the server's (a logging middleware with
// Unwrap), the answer still reaches the vendor before the command runs.
func TestCommandAnswerIsFlushedThroughAWrappingWriter(t *testing.T) {
	stub, h := commandRig(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(&unwrapping{w}, r)
	}))
	defer srv.Close()
	defer close(stub.release)
	res, err := http.Post(srv.URL, "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || stub.finished.Load() {
		t.Fatalf("answer %d, command finished %v: want the answer while the command waits", res.StatusCode, stub.finished.Load())
	}
}

// unwrapping is a middleware's writer: it hides Flush but unwraps.
type unwrapping struct{ w http.ResponseWriter }

func (u *unwrapping) Header() http.Header         { return u.w.Header() }
func (u *unwrapping) Write(b []byte) (int, error) { return u.w.Write(b) }
func (u *unwrapping) WriteHeader(code int)        { u.w.WriteHeader(code) }
func (u *unwrapping) Unwrap() http.ResponseWriter { return u.w }
