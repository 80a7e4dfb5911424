package telnyx_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/provider/telnyx"
)

// numbersAPI stands in for Telnyx's number and application endpoints with
// the documented request and response shapes (api.telnyx.com/v2:
// available_phone_numbers, number_orders, phone_numbers,
// phone_numbers/{id}/voice, texml_applications/{id},
// call_control_applications/{id}).
type numbersAPI struct {
	t        *testing.T
	mu       sync.Mutex
	owned    map[string]string // id -> number
	polls    int               // GETs of a pending order before it succeeds
	patches  map[string]map[string]any
	apps     map[string]map[string]any // path -> the application's settings
	requests []string
}

// appRequired are the fields Telnyx's update of each kind of application
// requires (the SDKs' TexmlApplicationUpdateParams and
// CallControlApplicationUpdateParams mark them so).
var appRequired = map[string][]string{
	"/texml_applications/conn-1":        {"friendly_name", "voice_url"},
	"/call_control_applications/conn-1": {"application_name", "webhook_event_url"},
}

func (a *numbersAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer KEY0123" {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	a.requests = append(a.requests, r.Method+" "+r.URL.Path)
	var body map[string]any
	if b, _ := io.ReadAll(r.Body); len(b) > 0 {
		if err := json.Unmarshal(b, &body); err != nil {
			a.t.Errorf("%s %s: body is not JSON: %s", r.Method, r.URL, b)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	q := r.URL.Query()
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/available_phone_numbers":
		if q.Get("filter[country_code]") != "US" || q.Get("filter[national_destination_code]") != "415" || q.Get("filter[limit]") != "2" {
			a.t.Errorf("search filters %v", q)
		}
		fmt.Fprint(w, `{"data":[{"record_type":"available_phone_number","phone_number":"+14155550101","region_information":[{"region_type":"rate_center","region_name":"SAN FRANCISCO"},{"region_type":"state","region_name":"CA"},{"region_type":"country_code","region_name":"US"}]}],"metadata":{"total_results":1}}`)
	case r.Method == http.MethodPost && r.URL.Path == "/number_orders":
		nums, _ := body["phone_numbers"].([]any)
		if body["connection_id"] != "conn-1" || len(nums) != 1 {
			a.t.Errorf("order body %v: want the number on the application", body)
		}
		fmt.Fprint(w, `{"data":{"id":"order-1","record_type":"number_order","status":"pending","phone_numbers":[{"id":"onp-1","phone_number":"+14155550101","status":"pending"}]}}`)
	case r.Method == http.MethodGet && r.URL.Path == "/number_orders/order-1":
		status := "pending"
		if a.polls--; a.polls < 0 {
			status = "success"
			a.owned["pn-1"] = "+14155550101"
		}
		fmt.Fprintf(w, `{"data":{"id":"order-1","status":%q,"phone_numbers":[{"phone_number":"+14155550101","status":%q}]}}`, status, status)
	case r.Method == http.MethodGet && r.URL.Path == "/phone_numbers":
		a.listPage(w, q)
	case appRequired[r.URL.Path] != nil && r.Method == http.MethodGet:
		app, ok := a.apps[r.URL.Path]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"errors":[{"code":"10005","title":"Resource not found","detail":"The requested resource or URL could not be found."}]}`)
			return
		}
		out, _ := json.Marshal(map[string]any{"data": app})
		_, _ = w.Write(out)
	case appRequired[r.URL.Path] != nil && r.Method == http.MethodPatch:
		app, ok := a.apps[r.URL.Path]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		for _, f := range appRequired[r.URL.Path] {
			if s, _ := body[f].(string); s == "" {
				w.WriteHeader(http.StatusUnprocessableEntity)
				fmt.Fprintf(w, `{"errors":[{"code":"10015","title":"Invalid value","detail":"%s is required"}]}`, f)
				return
			}
		}
		for k, v := range body {
			app[k] = v
		}
		out, _ := json.Marshal(map[string]any{"data": app})
		_, _ = w.Write(out)
	case r.Method == http.MethodPatch:
		a.patches[r.URL.Path] = body
		fmt.Fprint(w, `{"data":{}}`)
	case r.Method == http.MethodDelete:
		id := r.URL.Path[len("/phone_numbers/"):]
		if _, ok := a.owned[id]; !ok {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"errors":[{"code":"10005","title":"Resource not found","detail":"The requested resource or URL could not be found."}]}`)
			return
		}
		delete(a.owned, id)
		fmt.Fprint(w, `{"data":{}}`)
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

