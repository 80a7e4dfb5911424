package plivo_test

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
	"github.com/attriqs/calltrack/provider/plivo"
)

// fakePlivo stands in for api.plivo.com with the request and answer shapes
// of Plivo's REST reference (and plivo-python's test fixtures): JSON
// bodies, Basic auth, PhoneNumber/ search and buy, Number/ get, update,
// list (20 a page, meta.next) and delete, Application/ create, get,
// update and delete; 404 for what does not exist.
type fakePlivo struct {
	mu      sync.Mutex
	apps    map[string]map[string]any
	numbers map[string]map[string]any // digits -> app_id, alias, added_on
	nextApp int
	calls   []string
}

const authID = "MAXXXXXXXXXXXXXXXXXX"

func newFakePlivo(t *testing.T) (*fakePlivo, *plivo.Numbers) {
	t.Helper()
	f := &fakePlivo{apps: map[string]map[string]any{}, numbers: map[string]map[string]any{}, nextApp: 29986316244302815}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	n, err := plivo.NewNumbers(plivo.NumbersConfig{AuthID: authID, AuthToken: "tok", APIBase: srv.URL, HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return f, n
}

func (f *fakePlivo) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, r.Method+" "+r.URL.Path)
	if id, tok, ok := r.BasicAuth(); !ok || id != authID || tok != "tok" {
		http.Error(w, `{"error":"not authorized"}`, http.StatusUnauthorized)
		return
	}
	prefix := "/v1/Account/" + authID + "/"
	if !strings.HasPrefix(r.URL.Path, prefix) || !strings.HasSuffix(r.URL.Path, "/") {
		http.Error(w, `{"error":"not found"}`, http.StatusNotFound)
		return
	}
	parts := strings.Split(strings.Trim(strings.TrimPrefix(r.URL.Path, prefix), "/"), "/")
	var body map[string]any
	if r.Method == http.MethodPost {
		if r.Header.Get("Content-Type") != "application/json" || json.NewDecoder(r.Body).Decode(&body) != nil {
			http.Error(w, `{"error":"bad request"}`, http.StatusBadRequest)
			return
		}
	}
	if m, ok := body["fallback_method"]; ok && m != "GET" && m != "POST" {
		http.Error(w, `{"error":"fallback_method must be GET or POST"}`, http.StatusBadRequest)
		return
	}
	answer := func(code int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(v)
	}
	notFound := func() { answer(http.StatusNotFound, map[string]any{"error": "not found"}) }
	switch {
	case parts[0] == "PhoneNumber" && len(parts) == 1 && r.Method == http.MethodGet:
		q := r.URL.Query()
		if q.Get("country_iso") == "" || q.Get("services") != "voice" {
			answer(http.StatusBadRequest, map[string]any{"error": "country_iso and services expected"})
			return
		}
		answer(http.StatusOK, map[string]any{"meta": map[string]any{"limit": 20, "next": nil, "offset": 0, "total_count": 1},
			"objects": []map[string]any{{"number": "1" + strings.TrimSuffix(q.Get("pattern"), "*") + "4009186", "city": "SAN FRANCISCO", "region": "United States", "country": "UNITED STATES", "type": "fixed", "voice_enabled": true}}})
	case parts[0] == "PhoneNumber" && len(parts) == 2 && r.Method == http.MethodPost:
		appID, _ := body["app_id"].(string)
		if _, ok := f.apps[appID]; !ok {
			answer(http.StatusBadRequest, map[string]any{"error": "invalid app_id"})
			return
		}
		f.numbers[parts[1]] = map[string]any{"app_id": appID, "added_on": "2026-03-01"}
		answer(http.StatusCreated, map[string]any{"message": "created", "status": "fulfilled", "numbers": []map[string]any{{"number": parts[1], "status": "Success"}}})
	case parts[0] == "Application" && len(parts) == 1 && r.Method == http.MethodPost:
		id := strconv.Itoa(f.nextApp)
		f.nextApp++
		f.apps[id] = body
		answer(http.StatusCreated, map[string]any{"app_id": id, "message": "created"})
	case parts[0] == "Application" && len(parts) == 2:
		app, ok := f.apps[parts[1]]
		if !ok {
			notFound()
			return
		}
		switch r.Method {
		case http.MethodGet:
			answer(http.StatusOK, app)
		case http.MethodPost:
			for k, v := range body {
				app[k] = v
			}
			answer(http.StatusAccepted, map[string]any{"message": "changed"})
		case http.MethodDelete:
			delete(f.apps, parts[1])
			w.WriteHeader(http.StatusNoContent)
		}
	case parts[0] == "Number" && len(parts) == 1 && r.Method == http.MethodGet:
		offset, _ := strconv.Atoi(r.URL.Query().Get("offset"))
		if r.URL.Query().Get("limit") != "20" {
			answer(http.StatusBadRequest, map[string]any{"error": "limit 20 expected"})
			return
		}
		var objs []map[string]any
		for i := 0; i < 25; i++ { // 25 numbers: two pages
			objs = append(objs, map[string]any{"number": fmt.Sprintf("1415555%04d", i), "added_on": "2026-03-01"})
		}
		end := min(offset+20, len(objs))
		var next any
		if end < len(objs) {
			next = fmt.Sprintf("/v1/Account/%s/Number/?limit=20&offset=%d", authID, end)
		}
		answer(http.StatusOK, map[string]any{"meta": map[string]any{"limit": 20, "offset": offset, "next": next, "total_count": len(objs)}, "objects": objs[offset:end]})
	case parts[0] == "Number" && len(parts) == 2:
		num, ok := f.numbers[parts[1]]
		if !ok {
			notFound()
			return
		}
		switch r.Method {
		case http.MethodGet:
			answer(http.StatusOK, map[string]any{"number": parts[1], "added_on": num["added_on"], "alias": num["alias"],
				"application": "/v1/Account/" + authID + "/Application/" + num["app_id"].(string) + "/"})
		case http.MethodPost:
			for k, v := range body {
				num[k] = v
			}
			answer(http.StatusAccepted, map[string]any{"message": "changed"})
		case http.MethodDelete:
			delete(f.numbers, parts[1])
			w.WriteHeader(http.StatusNoContent)
		}
	default:
		notFound()
	}
}

