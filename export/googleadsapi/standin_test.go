package googleadsapi_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeAds stands in for the Google Ads API's REST endpoints and Google's
// OAuth 2 token endpoint, following the documented request and response
// shapes: ConversionUploadService.UploadClickConversions,
// ConversionAdjustmentUploadService.UploadConversionAdjustments (partial
// failures as google.rpc.Status with a GoogleAdsFailure), RPC errors as
// {"error": {code, message, status, details}}; and GoogleAdsService.Search:
// POST /{version}/customers/{customerId}/googleAds:search with {query,
// pageToken}, answered {results, nextPageToken, fieldMask} with no
// nextPageToken on the last page; pageSize is refused
// (PAGE_SIZE_NOT_SUPPORTED); click_view needs a filter on a single day
// (clickViewError EXPECTED_FILTER_ON_A_SINGLE_DAY) no older than 90 days
// (DATE_TOO_OLD).
type fakeAds struct {
	t   *testing.T
	srv *httptest.Server
	now func() time.Time

	mu            sync.Mutex
	access        string // the access token the API accepts
	issued        int    // access tokens handed out
	refreshTokens []string
	rejectNext    int               // answer this many uploads or searches UNAUTHENTICATED
	throttleNext  int               // answer this many uploads RESOURCE_EXHAUSTED
	rowErrors     map[string]string // click id -> conversionUploadError
	headers       []http.Header
	clicks        []fakeClick          // every row received
	accepted      map[string]fakeClick // by order id
	adjustments   []fakeAdjustment     // accepted
	adjustTimes   map[string]time.Time // latest adjustment per order id
	retracted     map[string]bool
	// Calls: forwarded are the calls Google's forwarding numbers put
	// through (callKey), callRowErrors forced row errors by caller id,
	// callRows every call row received, acceptedCalls by callKey and
	// conversion action.
	forwarded     map[string]bool
	callRowErrors map[string]string
	callRows      []fakeCall
	acceptedCalls map[string]fakeCall
	// Search: clickViews are click_view's rows by date, answered
	// searchPage rows a page; tooOld the dates Google answers
	// DATE_TOO_OLD; searchCalls every search received.
	searchPage  int
	clickViews  map[string][]searchClick
	tooOld      map[string]bool
	searchCalls []searchCall
}

// fakeCall is a CallConversion as the REST interface names its fields.
type fakeCall struct {
	CallerID           string          `json:"callerId"`
	CallStartDateTime  string          `json:"callStartDateTime"`
	ConversionAction   string          `json:"conversionAction"`
	ConversionDateTime string          `json:"conversionDateTime"`
	ConversionValue    json.RawMessage `json:"conversionValue"`
	CurrencyCode       string          `json:"currencyCode"`
	CustomVariables    []struct {
		ConversionCustomVariable string `json:"conversionCustomVariable"`
		Value                    string `json:"value"`
	} `json:"customVariables"`
	Consent *struct {
		AdUserData        string `json:"adUserData"`
		AdPersonalization string `json:"adPersonalization"`
	} `json:"consent"`
}

// callKey names a call as Google matches it: caller id and start time.
func callKey(callerID string, start time.Time) string {
	return callerID + "@" + start.UTC().Format(time.RFC3339)
}

type fakeClick struct {
	GCLID              string  `json:"gclid"`
	GBRAID             string  `json:"gbraid"`
	WBRAID             string  `json:"wbraid"`
	ConversionAction   string  `json:"conversionAction"`
	ConversionDateTime string  `json:"conversionDateTime"`
	ConversionValue    float64 `json:"-"`
	CurrencyCode       string  `json:"currencyCode"`
	OrderID            string  `json:"orderId"`
	UserIdentifiers    []struct {
		UserIdentifierSource string `json:"userIdentifierSource"`
		HashedPhoneNumber    string `json:"hashedPhoneNumber"`
		HashedEmail          string `json:"hashedEmail"`
	} `json:"userIdentifiers"`
	Consent struct {
		AdUserData        string `json:"adUserData"`
		AdPersonalization string `json:"adPersonalization"`
	} `json:"consent"`
	RawValue json.RawMessage `json:"conversionValue"`
}

