package hubspot_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/classify"
	"github.com/attriqs/calltrack/export"
	"github.com/attriqs/calltrack/export/hubspot"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/store"
	"github.com/attriqs/calltrack/store/memstore"
)

const token = "pat-na1-test"

var t0 = time.Date(2026, 3, 14, 15, 0, 0, 0, time.UTC)

// portal is a stand-in for HubSpot's CRM v3 objects API, answering with
// the documented request and response shapes: search, create (201, or 409
// CONFLICT naming the existing id), update, and call creation with
// associations. It can hide new contacts from search for a while, as
// HubSpot's search index does, and answer queued failures first.
type portal struct {
	mu         sync.Mutex
	nextID     int
	contacts   map[string]map[string]string // id -> properties
	calls      []createdCall
	requests   []string             // "METHOD path"
	hidden     map[string]int       // contact id -> searches that still miss it
	failures   map[string][]failure // "METHOD path" -> answers to give first
	lostAnswer map[string]bool      // "METHOD path" -> do the work, then answer 500 once
}

type createdCall struct {
	ID           string
	Properties   map[string]string
	Associations []struct {
		To    struct{ ID string } `json:"to"`
		Types []struct {
			AssociationCategory string `json:"associationCategory"`
			AssociationTypeID   int    `json:"associationTypeId"`
		} `json:"types"`
	}
}

type failure struct {
	status     int
	retryAfter string
	body       string
}

