package signalwire_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/provider/signalwire"
	"github.com/attriqs/calltrack/provider/twilio"
)

const (
	project  = "446e9986-0848-4d46-a617-48793c5f5e07"
	apiToken = "PTapitoken"
	business = "+12125550123"
)

// fakeSpace stands in for a Space's Compatibility REST API with the
// request and answer shapes of SignalWire's reference: everything under
// /api/laml/2010-04-01/Accounts/{ProjectID}, Basic auth ProjectID:token,
// form-encoded writes, UUID sids, RFC 2822 dates, errors as {code,
// message, more_info, status}.
//
//   - AvailablePhoneNumbers/{country}/Local: available_phone_numbers.
//   - IncomingPhoneNumbers: POST buys, GET lists two a page with a
//     next_page_uri rooted at the host (/api/laml/...).
//   - IncomingPhoneNumbers/{sid}: POST updates, DELETE releases
//     (204), 404 for a sid the project does not have.
//   - LamlBins: GET lists with Name matching substrings, two a page, paged
//     by meta.next_page_url; POST creates (Name required); LamlBins/{sid}
//     POST updates. A bin's request_url is the Space's /laml-bins/{sid}.
type fakeSpace struct {
	mu      sync.Mutex
	srv     *httptest.Server
	numbers map[string]url.Values // sid -> the number's settings as last written
	order   []string              // sids in purchase order
	bins    []map[string]string   // sid, name, contents
	calls   []string              // "METHOD path" of every request
	nextID  int
	// failBins answers every LamlBins request with this status.
	failBins int
	// garbleBins answers every LamlBins request 200 with a body that is
	// not JSON.
	garbleBins bool
	// fullPageURLs makes LamlBins' next_page_url a full URL on the
	// Space's host instead of a path rooted there.
	fullPageURLs bool
}

