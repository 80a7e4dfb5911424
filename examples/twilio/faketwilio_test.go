package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeTwilio plays the parts of Twilio's 2010-04-01 REST API this example
// uses, as Twilio documents them: AvailablePhoneNumbers/{Country}/Local
// (search), IncomingPhoneNumbers create (purchase), read with FriendlyName
// and paging, and update. Requests must carry the account's basic auth;
// errors are Twilio's JSON error documents.
type fakeTwilio struct {
	t        *testing.T
	sid      string
	token    string
	pageSize int // forced page size, to exercise next_page_uri

	mu        sync.Mutex
	forSale   []string // E.164 numbers on the market
	owned     []*ownedNumber
	purchases int
	updates   int
	requests  []string // method and path of every request
}

func newFakeTwilio(t *testing.T, sid, token string) (*fakeTwilio, *httptest.Server) {
	f := &fakeTwilio{t: t, sid: sid, token: token, pageSize: 2}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeTwilio) own(n ownedNumber) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n.SID == "" {
		n.SID = fmt.Sprintf("PN%032d", len(f.owned)+1)
	}
	f.owned = append(f.owned, &n)
}

func (f *fakeTwilio) snapshot() []ownedNumber {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]ownedNumber, len(f.owned))
	for i, n := range f.owned {
		out[i] = *n
	}
	return out
}

func (f *fakeTwilio) fail(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"code": code, "message": msg, "more_info": "https://www.twilio.com/docs/errors/" + strconv.Itoa(code), "status": status,
	})
}

func (f *fakeTwilio) reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeTwilio) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, r.Method+" "+r.URL.Path)
	user, pass, ok := r.BasicAuth()
	if !ok || user != f.sid || pass != f.token {
		f.fail(w, http.StatusUnauthorized, 20003, "Authenticate")
		return
	}
	account := "/2010-04-01/Accounts/" + f.sid
	rest, ok := strings.CutPrefix(r.URL.Path, account+"/")
	if !ok {
		f.fail(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
		return
	}
	if r.Method == http.MethodPost {
		if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
			f.fail(w, http.StatusBadRequest, 20001, "POST bodies are form encoded, got "+ct)
			return
		}
		if err := r.ParseForm(); err != nil {
			f.fail(w, http.StatusBadRequest, 20001, err.Error())
			return
		}
	}
	switch {
	case r.Method == http.MethodGet && rest == "AvailablePhoneNumbers/US/Local.json":
		f.search(w, r)
	case r.Method == http.MethodPost && rest == "IncomingPhoneNumbers.json":
		f.purchase(w, r)
	case r.Method == http.MethodGet && rest == "IncomingPhoneNumbers.json":
		f.read(w, r, account)
	case r.Method == http.MethodPost && strings.HasPrefix(rest, "IncomingPhoneNumbers/") && strings.HasSuffix(rest, ".json"):
		f.update(w, r, strings.TrimSuffix(strings.TrimPrefix(rest, "IncomingPhoneNumbers/"), ".json"))
	default:
		f.fail(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
	}
}

// search: GET …/AvailablePhoneNumbers/US/Local.json?AreaCode=415&VoiceEnabled=true&PageSize=N
func (f *fakeTwilio) search(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	area := q.Get("AreaCode")
	limit, _ := strconv.Atoi(q.Get("PageSize"))
	if limit <= 0 {
		limit = 50
	}
	list := []map[string]any{}
	for _, n := range f.forSale {
		if len(list) == limit || (area != "" && !strings.HasPrefix(n, "+1"+area)) {
			continue
		}
		list = append(list, map[string]any{
			"friendly_name": n, "phone_number": n, "locality": "San Francisco", "region": "CA", "iso_country": "US",
			"postal_code": "94105", "address_requirements": "none", "beta": false,
			"capabilities": map[string]bool{"voice": true, "SMS": true, "MMS": true},
		})
	}
	f.reply(w, http.StatusOK, map[string]any{"available_phone_numbers": list, "uri": r.URL.RequestURI()})
}

