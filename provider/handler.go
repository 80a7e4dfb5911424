package provider

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultMaxBodyBytes caps webhook bodies; real call webhooks are a few KB.
const DefaultMaxBodyBytes = 64 << 10

// WhisperParam is the query parameter a Handler adds to its own URL to
// serve a whisper document (see Forward.WhisperURL).
const WhisperParam = "calltrack_whisper"

// RouteFunc chooses where an inbound call goes. It runs on the answer path
// while the caller waits, so it must not wait on storage (look up the
// tracking number in memory). An error falls back to HandlerConfig.Fallback.
type RouteFunc func(ctx context.Context, ev CallEvent) (Forward, error)

// HandlerConfig configures a Handler. Zero values mean the documented
// defaults.
type HandlerConfig struct {
	// Fallback is used when Route fails; if it is zero as well the
	// handler answers 500, which vendors turn into their failover URL.
	Fallback Forward
	// PublicURL is the base URL (scheme and host, optionally a path
	// prefix) the vendor is configured to call, e.g.
	// "https://example.com". URL-signing schemes (Twilio, SignalWire,
	// Plivo) sign the exact URL, which a reverse proxy hides from us.
	// Empty derives it from the request (TLS and Host).
	PublicURL string
	// MaxBodyBytes rejects larger bodies with 413; default
	// DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// InsecureSkipVerify DISABLES SIGNATURE VERIFICATION: anyone who can
	// reach the URL can then forge calls. For local development only.
	InsecureSkipVerify bool
	// Logger receives rejected requests; default slog.Default().
	Logger *slog.Logger
	// Clock stamps events whose payload carries no time (Twilio's voice
	// webhook has none): OccurredAt becomes the moment the webhook arrived,
	// and for an inbound call StartedAt too. Default time.Now.
	Clock func() time.Time
}

// Handler serves one provider's inbound-call and status webhooks (mount it
// at both URLs, or one). For each POST it: verifies the signature (403),
// parses the event (400), makes the event durable through the Ingest (an
// fsync shared with concurrent webhooks; never a wait on the store), and
// only then writes the answer: the Forward for an inbound call, an
// acknowledgement for a status callback. It rejects other methods with
// 405 (GET is accepted only for whisper fetches) and bodies over
// MaxBodyBytes with 413. Vendors must be configured to POST their
// webhooks.
type Handler struct {
	prov     Provider
	ingest   *Ingest
	route    RouteFunc
	cfg      HandlerConfig
	pub      *url.URL
	commands inFlight // calls being connected by command
}

// Challenger is implemented by providers whose vendor sends a callback's
// credentials only when challenged (Bandwidth: HTTP Basic after a 401 with
// WWW-Authenticate). The Handler answers a request without credentials
// with 401 and Challenge() as WWW-Authenticate, instead of 403.
type Challenger interface {
	Challenge() string
}

// inFlight counts work under way and lets Wait see it through. Unlike a
// sync.WaitGroup, work may start while someone waits (a webhook arriving
// during shutdown): Wait then waits for it too.
type inFlight struct {
	mu   sync.Mutex
	n    int
	idle *sync.Cond
}

func (f *inFlight) add() {
	f.mu.Lock()
	f.n++
	f.mu.Unlock()
}

func (f *inFlight) done() {
	f.mu.Lock()
	if f.n--; f.n == 0 && f.idle != nil {
		f.idle.Broadcast()
	}
	f.mu.Unlock()
}

func (f *inFlight) wait() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.idle == nil {
		f.idle = sync.NewCond(&f.mu)
	}
	for f.n > 0 {
		f.idle.Wait()
	}
}

