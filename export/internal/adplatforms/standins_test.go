package adplatforms_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/attriqs/calltrack/export/meta"
)

// The credentials and ids the sinks are configured with, and the stand-ins
// require.
const (
	googleCustomer     = "1234567890"
	googleLogin        = "9876543210"
	googleAction       = "customers/1234567890/conversionActions/555"
	googleDevToken     = "google-dev-token"
	googleClientID     = "google-client"
	googleClientSecret = "google-secret"
	googleRefresh      = "google-refresh"

	gaMeasurementID = "G-TEST123"
	gaSecret        = "mp-secret"

	metaPixel = "1234567890"
	metaToken = "EAAB-test-token"

	msDevToken   = "ms-dev-token"
	msClientID   = "ms-client"
	msRefresh    = "ms-refresh"
	msCustomer   = "111"
	msAccount    = "222"
	msGoal       = "Qualified call"
	msAdsScope   = "https://ads.microsoft.com/msads.manage"
	googleTimeAt = "2006-01-02 15:04:05-07:00"
)

var (
	currencyISO = regexp.MustCompile(`^[A-Z]{3}$`)
	gaClientID  = regexp.MustCompile(`^[0-9]*[1-9][0-9]*\.[0-9]*[1-9][0-9]*$`)
	fbcShape    = regexp.MustCompile(`^fb\.[0-9]\.[0-9]+\..+$`)
	fbpShape    = regexp.MustCompile(`^fb\.[0-9]\.[0-9]+\.[0-9]+$`)
)

// standIn is what the four have in common: a server, the test's clock, a
// count of every request (token exchanges included) and a lock.
type standIn struct {
	t   *testing.T
	srv *httptest.Server
	now func() time.Time

	mu       sync.Mutex
	requests int
}

func (s *standIn) start(t *testing.T, now func() time.Time, h http.Handler) {
	s.t, s.now = t, now
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests++
		s.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(s.srv.Close)
}

func (s *standIn) requestCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// refuse fails the test: the sink sent what the platform documents it
// would refuse. The stand-in also answers as the platform would.
func (s *standIn) refuse(format string, args ...any) string {
	msg := fmt.Sprintf(format, args...)
	s.t.Errorf("%s", msg)
	return msg
}

// tokenExchange checks an OAuth 2 refresh_token grant (RFC 6749 §6) with
// the client in the form, and a scope, when one is asked for, that scope
// allows; it answers a bearer token.
func (s *standIn) tokenExchange(w http.ResponseWriter, r *http.Request, clientID, secret, refresh, access string, scope func(string) bool) bool {
	w.Header().Set("Content-Type", "application/json")
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "refresh_token" ||
		r.PostForm.Get("client_id") != clientID || r.PostForm.Get("client_secret") != secret ||
		r.PostForm.Get("refresh_token") != refresh || r.PostForm.Has("scope") && !scope(r.PostForm.Get("scope")) {
		s.refuse("token endpoint: a bad refresh_token grant: %v", r.PostForm)
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":"invalid_grant","error_description":"Token has been expired or revoked."}`)
		return false
	}
	fmt.Fprintf(w, `{"access_token":%q,"expires_in":3599,"token_type":"Bearer"}`, access)
	return true
}

// googleAds stands in for the Google Ads API (REST):
// ConversionUploadService.UploadClickConversions and
// ConversionAdjustmentUploadService.UploadConversionAdjustments at
// POST /v{N}/customers/{id}:method, with partial_failure, and Google's
// OAuth 2 token endpoint at POST /token.
type googleAds struct {
	standIn
	tokens      int
	clicks      []googleClick // rows accepted
	adjustments []googleAdjustment
}

type googleClick struct {
	GCLID              string      `json:"gclid"`
	GBRAID             string      `json:"gbraid"`
	WBRAID             string      `json:"wbraid"`
	ConversionAction   string      `json:"conversionAction"`
	ConversionDateTime string      `json:"conversionDateTime"`
	ConversionValue    json.Number `json:"conversionValue"`
	CurrencyCode       string      `json:"currencyCode"`
	OrderID            string      `json:"orderId"`
	Consent            struct {
		AdUserData        string `json:"adUserData"`
		AdPersonalization string `json:"adPersonalization"`
	} `json:"consent"`
}

type googleAdjustment struct {
	OrderID            string `json:"orderId"`
	ConversionAction   string `json:"conversionAction"`
	AdjustmentDateTime string `json:"adjustmentDateTime"`
	AdjustmentType     string `json:"adjustmentType"`
	RestatementValue   *struct {
		AdjustedValue json.Number `json:"adjustedValue"`
		CurrencyCode  string      `json:"currencyCode"`
	} `json:"restatementValue"`
}

