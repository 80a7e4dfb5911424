package meta_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// capi is a stand-in for the Conversions API's /{version}/{pixel}/events
// edge. It checks requests the way the API documents them (form fields
// data, access_token, test_event_code; the server event and customer
// information parameters, hashed ph, the 7-day event_time limit, 1,000
// events per request, one invalid event failing the whole request) and
// answers in the Graph API's shapes: {"events_received", "messages",
// "fbtrace_id"} or {"error": {message, type, code, error_subcode,
// error_user_title, error_user_msg, fbtrace_id}}. Deduplication by
// event_name and event_id happens after the answer, as at Meta: a
// duplicate is received (counted in events_received) and then dropped.
type capi struct {
	t       *testing.T
	srv     *httptest.Server
	version string
	pixel   string
	token   string
	now     func() time.Time

	mu       sync.Mutex
	requests int
	events   []map[string]any // every event received
	kept     []map[string]any // after deduplication
	seen     map[string]bool
	forms    []map[string][]string
	answers  []func(w http.ResponseWriter) // queued answers, served before checking
}

func newCAPI(t *testing.T, now func() time.Time) *capi {
	c := &capi{t: t, version: "v23.0", pixel: "1234567890", token: "EAAB-test-token", now: now, seen: map[string]bool{}}
	c.srv = httptest.NewServer(http.HandlerFunc(c.serve))
	t.Cleanup(c.srv.Close)
	return c
}

// answer queues an answer for the next request.
func (c *capi) answer(status int, header map[string]string, body string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.answers = append(c.answers, func(w http.ResponseWriter) {
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	})
}

func (c *capi) keptEvents() []map[string]any {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]map[string]any(nil), c.kept...)
}

func (c *capi) received() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.events)
}

func (c *capi) requestCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.requests
}

func graphError(w http.ResponseWriter, status int, typ string, code, subcode int, msg, title, userMsg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	e := map[string]any{"message": msg, "type": typ, "code": code, "fbtrace_id": "AbCdEfGhIjK"}
	if subcode != 0 {
		e["error_subcode"] = subcode
	}
	if title != "" {
		e["error_user_title"], e["error_user_msg"] = title, userMsg
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"error": e})
}

func invalid(w http.ResponseWriter, title, msg string) {
	graphError(w, http.StatusBadRequest, "OAuthException", 100, 0, "Invalid parameter", title, msg)
}

var (
	sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)
	fbcShape  = regexp.MustCompile(`^fb\.[0-9]\.[0-9]+\..+$`)
	fbpShape  = regexp.MustCompile(`^fb\.[0-9]\.[0-9]+\.[0-9]+$`)
)

// The server event and customer information parameters the API knows.
var (
	eventKeys = map[string]bool{"event_name": true, "event_time": true, "event_id": true, "event_source_url": true, "action_source": true,
		"opt_out": true, "user_data": true, "custom_data": true, "data_processing_options": true,
		"data_processing_options_country": true, "data_processing_options_state": true, "referrer_url": true}
	userKeys = map[string]bool{"em": true, "ph": true, "fn": true, "ln": true, "db": true, "ge": true, "ct": true, "st": true, "zp": true,
		"country": true, "external_id": true, "client_ip_address": true, "client_user_agent": true, "fbc": true, "fbp": true,
		"subscription_id": true, "fb_login_id": true, "lead_id": true}
	actionSources = map[string]bool{"email": true, "website": true, "app": true, "phone_call": true, "chat": true,
		"physical_store": true, "system_generated": true, "business_messaging": true, "other": true}
)