// NewHandler returns a handler for p's webhooks: p verifies, parses and
// renders; in makes each event durable before the answer is written and
// records it behind the answer; route picks the Forward for inbound calls.
// It validates them and cfg, reporting every problem at once, and starts
// no goroutines.
func NewHandler(p Provider, in *Ingest, route RouteFunc, cfg HandlerConfig) (*Handler, error) {
	var errs []error
	if p == nil {
		errs = append(errs, errors.New("argument Provider: required"))
	}
	if in == nil {
		errs = append(errs, errors.New("argument Ingest: required"))
	}
	if route == nil {
		errs = append(errs, errors.New("argument Route: required"))
	}
	if cfg.MaxBodyBytes < 0 {
		errs = append(errs, errors.New("field MaxBodyBytes: must not be negative"))
	}
	if cfg.Fallback != (Forward{}) {
		fb := cfg.Fallback
		if fb.Whisper != "" && fb.WhisperURL == "" {
			fb.WhisperURL = "https://placeholder.invalid/"
		}
		if err := fb.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("field Fallback: %w", err))
		}
	}
	var pub *url.URL
	if cfg.PublicURL != "" {
		u, err := url.Parse(cfg.PublicURL)
		if err != nil || u.Scheme == "" || u.Host == "" {
			errs = append(errs, fmt.Errorf("field PublicURL: %q is not an absolute URL", cfg.PublicURL))
		} else {
			pub = u
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, errors.Join(errs...))
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.InsecureSkipVerify {
		cfg.Logger.Warn("calltrack: webhook signature verification is DISABLED (InsecureSkipVerify); never use this in production", "provider", p.Name())
	}
	return &Handler{prov: p, ingest: in, route: route, cfg: cfg, pub: pub}, nil
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	whisper, isWhisper := whisperText(r)
	// Vendors fetch whisper documents with GET (Vonage onAnswer) or POST;
	// a vendor that answers by GET (Vonage) may send anything by GET;
	// everything else must be POSTed.
	if r.Method != http.MethodPost && !(r.Method == http.MethodGet && (isWhisper || h.answersGET())) {
		w.Header().Set("Allow", h.allowed())
		h.reject(w, r, http.StatusMethodNotAllowed, "calltrack: webhooks must be POSTed", nil)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.reject(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("calltrack: webhook body exceeds %d bytes", h.cfg.MaxBodyBytes), err)
			return
		}
		h.reject(w, r, http.StatusBadRequest, "calltrack: could not read webhook body", err)
		return
	}
	req := &Request{Method: r.Method, URL: h.requestURL(r), Header: r.Header, Body: body}
	p := h.prov
	if !h.cfg.InsecureSkipVerify {
		err := p.Verify(req)
		if c, ok := p.(Challenger); ok && errors.Is(err, ErrMissingSignature) {
			// Sent again with credentials only after a challenge: a 403
			// here would drop the call to the vendor's fallback.
			w.Header().Set("WWW-Authenticate", c.Challenge())
			h.reject(w, r, http.StatusUnauthorized, "calltrack: credentials required", err)
			return
		}
		if err != nil {
			h.reject(w, r, http.StatusForbidden, "calltrack: webhook signature rejected: "+err.Error(), err, publicURLHint(r, h.pub)...)
			return
		}
	}
	if isWhisper {
		ans, err := p.RenderWhisper(whisper)
		h.write(w, ans, err)
		return
	}
	ev, err := p.Parse(req)
	if errors.Is(err, ErrIgnoredEvent) {
		h.write(w, p.Ack(), nil)
		return
	}
	if err != nil {
		h.reject(w, r, http.StatusBadRequest, "calltrack: "+err.Error(), err)
		return
	}
	stampArrival(&ev, h.cfg.Clock)
	if ev.Kind == KindInbound {
		h.answerInbound(w, r, req, ev)
		return
	}
	h.ingest.Submit(ev)
	h.write(w, p.Ack(), nil)
}

// stampArrival gives an event without a time the moment it arrived, so a
// call is filed under when it rang rather than when its last callback came.
func stampArrival(ev *CallEvent, now func() time.Time) {
	if !ev.OccurredAt.IsZero() {
		return
	}
	ev.OccurredAt = now().UTC()
	if ev.Kind == KindInbound && ev.StartedAt.IsZero() {
		ev.StartedAt = ev.OccurredAt
	}
}

// answerInbound writes the routing answer. The event is made durable
// (Ingest.Submit) before any answer is written, so an answered call is
// never lost, and it is recorded even when the answer is an error.
func (h *Handler) answerInbound(w http.ResponseWriter, r *http.Request, req *Request, ev CallEvent) {
	fwd, err := h.route(r.Context(), ev)
	if err == nil {
		h.fillURLs(&fwd, req)
		err = fwd.Validate()
	}
	if err != nil {
		if h.cfg.Fallback == (Forward{}) {
			h.ingest.Submit(ev)
			h.reject(w, r, http.StatusInternalServerError, "calltrack: no route for this call and no fallback configured", err)
			return
		}
		h.cfg.Logger.Warn("calltrack: route failed; using fallback", "provider", ev.Provider, "call_id", ev.CallID, "err", err)
		fwd = h.cfg.Fallback
		h.fillURLs(&fwd, req)
	}
	if cr, ok := h.prov.(CommandRouter); ok && cr.RoutesByCommand(ev) {
		h.ingest.Submit(ev)
		// The vendor has its whole answer (length known, flushed) before
		// the command runs on this request's goroutine: no goroutine is
		// started, and Wait sees the command through.
		h.commands.add()
		defer h.commands.done()
		h.write(w, h.prov.Ack(), nil)
		if err := http.NewResponseController(w).Flush(); err != nil {
			// A wrapper that cannot flush (http.TimeoutHandler, a logging
			// writer without Unwrap) holds the answer until the command
			// ends, and the vendor may time out and send the webhook again.
			h.cfg.Logger.Warn("calltrack: the webhook's answer cannot be flushed before the call is connected; do not wrap webhook routes in writers that buffer",
				"provider", ev.Provider, "call_id", ev.CallID, "err", err)
		}
		h.routeByCommand(context.WithoutCancel(r.Context()), cr, fwd, ev)
		return
	}
	ans, err := h.prov.RenderForward(fwd, ev)
	h.ingest.Submit(ev)
	if err != nil {
		h.reject(w, r, http.StatusInternalServerError, "calltrack: could not render routing answer", err)
		return
	}
	h.write(w, ans, nil)
}