func newFakeSpace(t *testing.T) (*fakeSpace, *signalwire.NumberClient) {
	t.Helper()
	f := &fakeSpace{numbers: map[string]url.Values{}}
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	c, err := signalwire.NewNumberClient(signalwire.NumberClientConfig{ProjectID: project, APIToken: apiToken, APIBase: f.srv.URL + "/api/laml", HTTPClient: f.srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return f, c
}

func (f *fakeSpace) uuid(kind string) string {
	f.nextID++
	return fmt.Sprintf("b3877c40-da60-4998-90ad-%s%08d", kind, f.nextID)
}

func (f *fakeSpace) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, r.Method+" "+r.URL.Path)
	answer := func(code int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(v)
	}
	apiError := func(code, status int, message string) {
		answer(status, map[string]any{"code": code, "message": message, "more_info": "https://developer.signalwire.com/compatibility-api/reference/error-codes", "status": status})
	}
	if u, p, ok := r.BasicAuth(); !ok || u != project || p != apiToken {
		apiError(20003, http.StatusUnauthorized, "Authentication Failure")
		return
	}
	base := "/api/laml/2010-04-01/Accounts/" + project + "/"
	if !strings.HasPrefix(r.URL.Path, base) {
		apiError(20404, http.StatusNotFound, "The requested resource was not found")
		return
	}
	if r.Method == http.MethodPost && (r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" || r.ParseForm() != nil) {
		apiError(20001, http.StatusBadRequest, "form-encoded body expected")
		return
	}
	// The reference writes paths with and without ".json"; both are served.
	parts := strings.Split(strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, base), ".json"), "/")
	switch {
	case parts[0] == "AvailablePhoneNumbers" && len(parts) == 3 && parts[2] == "Local" && r.Method == http.MethodGet:
		q := r.URL.Query()
		if q.Get("VoiceEnabled") != "true" {
			apiError(20001, http.StatusBadRequest, "VoiceEnabled expected")
			return
		}
		number := "+1" + q.Get("AreaCode") + "9251571"
		answer(http.StatusOK, map[string]any{
			"uri": r.URL.RequestURI(), "first_page_uri": r.URL.RequestURI(), "next_page_uri": nil, "previous_page_uri": nil, "page": 0, "page_size": 50,
			"available_phone_numbers": []map[string]any{{
				"friendly_name": "(808) 925-1571", "phone_number": number, "lata": "834", "rate_center": "HILO",
				"latitude": "19.720000", "longitude": "-155.090000", "region": "HI", "postal_code": "96720", "iso_country": parts[1],
				"capabilities": map[string]bool{"voice": true, "SMS": true, "MMS": true}, "beta": false,
			}},
		})
	case parts[0] == "IncomingPhoneNumbers" && len(parts) == 1 && r.Method == http.MethodPost:
		sid := f.uuid("pn")
		f.numbers[sid] = r.PostForm
		f.order = append(f.order, sid)
		answer(http.StatusCreated, f.incoming(sid))
	case parts[0] == "IncomingPhoneNumbers" && len(parts) == 1 && r.Method == http.MethodGet:
		page := 0
		fmt.Sscan(r.URL.Query().Get("Page"), &page)
		end := min(2*page+2, len(f.order))
		var list []map[string]any
		for _, sid := range f.order[min(2*page, end):end] {
			list = append(list, f.incoming(sid))
		}
		var next any
		if end < len(f.order) {
			next = fmt.Sprintf("%sIncomingPhoneNumbers?Page=%d&PageSize=2&PageToken=PA%s", base, page+1, f.order[end-1])
		}
		answer(http.StatusOK, map[string]any{"incoming_phone_numbers": list, "next_page_uri": next, "page": page, "page_size": 2,
			"uri": r.URL.RequestURI()})
	case parts[0] == "IncomingPhoneNumbers" && len(parts) == 2:
		sid := parts[1]
		if _, ok := f.numbers[sid]; !ok {
			apiError(20404, http.StatusNotFound, "The requested resource /IncomingPhoneNumbers/"+sid+" was not found")
			return
		}
		switch r.Method {
		case http.MethodPost:
			for k, v := range r.PostForm {
				f.numbers[sid][k] = v
			}
			answer(http.StatusOK, f.incoming(sid))
		case http.MethodDelete:
			delete(f.numbers, sid)
			f.order = slices.DeleteFunc(f.order, func(s string) bool { return s == sid })
			w.WriteHeader(http.StatusNoContent)
		}
	case parts[0] == "LamlBins" && f.failBins != 0:
		apiError(20403, f.failBins, "Forbidden: the token lacks the Voice scope")
	case parts[0] == "LamlBins" && f.garbleBins:
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html>maintenance</html>"))
	case parts[0] == "LamlBins" && len(parts) == 1 && r.Method == http.MethodGet:
		var match []map[string]any
		for _, b := range f.bins {
			if strings.Contains(b["name"], r.URL.Query().Get("Name")) {
				match = append(match, f.bin(b))
			}
		}
		page := 0
		fmt.Sscan(r.URL.Query().Get("Page"), &page)
		end := min(2*page+2, len(match))
		meta := map[string]any{"key": "laml_bins", "page": page, "page_size": 2, "url": r.URL.RequestURI(), "next_page_url": nil}
		if end < len(match) {
			next := fmt.Sprintf("%sLamlBins?Name=%s&Page=%d&PageSize=2", base, url.QueryEscape(r.URL.Query().Get("Name")), page+1)
			if f.fullPageURLs {
				next = f.srv.URL + next
			}
			meta["next_page_url"] = next
		}
		answer(http.StatusOK, map[string]any{"meta": meta, "laml_bins": match[min(2*page, end):end]})
	case parts[0] == "LamlBins" && len(parts) == 1 && r.Method == http.MethodPost:
		if r.PostForm.Get("Name") == "" {
			apiError(20001, http.StatusUnprocessableEntity, "Name must be present")
			return
		}
		b := map[string]string{"sid": f.uuid("lb"), "name": r.PostForm.Get("Name"), "contents": r.PostForm.Get("Contents")}
		f.bins = append(f.bins, b)
		answer(http.StatusCreated, f.bin(b))
	case parts[0] == "LamlBins" && len(parts) == 2 && r.Method == http.MethodPost:
		for _, b := range f.bins {
			if b["sid"] == parts[1] {
				if v, ok := r.PostForm["Contents"]; ok {
					b["contents"] = v[0]
				}
				if v, ok := r.PostForm["Name"]; ok {
					b["name"] = v[0]
				}
				answer(http.StatusOK, f.bin(b))
				return
			}
		}
		apiError(20404, http.StatusNotFound, "The requested resource was not found")
	default:
		apiError(20404, http.StatusNotFound, "The requested resource was not found")
	}
}

