package chat

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/attriqs/calltrack/webhooksig"
)

// Signature failures. Each verifier returns exactly one of these (wrapped
// with detail), so a caller can tell an attacker from a misconfiguration
// with errors.Is. They are package webhooksig's sentinels under this
// package's names, the ones every calltrack webhook verifier returns.
var (
	// ErrMissingSignature: the request carries no signature (header, or
	// secret key or token in the payload).
	ErrMissingSignature = webhooksig.ErrMissingSignature
	// ErrMissingTimestamp: a timestamped scheme arrived without its timestamp.
	ErrMissingTimestamp = webhooksig.ErrMissingTimestamp
	// ErrMalformedSignature: the signature is present but cannot be decoded.
	ErrMalformedSignature = webhooksig.ErrMalformedSignature
	// ErrBadSignature: the signature is well formed but does not match the
	// request under the configured secret.
	ErrBadSignature = webhooksig.ErrBadSignature
	// ErrStaleTimestamp: the signed timestamp lies outside the tolerance.
	ErrStaleTimestamp = webhooksig.ErrStaleTimestamp
	// ErrNoSecret: the verifier was configured without a secret.
	ErrNoSecret = webhooksig.ErrNoSecret
)

// Payload failures.
var (
	// ErrMalformedPayload: the body cannot be parsed as the platform's
	// webhook (bad JSON, a missing id).
	ErrMalformedPayload = errors.New("chat: malformed webhook payload")
	// ErrIgnoredEvent: the webhook is genuine and well formed but carries
	// nothing chat attribution records (an agent's message, a closed chat).
	// Handlers acknowledge it and record nothing.
	ErrIgnoredEvent = errors.New("chat: event not relevant to chat attribution")
)

// DefaultTolerance is how far a signed timestamp may be from now, in either
// direction, for the schemes that sign one (Crisp, Zendesk, HubSpot).
const DefaultTolerance = 5 * time.Minute

// Request is what verification needs of an HTTP request: the method and
// the full URL the platform called (HubSpot signs both), the headers and
// the raw body.
type Request struct {
	Method string
	URL    string
	Header http.Header
	Body   []byte
}

// Webhook verifies and parses one platform's webhooks.
//
// Verify checks the request's signature against the configured secret at
// time now and returns nil or an error wrapping one of the signature
// sentinels. Parse turns a verified body into events, or returns an error
// wrapping ErrMalformedPayload or ErrIgnoredEvent; it never returns an
// empty slice with a nil error. Both are pure and safe for concurrent use.
type Webhook interface {
	Platform() string
	Verify(r Request, now time.Time) error
	Parse(body []byte) ([]Event, error)
}

// Recorder records verified chat events, joining each to a session (see
// [Event]). dni.Service implements it.
type Recorder interface {
	RecordChat(ctx context.Context, events []Event) error
}

// HandlerOptions configure [Handler]; the zero value means the defaults.
type HandlerOptions struct {
	Now     func() time.Time // default time.Now
	MaxBody int64            // default 1 MiB
	Logger  *slog.Logger     // default slog.Default()
}

// Handler serves one platform's webhook endpoint: it reads the body,
// verifies it (401 on failure), parses it (400 when malformed, 200 when
// ignored) and hands the events to rec (500 on failure, so that the
// platform retries; 200 after).
func Handler(wh Webhook, rec Recorder, opts HandlerOptions) http.Handler {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = 1 << 20
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, opts.MaxBody))
		if err != nil {
			http.Error(w, "body too large or unreadable", http.StatusRequestEntityTooLarge)
			return
		}
		req := Request{Method: r.Method, URL: fullURL(r), Header: r.Header, Body: body}
		if err := wh.Verify(req, opts.Now()); err != nil {
			opts.Logger.Warn("chat webhook rejected", "platform", wh.Platform(), "err", err)
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		evs, err := wh.Parse(body)
		switch {
		case errors.Is(err, ErrIgnoredEvent):
			w.WriteHeader(http.StatusOK)
			return
		case err != nil:
			opts.Logger.Warn("chat webhook not understood", "platform", wh.Platform(), "err", err)
			http.Error(w, "malformed payload", http.StatusBadRequest)
			return
		}
		if err := rec.RecordChat(r.Context(), evs); err != nil {
			opts.Logger.Error("chat webhook not recorded", "platform", wh.Platform(), "err", err)
			http.Error(w, "not recorded", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}

// fullURL is the URL as the client called it, behind a proxy too.
func fullURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p == "http" || p == "https" {
		scheme = p
	}
	return scheme + "://" + r.Host + r.URL.RequestURI()
}

// equalMAC compares two MACs in constant time.
func equalMAC(a, b []byte) bool { return hmac.Equal(a, b) }

// checkTime parses a Unix timestamp in seconds or milliseconds and checks
// it against now within tol.
func checkTime(ts string, now time.Time, tol time.Duration) error {
	if ts == "" {
		return ErrMissingTimestamp
	}
	n, err := strconv.ParseInt(strings.TrimSpace(ts), 10, 64)
	if err != nil {
		return fmt.Errorf("%w: timestamp %q: %v", ErrMalformedSignature, ts, err)
	}
	t := time.Unix(n, 0)
	if n > 1e11 { // milliseconds
		t = time.UnixMilli(n)
	}
	if d := now.Sub(t); d > tol || d < -tol {
		return ErrStaleTimestamp
	}
	return nil
}

// id renders a JSON id (string or number) as a string; "" for null.
type id string

func (v *id) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*v = ""
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*v = id(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*v = id(n.String())
	return nil
}

// unixTime reads seconds or milliseconds since the epoch; zero stays zero.
func unixTime(n int64) time.Time {
	switch {
	case n <= 0:
		return time.Time{}
	case n > 1e11:
		return time.UnixMilli(n).UTC()
	}
	return time.Unix(n, 0).UTC()
}

// events returns evs, or ErrIgnoredEvent when there are none.
func events(evs []Event, what string) ([]Event, error) {
	if len(evs) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrIgnoredEvent, what)
	}
	return evs, nil
}

// malformed wraps err as ErrMalformedPayload with the platform's name.
func malformed(platform string, err error) error {
	return fmt.Errorf("%w: %s: %v", ErrMalformedPayload, platform, err)
}