// purchase: POST …/IncomingPhoneNumbers.json with PhoneNumber, VoiceUrl,
// VoiceMethod, StatusCallback, StatusCallbackMethod, VoiceFallbackUrl,
// VoiceFallbackMethod, FriendlyName. Methods default to POST, as Twilio's do.
func (f *fakeTwilio) purchase(w http.ResponseWriter, r *http.Request) {
	number := r.PostForm.Get("PhoneNumber")
	i := slices.Index(f.forSale, number)
	if i < 0 {
		f.fail(w, http.StatusBadRequest, 21422, "PhoneNumber "+number+" is not available")
		return
	}
	f.forSale = slices.Delete(f.forSale, i, i+1)
	n := &ownedNumber{
		SID: fmt.Sprintf("PN%032d", len(f.owned)+1), PhoneNumber: number, FriendlyName: orDefault(r.PostForm.Get("FriendlyName"), number),
		VoiceURL: r.PostForm.Get("VoiceUrl"), VoiceMethod: orDefault(r.PostForm.Get("VoiceMethod"), "POST"),
		StatusCallback: r.PostForm.Get("StatusCallback"), StatusCallbackMethod: orDefault(r.PostForm.Get("StatusCallbackMethod"), "POST"),
		VoiceFallbackURL: r.PostForm.Get("VoiceFallbackUrl"), VoiceFallbackMethod: orDefault(r.PostForm.Get("VoiceFallbackMethod"), "POST"),
	}
	f.owned = append(f.owned, n)
	f.purchases++
	f.reply(w, http.StatusCreated, f.resource(n))
}

// read: GET …/IncomingPhoneNumbers.json?FriendlyName=…&PageSize=…&Page=…
func (f *fakeTwilio) read(w http.ResponseWriter, r *http.Request, account string) {
	q := r.URL.Query()
	var match []*ownedNumber
	for _, n := range f.owned {
		if name := q.Get("FriendlyName"); name == "" || n.FriendlyName == name {
			match = append(match, n)
		}
	}
	size := f.pageSize
	page, _ := strconv.Atoi(q.Get("Page"))
	lo, hi := min(page*size, len(match)), min((page+1)*size, len(match))
	list := []map[string]any{}
	for _, n := range match[lo:hi] {
		list = append(list, f.resource(n))
	}
	var next any // null on the last page
	if hi < len(match) {
		q.Set("Page", strconv.Itoa(page+1))
		q.Set("PageSize", strconv.Itoa(size))
		q.Set("PageToken", "PT"+strconv.Itoa(hi))
		next = account + "/IncomingPhoneNumbers.json?" + q.Encode()
	}
	f.reply(w, http.StatusOK, map[string]any{"incoming_phone_numbers": list, "next_page_uri": next, "page": page, "page_size": size})
}

// update: POST …/IncomingPhoneNumbers/{Sid}.json with the fields to change.
func (f *fakeTwilio) update(w http.ResponseWriter, r *http.Request, sid string) {
	i := slices.IndexFunc(f.owned, func(n *ownedNumber) bool { return n.SID == sid })
	if i < 0 {
		f.fail(w, http.StatusNotFound, 20404, "The requested resource IncomingPhoneNumbers/"+sid+" was not found")
		return
	}
	n := f.owned[i]
	set := func(field string, into *string) {
		if v, ok := r.PostForm[field]; ok {
			*into = v[0]
		}
	}
	set("VoiceUrl", &n.VoiceURL)
	set("VoiceMethod", &n.VoiceMethod)
	set("StatusCallback", &n.StatusCallback)
	set("StatusCallbackMethod", &n.StatusCallbackMethod)
	set("VoiceFallbackUrl", &n.VoiceFallbackURL)
	set("VoiceFallbackMethod", &n.VoiceFallbackMethod)
	set("FriendlyName", &n.FriendlyName)
	f.updates++
	f.reply(w, http.StatusOK, f.resource(n))
}

func (f *fakeTwilio) resource(n *ownedNumber) map[string]any {
	return map[string]any{
		"sid": n.SID, "account_sid": f.sid, "phone_number": n.PhoneNumber, "friendly_name": n.FriendlyName,
		"voice_url": n.VoiceURL, "voice_method": n.VoiceMethod, "status_callback": n.StatusCallback,
		"status_callback_method": n.StatusCallbackMethod, "voice_fallback_url": n.VoiceFallbackURL,
		"voice_fallback_method": n.VoiceFallbackMethod, "date_created": time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC).Format(time.RFC1123Z),
		"capabilities": map[string]bool{"voice": true, "sms": true, "mms": true},
		"uri":          "/2010-04-01/Accounts/" + f.sid + "/IncomingPhoneNumbers/" + n.SID + ".json",
	}
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
