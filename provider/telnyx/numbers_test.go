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

// numbersAPI stands in for Telnyx's number endpoints with the documented
// request and response shapes (api.telnyx.com/v2: available_phone_numbers,
// number_orders, phone_numbers, phone_numbers/{id}/voice).
type numbersAPI struct {
	t        *testing.T
	mu       sync.Mutex
	owned    map[string]string // id -> number
	polls    int               // GETs of a pending order before it succeeds
	patches  map[string]map[string]any
	requests []string
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
	api := &numbersAPI{t: t, owned: map[string]string{"pn-2": "+14155550102", "pn-3": "+14155550103", "pn-4": "+14155550104"}, polls: polls, patches: map[string]map[string]any{}}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	c, err := telnyx.NewNumberClient(telnyx.NumberClientConfig{APIKey: "KEY0123", ConnectionID: "conn-1", BaseURL: srv.URL, OrderPollInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return c, api
}

func TestNumberClientProvisionsWithTheOnFailureForward(t *testing.T) {
	ctx := context.Background()
	c, api := newNumbers(t, 1)

	found, err := c.SearchNumbers(ctx, provider.NumberQuery{AreaCode: "415", Limit: 2})
	if err != nil || len(found) != 1 || found[0] != (provider.AvailableNumber{Number: "+14155550101", Locality: "SAN FRANCISCO", Region: "CA", Country: "US"}) {
		t.Fatalf("SearchNumbers = %+v, %v", found, err)
	}

	owned, err := c.BuyNumber(ctx, "+14155550101", provider.BuyOptions{FallbackTo: "+12125550123", FriendlyName: "Google Ads"})
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
	if err := c.ConfigureNumber(ctx, "pn-2", provider.BuyOptions{FallbackTo: "2125550123"}); !errors.Is(err, provider.ErrInvalidConfig) {
		t.Fatalf("configure with a FallbackTo that is not E.164: %v", err)
	}
	if len(api.requests) != 0 {
		t.Fatalf("a refused request reached Telnyx: %v", api.requests)
	}
	slow, _ := newNumbers(t, 1000)
	if _, err := slow.BuyNumber(ctx, "+14155550101", provider.BuyOptions{FallbackTo: "+12125550123"}); err == nil {
		t.Fatal("an order that stays pending was reported bought")
	}
	_, err := telnyx.NewNumberClient(telnyx.NumberClientConfig{})
	if !errors.Is(err, provider.ErrInvalidConfig) {
		t.Fatalf("empty config: %v", err)
	}
	for _, field := range []string{"APIKey", "ConnectionID"} {
		if !strings.Contains(err.Error(), "field "+field) {
			t.Errorf("error %q does not name field %s", err, field)
		}
	}
}
