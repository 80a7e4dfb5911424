package vonage_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/provider/vonage"
)

const (
	apiKey    = "abcd1234"
	apiSecret = "s3cr3t"
	appID     = "aaaaaaaa-bbbb-cccc-dddd-0123456789ab"
)

// vonageStandIn follows the documented shapes of the Numbers API (form
// posts answered with error-code/error-code-label, lists as count and
// numbers, account/numbers filtered by pattern and application_id) and of
// the Application API v2 (GET and PUT of the whole application), both
// with HTTP Basic auth.
type vonageStandIn struct {
	mu    sync.Mutex
	owned map[string]string // msisdn → app_id
	order []string
	app   map[string]any
	log   []string
}

func newStandIn() *vonageStandIn {
	s := &vonageStandIn{owned: map[string]string{}}
	s.app = map[string]any{
		"id": appID, "name": "calltrack",
		"keys": map[string]any{"public_key": "-----BEGIN PUBLIC KEY-----\n..."},
		"capabilities": map[string]any{"voice": map[string]any{"webhooks": map[string]any{
			"answer_url": map[string]any{"address": "https://old.example.com/answer", "http_method": "GET"},
		}, "signed_callbacks": true}},
		"_links": map[string]any{"self": map[string]any{"href": "/v2/applications/" + appID}},
	}
	return s
}

func (s *vonageStandIn) own(msisdn string) {
	s.owned[msisdn] = ""
	s.order = append(s.order, msisdn)
}

func (s *vonageStandIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = append(s.log, r.Method+" "+r.URL.Path)
	if k, sec, ok := r.BasicAuth(); !ok || k != apiKey || sec != apiSecret {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = fmt.Fprint(w, `{"error-code":"401","error-code-label":"Invalid auth token"}`)
		return
	}
	status := func(code int, label string) {
		if code != 200 {
			w.WriteHeader(code)
		}
		_, _ = fmt.Fprintf(w, `{"error-code":"%d","error-code-label":%q}`, code, label)
	}
	_ = r.ParseForm()
	switch r.Method + " " + r.URL.Path {
	case "GET /number/search":
		if r.Form.Get("country") != "US" || r.Form.Get("features") != "VOICE" || r.Form.Get("pattern") != "1415" || r.Form.Get("search_pattern") != "0" {
			status(400, "unexpected search "+r.URL.RawQuery)
			return
		}
		_, _ = fmt.Fprint(w, `{"count":2,"numbers":[{"country":"US","msisdn":"14155550100","type":"mobile-lve","cost":"1.25","features":["VOICE","SMS"]},{"country":"US","msisdn":"14155550199","type":"landline","cost":"0.90","features":["VOICE"]}]}`)
	case "POST /number/buy":
		if r.PostForm.Get("country") != "US" || r.PostForm.Get("msisdn") == "" {
			status(400, "country and msisdn required")
			return
		}
		if _, ok := s.owned[r.PostForm.Get("msisdn")]; ok {
			status(420, "method failed")
			return
		}
		s.own(r.PostForm.Get("msisdn"))
		status(200, "success")
	case "POST /number/update", "POST /number/cancel":
		m := r.PostForm.Get("msisdn")
		if _, ok := s.owned[m]; !ok || r.PostForm.Get("country") != "US" {
			status(420, "method failed")
			return
		}
		if r.URL.Path == "/number/update" {
			s.owned[m] = r.PostForm.Get("app_id")
		} else {
			delete(s.owned, m)
		}
		status(200, "success")
	case "GET /account/numbers":
		var match []string
		for _, m := range s.order {
			app, ok := s.owned[m]
			if !ok || !strings.HasPrefix(m, r.Form.Get("pattern")) {
				continue
			}
			if id := r.Form.Get("application_id"); id != "" && app != id {
				continue
			}
			match = append(match, m)
		}
		size, _ := strconv.Atoi(r.Form.Get("size"))
		if size == 0 {
			size = 10
		}
		index, _ := strconv.Atoi(r.Form.Get("index"))
		index = max(index, 1)
		type num struct {
			Country string `json:"country"`
			MSISDN  string `json:"msisdn"`
			AppID   string `json:"app_id,omitempty"`
		}
		page := []num{}
		for i := (index - 1) * size; i < len(match) && i < index*size; i++ {
			page = append(page, num{"US", match[i], s.owned[match[i]]})
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"count": len(match), "numbers": page})
	case "GET /v2/applications/" + appID:
		_ = json.NewEncoder(w).Encode(s.app)
	case "PUT /v2/applications/" + appID:
		var app map[string]any
		if json.NewDecoder(r.Body).Decode(&app) != nil || app["name"] == nil {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = fmt.Fprint(w, `{"title":"Bad Request","detail":"name is required"}`)
			return
		}
		s.app = app
		_ = json.NewEncoder(w).Encode(app)
	default:
		http.NotFound(w, r)
	}
}

// webhook reads one of the application's voice webhooks.
func (s *vonageStandIn) webhook(name string) (address, method string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h, _ := s.app["capabilities"].(map[string]any)["voice"].(map[string]any)["webhooks"].(map[string]any)[name].(map[string]any)
	address, _ = h["address"].(string)
	method, _ = h["http_method"].(string)
	return address, method
}