// listPage serves GET /phone_numbers, filtered by number or paged (meta.total_pages).
func (a *numbersAPI) listPage(w http.ResponseWriter, q map[string][]string) {
	type num struct {
		ID          string `json:"id"`
		PhoneNumber string `json:"phone_number"`
		CreatedAt   string `json:"created_at"`
	}
	var all []num
	for i := 0; i < 300; i++ { // ids pn-1 .. : the owned ones first
		id := "pn-" + strconv.Itoa(i+1)
		if n, ok := a.owned[id]; ok {
			all = append(all, num{id, n, "2026-03-01T12:00:00Z"})
		}
	}
	if f := q["filter[phone_number]"]; len(f) > 0 {
		var hit []num
		for _, n := range all {
			if n.PhoneNumber == f[0] {
				hit = append(hit, n)
			}
		}
		all = hit
	}
	page, _ := strconv.Atoi(firstOr(q["page[number]"], "1"))
	size, _ := strconv.Atoi(firstOr(q["page[size]"], "20"))
	size = min(size, 2) // small pages, so paging is exercised
	pages := (len(all) + size - 1) / size
	lo, hi := min((page-1)*size, len(all)), min(page*size, len(all))
	out, _ := json.Marshal(map[string]any{"data": all[lo:hi], "meta": map[string]int{"total_pages": pages, "total_results": len(all), "page_number": page, "page_size": size}})
	_, _ = w.Write(out)
}

func firstOr(v []string, def string) string {
	if len(v) == 0 {
		return def
	}
	return v[0]
}

func newNumbers(t *testing.T, polls int) (*telnyx.NumberClient, *numbersAPI) {
	t.Helper()
	return newNumbersFor(t, polls, telnyx.NumberClientConfig{Application: telnyx.TeXMLApplication})
}

// newNumbersFor serves a client configured as cfg (APIKey, ConnectionID
// and BaseURL filled in) from a stand-in holding one TeXML and one Call
// Control application, both conn-1, neither with a fallback yet.
func newNumbersFor(t *testing.T, polls int, cfg telnyx.NumberClientConfig) (*telnyx.NumberClient, *numbersAPI) {
	t.Helper()
	api := &numbersAPI{t: t, owned: map[string]string{"pn-2": "+14155550102", "pn-3": "+14155550103", "pn-4": "+14155550104"}, polls: polls, patches: map[string]map[string]any{},
		apps: map[string]map[string]any{
			"/texml_applications/conn-1": {"id": "conn-1", "record_type": "texml_application", "friendly_name": "calltrack",
				"voice_url": "https://calls.example.com/calltrack/telnyx", "voice_method": "post", "voice_fallback_url": nil},
			"/call_control_applications/conn-1": {"id": "conn-1", "record_type": "call_control_application", "application_name": "calltrack",
				"webhook_event_url": "https://calls.example.com/calltrack/telnyx", "webhook_event_failover_url": "", "webhook_api_version": "2"},
		}}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	cfg.APIKey, cfg.ConnectionID, cfg.BaseURL, cfg.OrderPollInterval = "KEY0123", "conn-1", srv.URL, time.Millisecond
	c, err := telnyx.NewNumberClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c, api
}

// fallbackURL is where the tests say the static FallbackDocument is hosted.
const fallbackURL = "https://static.example.com/telnyx-fallback.xml"

func TestNumberClientProvisionsWithTheOnFailureForward(t *testing.T) {
	ctx := context.Background()
	c, api := newNumbers(t, 1)

	found, err := c.SearchNumbers(ctx, provider.NumberQuery{AreaCode: "415", Limit: 2})
	if err != nil || len(found) != 1 || found[0] != (provider.AvailableNumber{Number: "+14155550101", Locality: "SAN FRANCISCO", Region: "CA", Country: "US"}) {
		t.Fatalf("SearchNumbers = %+v, %v", found, err)
	}

	owned, err := c.BuyNumber(ctx, "+14155550101", provider.BuyOptions{FallbackTo: "+12125550123", FallbackURL: fallbackURL, FriendlyName: "Google Ads"})
	if err != nil || owned.ID != "pn-1" || owned.Number != "+14155550101" {
		t.Fatalf("BuyNumber = %+v, %v", owned, err)
	}
	if p := api.patches["/phone_numbers/pn-1"]; p["connection_id"] != "conn-1" || p["customer_reference"] != "Google Ads" {
		t.Fatalf("number settings %v: want it on the application", p)
	}
	fwd, _ := api.patches["/phone_numbers/pn-1/voice"]["call_forwarding"].(map[string]any)
	if fwd["call_forwarding_enabled"] != true || fwd["forwards_to"] != "+12125550123" || fwd["forwarding_type"] != "on-failure" {
		t.Fatalf("voice settings %v: want the on-failure forward to the business line", api.patches["/phone_numbers/pn-1/voice"])
	}

	list, err := c.ListNumbers(ctx)
	if err != nil || len(list) != 4 {
		t.Fatalf("ListNumbers = %+v, %v: want all four numbers across pages", list, err)
	}

	if err := c.ReleaseNumber(ctx, "pn-1"); err != nil {
		t.Fatal(err)
	}
	if err := c.ReleaseNumber(ctx, "pn-1"); err != nil {
		t.Fatalf("releasing a number already gone: %v, want nil", err)
	}
}