// CommandTimeout bounds the command that connects a call for a
// CommandRouter, retries included.
const CommandTimeout = 20 * time.Second

// Wait returns when no call is being connected by command (each takes at
// most CommandTimeout). Hosts call it after stopping their HTTP server.
func (h *Handler) Wait() { h.commands.wait() }

// routeByCommand connects a call whose webhook was already acknowledged.
// There is no one left to answer, so failures are logged.
func (h *Handler) routeByCommand(ctx context.Context, cr CommandRouter, fwd Forward, ev CallEvent) {
	ctx, cancel := context.WithTimeout(ctx, CommandTimeout)
	defer cancel()
	if err := cr.RouteCall(ctx, fwd, ev); err != nil {
		h.cfg.Logger.Error("calltrack: could not connect the call", "provider", ev.Provider, "call_id", ev.CallID, "to", fwd.To, "err", err)
	}
}

// answersGET reports whether the vendor may send webhooks by GET.
func (h *Handler) answersGET() bool {
	g, ok := h.prov.(GETAnswerer)
	return ok && g.AnswersGET()
}

func (h *Handler) allowed() string {
	if h.answersGET() {
		return "GET, POST"
	}
	return http.MethodPost
}

// fillURLs points the forward's whisper and callbacks at this handler: the
// URL the vendor called, which is the URL it is configured with. A GET
// answer carries the call in its query, which is not part of that URL.
func (h *Handler) fillURLs(f *Forward, req *Request) {
	own := req.URL
	if req.Method == http.MethodGet {
		own, _, _ = strings.Cut(own, "?")
	}
	if f.CallbackURL == "" {
		f.CallbackURL = own
	}
	h.fillWhisperURL(f, own)
}

func (h *Handler) fillWhisperURL(f *Forward, requestURL string) {
	if f.Whisper == "" || f.WhisperURL != "" {
		return
	}
	u, err := url.Parse(requestURL)
	if err != nil {
		return
	}
	// Keep the vendor-configured query (it is part of what they sign).
	q := u.Query()
	q.Set(WhisperParam, f.Whisper)
	u.RawQuery = q.Encode()
	f.WhisperURL = u.String()
}

func whisperText(r *http.Request) (string, bool) {
	if !strings.Contains(r.URL.RawQuery, WhisperParam) {
		return "", false
	}
	v, ok := r.URL.Query()[WhisperParam]
	if !ok || len(v) == 0 {
		return "", false
	}
	return v[0], true
}

// requestURL rebuilds the URL the vendor called.
func (h *Handler) requestURL(r *http.Request) string {
	if h.pub != nil {
		// The configured URL byte for byte: a request for "/" is the
		// configured URL itself, signed as "https://host" without the "/"
		// the HTTP request line must carry.
		u := h.cfg.PublicURL
		if path := r.URL.EscapedPath(); path != "/" {
			u = strings.TrimSuffix(u, "/") + path
		}
		if r.URL.RawQuery != "" {
			u += "?" + r.URL.RawQuery
		}
		return u
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + r.URL.RequestURI()
}

func (h *Handler) write(w http.ResponseWriter, ans Answer, err error) {
	if err != nil {
		http.Error(w, "calltrack: could not render answer", http.StatusInternalServerError)
		return
	}
	if ans.ContentType != "" {
		w.Header().Set("Content-Type", ans.ContentType)
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(ans.Body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(ans.Body)
}

func (h *Handler) reject(w http.ResponseWriter, r *http.Request, code int, msg string, err error, attrs ...any) {
	h.cfg.Logger.Warn("calltrack: webhook rejected", append([]any{"provider", h.prov.Name(), "status", code, "path", r.URL.Path, "err", err}, attrs...)...)
	http.Error(w, msg, code)
}