func (f *fakeSpace) incoming(sid string) map[string]any {
	v := f.numbers[sid]
	return map[string]any{
		"account_sid": project, "api_version": "2010-04-01", "sid": sid, "phone_number": v.Get("PhoneNumber"),
		"date_created": "Tue, 25 Sep 2018 23:00:00 +0000", "date_updated": "Wed, 26 Sep 2018 22:00:00 +0000",
		"friendly_name": v.Get("FriendlyName"), "capabilities": map[string]bool{"voice": true, "sms": false, "mms": true},
		"voice_url": v.Get("VoiceUrl"), "voice_method": v.Get("VoiceMethod"),
		"voice_fallback_url": v.Get("VoiceFallbackUrl"), "voice_fallback_method": v.Get("VoiceFallbackMethod"),
		"status_callback": v.Get("StatusCallback"), "status_callback_method": v.Get("StatusCallbackMethod"),
		"uri": "/api/laml/2010-04-01/Accounts/" + project + "/IncomingPhoneNumbers/" + sid + ".json",
	}
}

func (f *fakeSpace) bin(b map[string]string) map[string]any {
	return map[string]any{
		"sid": b["sid"], "account_sid": project, "name": b["name"], "contents": b["contents"],
		"date_created": "2019-11-26T20:00:00Z", "date_updated": "2020-05-05T20:00:00Z", "num_requests": 0, "api_version": "2010-04-01",
		"request_url": f.srv.URL + "/laml-bins/" + b["sid"],
		"uri":         "/api/laml/2010-04-01/Accounts/" + project + "/LamlBins/" + b["sid"],
	}
}

// number returns the settings of the number with phone number e164.
func (f *fakeSpace) number(t *testing.T, e164 string) url.Values {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, v := range f.numbers {
		if v.Get("PhoneNumber") == e164 {
			return v
		}
	}
	t.Fatalf("%s not on the project", e164)
	return nil
}

func (f *fakeSpace) binsNamed(prefix string) []map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []map[string]string
	for _, b := range f.bins {
		if strings.HasPrefix(b["name"], prefix) {
			out = append(out, b)
		}
	}
	return out
}

func (f *fakeSpace) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

var opts = provider.BuyOptions{VoiceURL: hookURL, StatusCallbackURL: hookURL + "/status", FallbackTo: business, FriendlyName: "Google Ads"}

