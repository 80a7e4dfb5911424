package meta

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/attriqs/calltrack/export"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/phone"
)

// DefaultBaseURL is the Graph API host.
const DefaultBaseURL = "https://graph.facebook.com"

// DefaultAPIVersion is the Graph API version the sink posts to when
// Config.APIVersion is empty. Meta supports each version for at least two
// years.
const DefaultAPIVersion = "v23.0"

// DefaultEventName is the standard event a qualified call is reported as.
const DefaultEventName = "Lead"

// MaxBatch is the most events Meta takes in one request's data. The sink
// sends one event per request, so one bad event never takes others down
// with it (Meta rejects a whole request for one invalid event).
const MaxBatch = 1000

// MaxEventAge is how old an event_time Meta accepts: an older event is
// refused with the whole request.
const MaxEventAge = 7 * 24 * time.Hour

// Action sources, as Meta names where a conversion happened.
const (
	ActionPhoneCall = "phone_call"
	ActionChat      = "chat"
)

// Config configures a [Sink]. PixelID and AccessToken are required; the
// zero value of every other field means its documented default.
type Config struct {
	// Name is the sink's name in the outbox; empty means "meta".
	Name string
	// PixelID is the dataset (pixel) id the events are sent to.
	PixelID string
	// AccessToken is a system user's access token for the dataset (Events
	// Manager, Settings, Conversions API, Generate access token). It is
	// sent in the request body, never in the URL.
	AccessToken string
	// APIVersion is the Graph API version, "v23.0"; empty means
	// [DefaultAPIVersion].
	APIVersion string
	// EventName names the event a conversion is sent as; empty means
	// [DefaultEventName] ("Lead"). A custom name is allowed (letters,
	// digits, '_' and ' ', at most 50 characters).
	EventName string
	// RestateEventName, when set, sends a restated value (an outcome set
	// or changed after the conversion was sent) as a new event of this
	// name, e.g. "Purchase" for a won job. Empty sends nothing for
	// restatements: the Conversions API cannot change an event it has.
	RestateEventName string
	// TestEventCode routes events to Events Manager's Test Events tab
	// instead of the dataset's data; leave empty in production.
	TestEventCode string
	// SendExternalID sends the SHA-256 of the conversion's visitor id as
	// external_id. It helps matching only when the site also passes the
	// same visitor id to the pixel as external_id.
	SendExternalID bool
	// LimitedDataUse marks every event for Meta's Limited Data Use
	// (data_processing_options ["LDU"], country and state 0: Meta
	// geolocates the visitor and applies the state laws that cover them).
	LimitedDataUse bool
	// BaseURL is the API host; empty means [DefaultBaseURL].
	BaseURL string
	// Timeout bounds each request; 0 means 10s.
	Timeout time.Duration
	// Client sends the requests; nil means a client with Timeout.
	Client *http.Client
	// Now is the clock that ages events and reads Retry-After dates; nil
	// means time.Now.
	Now func() time.Time
}