const googleAccess = "google-access-1"

func newGoogleAds(t *testing.T, now func() time.Time) *googleAds {
	g := &googleAds{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		if g.tokenExchange(w, r, googleClientID, googleClientSecret, googleRefresh, googleAccess,
			func(s string) bool { return s == "https://www.googleapis.com/auth/adwords" }) {
			g.mu.Lock()
			g.tokens++
			g.mu.Unlock()
		}
	})
	mux.HandleFunc("POST /{version}/customers/{call}", g.upload)
	g.start(t, now, mux)
	return g
}

// rpcError writes Google's JSON error.
func rpcError(w http.ResponseWriter, code int, status, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(code)
	fmt.Fprintf(w, `{"error":{"code":%d,"message":%q,"status":%q}}`, code, msg, status)
}

// rowFailure is the partialFailureError of a request whose row i failed.
func rowFailure(field string, i int, errType, code, msg string) string {
	return fmt.Sprintf(`{"code":3,"message":%q,"details":[{"@type":"type.googleapis.com/google.ads.googleads.v26.errors.GoogleAdsFailure","errors":[{"errorCode":{%q:%q},"message":%q,"location":{"fieldPathElements":[{"fieldName":%q,"index":%d}]}}]}]}`,
		fmt.Sprintf("%s, at %s[%d]", msg, field, i), errType, code, msg, field, i)
}

