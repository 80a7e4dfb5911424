package ga4

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/attriqs/calltrack/export"
	"github.com/attriqs/calltrack/journey"
)

// Endpoints of the Measurement Protocol.
const (
	// DefaultBaseURL is the global endpoint's origin.
	DefaultBaseURL = "https://www.google-analytics.com"
	// EUBaseURL collects the data in the EU.
	EUBaseURL = "https://region1.google-analytics.com"
	// CollectPath receives events; DebugPath is the validation server,
	// which answers validation messages and records nothing.
	CollectPath = "/mp/collect"
	DebugPath   = "/debug/mp/collect"
)

// DefaultEventName is the event a conversion is sent as when
// Config.EventName is empty: GA4's recommended event for a lead.
const DefaultEventName = "generate_lead"

// MaxAge is how far back the Measurement Protocol takes an event's
// timestamp_micros ("events can be backdated up to 72 hours").
const MaxAge = 72 * time.Hour

// ErrTooOld is wrapped by the permanent error of a message whose event
// happened more than [MaxAge] before its delivery.
var ErrTooOld = errors.New("ga4: event older than the 72 hours the Measurement Protocol backdates")

// engagementTimeMsec is sent with every event: GA shows events in
// Realtime and attributes them to the session only with a positive
// engagement time, and an offline conversion has no engagement of its own.
const engagementTimeMsec = 1

// Config configures a [Sink]. MeasurementID and APISecret are required;
// the zero value of every other field means its documented default.
type Config struct {
	// Name is the sink's name in the outbox; empty means "ga4". Give each
	// GA4 sink (one per web stream) its own name.
	Name string
	// MeasurementID names the web stream ("G-XXXXXXXXXX", not the numeric
	// stream id).
	MeasurementID string
	// APISecret is a Measurement Protocol API secret of that stream.
	APISecret string
	// EU sends to EUBaseURL, so the data is collected in the EU.
	EU bool
	// BaseURL replaces the endpoint's origin (a server-side tag manager, a
	// test); empty means DefaultBaseURL, or EUBaseURL with EU.
	BaseURL string
	// EventName is the event each conversion (call, chat, form) is sent
	// as; empty means DefaultEventName.
	EventName string
	// AdjustmentEventName, when set, is the event a restated conversion is
	// sent as (see the package doc: GA4 cannot change an event it has);
	// empty means restatements are not sent. It must differ from
	// EventName.
	AdjustmentEventName string
	// Debug sends to the validation server (DebugPath) instead: GA
	// records nothing, and any validation message it answers
	// dead-letters the message with its reasons. For trying a
	// configuration, not for production.
	Debug bool
	// Timeout bounds one request; 0 means 10s.
	Timeout time.Duration
	// Client sends the requests; nil means a client with Timeout.
	Client *http.Client
	// Now is the clock for the 72-hour window; nil means time.Now.
	Now func() time.Time
}

// Sink sends conversions to a GA4 web stream through the Measurement
// Protocol. It implements export.Sink and export.Filter, and is safe for
// concurrent use.
type Sink struct {
	cfg      Config
	endpoint string // with the query, secret included
	redacted string // the endpoint as errors show it
}

var (
	_ export.Sink   = (*Sink)(nil)
	_ export.Filter = (*Sink)(nil)
)

