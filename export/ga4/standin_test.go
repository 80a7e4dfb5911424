package ga4_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

// mpStandIn plays the Measurement Protocol as Google documents it
// (reference, sending-events#limitations, validating-events): POST
// /mp/collect answers 204 to anything it receives and keeps only the
// valid events; POST /debug/mp/collect keeps nothing and answers
// {"validationMessages": [{fieldPath, description, validationCode}]},
// empty when the request is valid. Its checks are written from the
// documentation, apart from the sink's own.
type mpStandIn struct {
	srv *httptest.Server

	mu       sync.Mutex
	received []mpBody // valid requests /mp/collect kept
	dropped  int      // invalid requests /mp/collect answered 2xx and dropped
	queries  []string // raw queries seen
	// fail, while non-empty, answers each request with its head instead.
	fail []failure
	// extra adds validation messages to the debug server's answer.
	extra []map[string]string
}

type failure struct {
	status     int
	retryAfter string
}

type mpBody struct {
	ClientID           string            `json:"client_id"`
	TimestampMicros    *int64            `json:"timestamp_micros"`
	NonPersonalizedAds bool              `json:"non_personalized_ads"`
	Consent            map[string]string `json:"consent"`
	Events             []mpEvent         `json:"events"`
}

type mpEvent struct {
	Name   string                     `json:"name"`
	Params map[string]json.RawMessage `json:"params"`
}

func newStandIn(t *testing.T) *mpStandIn {
	t.Helper()
	s := &mpStandIn{}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *mpStandIn) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.queries = append(s.queries, r.URL.RawQuery)
	if len(s.fail) > 0 {
		f := s.fail[0]
		s.fail = s.fail[1:]
		s.mu.Unlock()
		if f.retryAfter != "" {
			w.Header().Set("Retry-After", f.retryAfter)
		}
		http.Error(w, http.StatusText(f.status), f.status)
		return
	}
	s.mu.Unlock()
	if r.Method != http.MethodPost {
		http.Error(w, "the Measurement Protocol takes POST only", http.StatusMethodNotAllowed)
		return
	}
	raw, _ := io.ReadAll(r.Body)
	msgs := validateRequest(r, raw)
	switch r.URL.Path {
	case "/debug/mp/collect":
		s.mu.Lock()
		msgs = append(msgs, s.extra...)
		s.mu.Unlock()
		if msgs == nil {
			msgs = []map[string]string{}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"validationMessages": msgs})
	case "/mp/collect":
		var b mpBody
		err := json.Unmarshal(raw, &b)
		s.mu.Lock()
		if len(msgs) == 0 && err == nil {
			s.received = append(s.received, b)
		} else {
			s.dropped++
		}
		s.mu.Unlock()
		w.WriteHeader(http.StatusNoContent) // 2xx whatever the payload
	default:
		http.NotFound(w, r)
	}
}

func (s *mpStandIn) bodies() []mpBody {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]mpBody(nil), s.received...)
}

func (s *mpStandIn) failNext(f ...failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = append(s.fail, f...)
}

var (
	docName     = regexp.MustCompile(`^\pL[\pL\pN_]*$`)
	docClientID = regexp.MustCompile(`^[0-9]*[1-9][0-9]*\.[0-9]*[1-9][0-9]*$`)
)