func (f *fakePlivo) appOf(number string) map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	num, ok := f.numbers[number]
	if !ok {
		return nil
	}
	return f.apps[num["app_id"].(string)]
}

var buyOpts = provider.BuyOptions{
	VoiceURL:     "https://calls.example.com/calltrack/plivo",
	FallbackTo:   "+12125550123",
	FallbackURL:  "https://static.example.com/plivo/fallback-12125550123.xml",
	FriendlyName: "Google Ads",
}

func TestBuyNumberSetsWebhooksAndFallback(t *testing.T) {
	f, n := newFakePlivo(t)
	ctx := context.Background()
	found, err := n.SearchNumbers(ctx, provider.NumberQuery{AreaCode: "415", Limit: 50})
	if err != nil || len(found) != 1 || found[0].Number != "+14154009186" {
		t.Fatalf("SearchNumbers = %v, %v", found, err)
	}
	owned, err := n.BuyNumber(ctx, found[0].Number, buyOpts)
	if err != nil {
		t.Fatal(err)
	}
	if owned.ID != "14154009186" || owned.Number != "+14154009186" {
		t.Fatalf("BuyNumber = %+v", owned)
	}
	app := f.appOf("14154009186")
	want := map[string]any{
		"app_name": "calltrack-14154009186", "answer_url": buyOpts.VoiceURL, "answer_method": "POST",
		"hangup_url": buyOpts.VoiceURL, "hangup_method": "POST",
		"fallback_answer_url": buyOpts.FallbackURL, "fallback_method": "GET",
	}
	for k, v := range want {
		if app[k] != v {
			t.Errorf("application %s = %v, want %v", k, app[k], v)
		}
	}
	if got := f.numbers["14154009186"]["alias"]; got != "Google Ads" {
		t.Errorf("alias = %v", got)
	}

	// Configure again: the same Application gets the new URLs, and an
	// Application an earlier release left fetching the fallback by POST is
	// moved to GET.
	f.mu.Lock()
	app["fallback_method"] = "POST"
	f.mu.Unlock()
	next := buyOpts
	next.VoiceURL = "https://new.example.com/plivo"
	next.FallbackURL = "https://static.example.com/plivo/other.xml"
	if err := n.ConfigureNumber(ctx, owned.ID, next); err != nil {
		t.Fatal(err)
	}
	app = f.appOf("14154009186")
	if app["answer_url"] != next.VoiceURL || app["fallback_answer_url"] != next.FallbackURL || app["fallback_method"] != "GET" || len(f.apps) != 1 {
		t.Fatalf("after ConfigureNumber: app %v, %d apps", app, len(f.apps))
	}

	if err := n.ReleaseNumber(ctx, owned.Number); err != nil {
		t.Fatal(err)
	}
	if len(f.numbers) != 0 || len(f.apps) != 0 {
		t.Fatalf("after release: numbers %v apps %v", f.numbers, f.apps)
	}
	// Gone already: nil, so pool clean-up can retry.
	if err := n.ReleaseNumber(ctx, owned.ID); err != nil {
		t.Fatalf("second release = %v, want nil", err)
	}
}

