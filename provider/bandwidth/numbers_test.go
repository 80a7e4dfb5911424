package bandwidth_test

import (
	"context"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/provider/bandwidth"
)

// dashboard is a stand-in for the Numbers API that follows the request
// and answer shapes of its reference (dev.bandwidth.com/apis/numbers):
// XML bodies, HTTP Basic, orders that stay RECEIVED for pollsBeforeDone
// reads before they complete.
type dashboard struct {
	t               *testing.T
	mu              sync.Mutex
	inService       map[string]bool
	app             string // the last application PATCH body
	orders          map[string]int
	pollsBeforeDone int
	failOrders      bool
	disconnects     []string
	requests        []string
}

func newDashboard(t *testing.T) (*dashboard, *bandwidth.Numbers) {
	d := &dashboard{t: t, inService: map[string]bool{"9195550100": true}, orders: map[string]int{}, pollsBeforeDone: 2}
	srv := httptest.NewServer(d)
	t.Cleanup(srv.Close)
	n, err := bandwidth.NewNumbers(bandwidth.NumbersConfig{
		AccountID: "9900000", Username: "api-user", Password: "api-pass", SiteID: "461", PeerID: "303716",
		ApplicationID: "04e88489-df02-4e34-a0ee-27a91849555f", CallbackUsername: "calltrack", CallbackPassword: "callback-password",
		APIBase: srv.URL + "/api", OrderPollInterval: time.Nanosecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	return d, n
}

func (d *dashboard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.requests = append(d.requests, r.Method+" "+r.URL.Path)
	if u, p, ok := r.BasicAuth(); !ok || u != "api-user" || p != "api-pass" {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	body, _ := io.ReadAll(r.Body)
	if len(body) > 0 {
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/xml") {
			d.t.Errorf("%s %s sent Content-Type %q", r.Method, r.URL.Path, ct)
		}
		if err := xml.Unmarshal(body, new(struct{})); err != nil {
			d.t.Errorf("%s %s sent malformed XML: %v", r.Method, r.URL.Path, err)
		}
	}
	const acct = "/api/accounts/9900000/"
	path, ok := strings.CutPrefix(r.URL.Path, acct)
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	switch {
	case r.Method == http.MethodGet && path == "availableNumbers":
		q := r.URL.Query()
		if q.Get("areaCode") == "" && q.Get("localVanity") == "" || q.Get("areaCode") == "000" {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `<SearchResult><Error><Code>4010</Code><Description>One of more required search parameters are null or empty, please refer to the api documentation</Description></Error></SearchResult>`)
			return
		}
		io.WriteString(w, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><SearchResult><ResultCount>2</ResultCount><TelephoneNumberDetailList>`+
			`<TelephoneNumberDetail><City>CARY</City><LATA>426</LATA><RateCenter>CARY</RateCenter><State>NC</State><FullNumber>9192286710</FullNumber><Tier>0</Tier><VendorId>49</VendorId><VendorName>Bandwidth CLEC</VendorName></TelephoneNumberDetail>`+
			`<TelephoneNumberDetail><City>RALEIGH</City><LATA>426</LATA><RateCenter>RALEIGH</RateCenter><State>NC</State><FullNumber>9192286700</FullNumber></TelephoneNumberDetail>`+
			`</TelephoneNumberDetailList></SearchResult>`)
	case r.Method == http.MethodPatch && path == "applications/04e88489-df02-4e34-a0ee-27a91849555f":
		d.app = string(body)
		io.WriteString(w, `<ApplicationProvisioningResponse><Application><ApplicationId>04e88489-df02-4e34-a0ee-27a91849555f</ApplicationId><ServiceType>Voice-V2</ServiceType></Application></ApplicationProvisioningResponse>`)
	case r.Method == http.MethodPost && path == "orders":
		var o struct {
			SiteID  string   `xml:"SiteId"`
			PeerID  string   `xml:"PeerId"`
			Numbers []string `xml:"ExistingTelephoneNumberOrderType>TelephoneNumberList>TelephoneNumber"`
		}
		_ = xml.Unmarshal(body, &o)
		if o.SiteID != "461" || o.PeerID != "303716" || len(o.Numbers) != 1 {
			d.t.Errorf("order %s: want SiteId 461, PeerId 303716 and one number", body)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		id := "47955555-67aa-4adb-8c0f-b6894e60c0dc"
		d.orders[id] = 0
		if !d.failOrders {
			d.inService[o.Numbers[0]] = true
		}
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><OrderResponse><Order><OrderCreateDate>2018-01-23T19:56:29.678Z</OrderCreateDate>`+
			`<BackOrderRequested>false</BackOrderRequested><id>`+id+`</id><ExistingTelephoneNumberOrderType><TelephoneNumberList><TelephoneNumber>`+o.Numbers[0]+
			`</TelephoneNumber></TelephoneNumberList></ExistingTelephoneNumberOrderType><PartialAllowed>false</PartialAllowed><SiteId>461</SiteId></Order><OrderStatus>RECEIVED</OrderStatus></OrderResponse>`)
	case r.Method == http.MethodGet && strings.HasPrefix(path, "orders/"):
		id := strings.TrimPrefix(path, "orders/")
		polls, ok := d.orders[id]
		if !ok {
			http.NotFound(w, r)
			return
		}
		d.orders[id] = polls + 1
		status := "PROCESSING"
		switch {
		case polls+1 >= d.pollsBeforeDone && d.failOrders:
			status = "FAILED"
		case polls+1 >= d.pollsBeforeDone:
			status = "COMPLETE"
		}
		io.WriteString(w, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><OrderResponse><CompletedQuantity>1</CompletedQuantity><CreatedByUser>api-user</CreatedByUser>`+
			`<OrderCompleteDate>2026-03-01T12:00:09.041Z</OrderCompleteDate><Order><SiteId>461</SiteId><PeerId>303716</PeerId></Order><OrderStatus>`+status+`</OrderStatus>`+
			`<CompletedNumbers><TelephoneNumber><FullNumber>9192286710</FullNumber></TelephoneNumber></CompletedNumbers>`+
			`<ErrorList><Error><Code>5005</Code><Description>The telephone number is unavailable for ordering</Description></Error></ErrorList></OrderResponse>`)
	case r.Method == http.MethodGet && path == "inserviceNumbers":
		if r.URL.Query().Get("page") == "1" {
			io.WriteString(w, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><TNs><TotalCount>2</TotalCount><Links><first>Link=&lt;https://dashboard.bandwidth.com/api/accounts/9900000/inserviceNumbers?page=1&amp;size=1&gt;;rel="first";</first>`+
				`<next>Link=&lt;https://dashboard.bandwidth.com/api/accounts/9900000/inserviceNumbers?page=9195550101&amp;size=1&gt;;rel="next";</next></Links>`+
				`<TelephoneNumbers><Count>1</Count><TelephoneNumber>9195550100</TelephoneNumber></TelephoneNumbers></TNs>`)
			return
		}
		if r.URL.Query().Get("page") != "9195550101" {
			d.t.Errorf("inserviceNumbers page %q, want the next link's", r.URL.Query().Get("page"))
		}
		io.WriteString(w, `<TNs><TotalCount>2</TotalCount><Links><first>x</first></Links><TelephoneNumbers><Count>1</Count><TelephoneNumber>9195550101</TelephoneNumber></TelephoneNumbers></TNs>`)
	case r.Method == http.MethodGet && strings.HasPrefix(path, "inserviceNumbers/"):
		if !d.inService[strings.TrimPrefix(path, "inserviceNumbers/")] {
			w.WriteHeader(http.StatusNotFound)
		}
	case r.Method == http.MethodPost && path == "disconnects":
		var o struct {
			Numbers []string `xml:"DisconnectTelephoneNumberOrderType>TelephoneNumberList>TelephoneNumber"`
		}
		_ = xml.Unmarshal(body, &o)
		for _, tn := range o.Numbers {
			delete(d.inService, tn)
			d.disconnects = append(d.disconnects, tn)
		}
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `<DisconnectTelephoneNumberOrderResponse><orderRequest><id>ba05e04b-192a-47cb-b182-b1bf6cfef0d7</id></orderRequest><OrderStatus>RECEIVED</OrderStatus></DisconnectTelephoneNumberOrderResponse>`)
	default:
		http.NotFound(w, r)
	}
}