func TestNumberClientRefusesWhatItCannotDo(t *testing.T) {
	ctx := context.Background()
	c, api := newNumbers(t, 0)
	if _, err := c.BuyNumber(ctx, "+14155550101", provider.BuyOptions{}); !errors.Is(err, provider.ErrInvalidConfig) {
		t.Fatalf("buy without FallbackTo: %v", err)
	}
	if err := c.ConfigureNumber(ctx, "pn-2", provider.BuyOptions{FallbackTo: "2125550123", FallbackURL: fallbackURL}); !errors.Is(err, provider.ErrInvalidConfig) {
		t.Fatalf("configure with a FallbackTo that is not E.164: %v", err)
	}
	if len(api.requests) != 0 {
		t.Fatalf("a refused request reached Telnyx: %v", api.requests)
	}
	slow, _ := newNumbers(t, 1000)
	if _, err := slow.BuyNumber(ctx, "+14155550101", provider.BuyOptions{FallbackTo: "+12125550123", FallbackURL: fallbackURL}); err == nil {
		t.Fatal("an order that stays pending was reported bought")
	}
	_, err := telnyx.NewNumberClient(telnyx.NumberClientConfig{})
	if !errors.Is(err, provider.ErrInvalidConfig) {
		t.Fatalf("empty config: %v", err)
	}
	for _, field := range []string{"APIKey", "ConnectionID", "Application"} {
		if !strings.Contains(err.Error(), "field "+field) {
			t.Errorf("error %q does not name field %s", err, field)
		}
	}
}

func TestTeXMLApplicationGetsTheVoiceFallbackURL(t *testing.T) {
	ctx := context.Background()
	c, api := newNumbers(t, 0)
	if _, err := c.BuyNumber(ctx, "+14155550101", provider.BuyOptions{FallbackTo: "+12125550123", FallbackURL: fallbackURL}); err != nil {
		t.Fatal(err)
	}
	app := api.apps["/texml_applications/conn-1"]
	if app["voice_fallback_url"] != fallbackURL {
		t.Fatalf("TeXML application %v: want voice_fallback_url %s, the static FallbackDocument Telnyx fetches when the voice URL fails", app, fallbackURL)
	}
	if app["voice_url"] != "https://calls.example.com/calltrack/telnyx" || app["friendly_name"] != "calltrack" {
		t.Fatalf("TeXML application %v: the update changed its voice URL or name", app)
	}
	fwd, _ := api.patches["/phone_numbers/pn-1/voice"]["call_forwarding"].(map[string]any)
	if fwd["forwarding_type"] != "on-failure" || fwd["forwards_to"] != "+12125550123" {
		t.Fatalf("voice settings %v: the forward on failure stays as a second layer", api.patches["/phone_numbers/pn-1/voice"])
	}
	if api.apps["/call_control_applications/conn-1"]["webhook_event_failover_url"] != "" {
		t.Fatal("a TeXML number changed a Call Control application")
	}

	// Configuring again with the same fallback reads it and writes nothing.
	api.requests = nil
	if err := c.ConfigureNumber(ctx, "pn-1", provider.BuyOptions{FallbackTo: "+12125550123", FallbackURL: fallbackURL}); err != nil {
		t.Fatal(err)
	}
	for _, r := range api.requests {
		if r == "PATCH /texml_applications/conn-1" {
			t.Fatalf("requests %v: the fallback already set was written again", api.requests)
		}
	}

	// Without FallbackURL a TeXML application has no fail-safe: refused
	// before anything is ordered.
	api.requests = nil
	_, err := c.BuyNumber(ctx, "+14155550101", provider.BuyOptions{FallbackTo: "+12125550123"})
	if !errors.Is(err, provider.ErrInvalidConfig) || !strings.Contains(err.Error(), "field FallbackURL") {
		t.Fatalf("TeXML without FallbackURL: %v, want ErrInvalidConfig naming FallbackURL", err)
	}
	if len(api.requests) != 0 {
		t.Fatalf("a refused purchase reached Telnyx: %v", api.requests)
	}
}

