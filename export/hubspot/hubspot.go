package hubspot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/attriqs/calltrack/export"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/provider"
)

// DefaultBaseURL is HubSpot's API host.
const DefaultBaseURL = "https://api.hubapi.com"

// CallToContact is HubSpot's association type id for call → contact.
const CallToContact = 194

// Config configures a [Sink]. Token is required.
type Config struct {
	// Name is the sink's name in the outbox; empty means "hubspot".
	Name string
	// Token is a private app's access token, sent as a bearer token. The
	// app needs the crm.objects.contacts.read/write scopes (calls are
	// written under the contacts scopes).
	Token string
	// BaseURL is the API host; empty means [DefaultBaseURL].
	BaseURL string
	// Timeout bounds each API request; 0 means 10s.
	Timeout time.Duration
	// Client sends the requests; nil means a client with Timeout.
	Client *http.Client
	// Now is the clock used to read Retry-After dates; nil means time.Now.
	Now func() time.Time
	// IdempotencyProperty names a custom call property (single-line text)
	// the sink sets to the message id and searches before logging a call,
	// so a delivery retried after a lost answer does not log the call twice.
	// HubSpot has no idempotency header; without this property such a
	// retry can create a duplicate call engagement.
	IdempotencyProperty string
}

// Sink logs calls in HubSpot: it creates or updates the caller's contact by
// phone number, then adds a call engagement associated to the contact. It
// implements export.Sink and export.Filter (it accepts events with a call
// from a known number).
type Sink struct {
	cfg  Config
	base string
}

var (
	_ export.Sink   = (*Sink)(nil)
	_ export.Filter = (*Sink)(nil)
)