// Search, buy, list and release against the /api/laml base.
func TestNumberClientLifecycle(t *testing.T) {
	f, c := newFakeSpace(t)
	ctx := context.Background()
	found, err := c.SearchNumbers(ctx, provider.NumberQuery{AreaCode: "808", Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if want := []provider.AvailableNumber{{Number: "+18089251571", Locality: "", Region: "HI", Country: "US"}}; !slices.Equal(found, want) {
		t.Fatalf("SearchNumbers = %+v, want %+v", found, want)
	}
	if got := f.requests()[0]; got != "GET /api/laml/2010-04-01/Accounts/"+project+"/AvailablePhoneNumbers/US/Local.json" {
		t.Fatalf("search request = %q", got)
	}
	var owned []provider.OwnedNumber
	for _, n := range []string{"+18089251571", "+18089251572", "+18089251573"} {
		o, err := c.BuyNumber(ctx, n, opts)
		if err != nil {
			t.Fatal(err)
		}
		if o.Number != n || !strings.HasPrefix(o.ID, "b3877c40-") || !o.CreatedAt.Equal(time.Date(2018, 9, 25, 23, 0, 0, 0, time.UTC)) {
			t.Fatalf("BuyNumber = %+v", o)
		}
		owned = append(owned, o)
	}
	got := f.number(t, "+18089251571")
	for k, want := range map[string]string{"VoiceUrl": hookURL, "VoiceMethod": "POST", "StatusCallback": hookURL + "/status", "StatusCallbackMethod": "POST", "FriendlyName": "Google Ads", "VoiceFallbackMethod": "GET"} {
		if got.Get(k) != want {
			t.Errorf("%s = %q, want %q", k, got.Get(k), want)
		}
	}

	list, err := c.ListNumbers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 || list[0].ID != owned[0].ID || list[2] != owned[2] {
		t.Fatalf("ListNumbers = %+v, want %+v (two pages)", list, owned)
	}

	if err := c.ReleaseNumber(ctx, owned[1].ID); err != nil {
		t.Fatal(err)
	}
	if err := c.ReleaseNumber(ctx, owned[1].ID); err != nil {
		t.Fatalf("releasing a number already gone = %v, want nil", err)
	}
	list, err = c.ListNumbers(ctx)
	if err != nil || len(list) != 2 || list[1].ID != owned[2].ID {
		t.Fatalf("after release: ListNumbers = %+v, %v", list, err)
	}
	if bins := f.binsNamed(signalwire.BinPrefix); len(bins) != 1 {
		t.Fatalf("after release: %d fallback bins, want the shared one kept", len(bins))
	}
	if err := c.ReleaseNumber(ctx, ""); !errors.Is(err, provider.ErrInvalidConfig) {
		t.Fatalf("release without an id: err = %v", err)
	}
}

// Without FallbackURL the fail-safe is a LaML Bin on the project, one per
// business line, holding FallbackDocument: nothing of Twilio's.
func TestFailSafeIsALaMLBin(t *testing.T) {
	f, c := newFakeSpace(t)
	ctx := context.Background()
	want, err := signalwire.FallbackDocument(business)
	if err != nil {
		t.Fatal(err)
	}
	if to, _, err := twilio.ParseDial(want); err != nil || to != business {
		t.Fatalf("FallbackDocument dials %q, %v", to, err)
	}
	a, err := c.BuyNumber(ctx, "+18089251571", opts)
	if err != nil {
		t.Fatal(err)
	}
	bins := f.binsNamed(signalwire.BinPrefix)
	if len(bins) != 1 || bins[0]["name"] != "calltrack-fallback-12125550123" || bins[0]["contents"] != string(want) {
		t.Fatalf("bins = %v", bins)
	}
	binURL := f.srv.URL + "/laml-bins/" + bins[0]["sid"]
	if got := f.number(t, "+18089251571"); got.Get("VoiceFallbackUrl") != binURL || got.Get("VoiceFallbackMethod") != "GET" {
		t.Fatalf("fail-safe = %q %q, want the bin %q by GET", got.Get("VoiceFallbackUrl"), got.Get("VoiceFallbackMethod"), binURL)
	}

	// A second number to the same line shares the bin and writes none.
	before := len(f.requests())
	if _, err := c.BuyNumber(ctx, "+18089251572", opts); err != nil {
		t.Fatal(err)
	}
	for _, r := range f.requests()[before:] {
		if strings.HasPrefix(r, "POST ") && strings.Contains(r, "/LamlBins") {
			t.Fatalf("an up-to-date bin was written: %q", r)
		}
	}
	if got := f.number(t, "+18089251572").Get("VoiceFallbackUrl"); got != binURL {
		t.Fatalf("second number's fail-safe = %q, want %q", got, binURL)
	}

	// Another business line gets a bin of its own; configuring a number
	// moves it there.
	other := opts
	other.FallbackTo = "+12125550199"
	if err := c.ConfigureNumber(ctx, a.ID, other); err != nil {
		t.Fatal(err)
	}
	bins = f.binsNamed(signalwire.BinPrefix)
	if len(bins) != 2 || bins[1]["name"] != "calltrack-fallback-12125550199" {
		t.Fatalf("bins = %v", bins)
	}
	if got := f.number(t, "+18089251571").Get("VoiceFallbackUrl"); got != f.srv.URL+"/laml-bins/"+bins[1]["sid"] {
		t.Fatalf("configured fail-safe = %q", got)
	}

	for _, r := range f.requests() {
		if strings.Contains(r, "twimlets") {
			t.Fatalf("a Twilio service was named: %q", r)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for sid, v := range f.numbers {
		if u := v.Get("VoiceFallbackUrl"); !strings.HasPrefix(u, f.srv.URL+"/laml-bins/") || strings.HasPrefix(u, twilio.TwimletForward) {
			t.Errorf("number %s falls back to %q", sid, u)
		}
	}
}

// A bin of that name found on a later page, next to bins whose names
// merely contain it, is updated when its contents went stale.
func TestFailSafeBinIsFoundAndRepaired(t *testing.T) {
	f, c := newFakeSpace(t)
	f.bins = []map[string]string{
		{"sid": "b3877c40-da60-4998-90ad-lb0000000091", "name": "calltrack-fallback-12125550123-old", "contents": "<Response/>"},
		{"sid": "b3877c40-da60-4998-90ad-lb0000000092", "name": "copy of calltrack-fallback-12125550123", "contents": "<Response/>"},
		{"sid": "b3877c40-da60-4998-90ad-lb0000000093", "name": "calltrack-fallback-12125550123", "contents": "<Response><Hangup/></Response>"},
	}
	o, err := c.BuyNumber(context.Background(), "+18089251571", opts)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := signalwire.FallbackDocument(business)
	if f.bins[2]["contents"] != string(want) || len(f.bins) != 3 || f.bins[0]["contents"] != "<Response/>" {
		t.Fatalf("bins = %v", f.bins)
	}
	if got := f.number(t, o.Number).Get("VoiceFallbackUrl"); got != f.srv.URL+"/laml-bins/b3877c40-da60-4998-90ad-lb0000000093" {
		t.Fatalf("fail-safe = %q", got)
	}
}

// A next_page_url that is a full URL on the Space's host is followed as
// one rooted there is.
func TestFailSafeBinIsFoundOnAPageNamedByAFullURL(t *testing.T) {
	f, c := newFakeSpace(t)
	f.fullPageURLs = true
	want, _ := signalwire.FallbackDocument(business)
	f.bins = []map[string]string{
		{"sid": "b3877c40-da60-4998-90ad-lb0000000091", "name": "calltrack-fallback-12125550123-old", "contents": "<Response/>"},
		{"sid": "b3877c40-da60-4998-90ad-lb0000000092", "name": "copy of calltrack-fallback-12125550123", "contents": "<Response/>"},
		{"sid": "b3877c40-da60-4998-90ad-lb0000000093", "name": "calltrack-fallback-12125550123", "contents": string(want)},
	}
	o, err := c.BuyNumber(context.Background(), "+18089251571", opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.bins) != 3 {
		t.Fatalf("bins = %v, want the one on the second page found", f.bins)
	}
	if got := f.number(t, o.Number).Get("VoiceFallbackUrl"); got != f.srv.URL+"/laml-bins/b3877c40-da60-4998-90ad-lb0000000093" {
		t.Fatalf("fail-safe = %q", got)
	}
	var pages int
	for _, r := range f.requests() {
		if r == "GET /api/laml/2010-04-01/Accounts/"+project+"/LamlBins" {
			pages++
		}
	}
	if pages != 2 {
		t.Fatalf("LamlBins read %d times, want 2 pages: %v", pages, f.requests())
	}
}

// A hosted document given as FallbackURL is used as it is: no bin.
func TestFailSafeGivenURL(t *testing.T) {
	f, c := newFakeSpace(t)
	given := opts
	given.FallbackURL = "https://static.example.com/fallback.xml"
	if _, err := c.BuyNumber(context.Background(), "+18089251571", given); err != nil {
		t.Fatal(err)
	}
	if got := f.number(t, "+18089251571"); got.Get("VoiceFallbackUrl") != given.FallbackURL || got.Get("VoiceFallbackMethod") != "GET" {
		t.Fatalf("fail-safe = %q %q", got.Get("VoiceFallbackUrl"), got.Get("VoiceFallbackMethod"))
	}
	for _, r := range f.requests() {
		if strings.Contains(r, "/LamlBins") {
			t.Fatalf("a bin was touched: %q", r)
		}
	}
}

func TestFailSafeRefusals(t *testing.T) {
	t.Run("unusable options name their fields before any request", func(t *testing.T) {
		f, c := newFakeSpace(t)
		bad := []provider.BuyOptions{
			{VoiceURL: hookURL},
			{VoiceURL: hookURL, FallbackTo: "2125550123"},
			{VoiceURL: hookURL, FallbackTo: business, FallbackURL: "not a url"},
		}
		fields := []string{"field FallbackTo", "field FallbackTo", "field FallbackURL"}
		for i, o := range bad {
			_, err := c.BuyNumber(context.Background(), "+18089251571", o)
			if !errors.Is(err, provider.ErrInvalidConfig) || !strings.Contains(err.Error(), fields[i]) {
				t.Errorf("BuyNumber(%+v) = %v, want ErrInvalidConfig naming %s", o, err, fields[i])
			}
			if err := c.ConfigureNumber(context.Background(), "b3877c40-da60-4998-90ad-pn00000001", o); !errors.Is(err, provider.ErrInvalidConfig) || !strings.Contains(err.Error(), fields[i]) {
				t.Errorf("ConfigureNumber(%+v) = %v, want ErrInvalidConfig naming %s", o, err, fields[i])
			}
		}
		if err := c.ConfigureNumber(context.Background(), "", opts); !errors.Is(err, provider.ErrInvalidConfig) || !strings.Contains(err.Error(), "field id") {
			t.Errorf("ConfigureNumber without an id = %v", err)
		}
		if r := f.requests(); len(r) != 0 {
			t.Fatalf("requests sent: %v", r)
		}
	})
	t.Run("an answer that does not decode is unexpected", func(t *testing.T) {
		f, c := newFakeSpace(t)
		f.garbleBins = true
		_, err := c.BuyNumber(context.Background(), "+18089251571", opts)
		if !errors.Is(err, signalwire.ErrUnexpectedAnswer) || !strings.Contains(err.Error(), "LaML Bin") {
			t.Fatalf("err = %v, want ErrUnexpectedAnswer for the bin", err)
		}
		for _, r := range f.requests() {
			if strings.Contains(r, "IncomingPhoneNumbers") {
				t.Fatalf("bought without a fail-safe: %q", r)
			}
		}
	})
	t.Run("no bin, no number", func(t *testing.T) {
		f, c := newFakeSpace(t)
		f.failBins = http.StatusForbidden
		_, err := c.BuyNumber(context.Background(), "+18089251571", opts)
		var apiErr *twilio.APIError
		if !errors.As(err, &apiErr) || apiErr.HTTPStatus != http.StatusForbidden || !strings.Contains(err.Error(), "LaML Bin") {
			t.Fatalf("err = %v, want the bin's API error", err)
		}
		for _, r := range f.requests() {
			if strings.Contains(r, "IncomingPhoneNumbers") {
				t.Fatalf("bought without a fail-safe: %q", r)
			}
		}
	})
}

func TestNewNumberClientRefusesABadAPIBase(t *testing.T) {
	_, err := signalwire.NewNumberClient(signalwire.NumberClientConfig{ProjectID: project, APIToken: apiToken, APIBase: "example.signalwire.com/api/laml"})
	if !errors.Is(err, provider.ErrInvalidConfig) || !strings.Contains(err.Error(), "field APIBase") {
		t.Fatalf("err = %v", err)
	}
}