func (g *googleAds) upload(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	customer, method, _ := strings.Cut(r.PathValue("call"), ":")
	switch {
	case r.Header.Get("Authorization") != "Bearer "+googleAccess:
		rpcError(w, http.StatusUnauthorized, "UNAUTHENTICATED", g.refuse("google ads: Authorization %q", r.Header.Get("Authorization")))
		return
	case r.Header.Get("developer-token") != googleDevToken:
		rpcError(w, http.StatusUnauthorized, "UNAUTHENTICATED", g.refuse("google ads: developer-token %q", r.Header.Get("developer-token")))
		return
	case r.Header.Get("login-customer-id") != googleLogin:
		rpcError(w, http.StatusForbidden, "PERMISSION_DENIED", g.refuse("google ads: login-customer-id %q", r.Header.Get("login-customer-id")))
		return
	case customer != googleCustomer:
		rpcError(w, http.StatusForbidden, "PERMISSION_DENIED", g.refuse("google ads: customer %q", customer))
		return
	case !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json"):
		rpcError(w, http.StatusBadRequest, "INVALID_ARGUMENT", g.refuse("google ads: Content-Type %q", r.Header.Get("Content-Type")))
		return
	}
	var req struct {
		Conversions           []googleClick      `json:"conversions"`
		ConversionAdjustments []googleAdjustment `json:"conversionAdjustments"`
		PartialFailure        bool               `json:"partialFailure"`
		ValidateOnly          bool               `json:"validateOnly"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		rpcError(w, http.StatusBadRequest, "INVALID_ARGUMENT", g.refuse("google ads: body: %v", err))
		return
	}
	if !req.PartialFailure || req.ValidateOnly {
		rpcError(w, http.StatusBadRequest, "INVALID_ARGUMENT", g.refuse("google ads: partialFailure %v, validateOnly %v", req.PartialFailure, req.ValidateOnly))
		return
	}
	switch method {
	case "uploadClickConversions":
		g.clickConversions(w, req.Conversions)
	case "uploadConversionAdjustments":
		g.conversionAdjustments(w, req.ConversionAdjustments)
	default:
		rpcError(w, http.StatusNotFound, "NOT_FOUND", g.refuse("google ads: method %q", method))
	}
}

func (g *googleAds) clickConversions(w http.ResponseWriter, rows []googleClick) {
	if len(rows) == 0 || len(rows) > 2000 {
		rpcError(w, http.StatusBadRequest, "INVALID_ARGUMENT", g.refuse("google ads: %d conversions in a request", len(rows)))
		return
	}
	var results []string
	for i, c := range rows {
		ids := 0
		for _, v := range []string{c.GCLID, c.GBRAID, c.WBRAID} {
			if v != "" {
				ids++
			}
		}
		_, timeErr := time.Parse(googleTimeAt, c.ConversionDateTime)
		_, valueErr := c.ConversionValue.Float64()
		var problem, code string
		switch {
		case ids != 1:
			problem, code = g.refuse("google ads: conversion %d: %d click ids", i, ids), "INVALID_INPUT"
		case c.ConversionAction != googleAction:
			problem, code = g.refuse("google ads: conversion %d: action %q", i, c.ConversionAction), "NO_CONVERSION_ACTION_FOUND"
		case timeErr != nil || valueErr != nil || !currencyISO.MatchString(c.CurrencyCode):
			problem, code = g.refuse("google ads: conversion %d: time %q, value %q, currency %q", i, c.ConversionDateTime, c.ConversionValue, c.CurrencyCode), "INVALID_INPUT"
		case c.OrderID == "":
			problem, code = g.refuse("google ads: conversion %d: no orderId, so no adjustment could name it", i), "INVALID_INPUT"
		case g.accepted(c.OrderID) != nil:
			problem, code = g.refuse("google ads: conversion %d: order id %q uploaded twice", i, c.OrderID), "ORDER_ID_ALREADY_IN_USE"
		}
		if problem != "" {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"partialFailureError":%s,"results":[{}]}`, rowFailure("conversions", i, "conversionUploadError", code, problem))
			return
		}
		g.clicks = append(g.clicks, c)
		results = append(results, fmt.Sprintf(`{"gclid":%q,"conversionAction":%q,"conversionDateTime":%q}`, c.GCLID, c.ConversionAction, c.ConversionDateTime))
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"results":[%s],"jobId":"1"}`, strings.Join(results, ","))
}

func (g *googleAds) accepted(orderID string) *googleClick {
	for i := range g.clicks {
		if g.clicks[i].OrderID == orderID {
			return &g.clicks[i]
		}
	}
	return nil
}

func (g *googleAds) conversionAdjustments(w http.ResponseWriter, rows []googleAdjustment) {
	if len(rows) == 0 || len(rows) > 2000 {
		rpcError(w, http.StatusBadRequest, "INVALID_ARGUMENT", g.refuse("google ads: %d adjustments in a request", len(rows)))
		return
	}
	var results []string
	for i, a := range rows {
		at, err := time.Parse(googleTimeAt, a.AdjustmentDateTime)
		conv := g.accepted(a.OrderID)
		var problem, code string
		switch {
		case err != nil:
			problem, code = g.refuse("google ads: adjustment %d: adjustmentDateTime %q", i, a.AdjustmentDateTime), "INVALID_INPUT"
		case conv == nil || conv.ConversionAction != a.ConversionAction:
			problem, code = g.refuse("google ads: adjustment %d: no conversion with order id %q under %q", i, a.OrderID, a.ConversionAction), "CONVERSION_NOT_FOUND"
		case a.AdjustmentType != "RESTATEMENT" || a.RestatementValue == nil || !currencyISO.MatchString(a.RestatementValue.CurrencyCode):
			problem, code = g.refuse("google ads: adjustment %d: %s with %+v", i, a.AdjustmentType, a.RestatementValue), "INVALID_INPUT"
		default:
			convAt, _ := time.Parse(googleTimeAt, conv.ConversionDateTime)
			switch {
			case g.now().Sub(convAt) < 24*time.Hour:
				problem, code = g.refuse("google ads: adjustment %d: the conversion is less than 24 hours old", i), "TOO_RECENT_CONVERSION"
			case at.Before(convAt):
				problem, code = g.refuse("google ads: adjustment %d: before its conversion", i), "ADJUSTMENT_PRECEDES_CONVERSION"
			}
		}
		if problem != "" {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"partialFailureError":%s,"results":[{}]}`, rowFailure("conversion_adjustments", i, "conversionAdjustmentUploadError", code, problem))
			return
		}
		g.adjustments = append(g.adjustments, a)
		results = append(results, fmt.Sprintf(`{"orderId":%q,"conversionAction":%q,"adjustmentDateTime":%q,"adjustmentType":%q}`,
			a.OrderID, a.ConversionAction, a.AdjustmentDateTime, a.AdjustmentType))
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"results":[%s],"jobId":"2"}`, strings.Join(results, ","))
}

func (g *googleAds) snapshot() ([]googleClick, []googleAdjustment) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]googleClick(nil), g.clicks...), append([]googleAdjustment(nil), g.adjustments...)
}

// measurementProtocol stands in for GA4's Measurement Protocol:
// POST /mp/collect?measurement_id=&api_secret= with a JSON body, answered
// 204 whatever it holds (GA does not say what it dropped), so the
// stand-in keeps only the requests that follow the documented rules.
type measurementProtocol struct {
	standIn
	received []gaBody
}

type gaBody struct {
	ClientID string            `json:"client_id"`
	Consent  map[string]string `json:"consent"`
	Events   []struct {
		Name   string                     `json:"name"`
		Params map[string]json.RawMessage `json:"params"`
	} `json:"events"`
}

func newMeasurementProtocol(t *testing.T, now func() time.Time) *measurementProtocol {
	m := &measurementProtocol{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /mp/collect", m.collect)
	m.start(t, now, mux)
	return m
}

func (m *measurementProtocol) collect(w http.ResponseWriter, r *http.Request) {
	defer w.WriteHeader(http.StatusNoContent)
	m.mu.Lock()
	defer m.mu.Unlock()
	q := r.URL.Query()
	if q.Get("measurement_id") != gaMeasurementID || q.Get("api_secret") != gaSecret {
		m.refuse("ga4: measurement_id %q, api_secret %q", q.Get("measurement_id"), q.Get("api_secret"))
		return
	}
	raw, _ := io.ReadAll(r.Body)
	var b gaBody
	if err := json.Unmarshal(raw, &b); err != nil {
		m.refuse("ga4: body: %v", err)
		return
	}
	if !gaClientID.MatchString(b.ClientID) || len(b.Events) == 0 || len(b.Events) > 25 {
		m.refuse("ga4: client_id %q, %d events", b.ClientID, len(b.Events))
		return
	}
	for _, ev := range b.Events {
		if ev.Name == "" || len(ev.Params) > 25 {
			m.refuse("ga4: event %q with %d params", ev.Name, len(ev.Params))
			return
		}
		if v, ok := ev.Params["value"]; ok {
			var value float64
			var currency string
			if json.Unmarshal(v, &value) != nil || json.Unmarshal(ev.Params["currency"], &currency) != nil || !currencyISO.MatchString(currency) {
				m.refuse("ga4: event %q: value %s, currency %s", ev.Name, v, ev.Params["currency"])
				return
			}
		}
	}
	m.received = append(m.received, b)
}

func (m *measurementProtocol) snapshot() []gaBody {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]gaBody(nil), m.received...)
}

// conversionsAPI stands in for Meta's Conversions API:
// POST /{version}/{pixel}/events with form fields access_token and data
// (a JSON array of server events), answering
// {"events_received": N, "messages": [], "fbtrace_id": ...}.
type conversionsAPI struct {
	standIn
	events []map[string]any
}

func newConversionsAPI(t *testing.T, now func() time.Time) *conversionsAPI {
	c := &conversionsAPI{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /"+meta.DefaultAPIVersion+"/"+metaPixel+"/events", c.serve)
	c.start(t, now, mux)
	return c
}

func graphError(w http.ResponseWriter, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	fmt.Fprintf(w, `{"error":{"message":%q,"type":"OAuthException","code":100,"fbtrace_id":"AbCdEf"}}`, msg)
}

func (c *conversionsAPI) serve(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := r.ParseForm(); err != nil || r.PostForm.Get("access_token") != metaToken || len(r.URL.Query()) > 0 {
		graphError(w, c.refuse("meta: access_token %q (in the body, not the URL %q)", r.PostForm.Get("access_token"), r.URL.RawQuery))
		return
	}
	var data []map[string]any
	dec := json.NewDecoder(strings.NewReader(r.PostForm.Get("data")))
	dec.UseNumber()
	if err := dec.Decode(&data); err != nil || len(data) == 0 || len(data) > 1000 {
		graphError(w, c.refuse("meta: data: %d events, %v", len(data), err))
		return
	}
	for i, ev := range data {
		if msg := c.check(ev); msg != "" {
			graphError(w, c.refuse("meta: event %d: %s", i, msg)) // one bad event fails the request
			return
		}
	}
	c.events = append(c.events, data...)
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"events_received":%d,"messages":[],"fbtrace_id":"AbCdEfGhIjK"}`, len(data))
}