func (c *capi) serve(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.requests++
	if len(c.answers) > 0 {
		a := c.answers[0]
		c.answers = c.answers[1:]
		a(w)
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != "/"+c.version+"/"+c.pixel+"/events" {
		graphError(w, http.StatusBadRequest, "GraphMethodException", 100, 33,
			fmt.Sprintf("Unsupported %s request. Object with ID '%s' does not exist", r.Method, r.URL.Path), "", "")
		return
	}
	if err := r.ParseForm(); err != nil {
		invalid(w, "Malformed request", err.Error())
		return
	}
	c.forms = append(c.forms, r.PostForm)
	if len(r.URL.Query()) > 0 {
		c.t.Errorf("capi: query parameters %v: the token belongs in the body", r.URL.Query())
	}
	if r.PostForm.Get("access_token") != c.token {
		graphError(w, http.StatusBadRequest, "OAuthException", 190, 463,
			"Error validating access token: Session has expired on Monday, 02-Mar-26 09:00:00 PST.", "", "")
		return
	}
	var data []map[string]any
	dec := json.NewDecoder(strings.NewReader(r.PostForm.Get("data")))
	dec.UseNumber()
	if err := dec.Decode(&data); err != nil {
		invalid(w, "Invalid data", "data must be a JSON array of events: "+err.Error())
		return
	}
	if len(data) == 0 || len(data) > 1000 {
		invalid(w, "Invalid data", fmt.Sprintf("data must hold 1 to 1000 events, not %d", len(data)))
		return
	}
	for i, ev := range data {
		if msg := c.check(ev); msg != "" {
			// One invalid event fails the whole request.
			invalid(w, "Invalid event", fmt.Sprintf("event %d: %s", i, msg))
			return
		}
	}
	for _, ev := range data {
		c.events = append(c.events, ev)
		key := fmt.Sprint(ev["event_name"], "\x00", ev["event_id"])
		if !c.seen[key] {
			c.seen[key] = true
			c.kept = append(c.kept, ev)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"events_received": len(data), "messages": []string{}, "fbtrace_id": "AbCdEfGhIjK"})
}

// check returns why an event is invalid, or "".
func (c *capi) check(ev map[string]any) string {
	for k := range ev {
		if !eventKeys[k] {
			return "unknown parameter " + k
		}
	}
	if name, _ := ev["event_name"].(string); name == "" {
		return "event_name is required"
	}
	n, ok := ev["event_time"].(json.Number)
	if !ok {
		return "event_time must be an integer"
	}
	sec, err := n.Int64()
	if err != nil {
		return "event_time must be an integer"
	}
	if c.now().Sub(time.Unix(sec, 0)) > 7*24*time.Hour {
		return "event_time is more than 7 days in the past"
	}
	if src, _ := ev["action_source"].(string); !actionSources[src] {
		return fmt.Sprintf("action_source %q is not allowed", ev["action_source"])
	}
	ud, ok := ev["user_data"].(map[string]any)
	if !ok || len(ud) == 0 {
		return "user_data is required"
	}
	if ev["action_source"] == "website" && (ev["event_source_url"] == nil || ud["client_user_agent"] == nil) {
		return "website events need event_source_url and client_user_agent"
	}
	for k, v := range ud {
		if !userKeys[k] {
			return "unknown user_data parameter " + k
		}
		switch k {
		case "ph", "external_id":
			list, ok := v.([]any)
			if !ok {
				return k + " must be an array"
			}
			for _, h := range list {
				if s, _ := h.(string); !sha256Hex.MatchString(s) {
					return k + " must be SHA-256 hashed (64 lowercase hex digits)"
				}
			}
		case "fbc":
			if s, _ := v.(string); !fbcShape.MatchString(s) {
				return "fbc must be fb.<subdomain>.<creation time>.<fbclid>"
			}
		case "fbp":
			if s, _ := v.(string); !fbpShape.MatchString(s) {
				return "fbp must be fb.<subdomain>.<creation time>.<random number>"
			}
		}
	}
	if cd, ok := ev["custom_data"].(map[string]any); ok {
		if v, ok := cd["value"].(json.Number); ok {
			if _, err := strconv.ParseFloat(string(v), 64); err != nil {
				return "custom_data.value must be a number"
			}
		} else if cd["value"] != nil {
			return "custom_data.value must be a number"
		}
		if cur, _ := cd["currency"].(string); len(cur) != 3 {
			return "custom_data.currency must be an ISO 4217 code"
		}
	}
	return ""
}

// eventJSON renders an event for comparison in tests.
func eventJSON(t *testing.T, ev map[string]any) string {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(ev); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(b.String())
}
