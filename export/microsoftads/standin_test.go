package microsoftads_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/attriqs/calltrack/export/microsoftads"
)

// standIn follows the Campaign Management REST API's documented shapes
// for OfflineConversions/Apply and OfflineConversionAdjustments/Apply:
// headers, JSON bodies, PartialErrors per row, ApplicationFault answers
// for authentication and throttling.
type standIn struct {
	t   *testing.T
	srv *httptest.Server
	now time.Time

	mu          sync.Mutex
	tokens      map[string]bool // access token → still valid
	goal        string
	clicks      map[string]bool // known msclkids
	throttle    int             // answer the next n requests with 429 CallRateExceeded
	conversions []microsoftads.OfflineConversion
	adjustments []microsoftads.OfflineConversionAdjustment
	ignored     int // duplicates Microsoft ignores
	requests    int
	seen        map[string]bool
}

func newStandIn(t *testing.T, now time.Time) *standIn {
	s := &standIn{t: t, now: now, tokens: map[string]bool{"tok-1": true}, goal: "Qualified call",
		clicks: map[string]bool{"msclk-1": true}, seen: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /CampaignManagement/v13/OfflineConversions/Apply", s.apply)
	mux.HandleFunc("POST /CampaignManagement/v13/OfflineConversionAdjustments/Apply", s.adjust)
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)
	return s
}

func (s *standIn) fault(w http.ResponseWriter, status int, typ string, code int, symbolic, msg string) {
	f := microsoftads.ApplicationFault{Type: typ, TrackingId: "trk-1"}
	e := microsoftads.OperationError{Code: code, ErrorCode: symbolic, Message: msg}
	if typ == "AdApiFaultDetail" {
		f.Errors = []microsoftads.OperationError{e}
	} else {
		f.OperationErrors = []microsoftads.OperationError{e}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(f)
}

// authorize checks the documented headers; false when it has answered.
func (s *standIn) authorize(w http.ResponseWriter, r *http.Request) bool {
	s.requests++
	if s.throttle > 0 {
		s.throttle--
		w.Header().Set("Retry-After", "7")
		s.fault(w, http.StatusTooManyRequests, "AdApiFaultDetail", 117, "CallRateExceeded",
			"You have exceeded the number of calls that you are allowed to make in a minute.")
		return false
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	switch {
	case !ok || r.Header.Get("DeveloperToken") != "dev-token":
		s.fault(w, http.StatusUnauthorized, "AdApiFaultDetail", 105, "InvalidCredentials", "Authentication failed.")
		return false
	case !s.tokens[tok]:
		s.fault(w, http.StatusUnauthorized, "AdApiFaultDetail", 109, "AuthenticationTokenExpired", "Authentication token expired.")
		return false
	case r.Header.Get("CustomerId") != "111" || r.Header.Get("CustomerAccountId") != "222":
		s.fault(w, http.StatusBadRequest, "ApiFaultDetail", 106, "UserIsNotAuthorized", "The user does not represent the account.")
		return false
	case r.Header.Get("Content-Type") != "application/json":
		s.fault(w, http.StatusBadRequest, "ApiFaultDetail", 0, "InternalError", "want JSON")
		return false
	}
	return true
}

func (s *standIn) answer(w http.ResponseWriter, errs []microsoftads.BatchError) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"PartialErrors": errs})
}

func batchError(i, code int, symbolic, msg string) microsoftads.BatchError {
	return microsoftads.BatchError{Index: i, Code: code, ErrorCode: symbolic, Message: msg, Type: "BatchError"}
}