type fakeAdjustment struct {
	OrderID            string `json:"orderId"`
	ConversionAction   string `json:"conversionAction"`
	AdjustmentDateTime string `json:"adjustmentDateTime"`
	AdjustmentType     string `json:"adjustmentType"`
	RestatementValue   *struct {
		AdjustedValue json.RawMessage `json:"adjustedValue"`
		CurrencyCode  string          `json:"currencyCode"`
	} `json:"restatementValue"`
}

const (
	fakeCustomer   = "1234567890"
	fakeAction     = "customers/1234567890/conversionActions/555"
	fakeCallAction = "customers/1234567890/conversionActions/777" // of type UPLOAD_CALLS
	fakeLogin      = "9876543210"                                 // the manager account
	fakeDevToken   = "dev-token"
	fakeClientID   = "client-id"
	fakeSecret     = "client-secret"
	fakeRefresh    = "refresh-1"
	googleTimeForm = "2006-01-02 15:04:05-07:00"
)

var (
	actionName  = regexp.MustCompile(`^customers/[0-9]+/conversionActions/[0-9]+$`)
	sha256Hex   = regexp.MustCompile(`^[0-9a-f]{64}$`)
	currencyISO = regexp.MustCompile(`^[A-Z]{3}$`)
)

func newFakeAds(t *testing.T, now func() time.Time) *fakeAds {
	f := &fakeAds{t: t, now: now, rowErrors: map[string]string{}, accepted: map[string]fakeClick{},
		adjustTimes: map[string]time.Time{}, retracted: map[string]bool{},
		forwarded: map[string]bool{}, callRowErrors: map[string]string{}, acceptedCalls: map[string]fakeCall{},
		searchPage: 2, clickViews: map[string][]searchClick{}, tooOld: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", f.token)
	mux.HandleFunc("POST /v26/customers/{call}", f.upload)
	mux.HandleFunc("POST /v26/customers/{customer}/googleAds:search", f.search)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAds) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "refresh_token" ||
		r.PostForm.Get("client_id") != fakeClientID || r.PostForm.Get("client_secret") != fakeSecret {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":"invalid_client","error_description":"Unauthorized"}`)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refreshTokens = append(f.refreshTokens, r.PostForm.Get("refresh_token"))
	if r.PostForm.Get("refresh_token") != fakeRefresh {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":"invalid_grant","error_description":"Token has been expired or revoked."}`)
		return
	}
	f.issued++
	f.access = fmt.Sprintf("access-%d", f.issued)
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"access_token":%q,"expires_in":3599,"scope":"https://www.googleapis.com/auth/adwords","token_type":"Bearer"}`, f.access)
}

// rpcError writes Google's JSON error for a failed call.
func rpcError(w http.ResponseWriter, code int, status, errType, errCode, msg string, extra string) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(code)
	fmt.Fprintf(w, `{"error":{"code":%d,"message":%q,"status":%q,"details":[{"@type":"type.googleapis.com/google.ads.googleads.v26.errors.GoogleAdsFailure","errors":[{"errorCode":{%q:%q},"message":%q%s}],"requestId":"req-1"}]}}`,
		code, msg, status, errType, errCode, msg, extra)
}

// partialFailure is the partialFailureError of a one-row request.
func partialFailure(field, errType, errCode, msg string) string {
	return fmt.Sprintf(`{"code":3,"message":%q,"details":[{"@type":"type.googleapis.com/google.ads.googleads.v26.errors.GoogleAdsFailure","errors":[{"errorCode":{%q:%q},"message":%q,"location":{"fieldPathElements":[{"fieldName":%q,"index":0}]}}],"requestId":"req-2"}]}`,
		msg+", at "+field+"[0]", errType, errCode, msg, field)
}

// authorized answers as Google does a request whose access token,
// developer token or customer id it refuses, and reports whether the
// request may go on. f.mu is held.
func (f *fakeAds) authorized(w http.ResponseWriter, r *http.Request, customer string) bool {
	switch {
	case r.Header.Get("Authorization") != "Bearer "+f.access || f.access == "" || f.rejectNext > 0:
		f.rejectNext = max(f.rejectNext-1, 0)
		rpcError(w, http.StatusUnauthorized, "UNAUTHENTICATED", "authenticationError", "OAUTH_TOKEN_EXPIRED",
			"Request had invalid authentication credentials. Expected OAuth 2 access token.", "")
	case r.Header.Get("developer-token") != fakeDevToken:
		rpcError(w, http.StatusUnauthorized, "UNAUTHENTICATED", "authenticationError", "DEVELOPER_TOKEN_PARAMETER_MISSING", "The developer token is missing.", "")
	case customer != fakeCustomer:
		rpcError(w, http.StatusForbidden, "PERMISSION_DENIED", "authorizationError", "USER_PERMISSION_DENIED", "The caller does not have permission", "")
	default:
		return true
	}
	return false
}

func (f *fakeAds) upload(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.headers = append(f.headers, r.Header.Clone())
	customer, method, _ := strings.Cut(r.PathValue("call"), ":")
	if !f.authorized(w, r, customer) {
		return
	}
	if f.throttleNext > 0 {
		f.throttleNext--
		w.Header().Set("Retry-After", "30")
		rpcError(w, http.StatusTooManyRequests, "RESOURCE_EXHAUSTED", "quotaError", "RESOURCE_TEMPORARILY_EXHAUSTED", "Too many requests. Retry in 30 seconds.",
			`,"details":{"quotaErrorDetails":{"rateScope":"DEVELOPER","rateName":"Number of operations for basic access","retryDelay":"30s"}}`)
		return
	}
	switch method {
	case "uploadClickConversions":
		req, ok := decode[struct {
			Conversions    []fakeClick `json:"conversions"`
			PartialFailure bool        `json:"partialFailure"`
			ValidateOnly   bool        `json:"validateOnly"`
			JobID          int32       `json:"jobId"`
		}](w, r)
		if ok && !refusedBatch(w, req.PartialFailure, len(req.Conversions), tooManyConversions) {
			f.clickConversions(w, req.Conversions, req.ValidateOnly)
		}
	case "uploadCallConversions":
		req, ok := decode[struct {
			Conversions    []fakeCall `json:"conversions"`
			PartialFailure bool       `json:"partialFailure"`
			ValidateOnly   bool       `json:"validateOnly"`
		}](w, r)
		if ok && !refusedBatch(w, req.PartialFailure, len(req.Conversions), tooManyConversions) {
			f.callConversions(w, req.Conversions, req.ValidateOnly)
		}
	case "uploadConversionAdjustments":
		req, ok := decode[struct {
			ConversionAdjustments []fakeAdjustment `json:"conversionAdjustments"`
			PartialFailure        bool             `json:"partialFailure"`
			ValidateOnly          bool             `json:"validateOnly"`
			JobID                 int32            `json:"jobId"`
		}](w, r)
		if ok && !refusedBatch(w, req.PartialFailure, len(req.ConversionAdjustments), tooManyAdjustments) {
			f.conversionAdjustments(w, req.ConversionAdjustments, req.ValidateOnly)
		}
	default:
		http.NotFound(w, r)
	}
}

// decode reads r's body into a T, refusing unknown fields as Google does,
// and answers INVALID_ARGUMENT when it cannot; ok reports whether it
// decoded.
func decode[T any](w http.ResponseWriter, r *http.Request) (req T, ok bool) {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		rpcError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "requestError", "BAD_RESOURCE_ID", "Invalid JSON payload received. "+err.Error(), "")
		return req, false
	}
	return req, true
}

// errorCode is a GoogleAdsFailure error: its type, code and message.
type errorCode struct{ typ, code, msg string }

var (
	tooManyConversions = errorCode{"conversionUploadError", "TOO_MANY_CONVERSIONS_IN_REQUEST", "Upload fewer than 2001 events in a single request."}
	tooManyAdjustments = errorCode{"conversionAdjustmentUploadError", "TOO_MANY_ADJUSTMENTS_IN_REQUEST", "Try uploading fewer than 2001 adjustments."}
)

// refusedBatch answers as Google does an upload it refuses whole: one
// without partial failure, or with no row or more than 2000 (tooMany). It
// reports whether it answered.
func refusedBatch(w http.ResponseWriter, partial bool, rows int, tooMany errorCode) bool {
	switch {
	case !partial:
		rpcError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "requestError", "INVALID_INPUT", "partial_failure must be true for conversion uploads.", "")
	case rows == 0 || rows > 2000:
		rpcError(w, http.StatusBadRequest, "INVALID_ARGUMENT", tooMany.typ, tooMany.code, tooMany.msg, "")
	default:
		return false
	}
	return true
}

func (f *fakeAds) clickConversions(w http.ResponseWriter, rows []fakeClick, validateOnly bool) {
	c := rows[0]
	f.clicks = append(f.clicks, c)
	fail := func(code, msg string) {
		fmt.Fprintf(w, `{"partialFailureError":%s,"results":[{}],"jobId":"42"}`, partialFailure("conversions", "conversionUploadError", code, msg))
	}
	if err := json.Unmarshal(c.RawValue, &c.ConversionValue); err != nil {
		rpcError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "fieldError", "INVALID_VALUE", "conversion_value is not a number", "")
		return
	}
	ids := 0
	for _, v := range []string{c.GCLID, c.GBRAID, c.WBRAID} {
		if v != "" {
			ids++
		}
	}
	_, timeErr := time.Parse(googleTimeForm, c.ConversionDateTime)
	// A UserIdentifier is a oneof: exactly one hashed value each, SHA-256
	// as lower-case hex (enhanced conversions for leads), at most five.
	badIdentifier := len(c.UserIdentifiers) > 5
	for _, u := range c.UserIdentifiers {
		switch {
		case u.HashedEmail != "" && u.HashedPhoneNumber != "":
			rpcError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "requestError", "INVALID_INPUT", "user_identifiers: a UserIdentifier sets one identifier (oneof)", "")
			return
		case u.HashedEmail != "":
			badIdentifier = badIdentifier || !sha256Hex.MatchString(u.HashedEmail)
		default:
			badIdentifier = badIdentifier || !sha256Hex.MatchString(u.HashedPhoneNumber)
		}
		if u.UserIdentifierSource != "" && u.UserIdentifierSource != "FIRST_PARTY" && u.UserIdentifierSource != "THIRD_PARTY" {
			rpcError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "fieldError", "INVALID_VALUE", "user_identifier_source", "")
			return
		}
	}
	switch {
	case !actionName.MatchString(c.ConversionAction):
		fail("NO_CONVERSION_ACTION_FOUND", "The conversion action specified in the upload request cannot be found.")
	case timeErr != nil:
		rpcError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "dateError", "INVALID_FIELD_VALUES_IN_DATE_TIME", "conversion_date_time: "+timeErr.Error(), "")
	case ids > 1:
		fail("GBRAID_WBRAID_BOTH_SET", "Exactly one of gclid, gbraid and wbraid is set.")
	case ids == 0 && len(c.UserIdentifiers) == 0:
		rpcError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "fieldError", "REQUIRED", "A click id (gclid, gbraid or wbraid) or user_identifiers is required.", "")
	case !currencyISO.MatchString(c.CurrencyCode):
		rpcError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "fieldError", "INVALID_VALUE", "currency_code", "")
	case badIdentifier:
		fail("INVALID_USER_IDENTIFIER", "Make sure you hash user provided data using SHA-256.")
	case c.Consent.AdUserData != "GRANTED" && c.Consent.AdUserData != "DENIED":
		rpcError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "fieldError", "INVALID_VALUE", "consent.ad_user_data", "")
	case f.rowErrors[c.GCLID+c.GBRAID+c.WBRAID] != "":
		fail(f.rowErrors[c.GCLID+c.GBRAID+c.WBRAID], "The row was refused.")
	case f.accepted[c.OrderID].OrderID != "":
		fail("ORDER_ID_ALREADY_IN_USE", "The imported event includes an order ID that was previously recorded, so the event was not processed.")
	case validateOnly:
		fmt.Fprint(w, `{"jobId":"42"}`)
	default:
		f.accepted[c.OrderID] = c
		fmt.Fprintf(w, `{"results":[{"gclid":%q,"conversionAction":%q,"conversionDateTime":%q}],"jobId":"42"}`, c.GCLID, c.ConversionAction, c.ConversionDateTime)
	}
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// callConversions answers UploadCallConversions row by row: the rows
// Google takes in results, each refused one as an empty result and an
// error located at its index in partialFailureError.
func (f *fakeAds) callConversions(w http.ResponseWriter, rows []fakeCall, validateOnly bool) {
	type rowError struct {
		index     int
		code, msg string
	}
	var errs []rowError
	results := make([]string, len(rows))
	seen := map[string]bool{}
	for i, c := range rows {
		f.callRows = append(f.callRows, c)
		start, startErr := time.Parse(googleTimeForm, c.CallStartDateTime)
		at, atErr := time.Parse(googleTimeForm, c.ConversionDateTime)
		var value float64
		if startErr != nil || atErr != nil {
			rpcError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "dateError", "INVALID_FIELD_VALUES_IN_DATE_TIME", "call_start_date_time and conversion_date_time need the time zone", "")
			return
		}
		if err := json.Unmarshal(c.ConversionValue, &value); err != nil || value < 0 || !currencyISO.MatchString(c.CurrencyCode) {
			rpcError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "fieldError", "INVALID_VALUE", "conversion_value and currency_code", "")
			return
		}
		if c.Consent == nil || (c.Consent.AdUserData != "GRANTED" && c.Consent.AdUserData != "DENIED") {
			rpcError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "fieldError", "REQUIRED", "consent must be set on call conversions", "")
			return
		}
		key := callKey(c.CallerID, start)
		fail := func(code, msg string) { errs = append(errs, rowError{i, code, msg}) }
		switch {
		case !e164.MatchString(c.CallerID):
			fail("UNPARSEABLE_CALLERS_PHONE_NUMBER", "The caller's phone number cannot be parsed. It should be formatted in E.164.")
		case c.ConversionAction != fakeCallAction:
			fail("INVALID_CONVERSION_ACTION", "The conversion action specified in the upload request cannot be found, or is not of type UPLOAD_CALLS.")
		case f.callRowErrors[c.CallerID] != "":
			fail(f.callRowErrors[c.CallerID], "The row was refused.")
		case seen[key]:
			fail("DUPLICATE_CALL_CONVERSION_IN_REQUEST", "The request contains several operations for the same call conversion.")
		case !f.forwarded[key]:
			fail("CALL_NOT_FOUND", "The call or click leading to the imported event can't be found.")
		case !at.After(start):
			fail("CONVERSION_PRECEDES_CALL", "The call has a conversion_date_time that precedes the call.")
		case f.acceptedCalls[key+c.ConversionAction].CallerID != "":
			fail("CALL_CONVERSION_ALREADY_EXISTS", "The call conversion already exists.")
		case validateOnly:
		default:
			f.acceptedCalls[key+c.ConversionAction] = c
			results[i] = fmt.Sprintf(`{"callerId":%q,"callStartDateTime":%q,"conversionAction":%q,"conversionDateTime":%q}`,
				c.CallerID, c.CallStartDateTime, c.ConversionAction, c.ConversionDateTime)
		}
		seen[key] = true
	}
	for i := range results {
		if results[i] == "" {
			results[i] = "{}"
		}
	}
	var fields []string
	if !validateOnly { // a validation answers with its errors only
		fields = append(fields, `"results":[`+strings.Join(results, ",")+`]`)
	}
	if len(errs) > 0 {
		var details []string
		for _, e := range errs {
			details = append(details, fmt.Sprintf(`{"errorCode":{"conversionUploadError":%q},"message":%q,"location":{"fieldPathElements":[{"fieldName":"conversions","index":%d}]}}`,
				e.code, e.msg, e.index))
		}
		fields = append(fields, fmt.Sprintf(`"partialFailureError":{"code":3,"message":%q,"details":[{"@type":"type.googleapis.com/google.ads.googleads.v26.errors.GoogleAdsFailure","errors":[%s],"requestId":"req-3"}]}`,
			fmt.Sprintf("%s, at conversions[%d]", errs[0].msg, errs[0].index), strings.Join(details, ",")))
	}
	fmt.Fprint(w, "{"+strings.Join(fields, ",")+"}")
}

func (f *fakeAds) conversionAdjustments(w http.ResponseWriter, rows []fakeAdjustment, validateOnly bool) {
	a := rows[0]
	fail := func(code, msg string) {
		fmt.Fprintf(w, `{"partialFailureError":%s,"results":[{}],"jobId":"43"}`, partialFailure("conversion_adjustments", "conversionAdjustmentUploadError", code, msg))
	}
	at, err := time.Parse(googleTimeForm, a.AdjustmentDateTime)
	if err != nil {
		rpcError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "dateError", "INVALID_FIELD_VALUES_IN_DATE_TIME", "adjustment_date_time: "+err.Error(), "")
		return
	}
	conv, found := f.accepted[a.OrderID]
	convAt, _ := time.Parse(googleTimeForm, conv.ConversionDateTime)
	switch {
	case a.AdjustmentType != "RESTATEMENT" && a.AdjustmentType != "RETRACTION":
		rpcError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "fieldError", "INVALID_VALUE", "adjustment_type", "")
	case a.AdjustmentType == "RESTATEMENT" && a.RestatementValue == nil,
		a.AdjustmentType == "RETRACTION" && a.RestatementValue != nil:
		rpcError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "fieldError", "INVALID_VALUE", "restatement_value is required for restatements and refused for retractions", "")
	case !found || a.ConversionAction != conv.ConversionAction:
		fail("CONVERSION_NOT_FOUND", "The conversion for this conversion action and conversion identifier can't be found.")
	case f.now().Sub(convAt) < 24*time.Hour:
		fail("TOO_RECENT_CONVERSION", "Try adjusting a conversion that occurred at least 24 hours ago.")
	case at.Before(convAt):
		fail("ADJUSTMENT_PRECEDES_CONVERSION", "Adjustment has an adjustment_date_time that occurred before the associated conversion.")
	case f.retracted[a.OrderID]:
		fail("CONVERSION_ALREADY_RETRACTED", "The conversion was already retracted. This adjustment was not processed.")
	case f.adjustTimes[a.OrderID].Equal(at):
		fail("RESTATEMENT_ALREADY_EXISTS", "The conversion has prior a restatement with the same adjustment_date_time.")
	case f.adjustTimes[a.OrderID].After(at):
		fail("MORE_RECENT_RESTATEMENT_FOUND", "More recent adjustment adjustment_date_time has already been reported.")
	case validateOnly:
		fmt.Fprint(w, `{"jobId":"43"}`)
	default:
		f.adjustments = append(f.adjustments, a)
		f.adjustTimes[a.OrderID] = at
		f.retracted[a.OrderID] = a.AdjustmentType == "RETRACTION"
		fmt.Fprintf(w, `{"results":[{"orderId":%q,"conversionAction":%q,"adjustmentDateTime":%q,"adjustmentType":%q}],"jobId":"43"}`,
			a.OrderID, a.ConversionAction, a.AdjustmentDateTime, a.AdjustmentType)
	}
}

// searchClick is a row of click_view: a click and its keyword, if any.
type searchClick struct{ gclid, text, match string }

// searchCall is a search as the stand-in received it.
type searchCall struct {
	header    http.Header
	query     string
	pageToken string
}

var singleDay = regexp.MustCompile(`^SELECT (.+) FROM click_view WHERE segments\.date = '([0-9]{4}-[0-9]{2}-[0-9]{2})'$`)

func (f *fakeAds) search(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	body, ok := decode[map[string]json.RawMessage](w, r)
	if !ok {
		return
	}
	var query, pageToken string
	_ = json.Unmarshal(body["query"], &query)
	_ = json.Unmarshal(body["pageToken"], &pageToken)
	f.searchCalls = append(f.searchCalls, searchCall{header: r.Header.Clone(), query: query, pageToken: pageToken})
	if !f.authorized(w, r, r.PathValue("customer")) {
		return
	}
	if body["pageSize"] != nil {
		rpcError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "requestError", "PAGE_SIZE_NOT_SUPPORTED", "pageSize is not supported", "")
		return
	}
	m := singleDay.FindStringSubmatch(query)
	if m == nil {
		rpcError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "clickViewError", "EXPECTED_FILTER_ON_A_SINGLE_DAY", "Missing filter on a single day.", "")
		return
	}
	date := m[2]
	if f.tooOld[date] {
		rpcError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "clickViewError", "DATE_TOO_OLD", "The requested date is too old.", "")
		return
	}
	start := 0
	if pageToken != "" {
		n, err := strconv.Atoi(pageToken)
		if err != nil || n <= 0 || n > len(f.clickViews[date]) {
			rpcError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "requestError", "INVALID_PAGE_TOKEN", "Page token is invalid.", "")
			return
		}
		start = n
	}
	clicks := f.clickViews[date]
	end := min(start+f.searchPage, len(clicks))
	type kw struct {
		Text      string `json:"text,omitempty"`
		MatchType string `json:"matchType,omitempty"`
	}
	type cv struct {
		ResourceName string `json:"resourceName"`
		GCLID        string `json:"gclid"`
		Keyword      string `json:"keyword,omitempty"`
		KeywordInfo  *kw    `json:"keywordInfo,omitempty"`
	}
	type row struct {
		ClickView cv `json:"clickView"`
	}
	out := struct {
		Results       []row  `json:"results,omitempty"`
		NextPageToken string `json:"nextPageToken,omitempty"`
		FieldMask     string `json:"fieldMask"`
	}{FieldMask: "clickView.gclid,clickView.keyword,clickView.keywordInfo.text,clickView.keywordInfo.matchType"}
	for _, c := range clicks[start:end] {
		v := cv{ResourceName: "customers/" + fakeCustomer + "/clickViews/" + date + "~" + c.gclid, GCLID: c.gclid}
		if c.text != "" {
			v.Keyword = "customers/" + fakeCustomer + "/adGroupCriteria/111~222"
			v.KeywordInfo = &kw{Text: c.text, MatchType: c.match}
		}
		out.Results = append(out.Results, row{ClickView: v})
	}
	if end < len(clicks) {
		out.NextPageToken = strconv.Itoa(end)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

// searches returns a copy of the searches received.
func (f *fakeAds) searches() []searchCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.searchCalls)
}

func (f *fakeAds) snapshot() (accepted map[string]fakeClick, clicks []fakeClick, adjustments []fakeAdjustment, headers []http.Header) {
	f.mu.Lock()
	defer f.mu.Unlock()
	accepted = map[string]fakeClick{}
	for k, v := range f.accepted {
		accepted[k] = v
	}
	return accepted, append([]fakeClick(nil), f.clicks...), append([]fakeAdjustment(nil), f.adjustments...), append([]http.Header(nil), f.headers...)
}

// calls returns copies of the call rows received and of the call
// conversions accepted.
func (f *fakeAds) calls() (rows []fakeCall, accepted map[string]fakeCall) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.callRows), maps.Clone(f.acceptedCalls)
}

func (f *fakeAds) set(fn func(f *fakeAds)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}