var buyOpts = provider.BuyOptions{
	VoiceURL:     "https://calls.example.com/calltrack/bandwidth",
	FriendlyName: "Google Ads",
	FallbackTo:   "+12125550123",
	FallbackURL:  "https://static.example.com/bandwidth-fallback.xml",
}

func TestNumbersSearch(t *testing.T) {
	_, n := newDashboard(t)
	got, err := n.SearchNumbers(context.Background(), provider.NumberQuery{AreaCode: "919", Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != (provider.AvailableNumber{Number: "+19192286710", Locality: "CARY", Region: "NC", Country: "US"}) {
		t.Fatalf("SearchNumbers = %+v", got)
	}
	_, err = n.SearchNumbers(context.Background(), provider.NumberQuery{Country: "GB"})
	if !errors.Is(err, provider.ErrInvalidConfig) || !strings.Contains(err.Error(), "field Country") || !strings.Contains(err.Error(), "field AreaCode, Contains") {
		t.Fatalf("a British search without criteria: %v", err)
	}
}

func TestNumbersBuySetsTheFallbackAndWaitsForTheOrder(t *testing.T) {
	d, n := newDashboard(t)
	got, err := n.BuyNumber(context.Background(), "+19192286710", buyOpts)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != "+19192286710" || got.Number != "+19192286710" || !got.CreatedAt.Equal(time.Date(2026, 3, 1, 12, 0, 9, 41e6, time.UTC)) {
		t.Fatalf("BuyNumber = %+v", got)
	}
	for _, want := range []string{
		"<CallInitiatedCallbackUrl>https://calls.example.com/calltrack/bandwidth</CallInitiatedCallbackUrl>",
		"<CallInitiatedMethod>POST</CallInitiatedMethod>",
		// No status URL given: disconnects go to the handler too.
		"<CallStatusCallbackUrl>https://calls.example.com/calltrack/bandwidth</CallStatusCallbackUrl>",
		"<CallbackCreds><UserId>calltrack</UserId><Password>callback-password</Password></CallbackCreds>",
		"<CallInitiatedFallbackUrl>https://static.example.com/bandwidth-fallback.xml</CallInitiatedFallbackUrl>",
		"<CallInitiatedFallbackMethod>GET</CallInitiatedFallbackMethod>",
	} {
		if !strings.Contains(d.app, want) {
			t.Errorf("the application was set to\n%s\nwithout %s", d.app, want)
		}
	}
	if polls := d.orders["47955555-67aa-4adb-8c0f-b6894e60c0dc"]; polls != 2 {
		t.Fatalf("the order was read %d times, want until COMPLETE (2)", polls)
	}
}

func TestNumbersBuyRefusesWithoutAFallback(t *testing.T) {
	d, n := newDashboard(t)
	opts := buyOpts
	opts.FallbackURL, opts.FallbackTo, opts.VoiceURL = "", "", ""
	_, err := n.BuyNumber(context.Background(), "+19192286710", opts)
	for _, field := range []string{"FallbackURL", "FallbackTo", "VoiceURL"} {
		if !errors.Is(err, provider.ErrInvalidConfig) || !strings.Contains(err.Error(), "field "+field+":") {
			t.Fatalf("BuyNumber without a fallback or VoiceURL: %v, want ErrInvalidConfig naming %s", err, field)
		}
	}
	if len(d.requests) != 0 {
		t.Fatalf("a refused purchase reached the API: %v", d.requests)
	}
}

func TestNumbersBuyReportsAFailedOrder(t *testing.T) {
	d, n := newDashboard(t)
	d.failOrders = true
	_, err := n.BuyNumber(context.Background(), "+19192286710", buyOpts)
	if err == nil || !strings.Contains(err.Error(), "FAILED") || !strings.Contains(err.Error(), "5005") {
		t.Fatalf("BuyNumber of a failed order: %v", err)
	}
}

func TestNumbersBuyStopsWaitingWithTheContext(t *testing.T) {
	d, n := newDashboard(t)
	d.pollsBeforeDone = 1 << 30
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := n.BuyNumber(ctx, "+19192286710", buyOpts)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("BuyNumber with a cancelled context: %v", err)
	}
}

func TestNumbersConfigureListRelease(t *testing.T) {
	d, n := newDashboard(t)
	ctx := context.Background()
	opts := buyOpts
	opts.StatusCallbackURL = "https://calls.example.com/calltrack/bandwidth/status"
	opts.FallbackURL = "https://static.example.com/v2.xml"
	if err := n.ConfigureNumber(ctx, "+19195550100", opts); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(d.app, "<CallInitiatedFallbackUrl>https://static.example.com/v2.xml</CallInitiatedFallbackUrl>") ||
		!strings.Contains(d.app, "<CallStatusCallbackUrl>https://calls.example.com/calltrack/bandwidth/status</CallStatusCallbackUrl>") {
		t.Fatalf("ConfigureNumber set the application to %s", d.app)
	}
	if err := n.ConfigureNumber(ctx, "+19195550199", opts); err == nil || !strings.Contains(err.Error(), "argument id") {
		t.Fatalf("configuring a number the account does not own: %v", err)
	}
	list, err := n.ListNumbers(ctx)
	if err != nil || len(list) != 2 || list[0].Number != "+19195550100" || list[1].ID != "+19195550101" {
		t.Fatalf("ListNumbers = %+v, %v", list, err)
	}
	if err := n.ReleaseNumber(ctx, "+19195550100"); err != nil {
		t.Fatal(err)
	}
	// Released again, or never owned: already gone, nil.
	if err := n.ReleaseNumber(ctx, "+19195550100"); err != nil {
		t.Fatalf("releasing a released number: %v", err)
	}
	if len(d.disconnects) != 1 || d.disconnects[0] != "9195550100" {
		t.Fatalf("disconnect orders for %v, want one for 9195550100", d.disconnects)
	}
}

func TestNumbersAPIErrorsNameTheCode(t *testing.T) {
	_, n := newDashboard(t)
	// The stand-in answers area code 000 as the API answers a search it
	// cannot run: 400 with SearchResult/Error.
	_, err := n.SearchNumbers(context.Background(), provider.NumberQuery{AreaCode: "000"})
	var apiErr *bandwidth.APIError
	if !errors.As(err, &apiErr) || apiErr.HTTPStatus != http.StatusBadRequest || apiErr.Code != "4010" || !strings.Contains(apiErr.Description, "search parameters") {
		t.Fatalf("SearchNumbers refused by the API: %v", err)
	}
}

func TestNewNumbersNamesEveryMissingField(t *testing.T) {
	_, err := bandwidth.NewNumbers(bandwidth.NumbersConfig{CallbackUsername: "x"})
	for _, f := range []string{"AccountID", "Username", "Password", "SiteID", "PeerID", "ApplicationID", "CallbackUsername, CallbackPassword"} {
		if err == nil || !strings.Contains(err.Error(), "field "+f) {
			t.Errorf("NewNumbers({}) = %v, want it to name %s", err, f)
		}
	}
}

func TestFallbackDocument(t *testing.T) {
	doc, err := bandwidth.FallbackDocument("+12125550123")
	if err != nil {
		t.Fatal(err)
	}
	want := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<Response><Transfer><PhoneNumber>+12125550123</PhoneNumber></Transfer></Response>`
	if string(doc) != want {
		t.Fatalf("FallbackDocument =\n%s\nwant\n%s", doc, want)
	}
	if _, err := bandwidth.FallbackDocument("212-555-0123"); !errors.Is(err, provider.ErrInvalidForward) {
		t.Fatalf("FallbackDocument of a number not in E.164: %v", err)
	}
}