func TestBuyNumberRequiresTheFailSafe(t *testing.T) {
	f, n := newFakePlivo(t)
	cases := []struct {
		name  string
		opts  provider.BuyOptions
		field string
	}{
		{"no fallback URL", provider.BuyOptions{VoiceURL: buyOpts.VoiceURL, FallbackTo: buyOpts.FallbackTo}, "field FallbackURL"},
		{"no fallback number", provider.BuyOptions{VoiceURL: buyOpts.VoiceURL, FallbackURL: buyOpts.FallbackURL}, "field FallbackTo"},
		{"no voice URL", provider.BuyOptions{FallbackTo: buyOpts.FallbackTo, FallbackURL: buyOpts.FallbackURL}, "field VoiceURL"},
		{"no voice URL, named with the rest", provider.BuyOptions{FallbackURL: buyOpts.FallbackURL}, "field VoiceURL"},
		{"the rest, named with no voice URL", provider.BuyOptions{FallbackURL: buyOpts.FallbackURL}, "field FallbackTo"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := n.BuyNumber(context.Background(), "+14154009186", c.opts)
			if !errors.Is(err, provider.ErrInvalidConfig) || !strings.Contains(err.Error(), c.field) {
				t.Fatalf("err = %v, want ErrInvalidConfig naming %s", err, c.field)
			}
		})
	}
	if len(f.calls) != 0 {
		t.Fatalf("invalid options reached the API: %v", f.calls)
	}
}

func TestListNumbersPages(t *testing.T) {
	_, n := newFakePlivo(t)
	got, err := n.ListNumbers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 25 || got[24].Number != "+14155550024" || got[0].ID != "14155550000" || got[0].CreatedAt.IsZero() {
		t.Fatalf("ListNumbers = %d numbers, last %+v", len(got), got[len(got)-1])
	}
}

func TestNewNumbersNamesEveryMissingField(t *testing.T) {
	_, err := plivo.NewNumbers(plivo.NumbersConfig{})
	if !errors.Is(err, provider.ErrInvalidConfig) || !strings.Contains(err.Error(), "field AuthID") || !strings.Contains(err.Error(), "field AuthToken") {
		t.Fatalf("err = %v", err)
	}
}

func TestFallbackDocument(t *testing.T) {
	got, err := plivo.FallbackDocument("+12125550123")
	if err != nil {
		t.Fatal(err)
	}
	want := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<Response><Dial timeout="30"><Number>12125550123</Number></Dial></Response>`
	if string(got) != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	if to, _, err := plivo.ParseDial(got); err != nil || to != "+12125550123" {
		t.Fatalf("ParseDial = %q, %v", to, err)
	}
	if _, err := plivo.FallbackDocument("2125550123"); !errors.Is(err, provider.ErrInvalidForward) {
		t.Fatalf("non-E.164: err = %v", err)
	}
}