func (s *standIn) apply(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.authorize(w, r) {
		return
	}
	var req microsoftads.ApplyOfflineConversionsRequest
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || len(req.OfflineConversions) == 0 || len(req.OfflineConversions) > 1000 {
		s.fault(w, http.StatusBadRequest, "ApiFaultDetail", 5601, "OfflineConversionsNullOrEmpty", fmt.Sprint("bad body: ", err))
		return
	}
	var errs []microsoftads.BatchError
	for i, c := range req.OfflineConversions {
		at, err := time.Parse(time.RFC3339, c.ConversionTime)
		switch {
		case !s.clicks[c.MicrosoftClickId]:
			errs = append(errs, batchError(i, 5604, "OfflineConversionMicrosoftClickIdInvalid", "The Microsoft Click ID is invalid."))
		case c.ConversionName != s.goal:
			errs = append(errs, batchError(i, 5606, "OfflineConversionNameInvalid", "The conversion name is invalid."))
		case err != nil || at.Location() != time.UTC || at.Before(s.now.Add(-90*24*time.Hour)) || at.After(s.now):
			errs = append(errs, batchError(i, 5607, "OfflineConversionTimeInvalid", "The conversion time is invalid."))
		case c.ConversionValue != nil && *c.ConversionValue < 0:
			errs = append(errs, batchError(i, 5610, "OfflineConversionValueInvalid", "The conversion value is invalid."))
		case (c.ExternalAttributionCredit == nil) != (c.ExternalAttributionModel == ""):
			errs = append(errs, batchError(i, 0, "ExternalAttributionRequiredFieldEmpty", "One of the required external attribution fields is empty."))
		case c.ExternalAttributionCredit != nil && (*c.ExternalAttributionCredit <= 0 || *c.ExternalAttributionCredit > 1):
			errs = append(errs, batchError(i, 0, "ExternalAttributionCreditValueInvalid", "The external attribution credit value is invalid."))
		default:
			key := c.MicrosoftClickId + "|" + c.ConversionName + "|" + c.ConversionTime
			if s.seen[key] { // "the first instance will be used and the others will be ignored"
				s.ignored++
				continue
			}
			s.seen[key] = true
			s.conversions = append(s.conversions, c)
		}
	}
	s.answer(w, errs)
}

func (s *standIn) adjust(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.authorize(w, r) {
		return
	}
	var req microsoftads.ApplyOfflineConversionAdjustmentsRequest
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || len(req.OfflineConversionAdjustments) == 0 {
		s.fault(w, http.StatusBadRequest, "ApiFaultDetail", 5601, "OfflineConversionsNullOrEmpty", fmt.Sprint("bad body: ", err))
		return
	}
	var errs []microsoftads.BatchError
	for i, a := range req.OfflineConversionAdjustments {
		conv, err1 := time.Parse(time.RFC3339, a.ConversionTime)
		adj, err2 := time.Parse(time.RFC3339, a.AdjustmentTime)
		switch {
		case !s.clicks[a.MicrosoftClickId]:
			errs = append(errs, batchError(i, 5604, "OfflineConversionMicrosoftClickIdInvalid", "The Microsoft Click ID is invalid."))
		case a.ConversionName != s.goal:
			errs = append(errs, batchError(i, 5606, "OfflineConversionNameInvalid", "The conversion name is invalid."))
		case err1 != nil || err2 != nil:
			errs = append(errs, batchError(i, 5607, "OfflineConversionTimeInvalid", "The conversion time is invalid."))
		case adj.Before(conv):
			errs = append(errs, batchError(i, 5620, "OfflineConversionAdjustmentTimeEarlierThanConversionTime", "The offline conversion adjustment time is earlier than conversion time."))
		case a.AdjustmentType != "Restate" && a.AdjustmentType != "Retract":
			errs = append(errs, batchError(i, 5618, "OfflineConversionInvalidAdjustmentType", "The adjustment type for the offline conversion is invalid."))
		case a.AdjustmentType == "Restate" && a.AdjustmentValue == nil:
			errs = append(errs, batchError(i, 5625, "OfflineConversionAdjustmentValueRequired", "The adjustment value is required."))
		case a.AdjustmentType == "Retract" && a.AdjustmentValue != nil:
			errs = append(errs, batchError(i, 5624, "OfflineConversionAdjustmentValueNotExpected", "The adjustment value is not expected."))
		default:
			s.adjustments = append(s.adjustments, a)
		}
	}
	s.answer(w, errs)
}

func (s *standIn) accepted() ([]microsoftads.OfflineConversion, []microsoftads.OfflineConversionAdjustment) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]microsoftads.OfflineConversion(nil), s.conversions...), append([]microsoftads.OfflineConversionAdjustment(nil), s.adjustments...)
}

func (s *standIn) set(f func(*standIn)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

// newRawServer answers every request with status and body.
func newRawServer(t *testing.T, status int, body string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}