func (c *conversionsAPI) check(ev map[string]any) string {
	name, _ := ev["event_name"].(string)
	id, _ := ev["event_id"].(string)
	n, _ := ev["event_time"].(json.Number)
	sec, err := n.Int64()
	switch {
	case name == "" || id == "":
		return "event_name and event_id (for de-duplication with the pixel) are required"
	case err != nil || c.now().Sub(time.Unix(sec, 0)) > 7*24*time.Hour:
		return fmt.Sprintf("event_time %q is not a Unix time within 7 days", n)
	case ev["action_source"] == nil:
		return "action_source is required"
	}
	ud, _ := ev["user_data"].(map[string]any)
	fbc, _ := ud["fbc"].(string)
	fbp, _ := ud["fbp"].(string)
	switch {
	case fbc == "" && fbp == "":
		return "user_data has neither fbc nor fbp"
	case fbc != "" && !fbcShape.MatchString(fbc), fbp != "" && !fbpShape.MatchString(fbp):
		return fmt.Sprintf("fbc %q or fbp %q is not fb.<subdomain>.<time>.<id>", fbc, fbp)
	}
	if cd, ok := ev["custom_data"].(map[string]any); ok {
		v, _ := cd["value"].(json.Number)
		cur, _ := cd["currency"].(string)
		if _, err := v.Float64(); err != nil || len(cur) != 3 {
			return fmt.Sprintf("custom_data value %q, currency %q", v, cur)
		}
	}
	return ""
}