// validateRequest returns the validation server's messages for a request,
// from the documented rules.
func validateRequest(r *http.Request, raw []byte) []map[string]string {
	var msgs []map[string]string
	add := func(path, code, desc string) {
		msgs = append(msgs, map[string]string{"fieldPath": path, "validationCode": code, "description": desc})
	}
	q := r.URL.Query()
	if q.Get("api_secret") == "" {
		add("api_secret", "VALUE_REQUIRED", "Unable to find non-empty parameter [api_secret] value in request.")
	}
	if q.Get("measurement_id") == "" {
		add("measurement_id", "VALUE_REQUIRED", "Unable to find non-empty parameter [measurement_id] value in request.")
	}
	if len(raw) >= 130_000 {
		add("#", "VALUE_OUT_OF_BOUNDS", "The post body must be smaller than 130kB.")
	}
	var body struct {
		ClientID        *string           `json:"client_id"`
		TimestampMicros json.Number       `json:"timestamp_micros"`
		Consent         map[string]string `json:"consent"`
		Events          []struct {
			Name   string         `json:"name"`
			Params map[string]any `json:"params"`
		} `json:"events"`
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(&body); err != nil {
		add("#", "VALUE_INVALID", "Unable to parse the request body: "+err.Error())
		return msgs
	}
	switch {
	case body.ClientID == nil || *body.ClientID == "":
		add("client_id", "VALUE_REQUIRED", "Measurement requires a client_id.")
	case !docClientID.MatchString(*body.ClientID):
		add("client_id", "VALUE_INVALID", "client_id must be two positive numbers joined by a period.")
	}
	if ts := body.TimestampMicros.String(); ts != "" && len(strings.TrimLeft(ts, "-")) < 16 {
		add("timestamp_micros", "VALUE_INVALID", "timestamp_micros is a Unix time in microseconds.")
	}
	for k, v := range body.Consent {
		if v != "GRANTED" && v != "DENIED" {
			add("consent."+k, "VALUE_INVALID", fmt.Sprintf("Consent [%s] must be GRANTED or DENIED.", k))
		}
	}
	if len(body.Events) == 0 {
		add("events", "VALUE_REQUIRED", "Measurement requires at least one event.")
	}
	if len(body.Events) > 25 {
		add("events", "EXCEEDED_MAX_ENTITIES", "A request can have at most 25 events.")
	}
	reservedEvents := strings.Fields(`ad_activeview ad_click ad_exposure ad_query ad_reward adunit_exposure
		app_clear_data app_exception app_install app_remove app_store_refund app_update app_upgrade
		dynamic_link_app_open dynamic_link_app_update dynamic_link_first_open error firebase_campaign
		firebase_in_app_message_action firebase_in_app_message_dismiss firebase_in_app_message_impression
		first_open first_visit notification_dismiss notification_foreground notification_open
		notification_receive notification_send os_update session_start user_engagement
		ad_impression in_app_purchase screen_view`)
	reservedPrefix := func(name string) bool {
		for _, p := range []string{"_", "firebase_", "ga_", "google_", "gtag."} {
			if strings.HasPrefix(name, p) {
				return true
			}
		}
		return false
	}
	for i, ev := range body.Events {
		path := fmt.Sprintf("events[%d]", i)
		switch {
		case utf8.RuneCountInString(ev.Name) > 40:
			add(path+".name", "VALUE_OUT_OF_BOUNDS", "Event names must be 40 characters or fewer.")
		case reservedPrefix(ev.Name) || slices.Contains(reservedEvents, ev.Name):
			add(path+".name", "NAME_RESERVED", fmt.Sprintf("Event at index: [%d] has a reserved name [%s].", i, ev.Name))
		case !docName.MatchString(ev.Name):
			add(path+".name", "NAME_INVALID", fmt.Sprintf("Event at index: [%d] has invalid name [%s]. Names must start with an alphabetic character.", i, ev.Name))
		}
		if len(ev.Params) > 25 {
			add(path+".params", "EXCEEDED_MAX_ENTITIES", "Events can have at most 25 parameters.")
		}
		for k, v := range ev.Params {
			ppath := path + ".params." + k
			switch {
			case utf8.RuneCountInString(k) > 40:
				add(ppath, "VALUE_OUT_OF_BOUNDS", "Parameter names must be 40 characters or fewer.")
			case reservedPrefix(k) || k == "firebase_conversion":
				add(ppath, "NAME_RESERVED", fmt.Sprintf("Parameter name [%s] is reserved.", k))
			case !docName.MatchString(k):
				add(ppath, "NAME_INVALID", fmt.Sprintf("Parameter name [%s] is invalid.", k))
			}
			if s, ok := v.(string); ok && utf8.RuneCountInString(s) > 100 {
				add(ppath, "VALUE_OUT_OF_BOUNDS", "Parameter values must be 100 characters or fewer.")
			}
		}
	}
	return msgs
}