// New validates cfg, naming every bad field at once, and returns the
// sink.
func New(cfg Config) (*Sink, error) {
	var errs []error
	switch id := cfg.MeasurementID; {
	case strings.TrimSpace(id) == "":
		errs = append(errs, errors.New("ga4: Config.MeasurementID is empty"))
	case strings.Trim(id, "0123456789") == "":
		errs = append(errs, fmt.Errorf("ga4: Config.MeasurementID %q is a stream id; the measurement id looks like G-XXXXXXXXXX", id))
	case strings.ContainsAny(id, " \t\r\n/?&#"):
		errs = append(errs, fmt.Errorf("ga4: Config.MeasurementID %q holds characters a measurement id has not", id))
	}
	if strings.TrimSpace(cfg.APISecret) == "" {
		errs = append(errs, errors.New("ga4: Config.APISecret is empty"))
	}
	if cfg.BaseURL != "" {
		u, err := url.Parse(cfg.BaseURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			errs = append(errs, fmt.Errorf("ga4: Config.BaseURL %q is not an http(s) origin", cfg.BaseURL))
		}
		if cfg.EU {
			errs = append(errs, errors.New("ga4: Config.EU and Config.BaseURL are both set; set one"))
		}
	}
	if cfg.EventName == "" {
		cfg.EventName = DefaultEventName
	}
	if err := CheckEventName(cfg.EventName); err != nil {
		errs = append(errs, fmt.Errorf("ga4: Config.EventName: %w", err))
	}
	if cfg.AdjustmentEventName != "" {
		if err := CheckEventName(cfg.AdjustmentEventName); err != nil {
			errs = append(errs, fmt.Errorf("ga4: Config.AdjustmentEventName: %w", err))
		}
		if cfg.AdjustmentEventName == cfg.EventName {
			errs = append(errs, fmt.Errorf("ga4: Config.AdjustmentEventName is Config.EventName (%q): every restatement would count as one more lead", cfg.EventName))
		}
	}
	if cfg.Timeout < 0 {
		errs = append(errs, errors.New("ga4: Config.Timeout is negative"))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if cfg.Name == "" {
		cfg.Name = "ga4"
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
	base := DefaultBaseURL
	switch {
	case cfg.BaseURL != "":
		base = strings.TrimSuffix(cfg.BaseURL, "/")
	case cfg.EU:
		base = EUBaseURL
	}
	path := CollectPath
	if cfg.Debug {
		path = DebugPath
	}
	q := url.Values{"measurement_id": {cfg.MeasurementID}, "api_secret": {cfg.APISecret}}
	redacted := url.Values{"measurement_id": {cfg.MeasurementID}, "api_secret": {"REDACTED"}}
	return &Sink{cfg: cfg, endpoint: base + path + "?" + q.Encode(), redacted: base + path + "?" + redacted.Encode()}, nil
}

// Name implements export.Sink.
func (s *Sink) Name() string { return s.cfg.Name }

// Accepts implements export.Filter: conversions, and restatements when
// Config.AdjustmentEventName is set, of visitors who gave ads consent and
// whose GA client id the tracker read. Calls that did not convert and
// retractions are not for GA4 (it has no way to withdraw an event).
func (s *Sink) Accepts(ev export.Event) bool {
	if !ev.AdIDs.Consent || clientID(ev.AdIDs.GAClientID) == "" {
		return false
	}
	switch ev.Kind() {
	case export.KindConversion:
		return true
	case export.KindAdjustment:
		return ev.Adjustment.Type == export.AdjustRestate && s.cfg.AdjustmentEventName != ""
	}
	return false
}

// Deliver sends m as one event. A payload that breaks the documented
// rules, an event older than [MaxAge] and a message [Sink.Accepts] would
// not take are permanent errors (dead-lettered with the reason); a non-2xx
// answer is classed by export.CheckResponse (429 and 5xx retried,
// honouring Retry-After).
func (s *Sink) Deliver(ctx context.Context, m export.Message) error {
	p, err := s.Payload(m)
	if err != nil {
		return err
	}
	body, err := json.Marshal(p)
	if err != nil {
		return export.Permanent(fmt.Errorf("ga4: encode: %w", err))
	}
	if len(body) >= MaxBodyBytes {
		return &ValidationError{Messages: []ValidationMessage{{FieldPath: "#", ValidationCode: CodeValueOutOfBounds,
			Description: fmt.Sprintf("the body has %d bytes; it must be smaller than %d", len(body), MaxBodyBytes)}}}
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.endpoint, bytes.NewReader(body))
	if err != nil {
		return export.Permanent(fmt.Errorf("ga4: request: %w", s.redact(err)))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "calltrack-export")
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		return fmt.Errorf("ga4: post: %w", s.redact(err))
	}
	defer resp.Body.Close()
	if err := export.CheckResponse("ga4: post", resp, s.cfg.Now()); err != nil {
		return err
	}
	if s.cfg.Debug {
		var ans struct {
			ValidationMessages []ValidationMessage `json:"validationMessages"`
		}
		if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&ans); err != nil {
			return fmt.Errorf("ga4: read the validation answer: %w", err)
		}
		if len(ans.ValidationMessages) > 0 {
			return &ValidationError{Messages: ans.ValidationMessages}
		}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	return nil
}

// redact keeps the API secret out of errors, which end in logs and the
// outbox's status.
func (s *Sink) redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		ue.URL = s.redacted
	}
	return err
}