func TestTeXMLApplicationWithoutAVoiceURLTakesBuyOptionsVoiceURL(t *testing.T) {
	ctx := context.Background()
	c, api := newNumbers(t, 0)
	api.apps["/texml_applications/conn-1"]["voice_url"] = ""
	err := c.ConfigureNumber(ctx, "pn-2", provider.BuyOptions{FallbackTo: "+12125550123", FallbackURL: fallbackURL})
	if !errors.Is(err, provider.ErrInvalidConfig) || !strings.Contains(err.Error(), "field VoiceURL") {
		t.Fatalf("no voice URL anywhere: %v, want ErrInvalidConfig naming VoiceURL (Telnyx requires voice_url in the update)", err)
	}
	const voice = "https://calls.example.com/calltrack/telnyx-texml"
	if err := c.ConfigureNumber(ctx, "pn-2", provider.BuyOptions{FallbackTo: "+12125550123", FallbackURL: fallbackURL, VoiceURL: voice}); err != nil {
		t.Fatal(err)
	}
	if app := api.apps["/texml_applications/conn-1"]; app["voice_url"] != voice || app["voice_fallback_url"] != fallbackURL {
		t.Fatalf("TeXML application %v", app)
	}
}

func TestCallControlApplicationGetsTheFailoverWebhookURL(t *testing.T) {
	ctx := context.Background()
	const failover = "https://calls-west.example.com/calltrack/telnyx"
	c, api := newNumbersFor(t, 0, telnyx.NumberClientConfig{Application: telnyx.CallControlApplication, FailoverWebhookURL: failover})
	if _, err := c.BuyNumber(ctx, "+14155550101", provider.BuyOptions{FallbackTo: "+12125550123"}); err != nil {
		t.Fatal(err)
	}
	if app := api.apps["/call_control_applications/conn-1"]; app["webhook_event_failover_url"] != failover || app["webhook_event_url"] != "https://calls.example.com/calltrack/telnyx" {
		t.Fatalf("Call Control application %v: want webhook_event_failover_url %s and the webhook URL kept", app, failover)
	}
	if fwd, _ := api.patches["/phone_numbers/pn-1/voice"]["call_forwarding"].(map[string]any); fwd["forwarding_type"] != "on-failure" {
		t.Fatalf("voice settings %v: want the forward on failure", api.patches["/phone_numbers/pn-1/voice"])
	}
	if v := api.apps["/texml_applications/conn-1"]["voice_fallback_url"]; v != nil {
		t.Fatalf("a Call Control number changed a TeXML application: %v", v)
	}

	// A static document cannot move a Call Control call: refused, naming
	// the field, before anything reaches Telnyx.
	api.requests = nil
	err := c.ConfigureNumber(ctx, "pn-2", provider.BuyOptions{FallbackTo: "+12125550123", FallbackURL: fallbackURL})
	if !errors.Is(err, provider.ErrInvalidConfig) || !strings.Contains(err.Error(), "field FallbackURL") {
		t.Fatalf("Call Control with FallbackURL: %v, want ErrInvalidConfig naming FallbackURL", err)
	}
	if len(api.requests) != 0 {
		t.Fatalf("a refused configuration reached Telnyx: %v", api.requests)
	}

	// Without a failover URL the application is left alone.
	plain, api2 := newNumbersFor(t, 0, telnyx.NumberClientConfig{Application: telnyx.CallControlApplication})
	if err := plain.ConfigureNumber(ctx, "pn-2", provider.BuyOptions{FallbackTo: "+12125550123"}); err != nil {
		t.Fatal(err)
	}
	for _, r := range api2.requests {
		if strings.Contains(r, "applications") {
			t.Fatalf("requests %v: no failover URL was configured, so the application is not touched", api2.requests)
		}
	}
}

func TestNumberClientConfigNamesEachBadField(t *testing.T) {
	cases := []struct {
		cfg   telnyx.NumberClientConfig
		field string
	}{
		{telnyx.NumberClientConfig{APIKey: "k", ConnectionID: "c", Application: "sip"}, "field Application"},
		{telnyx.NumberClientConfig{APIKey: "k", ConnectionID: "c", Application: telnyx.TeXMLApplication, FailoverWebhookURL: "https://x.example.com"}, "field FailoverWebhookURL"},
		{telnyx.NumberClientConfig{APIKey: "k", ConnectionID: "c", Application: telnyx.CallControlApplication, FailoverWebhookURL: "calls.example.com"}, "field FailoverWebhookURL"},
	}
	for _, tc := range cases {
		_, err := telnyx.NewNumberClient(tc.cfg)
		if !errors.Is(err, provider.ErrInvalidConfig) || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%+v: %v, want ErrInvalidConfig naming %s", tc.cfg, err, tc.field)
		}
	}
}