// New validates cfg and returns the sink.
func New(cfg Config) (*Sink, error) {
	var errs []error
	if strings.TrimSpace(cfg.Token) == "" {
		errs = append(errs, errors.New("hubspot: Config.Token is empty"))
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	if u, err := url.Parse(cfg.BaseURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		errs = append(errs, fmt.Errorf("hubspot: Config.BaseURL %q is not an http(s) URL", cfg.BaseURL))
	}
	if cfg.Timeout < 0 {
		errs = append(errs, errors.New("hubspot: Config.Timeout is negative"))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if cfg.Name == "" {
		cfg.Name = "hubspot"
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
	return &Sink{cfg: cfg, base: strings.TrimRight(cfg.BaseURL, "/")}, nil
}

// Name implements export.Sink.
func (s *Sink) Name() string { return s.cfg.Name }

// Accepts implements export.Filter: a contact is found by the caller's
// number, so only calls with one in E.164 are queued (not those whose
// number is withheld, or kept keyed under dni.Config.IdentityKey).
func (s *Sink) Accepts(ev export.Event) bool {
	return ev.Call != nil && ev.Call.From != "" && !journey.IsKeyed(ev.Call.From)
}

// Deliver implements export.Sink: search the contact by phone (phone or
// mobilephone), then update it (filling only blank properties: phone,
// city, state, country from the caller id) or create it (a 409 on create
// means another writer created it first: search again, else use the id the
// conflict names), then log the call associated to it.
func (s *Sink) Deliver(ctx context.Context, m export.Message) error {
	if !s.Accepts(m.Event) {
		return export.Permanent(errors.New("hubspot: the message has no call with a caller number"))
	}
	contactID, err := s.upsertContact(ctx, m.Event)
	if err != nil {
		return err
	}
	if s.cfg.IdempotencyProperty != "" {
		ids, err := s.search(ctx, "calls", s.cfg.IdempotencyProperty, m.ID)
		if err != nil {
			return err
		}
		if len(ids) > 0 {
			return nil // logged by an earlier attempt whose answer was lost
		}
	}
	var created object
	err = s.do(ctx, "create call", http.MethodPost, "/crm/v3/objects/calls", createRequest{
		Properties: s.callProperties(m),
		Associations: []association{{To: objectRef{ID: contactID},
			Types: []associationType{{Category: "HUBSPOT_DEFINED", TypeID: CallToContact}}}},
	}, &created)
	return err
}

// ---- API shapes (CRM v3 objects)

type object struct {
	ID         string            `json:"id"`
	Properties map[string]string `json:"properties,omitempty"`
}

type createRequest struct {
	Properties   map[string]string `json:"properties"`
	Associations []association     `json:"associations,omitempty"`
}

type association struct {
	To    objectRef         `json:"to"`
	Types []associationType `json:"types"`
}

type objectRef struct {
	ID string `json:"id"`
}

type associationType struct {
	Category string `json:"associationCategory"`
	TypeID   int    `json:"associationTypeId"`
}

type filter struct {
	PropertyName string `json:"propertyName"`
	Operator     string `json:"operator"`
	Value        string `json:"value"`
}

type filterGroup struct {
	Filters []filter `json:"filters"`
}

type searchRequest struct {
	FilterGroups []filterGroup `json:"filterGroups"`
	Properties   []string      `json:"properties"`
	Limit        int           `json:"limit"`
}

type searchResponse struct {
	Total   int      `json:"total"`
	Results []object `json:"results"`
}

type apiError struct {
	Status   string `json:"status"`
	Message  string `json:"message"`
	Category string `json:"category"`
}

// ---- contacts

func contactProperties(call provider.CallEvent) map[string]string {
	p := map[string]string{"phone": call.From}
	for k, v := range map[string]string{"city": call.CallerCity, "state": call.CallerRegion, "country": call.CallerCountry} {
		if v != "" {
			p[k] = v
		}
	}
	return p
}

// existingID finds the id in HubSpot's 409 message ("Contact already
// exists. Existing ID: 101").
var existingID = regexp.MustCompile(`Existing ID:\s*(\d+)`)

func (s *Sink) upsertContact(ctx context.Context, ev export.Event) (string, error) {
	phone := ev.Call.From
	props := contactProperties(*ev.Call)
	found, err := s.searchContact(ctx, phone)
	if err != nil {
		return "", err
	}
	if len(found) == 0 {
		var created object
		err := s.do(ctx, "create contact", http.MethodPost, "/crm/v3/objects/contacts", createRequest{Properties: props}, &created)
		var he *export.HTTPError
		if !errors.As(err, &he) || he.StatusCode != http.StatusConflict {
			return created.ID, err
		}
		// Another writer created it since the search: search again (the
		// index may lag), else take the id the conflict names.
		if found, err = s.searchContact(ctx, phone); err != nil {
			return "", err
		}
		if len(found) == 0 {
			var ae apiError
			_ = json.Unmarshal([]byte(he.Body), &ae)
			m := existingID.FindStringSubmatch(ae.Message)
			if m == nil {
				return "", fmt.Errorf("hubspot: contact %s conflicts but cannot be found yet: %w", phone, retryable{he})
			}
			found = []object{{ID: m[1]}}
		}
	}
	c := found[0]
	// Fill blanks only: what the CRM already knows (a phone number typed
	// by sales, a city) is never overwritten by caller-id data.
	update := map[string]string{}
	for k, v := range props {
		if c.Properties[k] == "" && !(k == "phone" && c.Properties["mobilephone"] == phone) {
			update[k] = v
		}
	}
	if len(update) == 0 {
		return c.ID, nil
	}
	return c.ID, s.do(ctx, "update contact", http.MethodPatch, "/crm/v3/objects/contacts/"+url.PathEscape(c.ID),
		createRequest{Properties: update}, nil)
}

// retryable hides an HTTP error's permanence: a conflict that a later
// search will resolve.
type retryable struct{ err error }

func (r retryable) Error() string   { return r.err.Error() }
func (r retryable) Permanent() bool { return false }
func (r retryable) Unwrap() error   { return r.err }

// searchContact finds contacts whose phone or mobile phone is phone, with
// the properties the sink may fill.
func (s *Sink) searchContact(ctx context.Context, phone string) ([]object, error) {
	var res searchResponse
	err := s.do(ctx, "search contacts", http.MethodPost, "/crm/v3/objects/contacts/search", searchRequest{
		FilterGroups: []filterGroup{ // groups are ORed
			{Filters: []filter{{PropertyName: "phone", Operator: "EQ", Value: phone}}},
			{Filters: []filter{{PropertyName: "mobilephone", Operator: "EQ", Value: phone}}},
		},
		Properties: []string{"phone", "mobilephone", "city", "state", "country"},
		Limit:      1,
	}, &res)
	return res.Results, err
}

// search finds objects whose property equals value.
func (s *Sink) search(ctx context.Context, objectType, property, value string) ([]string, error) {
	var res searchResponse
	err := s.do(ctx, "search "+objectType, http.MethodPost, "/crm/v3/objects/"+objectType+"/search", searchRequest{
		FilterGroups: []filterGroup{{Filters: []filter{{PropertyName: property, Operator: "EQ", Value: value}}}},
		Properties:   []string{property},
		Limit:        1,
	}, &res)
	return resultIDs(res), err
}

func resultIDs(res searchResponse) []string {
	var ids []string
	for _, r := range res.Results {
		if r.ID != "" {
			ids = append(ids, r.ID)
		}
	}
	return ids
}

// ---- calls

var callStatus = map[provider.Status]string{
	provider.StatusInitiated: "CONNECTING", provider.StatusRinging: "RINGING", provider.StatusInProgress: "IN_PROGRESS",
	provider.StatusCompleted: "COMPLETED", provider.StatusBusy: "BUSY", provider.StatusNoAnswer: "NO_ANSWER",
	provider.StatusFailed: "FAILED", provider.StatusCanceled: "CANCELED",
}

// Title is the call's hs_call_title: direction, then source / medium and
// campaign when known.
func Title(ev export.Event) string {
	t := "Inbound call"
	if ev.Call != nil && ev.Call.Direction == provider.DirectionOutbound {
		t = "Outbound call"
	}
	var parts []string
	if ev.Source.Source != "" {
		parts = append(parts, strings.Trim(ev.Source.Source+" / "+ev.Source.Medium, " /"))
	}
	if ev.Source.Campaign != "" {
		parts = append(parts, ev.Source.Campaign)
	}
	if len(parts) > 0 {
		t += ": " + strings.Join(parts, ", ")
	}
	return t
}

func (s *Sink) callProperties(m export.Message) map[string]string {
	call := *m.Call
	at, err := journey.CallTime(call)
	if err != nil {
		at = m.CreatedAt
	}
	dir := "INBOUND"
	if call.Direction == provider.DirectionOutbound {
		dir = "OUTBOUND"
	}
	talk := journey.TalkTime(call)
	body := []string{}
	add := func(k, v string) {
		if v != "" {
			body = append(body, k+": "+v)
		}
	}
	add("Source", strings.Trim(m.Source.Source+" / "+m.Source.Medium, " /"))
	add("Campaign", m.Source.Campaign)
	add("Channel", string(m.Source.Channel))
	if m.Source.ClickID.Value != "" {
		add("Click ID", m.Source.ClickID.Param+"="+m.Source.ClickID.Value)
	}
	add("Duration", talk.Round(time.Second).String())
	if c := m.Conversion; c != nil {
		add("Conversion", fmt.Sprintf("%s, value %d %s (minor units)", c.Type, c.Value, c.Currency))
	}
	add("Tracking number", call.To)
	add("calltrack message", m.ID)
	p := map[string]string{
		"hs_timestamp":        at.UTC().Format("2006-01-02T15:04:05.000Z"),
		"hs_call_title":       Title(m.Event),
		"hs_call_body":        strings.Join(body, "\n"),
		"hs_call_direction":   dir,
		"hs_call_duration":    strconv.FormatInt(talk.Milliseconds(), 10),
		"hs_call_from_number": call.From,
		"hs_call_to_number":   call.To,
	}
	if st, ok := callStatus[call.Status]; ok {
		p["hs_call_status"] = st
	}
	if s.cfg.IdempotencyProperty != "" {
		p[s.cfg.IdempotencyProperty] = m.ID
	}
	return p
}

// ---- transport

// do sends one JSON request and decodes a 2xx answer into out (if not
// nil). Non-2xx answers are *export.HTTPError: 4xx but 408/429 permanent,
// 429 with its Retry-After.
func (s *Sink) do(ctx context.Context, op, method, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return export.Permanent(fmt.Errorf("hubspot: %s: encode: %w", op, err))
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, s.base+path, bytes.NewReader(body))
	if err != nil {
		return export.Permanent(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.cfg.Token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		return fmt.Errorf("hubspot: %s: %w", op, err)
	}
	defer resp.Body.Close()
	if err := export.CheckResponse("hubspot: "+op, resp, s.cfg.Now()); err != nil {
		return err
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(out); err != nil {
		return fmt.Errorf("hubspot: %s: decode answer: %w", op, err)
	}
	return nil
}