func (c *conversionsAPI) snapshot() []map[string]any {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]map[string]any(nil), c.events...)
}

// microsoftAds stands in for Microsoft Advertising's Campaign Management
// REST API, OfflineConversions/Apply and OfflineConversionAdjustments/Apply
// (headers Authorization, DeveloperToken, CustomerId, CustomerAccountId;
// answers {"PartialErrors": [...]}), and the Microsoft identity platform's
// token endpoint at POST /oauth2/v2.0/token.
type microsoftAds struct {
	standIn
	tokens      int
	conversions []msConversion
	adjustments []msAdjustment
}

type msConversion struct {
	MicrosoftClickId          string   `json:"MicrosoftClickId"`
	ConversionName            string   `json:"ConversionName"`
	ConversionTime            string   `json:"ConversionTime"`
	ConversionValue           *float64 `json:"ConversionValue"`
	ConversionCurrencyCode    string   `json:"ConversionCurrencyCode"`
	ExternalAttributionCredit *float64 `json:"ExternalAttributionCredit"`
	ExternalAttributionModel  string   `json:"ExternalAttributionModel"`
}

type msAdjustment struct {
	MicrosoftClickId       string   `json:"MicrosoftClickId"`
	ConversionName         string   `json:"ConversionName"`
	ConversionTime         string   `json:"ConversionTime"`
	AdjustmentTime         string   `json:"AdjustmentTime"`
	AdjustmentType         string   `json:"AdjustmentType"`
	AdjustmentValue        *float64 `json:"AdjustmentValue"`
	AdjustmentCurrencyCode string   `json:"AdjustmentCurrencyCode"`
}

const msAccess = "ms-access-1"

func newMicrosoftAds(t *testing.T, now func() time.Time) *microsoftAds {
	m := &microsoftAds{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth2/v2.0/token", func(w http.ResponseWriter, r *http.Request) {
		if m.tokenExchange(w, r, msClientID, "", msRefresh, msAccess,
			func(s string) bool { return strings.Contains(" "+s+" ", " "+msAdsScope+" ") }) {
			m.mu.Lock()
			m.tokens++
			m.mu.Unlock()
		}
	})
	mux.HandleFunc("POST /CampaignManagement/v13/OfflineConversions/Apply", m.apply)
	mux.HandleFunc("POST /CampaignManagement/v13/OfflineConversionAdjustments/Apply", m.adjust)
	m.start(t, now, mux)
	return m
}

// authorized checks the documented headers; false when it has answered
// with an ApplicationFault.
func (m *microsoftAds) authorized(w http.ResponseWriter, r *http.Request) bool {
	h := r.Header
	if h.Get("Authorization") == "Bearer "+msAccess && h.Get("DeveloperToken") == msDevToken &&
		h.Get("CustomerId") == msCustomer && h.Get("CustomerAccountId") == msAccount && h.Get("Content-Type") == "application/json" {
		return true
	}
	msg := m.refuse("microsoft ads: headers Authorization %q, DeveloperToken %q, CustomerId %q, CustomerAccountId %q, Content-Type %q",
		h.Get("Authorization"), h.Get("DeveloperToken"), h.Get("CustomerId"), h.Get("CustomerAccountId"), h.Get("Content-Type"))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusUnauthorized)
	fmt.Fprintf(w, `{"Type":"AdApiFaultDetail","TrackingId":"trk-1","Errors":[{"Code":105,"ErrorCode":"InvalidCredentials","Message":%q}]}`, msg)
	return false
}