// Payload is the body Deliver would send for m, validated. Its errors are
// permanent.
func (s *Sink) Payload(m export.Message) (Payload, error) {
	var (
		name, currency string
		value          int64
		at             time.Time
		extra          map[string]any
	)
	switch {
	case m.Kind() == export.KindConversion:
		c := m.Conversion
		name, value, currency, at = s.cfg.EventName, c.Value, c.Currency, c.At
	case m.Kind() == export.KindAdjustment && m.Adjustment.Type == export.AdjustRestate && s.cfg.AdjustmentEventName != "":
		a := m.Adjustment
		name, value, currency, at = s.cfg.AdjustmentEventName, a.Value, a.Currency, a.At
		// The restated lead's own event, for joining the two in reports.
		orig := export.MessageID(s.cfg.Name, export.Event{Conversion: &journey.Conversion{ID: a.ConversionID}})
		extra = map[string]any{"original_transaction_id": paramID(orig)}
	default:
		return Payload{}, export.Permanent(fmt.Errorf("ga4: a %s message is not sent to GA4 (only conversions and, with Config.AdjustmentEventName, restatements)", m.Kind()))
	}
	if !m.AdIDs.Consent {
		return Payload{}, export.Permanent(errors.New("ga4: the visitor gave no ads consent"))
	}
	cid := clientID(m.AdIDs.GAClientID)
	if cid == "" {
		return Payload{}, export.Permanent(errors.New("ga4: the session has no GA client id"))
	}
	now := s.cfg.Now()
	switch {
	case at.IsZero():
		at = now
	case now.Sub(at) > MaxAge:
		return Payload{}, export.Permanent(fmt.Errorf("%w: it happened at %s, %s before now", ErrTooOld,
			at.UTC().Format(time.RFC3339), now.Sub(at).Round(time.Minute)))
	case at.After(now):
		at = now // a clock ahead of ours; GA takes no future timestamps
	}
	params := map[string]any{
		"transaction_id":       paramID(m.ID),
		"engagement_time_msec": engagementTimeMsec,
	}
	if currency != "" {
		params["value"] = json.Number(journey.FormatMinor(value, currency))
		params["currency"] = currency
	}
	if sid := m.AdIDs.GASessionID; positiveNumber(sid) {
		params["session_id"] = sid
	}
	for k, v := range extra {
		params[k] = v
	}
	p := Payload{ClientID: cid, TimestampMicros: at.UnixMicro(), Events: []Event{{Name: name, Params: params}}}
	if c := consentOf(m.AdIDs); c != nil {
		p.Consent = c
		p.NonPersonalizedAds = c.AdPersonalization == "DENIED"
	}
	if err := p.Validate(); err != nil {
		return Payload{}, err
	}
	return p, nil
}

// consentOf maps Consent Mode's signals as the tracker kept them; nil
// when the site does not use Consent Mode.
func consentOf(ids journey.AdIDs) *Consent {
	upper := func(s string) string {
		switch s {
		case "granted":
			return "GRANTED"
		case "denied":
			return "DENIED"
		}
		return ""
	}
	c := Consent{AdUserData: upper(ids.AdUserData), AdPersonalization: upper(ids.AdPersonalization)}
	if c == (Consent{}) {
		return nil
	}
	return &c
}

// clientID is the GA client id of a session: as gtag.js reports it
// ("1234567890.1700000000"), also when the tracker passed the whole _ga
// cookie ("GA1.1.1234567890.1700000000").
func clientID(s string) string {
	s = strings.TrimSpace(s)
	if parts := strings.Split(s, "."); len(parts) == 4 && strings.HasPrefix(parts[0], "GA") {
		return parts[2] + "." + parts[3]
	}
	return s
}

// paramID keeps an id within a parameter value's 100 characters: longer
// ones are replaced by their SHA-256, the same on every attempt.
func paramID(id string) string {
	if utf8.RuneCountInString(id) <= MaxParamValueLen {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	return "sha256:" + hex.EncodeToString(sum[:])
}
