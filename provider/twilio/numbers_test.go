package twilio_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/provider/twilio"
)

const accountSID = "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"

// Response bodies in the shape of Twilio's API reference examples for
// AvailablePhoneNumbers/Local and IncomingPhoneNumbers.
const (
	availableJSON = `{
  "available_phone_numbers": [
    {"address_requirements": "none", "beta": false,
     "capabilities": {"mms": true, "sms": false, "voice": true},
     "friendly_name": "(808) 925-1571", "iso_country": "US", "lata": "834",
     "latitude": "19.720000", "locality": "Hilo", "longitude": "-155.090000",
     "phone_number": "+18089251571", "postal_code": "96720",
     "rate_center": "HILO", "region": "HI"}
  ],
  "end": 1, "first_page_uri": null, "next_page_uri": null, "page": 0, "page_size": 50,
  "previous_page_uri": null, "start": 0,
  "uri": "/2010-04-01/Accounts/ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX/AvailablePhoneNumbers/US/Local.json?PageSize=1"
}`
	incomingJSON = `{
  "account_sid": "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", "address_requirements": "none",
  "api_version": "2010-04-01", "beta": false,
  "capabilities": {"voice": true, "sms": false, "mms": true, "fax": false},
  "date_created": "Thu, 30 Jul 2015 23:19:04 +0000", "date_updated": "Thu, 30 Jul 2015 23:19:04 +0000",
  "friendly_name": "(808) 925-1571", "phone_number": "+18089251571", "origin": "origin",
  "sid": "PNXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", "status_callback": "https://example.com/status",
  "status_callback_method": "POST", "voice_method": "POST", "voice_url": "https://example.com/voice",
  "uri": "/2010-04-01/Accounts/ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX/IncomingPhoneNumbers/PNXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX.json"
}`
	errorJSON = `{"code": 21422, "message": "PhoneNumber is not available", "more_info": "https://www.twilio.com/docs/errors/21422", "status": 400}`
)