func newNumbers(t *testing.T, s *vonageStandIn) *vonage.Numbers {
	t.Helper()
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	n, err := vonage.NewNumbers(vonage.NumbersConfig{APIKey: apiKey, APISecret: apiSecret, ApplicationID: appID, RESTBase: srv.URL, APIBase: srv.URL, HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestNumbersProvisioner(t *testing.T) {
	ctx := context.Background()
	s := newStandIn()
	for i := range 150 { // more than one page of 100
		s.own(fmt.Sprintf("1212555%04d", i))
	}
	n := newNumbers(t, s)

	found, err := n.SearchNumbers(ctx, provider.NumberQuery{AreaCode: "415", Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 2 || found[0].Number != "+14155550100" || found[0].Country != "US" {
		t.Fatalf("SearchNumbers = %+v", found)
	}

	opts := provider.BuyOptions{
		VoiceURL: "https://calls.example.com/vonage", FallbackTo: "+12125550123",
		FallbackURL: "https://static.example.com/fallback.json",
	}
	owned, err := n.BuyNumber(ctx, "+14155550100", opts)
	if err != nil {
		t.Fatal(err)
	}
	if owned.ID != "14155550100" || owned.Number != "+14155550100" {
		t.Fatalf("BuyNumber = %+v", owned)
	}
	if a, m := s.webhook("fallback_answer_url"); a != opts.FallbackURL || m != http.MethodGet {
		t.Fatalf("fallback_answer_url = %s %s, want GET %s", m, a, opts.FallbackURL)
	}
	if a, m := s.webhook("answer_url"); a != opts.VoiceURL || m != http.MethodPost {
		t.Fatalf("answer_url = %s %s, want POST %s", m, a, opts.VoiceURL)
	}
	if a, m := s.webhook("event_url"); a != opts.VoiceURL || m != http.MethodPost {
		t.Fatalf("event_url = %s %s, want POST %s", m, a, opts.VoiceURL)
	}
	s.mu.Lock()
	linked, keys, signed := s.owned["14155550100"], s.app["keys"], s.app["capabilities"].(map[string]any)["voice"].(map[string]any)["signed_callbacks"]
	s.mu.Unlock()
	if linked != appID || keys == nil || signed != true {
		t.Fatalf("after BuyNumber: number linked to %q, keys %v, signed_callbacks %v; want the application, and the rest of it kept", linked, keys, signed)
	}

	all, err := n.ListNumbers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 151 || all[150].Number != "+14155550100" {
		t.Fatalf("ListNumbers: %d numbers, last %+v; want 151 across two pages", len(all), all[len(all)-1])
	}

	opts.FallbackURL = "https://static.example.com/v2.json"
	if err := n.ConfigureNumber(ctx, owned.ID, opts); err != nil {
		t.Fatal(err)
	}
	if a, _ := s.webhook("fallback_answer_url"); a != opts.FallbackURL {
		t.Fatalf("ConfigureNumber left fallback_answer_url at %s", a)
	}

	if err := n.ReleaseNumber(ctx, owned.ID); err != nil {
		t.Fatal(err)
	}
	if err := n.ReleaseNumber(ctx, owned.ID); err != nil {
		t.Fatalf("releasing a number already gone: %v, want nil", err)
	}
	if err := n.ConfigureNumber(ctx, owned.ID, opts); err == nil {
		t.Fatal("configured a number the account no longer owns")
	}
	if _, err := n.BuyNumber(ctx, "+12125550000", opts); err == nil {
		var apiErr *vonage.APIError
		t.Fatalf("bought a number the account owns: %v (APIError: %v)", err, errors.As(err, &apiErr))
	}
}

// Without the fail-safe nothing is bought: no request leaves.
func TestBuyNumberRequiresTheFallback(t *testing.T) {
	s := newStandIn()
	n := newNumbers(t, s)
	_, err := n.BuyNumber(context.Background(), "+14155550100", provider.BuyOptions{VoiceURL: "https://calls.example.com/vonage"})
	if !errors.Is(err, provider.ErrInvalidConfig) || !strings.Contains(err.Error(), "field FallbackTo") || !strings.Contains(err.Error(), "field FallbackURL") {
		t.Fatalf("err = %v, want ErrInvalidConfig naming FallbackTo and FallbackURL", err)
	}
	if len(s.log) != 0 {
		t.Fatalf("requests sent: %v", s.log)
	}
}

func TestNumbersAPIErrors(t *testing.T) {
	s := newStandIn()
	srv := httptest.NewServer(s)
	defer srv.Close()
	n, _ := vonage.NewNumbers(vonage.NumbersConfig{APIKey: apiKey, APISecret: "wrong", ApplicationID: appID, RESTBase: srv.URL, APIBase: srv.URL})
	_, err := n.ListNumbers(context.Background())
	var apiErr *vonage.APIError
	if !errors.As(err, &apiErr) || apiErr.HTTPStatus != http.StatusUnauthorized || apiErr.Code != "401" || apiErr.Label != "Invalid auth token" {
		t.Fatalf("err = %#v", err)
	}
	if _, err := vonage.NewNumbers(vonage.NumbersConfig{}); err == nil || !strings.Contains(err.Error(), "field APIKey") || !strings.Contains(err.Error(), "field APISecret") || !strings.Contains(err.Error(), "field ApplicationID") {
		t.Fatalf("NewNumbers({}) = %v, want every missing field named", err)
	}
}

func TestFallbackDocument(t *testing.T) {
	doc, err := vonage.FallbackDocument("+12125550123")
	if err != nil {
		t.Fatal(err)
	}
	if want := `[{"action":"connect","timeout":30,"endpoint":[{"type":"phone","number":"12125550123"}]}]`; string(doc) != want {
		t.Fatalf("got %s, want %s", doc, want)
	}
	if to, _, err := vonage.ParseConnect(doc); err != nil || to != "+12125550123" {
		t.Fatalf("the document connects to %q (%v)", to, err)
	}
	if _, err := vonage.FallbackDocument("212-555-0123"); !errors.Is(err, provider.ErrInvalidForward) {
		t.Fatalf("not E.164: %v", err)
	}
}

func (s *vonageStandIn) count(request string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.log {
		if r == request {
			n++
		}
	}
	return n
}

// The webhooks and the fail-safe are the application's: a number cannot
// silently re-point the others linked to it; ConfigureApplication does so
// on purpose, and a number alone on the application may change them.
func TestSharedApplicationIsNotOverwritten(t *testing.T) {
	ctx := context.Background()
	s := newStandIn()
	n := newNumbers(t, s)
	put := "PUT /v2/applications/" + appID
	first := provider.BuyOptions{VoiceURL: "https://calls.example.com/vonage", FallbackTo: "+12125550123", FallbackURL: "https://static.example.com/fallback-12125550123.json"}
	other := first
	other.FallbackTo, other.FallbackURL = "+13125550199", "https://static.example.com/fallback-13125550199.json"

	a, err := n.BuyNumber(ctx, "+14155550100", first)
	if err != nil {
		t.Fatal(err)
	}
	// Same settings: bought and linked, the application not written again.
	b, err := n.BuyNumber(ctx, "+14155550199", first)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.count(put); got != 1 {
		t.Fatalf("%d application writes, want 1 (the second number's settings were the application's already)", got)
	}

	t.Run("refused", func(t *testing.T) {
		err := n.ConfigureNumber(ctx, b.ID, other)
		if !errors.Is(err, vonage.ErrSharedApplication) || !strings.Contains(err.Error(), "field FallbackURL") || !strings.Contains(err.Error(), a.Number) || strings.Contains(err.Error(), "field VoiceURL") {
			t.Fatalf("ConfigureNumber = %v, want ErrSharedApplication naming FallbackURL and %s", err, a.Number)
		}
		if _, err := n.BuyNumber(ctx, "+14155550123", other); !errors.Is(err, vonage.ErrSharedApplication) {
			t.Fatalf("BuyNumber = %v, want ErrSharedApplication", err)
		}
		if addr, _ := s.webhook("fallback_answer_url"); addr != first.FallbackURL || s.count(put) != 1 || s.count("POST /number/buy") != 2 {
			t.Fatalf("fallback %s, %d writes, %d purchases: the refusal changed something", addr, s.count(put), s.count("POST /number/buy"))
		}
	})
	t.Run("on purpose for every number", func(t *testing.T) {
		if err := n.ConfigureApplication(ctx, provider.BuyOptions{VoiceURL: other.VoiceURL, FallbackTo: other.FallbackTo}); !errors.Is(err, provider.ErrInvalidConfig) || !strings.Contains(err.Error(), "field FallbackURL") {
			t.Fatalf("ConfigureApplication without FallbackURL = %v", err)
		}
		if err := n.ConfigureApplication(ctx, other); err != nil {
			t.Fatal(err)
		}
		if addr, m := s.webhook("fallback_answer_url"); addr != other.FallbackURL || m != http.MethodGet {
			t.Fatalf("fallback_answer_url = %s %s", m, addr)
		}
		if err := n.ConfigureNumber(ctx, b.ID, other); err != nil {
			t.Fatalf("ConfigureNumber with the application's settings = %v", err)
		}
	})
	t.Run("alone on the application", func(t *testing.T) {
		if err := n.ReleaseNumber(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		if err := n.ConfigureNumber(ctx, b.ID, first); err != nil {
			t.Fatalf("the only linked number: %v", err)
		}
		if addr, _ := s.webhook("fallback_answer_url"); addr != first.FallbackURL {
			t.Fatalf("fallback_answer_url = %s, want %s", addr, first.FallbackURL)
		}
	})
	if err := n.ConfigureNumber(ctx, "14155550000", first); !errors.Is(err, provider.ErrInvalidConfig) || !strings.Contains(err.Error(), "field id") {
		t.Fatalf("ConfigureNumber of a number not on the account = %v", err)
	}
}