func newPortal() *portal {
	return &portal{nextID: 100, contacts: map[string]map[string]string{}, hidden: map[string]int{},
		failures: map[string][]failure{}, lostAnswer: map[string]bool{}}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func hsError(w http.ResponseWriter, status int, category, msg string) {
	writeJSON(w, status, map[string]string{"status": "error", "message": msg, "correlationId": "c0ffee", "category": category})
}

func (p *portal) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	key := r.Method + " " + r.URL.Path
	p.requests = append(p.requests, key)
	if r.Header.Get("Authorization") != "Bearer "+token {
		hsError(w, 401, "INVALID_AUTHENTICATION", "Authentication credentials not found.")
		return
	}
	if fs := p.failures[key]; len(fs) > 0 {
		p.failures[key] = fs[1:]
		if fs[0].retryAfter != "" {
			w.Header().Set("Retry-After", fs[0].retryAfter)
		}
		hsError(w, fs[0].status, "RATE_LIMITS", fs[0].body)
		return
	}
	var req struct {
		Props        json.RawMessage `json:"properties"` // an object to write, a list of names to read
		FilterGroups []struct {
			Filters []struct{ PropertyName, Operator, Value string } `json:"filters"`
		} `json:"filterGroups"`
		Associations json.RawMessage `json:"associations"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		hsError(w, 400, "VALIDATION_ERROR", "Invalid input JSON")
		return
	}
	var props map[string]string
	if !strings.HasSuffix(r.URL.Path, "/search") {
		if err := json.Unmarshal(req.Props, &props); err != nil {
			hsError(w, 400, "VALIDATION_ERROR", "properties must be an object of strings")
			return
		}
	}
	lost := p.lostAnswer[key]
	delete(p.lostAnswer, key)
	switch {
	case key == "POST /crm/v3/objects/contacts/search":
		var results []map[string]any
		for id, stored := range p.contacts {
			if p.hidden[id] > 0 {
				p.hidden[id]--
				continue
			}
			for _, g := range req.FilterGroups {
				f := g.Filters[0]
				if f.Operator == "EQ" && stored[f.PropertyName] == f.Value {
					results = append(results, map[string]any{"id": id, "properties": stored, "archived": false})
					break
				}
			}
		}
		writeJSON(w, 200, map[string]any{"total": len(results), "results": results})
	case key == "POST /crm/v3/objects/contacts":
		for id, stored := range p.contacts {
			if stored["phone"] == props["phone"] {
				hsError(w, 409, "CONFLICT", "Contact already exists. Existing ID: "+id)
				return
			}
		}
		id := p.newID()
		p.contacts[id] = props
		writeJSON(w, 201, map[string]any{"id": id, "properties": props, "archived": false})
	case r.Method == http.MethodPatch && strings.HasPrefix(r.URL.Path, "/crm/v3/objects/contacts/"):
		id := strings.TrimPrefix(r.URL.Path, "/crm/v3/objects/contacts/")
		stored, ok := p.contacts[id]
		if !ok {
			hsError(w, 404, "OBJECT_NOT_FOUND", "resource not found")
			return
		}
		for k, v := range props {
			stored[k] = v
		}
		writeJSON(w, 200, map[string]any{"id": id, "properties": stored})
	case key == "POST /crm/v3/objects/calls":
		if props["hs_timestamp"] == "" {
			hsError(w, 400, "VALIDATION_ERROR", "hs_timestamp is required")
			return
		}
		c := createdCall{ID: p.newID(), Properties: props}
		if err := json.Unmarshal(req.Associations, &c.Associations); err != nil {
			hsError(w, 400, "VALIDATION_ERROR", "bad associations")
			return
		}
		p.calls = append(p.calls, c)
		if lost {
			hsError(w, 502, "INTERNAL_ERROR", "bad gateway")
			return
		}
		writeJSON(w, 201, map[string]any{"id": c.ID, "properties": props})
	case key == "POST /crm/v3/objects/calls/search":
		var results []map[string]any
		f := req.FilterGroups[0].Filters[0]
		for _, c := range p.calls {
			if c.Properties[f.PropertyName] == f.Value {
				results = append(results, map[string]any{"id": c.ID})
			}
		}
		writeJSON(w, 200, map[string]any{"total": len(results), "results": results})
	default:
		hsError(w, 404, "OBJECT_NOT_FOUND", "no route "+key)
	}
}

func (p *portal) newID() string { p.nextID++; return fmt.Sprint(p.nextID) }

func (p *portal) snapshot() (map[string]map[string]string, []createdCall, []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.contacts, p.calls, p.requests
}

func qualifiedCall(id, from string) export.Event {
	call := provider.CallEvent{Provider: "twilio", CallID: id, From: from, To: "+14155550100", Direction: provider.DirectionInbound,
		Status: provider.StatusCompleted, StartedAt: t0.Add(-10 * time.Minute), Duration: 3*time.Minute + 25*time.Second,
		CallerCity: "Oakland", CallerRegion: "CA", CallerCountry: "US"}
	conv := journey.Conversion{ID: "call:twilio/" + id, Type: journey.ConversionCall, At: t0.Add(-6 * time.Minute),
		Value: 5000, Currency: "USD", CallProvider: "twilio", CallID: id}
	return export.Event{Conversion: &conv, Call: &call, Source: classify.Source{Channel: classify.ChannelPaidSearch,
		Source: "google", Medium: "cpc", Campaign: "spring-plumbing", Paid: true,
		ClickID: classify.ClickID{Param: "gclid", Value: "Cj0K", Platform: "Google Ads"}}}
}

type rig struct {
	portal *portal
	x      *export.Exporter
	clock  *time.Time
}

func newRig(t *testing.T, cfg hubspot.Config) *rig {
	t.Helper()
	p := newPortal()
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	now := t0
	cfg.BaseURL = srv.URL
	if cfg.Token == "" {
		cfg.Token = token
	}
	sink, err := hubspot.New(cfg)
	require.NoError(t, err)
	x, err := export.New(memstore.New(), export.Config{Now: func() time.Time { return now }, Rand: func() float64 { return 0 },
		Logger: slog.New(slog.DiscardHandler)}, sink)
	require.NoError(t, err)
	return &rig{portal: p, x: x, clock: &now}
}

// deliver records ev (if any) and runs one delivery pass; it returns the
// message's state afterwards.
func (r *rig) deliver(t *testing.T, ev *export.Event, id string) store.OutboxMessage {
	t.Helper()
	if ev != nil {
		require.NoError(t, r.x.Record(t.Context(), *ev))
	}
	_, err := r.x.DeliverDue(t.Context())
	require.NoError(t, err)
	m, err := r.x.Message(t.Context(), id)
	require.NoError(t, err)
	return m
}

func TestNewCallerGetsAContactAndACallEngagement(t *testing.T) {
	r := newRig(t, hubspot.Config{})
	ev := qualifiedCall("CA1", "+14155550123")
	m := r.deliver(t, &ev, "hubspot/call:twilio/CA1")
	require.Equal(t, store.OutboxDelivered, m.State, m.LastError)

	contacts, calls, reqs := r.portal.snapshot()
	require.Equal(t, []string{
		"POST /crm/v3/objects/contacts/search",
		"POST /crm/v3/objects/contacts",
		"POST /crm/v3/objects/calls",
	}, reqs)
	require.Equal(t, map[string]map[string]string{"101": {"phone": "+14155550123", "city": "Oakland", "state": "CA", "country": "US"}}, contacts)
	require.Len(t, calls, 1)
	c := calls[0]
	require.Equal(t, map[string]string{
		"hs_timestamp":        "2026-03-14T14:50:00.000Z",
		"hs_call_title":       "Inbound call: google / cpc, spring-plumbing",
		"hs_call_direction":   "INBOUND",
		"hs_call_duration":    "205000",
		"hs_call_status":      "COMPLETED",
		"hs_call_from_number": "+14155550123",
		"hs_call_to_number":   "+14155550100",
		"hs_call_body": "Source: google / cpc\nCampaign: spring-plumbing\nChannel: Paid Search\nClick ID: gclid=Cj0K\n" +
			"Duration: 3m25s\nConversion: call_conversion, value 5000 USD (minor units)\nTracking number: +14155550100\n" +
			"calltrack message: hubspot/call:twilio/CA1",
	}, c.Properties)
	require.Len(t, c.Associations, 1)
	require.Equal(t, "101", c.Associations[0].To.ID)
	require.Equal(t, "HUBSPOT_DEFINED", c.Associations[0].Types[0].AssociationCategory)
	require.Equal(t, hubspot.CallToContact, c.Associations[0].Types[0].AssociationTypeID)
}

func TestKnownCallerIsUpdatedNotDuplicated(t *testing.T) {
	r := newRig(t, hubspot.Config{})
	r.portal.contacts["42"] = map[string]string{"mobilephone": "+14155550123", "phone": "+442071838750",
		"firstname": "Ada", "city": "London"}
	ev := qualifiedCall("CA1", "+14155550123")
	require.Equal(t, store.OutboxDelivered, r.deliver(t, &ev, "hubspot/call:twilio/CA1").State)
	contacts, calls, reqs := r.portal.snapshot()
	require.NotContains(t, reqs, "POST /crm/v3/objects/contacts")
	require.Len(t, contacts, 1)
	require.Equal(t, map[string]string{"mobilephone": "+14155550123", "phone": "+442071838750", "firstname": "Ada",
		"city": "London", "state": "CA", "country": "US"}, contacts["42"], "the update fills blanks and overwrites nothing the CRM knows")
	require.Contains(t, reqs, "PATCH /crm/v3/objects/contacts/42")
	require.Equal(t, "42", calls[0].Associations[0].To.ID)
}

func TestConflictOnCreateIsResolvedBySearchingAgain(t *testing.T) {
	for _, c := range []struct {
		name   string
		misses int // searches the existing contact stays invisible to
	}{
		{"FoundOnSecondSearch", 1},
		{"TakenFromTheConflictMessage", 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, hubspot.Config{})
			r.portal.contacts["77"] = map[string]string{"phone": "+14155550123"}
			r.portal.hidden["77"] = c.misses // created a moment ago by someone else
			ev := qualifiedCall("CA1", "+14155550123")
			m := r.deliver(t, &ev, "hubspot/call:twilio/CA1")
			require.Equal(t, store.OutboxDelivered, m.State, m.LastError)
			contacts, calls, reqs := r.portal.snapshot()
			require.Len(t, contacts, 1, "no duplicate contact")
			require.Contains(t, reqs, "POST /crm/v3/objects/contacts")
			require.Equal(t, "77", calls[0].Associations[0].To.ID)
		})
	}
}

func TestRateLimitIsRetriedAfterRetryAfterWithoutDuplicates(t *testing.T) {
	r := newRig(t, hubspot.Config{})
	r.portal.failures["POST /crm/v3/objects/calls"] = []failure{{status: 429, retryAfter: "10",
		body: "You have reached your secondly limit."}}
	ev := qualifiedCall("CA1", "+14155550123")
	m := r.deliver(t, &ev, "hubspot/call:twilio/CA1")
	require.Equal(t, store.OutboxPending, m.State)
	require.Contains(t, m.LastError, "HTTP 429")
	require.Equal(t, t0.Add(10*time.Second), m.NextAt, "Retry-After honoured")

	*r.clock = t0.Add(10 * time.Second)
	m = r.deliver(t, nil, "hubspot/call:twilio/CA1")
	require.Equal(t, store.OutboxDelivered, m.State, m.LastError)
	require.Equal(t, 2, m.Attempts)
	contacts, calls, _ := r.portal.snapshot()
	require.Len(t, contacts, 1, "the retry found the contact the first attempt created")
	require.Len(t, calls, 1)
}

func TestIdempotencyPropertyStopsADuplicateCallAfterALostAnswer(t *testing.T) {
	for _, c := range []struct {
		property  string
		wantCalls int
	}{
		{"calltrack_message_id", 1},
		{"", 2}, // documented: without the property a lost answer duplicates the call
	} {
		t.Run(fmt.Sprintf("property=%q", c.property), func(t *testing.T) {
			r := newRig(t, hubspot.Config{IdempotencyProperty: c.property})
			r.portal.lostAnswer["POST /crm/v3/objects/calls"] = true
			ev := qualifiedCall("CA1", "+14155550123")
			require.Equal(t, store.OutboxPending, r.deliver(t, &ev, "hubspot/call:twilio/CA1").State)
			require.Equal(t, store.OutboxDelivered, r.deliver(t, nil, "hubspot/call:twilio/CA1").State)
			_, calls, _ := r.portal.snapshot()
			require.Len(t, calls, c.wantCalls)
			if c.property != "" {
				require.Equal(t, "hubspot/call:twilio/CA1", calls[0].Properties[c.property])
			}
		})
	}
}

func TestBadTokenIsDeadLetteredServerErrorsRetried(t *testing.T) {
	r := newRig(t, hubspot.Config{Token: "pat-wrong"})
	ev := qualifiedCall("CA1", "+14155550123")
	m := r.deliver(t, &ev, "hubspot/call:twilio/CA1")
	require.Equal(t, store.OutboxDead, m.State)
	require.Contains(t, m.LastError, "HTTP 401")

	r = newRig(t, hubspot.Config{})
	r.portal.failures["POST /crm/v3/objects/contacts/search"] = []failure{{status: 503, body: "unavailable"}}
	m = r.deliver(t, &ev, "hubspot/call:twilio/CA1")
	require.Equal(t, store.OutboxPending, m.State)
	require.Contains(t, m.LastError, "HTTP 503")
}

func TestOnlyCallsWithACallerNumberAreQueued(t *testing.T) {
	r := newRig(t, hubspot.Config{})
	purchase := journey.Conversion{ID: "p1", Type: journey.ConversionPurchase, At: t0, Value: 1, Currency: "USD"}
	require.NoError(t, r.x.Record(t.Context(), export.Event{Conversion: &purchase}))
	withheld := qualifiedCall("CA2", "")
	require.NoError(t, r.x.Record(t.Context(), withheld))
	pending, err := r.x.ByState(t.Context(), store.OutboxPending, 0)
	require.NoError(t, err)
	require.Empty(t, pending)
}

func TestTitle(t *testing.T) {
	ev := qualifiedCall("CA1", "+1")
	require.Equal(t, "Inbound call: google / cpc, spring-plumbing", hubspot.Title(ev))
	ev.Source = classify.Source{Source: "(direct)", Medium: "(none)"}
	ev.Call.Direction = provider.DirectionOutbound
	require.Equal(t, "Outbound call: (direct) / (none)", hubspot.Title(ev))
	ev.Source = classify.Source{}
	require.Equal(t, "Outbound call", hubspot.Title(ev))
}

func TestNewReportsEveryProblem(t *testing.T) {
	_, err := hubspot.New(hubspot.Config{BaseURL: "api.hubapi.com", Timeout: -1})
	require.Error(t, err)
	for _, want := range []string{"Config.Token", "Config.BaseURL", "Config.Timeout"} {
		require.Contains(t, err.Error(), want)
	}
}