func TestNumberClient(t *testing.T) {
	base := "/2010-04-01/Accounts/" + accountSID
	var gotForm map[string]string
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+base+"/AvailablePhoneNumbers/US/Local.json", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("AreaCode") != "808" || r.URL.Query().Get("PageSize") != "1" {
			http.Error(w, "bad query "+r.URL.RawQuery, http.StatusBadRequest)
			return
		}
		w.Write([]byte(availableJSON))
	})
	mux.HandleFunc("POST "+base+"/IncomingPhoneNumbers.json", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		gotForm = map[string]string{}
		for k := range r.PostForm {
			gotForm[k] = r.PostForm.Get(k)
		}
		if r.PostForm.Get("PhoneNumber") == "+15005550000" {
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(errorJSON))
			return
		}
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte(incomingJSON))
	})
	mux.HandleFunc("POST "+base+"/IncomingPhoneNumbers/{sid}", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		gotForm = map[string]string{"sid": strings.TrimSuffix(r.PathValue("sid"), ".json")}
		for k := range r.PostForm {
			gotForm[k] = r.PostForm.Get(k)
		}
		w.Write([]byte(incomingJSON))
	})
	// Two pages, in the shape of the IncomingPhoneNumbers list reference:
	// next_page_uri is rooted at the API host.
	mux.HandleFunc("GET "+base+"/IncomingPhoneNumbers.json", func(w http.ResponseWriter, r *http.Request) {
		entry := func(sid, number string) string {
			return `{"sid": "` + sid + `", "phone_number": "` + number + `", "date_created": "Thu, 30 Jul 2015 23:19:04 +0000"}`
		}
		if r.URL.Query().Get("PageToken") == "" {
			w.Write([]byte(`{"incoming_phone_numbers": [` + entry("PN1", "+18089250001") + `, ` + entry("PN2", "+18089250002") + `],
  "next_page_uri": "` + base + `/IncomingPhoneNumbers.json?PageSize=2&Page=1&PageToken=PAPN2", "page": 0, "page_size": 2}`))
			return
		}
		w.Write([]byte(`{"incoming_phone_numbers": [` + entry("PN3", "+18089250003") + `], "next_page_uri": null, "page": 1, "page_size": 2}`))
	})
	mux.HandleFunc("DELETE "+base+"/IncomingPhoneNumbers/{sid}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("sid") == "PNgone.json" {
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"code": 20404, "message": "The requested resource was not found", "status": 404}`))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != accountSID || p != "tok" {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"code": 20003, "message": "Authenticate", "status": 401}`))
			return
		}
		mux.ServeHTTP(w, r)
	}))
	defer srv.Close()
	c, err := twilio.NewNumberClient(twilio.NumberClientConfig{AccountSID: accountSID, AuthToken: "tok", APIBase: srv.URL, HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	t.Run("search", func(t *testing.T) {
		got, err := c.SearchNumbers(ctx, provider.NumberQuery{AreaCode: "808", Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0] != (provider.AvailableNumber{Number: "+18089251571", Locality: "Hilo", Region: "HI", Country: "US"}) {
			t.Fatalf("SearchNumbers = %+v", got)
		}
	})
	t.Run("buy points webhooks at us", func(t *testing.T) {
		got, err := c.BuyNumber(ctx, "+18089251571", provider.BuyOptions{VoiceURL: "https://example.com/voice", StatusCallbackURL: "https://example.com/status", FallbackTo: "+12125550123"})
		if err != nil {
			t.Fatal(err)
		}
		want := provider.OwnedNumber{ID: "PNXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", Number: "+18089251571", CreatedAt: time.Date(2015, 7, 30, 23, 19, 4, 0, time.UTC)}
		if got != want {
			t.Fatalf("BuyNumber = %+v, want %+v", got, want)
		}
		if gotForm["VoiceUrl"] != "https://example.com/voice" || gotForm["VoiceMethod"] != "POST" || gotForm["StatusCallback"] != "https://example.com/status" {
			t.Fatalf("form sent = %v", gotForm)
		}
		// No FallbackURL: Twilio's own static forward, the Forward twimlet.
		if gotForm["VoiceFallbackUrl"] != "https://twimlets.com/forward?PhoneNumber=%2B12125550123" || gotForm["VoiceFallbackMethod"] != "GET" {
			t.Fatalf("fail-safe sent = %q %q", gotForm["VoiceFallbackUrl"], gotForm["VoiceFallbackMethod"])
		}
	})
	t.Run("buy with a hosted fallback document", func(t *testing.T) {
		if _, err := c.BuyNumber(ctx, "+18089251571", provider.BuyOptions{VoiceURL: "https://example.com/voice", FallbackTo: "+12125550123", FallbackURL: "https://static.example.com/fallback.xml"}); err != nil {
			t.Fatal(err)
		}
		if gotForm["VoiceFallbackUrl"] != "https://static.example.com/fallback.xml" {
			t.Fatalf("fail-safe sent = %q", gotForm["VoiceFallbackUrl"])
		}
	})
	t.Run("buy without a fail-safe is refused before any request", func(t *testing.T) {
		gotForm = nil
		_, err := c.BuyNumber(ctx, "+18089251571", provider.BuyOptions{VoiceURL: "https://example.com/voice", FallbackURL: "not a url"})
		if !errors.Is(err, provider.ErrInvalidConfig) || !strings.Contains(err.Error(), "FallbackTo") || !strings.Contains(err.Error(), "FallbackURL") || gotForm != nil {
			t.Fatalf("err = %v (form sent %v)", err, gotForm)
		}
	})
	t.Run("configure sets webhooks and the fail-safe", func(t *testing.T) {
		gotForm = nil
		if err := c.ConfigureNumber(ctx, "PNXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", provider.BuyOptions{VoiceURL: "https://example.com/voice2", FallbackTo: "+12125550199"}); err != nil {
			t.Fatal(err)
		}
		if gotForm["sid"] != "PNXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX" || gotForm["VoiceUrl"] != "https://example.com/voice2" ||
			gotForm["VoiceFallbackUrl"] != "https://twimlets.com/forward?PhoneNumber=%2B12125550199" || gotForm["PhoneNumber"] != "" {
			t.Fatalf("form sent = %v", gotForm)
		}
		if err := c.ConfigureNumber(ctx, "PNXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", provider.BuyOptions{}); !errors.Is(err, provider.ErrInvalidConfig) {
			t.Fatalf("configure without FallbackTo: %v", err)
		}
	})
	t.Run("list follows next_page_uri", func(t *testing.T) {
		got, err := c.ListNumbers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 || got[0].ID != "PN1" || got[2].Number != "+18089250003" || !got[1].CreatedAt.Equal(time.Date(2015, 7, 30, 23, 19, 4, 0, time.UTC)) {
			t.Fatalf("ListNumbers = %+v", got)
		}
	})
	t.Run("buy failure is a typed API error", func(t *testing.T) {
		_, err := c.BuyNumber(ctx, "+15005550000", provider.BuyOptions{FallbackTo: "+12125550123"})
		var apiErr *twilio.APIError
		if !errors.As(err, &apiErr) || apiErr.Code != 21422 || apiErr.HTTPStatus != 400 {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("release", func(t *testing.T) {
		if err := c.ReleaseNumber(ctx, "PNXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("release of a number already gone is nil", func(t *testing.T) {
		if err := c.ReleaseNumber(ctx, "PNgone"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("wrong credentials", func(t *testing.T) {
		bad, _ := twilio.NewNumberClient(twilio.NumberClientConfig{AccountSID: accountSID, AuthToken: "nope", APIBase: srv.URL, HTTPClient: srv.Client()})
		_, err := bad.SearchNumbers(ctx, provider.NumberQuery{})
		var apiErr *twilio.APIError
		if !errors.As(err, &apiErr) || apiErr.HTTPStatus != 401 {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestNewNumberClientNamesMissingFields(t *testing.T) {
	_, err := twilio.NewNumberClient(twilio.NumberClientConfig{})
	if !errors.Is(err, provider.ErrInvalidConfig) || err == nil {
		t.Fatalf("err = %v", err)
	}
}