func msAnswer(w http.ResponseWriter, errs []string) {
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"PartialErrors":[%s]}`, strings.Join(errs, ","))
}

func msRowError(i int, code, msg string) string {
	return fmt.Sprintf(`{"Index":%d,"Code":0,"ErrorCode":%q,"Message":%q,"Type":"BatchError"}`, i, code, msg)
}

func (m *microsoftAds) apply(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.authorized(w, r) {
		return
	}
	var req struct {
		OfflineConversions []msConversion `json:"OfflineConversions"`
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || len(req.OfflineConversions) == 0 || len(req.OfflineConversions) > 1000 {
		msAnswer(w, []string{msRowError(0, "OfflineConversionsNullOrEmpty", m.refuse("microsoft ads: body: %v", err))})
		return
	}
	var errs []string
	for i, c := range req.OfflineConversions {
		at, err := time.Parse(time.RFC3339, c.ConversionTime)
		switch {
		case c.MicrosoftClickId == "" || c.ConversionName != msGoal:
			errs = append(errs, msRowError(i, "OfflineConversionMicrosoftClickIdInvalid", m.refuse("microsoft ads: conversion %d: click %q, goal %q", i, c.MicrosoftClickId, c.ConversionName)))
		case err != nil || at.Location() != time.UTC || at.After(m.now()):
			errs = append(errs, msRowError(i, "OfflineConversionTimeInvalid", m.refuse("microsoft ads: conversion %d: time %q", i, c.ConversionTime)))
		case c.ConversionValue == nil || *c.ConversionValue < 0 || !currencyISO.MatchString(c.ConversionCurrencyCode):
			errs = append(errs, msRowError(i, "OfflineConversionValueInvalid", m.refuse("microsoft ads: conversion %d: value %v %q", i, c.ConversionValue, c.ConversionCurrencyCode)))
		case (c.ExternalAttributionCredit == nil) != (c.ExternalAttributionModel == ""),
			c.ExternalAttributionCredit != nil && (*c.ExternalAttributionCredit <= 0 || *c.ExternalAttributionCredit > 1):
			errs = append(errs, msRowError(i, "ExternalAttributionCreditValueInvalid", m.refuse("microsoft ads: conversion %d: model %q credit %v", i, c.ExternalAttributionModel, c.ExternalAttributionCredit)))
		default:
			m.conversions = append(m.conversions, c)
		}
	}
	msAnswer(w, errs)
}

func (m *microsoftAds) adjust(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.authorized(w, r) {
		return
	}
	var req struct {
		OfflineConversionAdjustments []msAdjustment `json:"OfflineConversionAdjustments"`
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || len(req.OfflineConversionAdjustments) == 0 || len(req.OfflineConversionAdjustments) > 1000 {
		msAnswer(w, []string{msRowError(0, "OfflineConversionAdjustmentsNullOrEmpty", m.refuse("microsoft ads: body: %v", err))})
		return
	}
	var errs []string
	for i, a := range req.OfflineConversionAdjustments {
		conv, err1 := time.Parse(time.RFC3339, a.ConversionTime)
		adj, err2 := time.Parse(time.RFC3339, a.AdjustmentTime)
		// Microsoft finds the conversion by click id, goal and time.
		found := false
		for _, c := range m.conversions {
			found = found || c.MicrosoftClickId == a.MicrosoftClickId && c.ConversionName == a.ConversionName && c.ConversionTime == a.ConversionTime
		}
		switch {
		case !found:
			errs = append(errs, msRowError(i, "OfflineConversionNotFound", m.refuse("microsoft ads: adjustment %d names no applied conversion: %+v", i, a)))
		case err1 != nil || err2 != nil || adj.Before(conv):
			errs = append(errs, msRowError(i, "OfflineConversionAdjustmentTimeEarlierThanConversionTime", m.refuse("microsoft ads: adjustment %d: times %q, %q", i, a.ConversionTime, a.AdjustmentTime)))
		case a.AdjustmentType != "Restate" || a.AdjustmentValue == nil:
			errs = append(errs, msRowError(i, "OfflineConversionInvalidAdjustmentType", m.refuse("microsoft ads: adjustment %d: %q with value %v", i, a.AdjustmentType, a.AdjustmentValue)))
		default:
			m.adjustments = append(m.adjustments, a)
		}
	}
	msAnswer(w, errs)
}

func (m *microsoftAds) snapshot() ([]msConversion, []msAdjustment) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]msConversion(nil), m.conversions...), append([]msAdjustment(nil), m.adjustments...)
}
