package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/attriqs/calltrack/classify"
	"github.com/attriqs/calltrack/export"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/webhooksig"
)

// Header names the sink sets on every request.
const (
	// SignatureHeader carries "t=<unix seconds>,v1=<hex HMAC-SHA256>".
	SignatureHeader = "Calltrack-Signature"
	// IdempotencyHeader carries the message id, the same on every attempt.
	IdempotencyHeader = "Idempotency-Key"
)

// DefaultTolerance is how far from now a signature's timestamp may lie when
// [VerifySignature] is given a zero tolerance.
const DefaultTolerance = webhooksig.DefaultTolerance

// Earlier names of the webhooksig sentinels that [VerifySignature] returns.
// Each is the webhooksig sentinel itself, so errors.Is matches either name.
var (
	// Deprecated: use [webhooksig.ErrMissingSignature].
	ErrNoSignature = webhooksig.ErrMissingSignature
	// Deprecated: use [webhooksig.ErrMalformedSignature].
	ErrMalformedHeader = webhooksig.ErrMalformedSignature
	// Deprecated: use [webhooksig.ErrStaleTimestamp].
	ErrTimestampExpired = webhooksig.ErrStaleTimestamp
	// Deprecated: use [webhooksig.ErrBadSignature].
	ErrBadSignature = webhooksig.ErrBadSignature
)

// Body is the JSON the sink posts. Receivers decode it; the signature
// covers its exact bytes.
type Body struct {
	ID         string              `json:"id"`   // the idempotency key, also in the Idempotency-Key header
	Type       string              `json:"type"` // "conversion", "call" or "adjustment"
	Attempt    int                 `json:"attempt"`
	CreatedAt  time.Time           `json:"created_at"`
	Conversion *journey.Conversion `json:"conversion,omitempty"`
	Call       *provider.CallEvent `json:"call,omitempty"`
	Adjustment *export.Adjustment  `json:"adjustment,omitempty"`
	Source     classify.Source     `json:"source"`
}

// Config configures a [Sink]. URL and Secret are required.
type Config struct {
	// Name is the sink's name in the outbox; empty means "webhook". Give
	// each webhook sink its own name.
	Name string
	// URL receives a POST per message.
	URL string
	// Secret keys the HMAC signature; share it with the receiver.
	Secret []byte
	// Timeout bounds one request (connect, send, answer); 0 means 10s.
	Timeout time.Duration
	// Client sends the requests; nil means a client with Timeout.
	Client *http.Client
	// Now is the clock stamped into signatures; nil means time.Now.
	Now func() time.Time
}

// Sink posts signed JSON to a URL. It implements export.Sink.
type Sink struct {
	cfg Config
}

var _ export.Sink = (*Sink)(nil)

// New validates cfg and returns the sink.
func New(cfg Config) (*Sink, error) {
	var errs []error
	u, err := url.Parse(cfg.URL)
	if cfg.URL == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		errs = append(errs, fmt.Errorf("webhook: Config.URL %q is not an http(s) URL", cfg.URL))
	}
	if len(cfg.Secret) == 0 {
		errs = append(errs, errors.New("webhook: Config.Secret is empty"))
	}
	if cfg.Timeout < 0 {
		errs = append(errs, errors.New("webhook: Config.Timeout is negative"))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if cfg.Name == "" {
		cfg.Name = "webhook"
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: cfg.Timeout}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Sink{cfg: cfg}, nil
}

// Name implements export.Sink.
func (s *Sink) Name() string { return s.cfg.Name }

// Deliver posts m. A 2xx answer delivers it; 4xx answers other than 408
// and 429 are permanent (the message is dead-lettered); anything else,
// timeouts and connection errors included, is retried, honouring
// Retry-After.
func (s *Sink) Deliver(ctx context.Context, m export.Message) error {
	body, err := json.Marshal(Body{ID: m.ID, Type: m.Kind(), Attempt: m.Attempt, CreatedAt: m.CreatedAt.UTC(),
		Conversion: m.Conversion, Call: m.Call, Adjustment: m.Adjustment, Source: m.Source})
	if err != nil {
		return export.Permanent(fmt.Errorf("webhook: encode: %w", err))
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return export.Permanent(err)
	}
	now := s.cfg.Now()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "calltrack-export")
	req.Header.Set(IdempotencyHeader, m.ID)
	req.Header.Set(SignatureHeader, Sign(s.cfg.Secret, body, now))
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		return fmt.Errorf("webhook: post: %w", err)
	}
	defer resp.Body.Close()
	err = export.CheckResponse("webhook: post", resp, now)
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	return err
}

// Sign returns the signature header value for body sent at t:
// "t=<unix seconds>,v1=<hex HMAC-SHA256 of "<unix seconds>.<body>">". It is
// [webhooksig.Sign], here for receivers' test fixtures.
func Sign(secret, body []byte, t time.Time) string {
	return webhooksig.Sign(secret, body, t)
}

// VerifySignature checks a request a receiver got from the sink: header is
// the Calltrack-Signature value, body the raw request body (verify before
// decoding it), now the receiver's clock. It is [webhooksig.Verify]: nil when
// one of the header's v1 signatures matches under secret (several are
// accepted while secrets are rotated; comparison is constant-time) and its
// timestamp is within tolerance of now (zero means [DefaultTolerance]),
// which stops replays of old requests; otherwise an error wrapping one of
// webhooksig's sentinels. Dedupe on the Idempotency-Key (the body's id): a
// message may arrive more than once.
func VerifySignature(secret []byte, header string, body []byte, now time.Time, tolerance time.Duration) error {
	return webhooksig.Verify(secret, header, body, now, tolerance)
}