var (
	pixelIDRe    = regexp.MustCompile(`^[0-9]{1,32}$`)
	apiVersionRe = regexp.MustCompile(`^v[0-9]{1,3}\.[0-9]{1,3}$`)
	eventNameRe  = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_ ]{0,49}$`)
)

// Stats counts what a [Sink] sent since it was made.
type Stats struct {
	Requests uint64 // requests posted
	// EventsReceived sums the events_received Meta answered with.
	EventsReceived uint64
	Rejected       uint64 // requests answered with an error
}

// Sink sends qualified calls to Meta's Conversions API. It implements
// export.Sink and export.Filter. It is safe for concurrent use.
type Sink struct {
	cfg      Config
	endpoint string

	requests, received, rejected atomic.Uint64
}

var (
	_ export.Sink   = (*Sink)(nil)
	_ export.Filter = (*Sink)(nil)
)

// New validates cfg, naming every bad field at once, and returns the sink.
func New(cfg Config) (*Sink, error) {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf("meta: "+format, a...)) }
	if !pixelIDRe.MatchString(cfg.PixelID) {
		bad("Config.PixelID %q is not a dataset id (digits)", cfg.PixelID)
	}
	if strings.TrimSpace(cfg.AccessToken) == "" {
		bad("Config.AccessToken is empty")
	}
	if cfg.APIVersion != "" && !apiVersionRe.MatchString(cfg.APIVersion) {
		bad("Config.APIVersion %q is not a Graph API version like %q", cfg.APIVersion, DefaultAPIVersion)
	}
	if cfg.EventName != "" && !eventNameRe.MatchString(cfg.EventName) {
		bad("Config.EventName %q is not an event name (letters, digits, '_' and ' ', at most 50)", cfg.EventName)
	}
	if cfg.RestateEventName != "" && !eventNameRe.MatchString(cfg.RestateEventName) {
		bad("Config.RestateEventName %q is not an event name (letters, digits, '_' and ' ', at most 50)", cfg.RestateEventName)
	}
	if cfg.BaseURL != "" {
		u, err := url.Parse(cfg.BaseURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			bad("Config.BaseURL %q is not an http(s) URL", cfg.BaseURL)
		}
	}
	if cfg.Timeout < 0 {
		bad("Config.Timeout is negative")
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if cfg.Name == "" {
		cfg.Name = "meta"
	}
	if cfg.APIVersion == "" {
		cfg.APIVersion = DefaultAPIVersion
	}
	if cfg.EventName == "" {
		cfg.EventName = DefaultEventName
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
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
	endpoint := strings.TrimSuffix(cfg.BaseURL, "/") + "/" + cfg.APIVersion + "/" + cfg.PixelID + "/events"
	return &Sink{cfg: cfg, endpoint: endpoint}, nil
}

// Name implements export.Sink.
func (s *Sink) Name() string { return s.cfg.Name }

// Stats returns the counters so far.
func (s *Sink) Stats() Stats {
	return Stats{Requests: s.requests.Load(), EventsReceived: s.received.Load(), Rejected: s.rejected.Load()}
}

// Accepts implements export.Filter: conversions of calls and chats, and
// restatements when Config.RestateEventName is set, of visitors who gave
// ads consent and carry a Meta browser or click id (fbc or fbp). Meta
// matches nothing else the outbox holds; forms and purchases happen on the
// site, where the pixel reports them.
func (s *Sink) Accepts(ev export.Event) bool {
	if !ev.AdIDs.Consent || (ev.AdIDs.FBC == "" && ev.AdIDs.FBP == "") {
		return false
	}
	if a := ev.Adjustment; a != nil {
		return a.Type == export.AdjustRestate && s.cfg.RestateEventName != ""
	}
	return ev.Conversion != nil && actionSource(ev) != ""
}

// actionSource is where Meta is told the conversion happened; "" for
// conversions the sink does not send.
func actionSource(ev export.Event) string {
	switch {
	case ev.Call != nil || ev.Touch == journey.TouchCall || ev.Conversion != nil && ev.Conversion.Type == journey.ConversionCall:
		return ActionPhoneCall
	case ev.Touch == journey.TouchChat || ev.Conversion != nil && ev.Conversion.Type == journey.ConversionChat:
		return ActionChat
	}
	return ""
}

// ServerEvent is one event of a request's data, as the Conversions API
// names its server event parameters.
type ServerEvent struct {
	EventName    string     `json:"event_name"`
	EventTime    int64      `json:"event_time"`
	EventID      string     `json:"event_id"`
	ActionSource string     `json:"action_source"`
	UserData     UserData   `json:"user_data"`
	CustomData   CustomData `json:"custom_data"`
	// DataProcessingOptions is ["LDU"] with Config.LimitedDataUse; the
	// country and state are then 0 (Meta geolocates).
	DataProcessingOptions        []string `json:"data_processing_options,omitempty"`
	DataProcessingOptionsCountry *int     `json:"data_processing_options_country,omitempty"`
	DataProcessingOptionsState   *int     `json:"data_processing_options_state,omitempty"`
}

// UserData are the customer information parameters the sink sends: the
// browser's Meta ids as the cookies hold them, and the hashed caller
// number and visitor id.
type UserData struct {
	FBC        string   `json:"fbc,omitempty"`
	FBP        string   `json:"fbp,omitempty"`
	Phones     []string `json:"ph,omitempty"`          // SHA-256 hex of digits with country code
	ExternalID []string `json:"external_id,omitempty"` // SHA-256 hex
}

// CustomData carries the conversion's value in major units and its
// currency, lower case as Meta's SDKs send it.
type CustomData struct {
	Value    json.Number `json:"value"`
	Currency string      `json:"currency"`
}

// Event builds the server event m is sent as, or a permanent error saying
// why m cannot be sent.
func (s *Sink) Event(m export.Message) (ServerEvent, error) {
	if !m.AdIDs.Consent {
		return ServerEvent{}, export.Permanent(errors.New("meta: the visitor gave no ads consent"))
	}
	if m.AdIDs.FBC == "" && m.AdIDs.FBP == "" {
		return ServerEvent{}, export.Permanent(errors.New("meta: the session has no fbc or fbp to match"))
	}
	ev := ServerEvent{EventID: m.ID, UserData: UserData{FBC: m.AdIDs.FBC, FBP: m.AdIDs.FBP}}
	var value int64
	var currency string
	var at time.Time
	switch {
	case m.Adjustment != nil:
		a := m.Adjustment
		if a.Type != export.AdjustRestate || s.cfg.RestateEventName == "" {
			return ServerEvent{}, export.Permanent(fmt.Errorf("meta: a %s adjustment is not sent: the Conversions API cannot change an event", a.Type))
		}
		// The restated value is a new event; the call it restates was a
		// phone call.
		ev.EventName, ev.ActionSource = s.cfg.RestateEventName, ActionPhoneCall
		value, currency, at = a.Value, a.Currency, a.At
	case m.Conversion != nil:
		ev.ActionSource = actionSource(m.Event)
		if ev.ActionSource == "" {
			return ServerEvent{}, export.Permanent(fmt.Errorf("meta: a %s conversion is not sent (the pixel reports what happens on the site)", m.Conversion.Type))
		}
		c := m.Conversion
		ev.EventName = s.cfg.EventName
		value, currency, at = c.Value, c.Currency, c.At
		if s.cfg.SendExternalID && c.VisitorID != "" {
			ev.UserData.ExternalID = []string{hash(c.VisitorID)}
		}
		if m.Call != nil {
			if ph := hashedPhone(m.Call.From); ph != "" {
				ev.UserData.Phones = []string{ph}
			}
		}
	default:
		return ServerEvent{}, export.Permanent(errors.New("meta: a call without a conversion is not sent"))
	}
	if len(currency) != 3 {
		return ServerEvent{}, export.Permanent(fmt.Errorf("meta: currency %q is not an ISO 4217 code", currency))
	}
	now := s.cfg.Now()
	if at.IsZero() {
		at = m.CreatedAt
	}
	if age := now.Sub(at); age > MaxEventAge {
		return ServerEvent{}, export.Permanent(fmt.Errorf("meta: event_time %s is %s old; Meta refuses events older than 7 days", at.UTC().Format(time.RFC3339), age.Round(time.Minute)))
	}
	if at.After(now) {
		at = now // Meta takes times up to now; a provider's clock may run ahead
	}
	ev.EventTime = at.Unix()
	ev.CustomData = CustomData{Value: json.Number(journey.FormatMinor(value, currency)), Currency: strings.ToLower(currency)}
	if s.cfg.LimitedDataUse {
		zero := 0
		ev.DataProcessingOptions = []string{"LDU"}
		ev.DataProcessingOptionsCountry, ev.DataProcessingOptionsState = &zero, &zero
	}
	return ev, nil
}

// hashedPhone is the SHA-256 of an E.164 number's digits with its country
// code and no '+', as Meta normalises ph; "" for a withheld or keyed
// number (a Service with an IdentityKey keeps no number in the clear).
func hashedPhone(number string) string {
	if !phone.IsE164(number) {
		return ""
	}
	return hash(strings.TrimPrefix(number, "+"))
}

func hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// Response is the Conversions API's answer to an accepted request.
type Response struct {
	EventsReceived int      `json:"events_received"`
	Messages       []string `json:"messages"`
	FBTraceID      string   `json:"fbtrace_id"`
}

// Deliver posts m as one event. An answer with events_received 1 delivers
// it. Errors are classified by the Graph API error object (see [APIError]):
// rate limits and transient errors are retried, an invalid token and
// invalid events are permanent; a message whose event is older than
// [MaxEventAge] is dead-lettered without a request.
func (s *Sink) Deliver(ctx context.Context, m export.Message) error {
	ev, err := s.Event(m)
	if err != nil {
		return err
	}
	data, err := json.Marshal([]ServerEvent{ev})
	if err != nil {
		return export.Permanent(fmt.Errorf("meta: encode: %w", err))
	}
	// Form fields, as Meta's curl examples and SDKs post them; the token
	// in the body stays out of URL logs.
	form := url.Values{"data": {string(data)}, "access_token": {s.cfg.AccessToken}}
	if s.cfg.TestEventCode != "" {
		form.Set("test_event_code", s.cfg.TestEventCode)
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return export.Permanent(fmt.Errorf("meta: %w", err))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "calltrack-export")
	s.requests.Add(1)
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		return fmt.Errorf("meta: post event: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return fmt.Errorf("meta: read answer: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		s.rejected.Add(1)
		return responseError(resp, body, s.cfg.Now())
	}
	var out Response
	if err := json.Unmarshal(body, &out); err != nil {
		return fmt.Errorf("meta: answer does not decode: %w", err)
	}
	s.received.Add(uint64(max(out.EventsReceived, 0)))
	if out.EventsReceived != 1 {
		s.rejected.Add(1)
		return export.Permanent(fmt.Errorf("meta: events_received %d of 1 (fbtrace_id %s): %s", out.EventsReceived, out.FBTraceID, strings.Join(out.Messages, "; ")))
	}
	return nil
}

// retryAfter reads a Retry-After header (seconds or an HTTP date).
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
