package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/attriqs/calltrack/dni"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/pool"

	"github.com/attriqs/calltrack/internal/cli"
)

// googleAds stands in for Google's OAuth 2 token endpoint and for
// GoogleAdsService.Search over REST, in the shapes of
// export/googleadsapi's stand-in: POST /token with a refresh_token grant
// in the form, answered {access_token, expires_in, token_type} or
// {"error":"invalid_grant"}; POST /v26/customers/{id}/googleAds:search
// with {query, pageToken}, a click_view query filtered on one day,
// answered {results: [{clickView: {gclid, keyword, keywordInfo}}],
// nextPageToken} or {"error": google.rpc.Status with a GoogleAdsFailure}.
type googleAds struct {
	srv *httptest.Server

	mu     sync.Mutex
	clicks map[string][]adsClick // by date
	asked  []string              // the dates searched
	header http.Header           // of the last search
}

type adsClick struct{ gclid, keyword string }

const (
	adsCustomer = "1234567890"
	adsLogin    = "9876543210"
	adsDevToken = "dev-token"
	adsClientID = "client-id"
	adsSecret   = "client-secret"
	adsRefresh  = "refresh-1"
	adsAccess   = "access-1"
)

var clickViewDay = regexp.MustCompile(`^SELECT .+ FROM click_view WHERE segments\.date = '([0-9]{4}-[0-9]{2}-[0-9]{2})'$`)

func newGoogleAds(t *testing.T) *googleAds {
	g := &googleAds{clicks: map[string][]adsClick{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", g.token)
	mux.HandleFunc("POST /v26/customers/{customer}/googleAds:search", g.search)
	g.srv = httptest.NewServer(mux)
	t.Cleanup(g.srv.Close)
	return g
}

func (g *googleAds) token(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "refresh_token" ||
		r.PostForm.Get("client_id") != adsClientID || r.PostForm.Get("client_secret") != adsSecret || r.PostForm.Get("refresh_token") != adsRefresh {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":"invalid_grant"}`)
		return
	}
	fmt.Fprintf(w, `{"access_token":%q,"expires_in":3599,"token_type":"Bearer"}`, adsAccess)
}

func adsError(w http.ResponseWriter, code int, status, errType, errCode string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	fmt.Fprintf(w, `{"error":{"code":%d,"message":"Request is invalid.","status":%q,"details":[{"@type":"type.googleapis.com/google.ads.googleads.v26.errors.GoogleAdsFailure","errors":[{"errorCode":{%q:%q},"message":"refused"}],"requestId":"req-1"}]}}`,
		code, status, errType, errCode)
}

func (g *googleAds) search(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	var body struct {
		Query     string `json:"query"`
		PageToken string `json:"pageToken"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		adsError(w, 400, "INVALID_ARGUMENT", "requestError", "BAD_RESOURCE_ID")
		return
	}
	g.header = r.Header.Clone()
	switch {
	case r.Header.Get("Authorization") != "Bearer "+adsAccess:
		adsError(w, 401, "UNAUTHENTICATED", "authenticationError", "OAUTH_TOKEN_INVALID")
		return
	case r.Header.Get("developer-token") != adsDevToken:
		adsError(w, 401, "UNAUTHENTICATED", "authenticationError", "DEVELOPER_TOKEN_INVALID")
		return
	case r.PathValue("customer") != adsCustomer:
		adsError(w, 403, "PERMISSION_DENIED", "authorizationError", "USER_PERMISSION_DENIED")
		return
	}
	m := clickViewDay.FindStringSubmatch(body.Query)
	if m == nil {
		adsError(w, 400, "INVALID_ARGUMENT", "clickViewError", "EXPECTED_FILTER_ON_A_SINGLE_DAY")
		return
	}
	g.asked = append(g.asked, m[1])
	type row struct {
		ClickView struct {
			GCLID       string `json:"gclid"`
			Keyword     string `json:"keyword,omitempty"`
			KeywordInfo *struct {
				Text      string `json:"text"`
				MatchType string `json:"matchType"`
			} `json:"keywordInfo,omitempty"`
		} `json:"clickView"`
	}
	// One click a page, so the command follows nextPageToken.
	clicks := g.clicks[m[1]]
	i := 0
	if body.PageToken != "" {
		fmt.Sscan(body.PageToken, &i)
	}
	out := struct {
		Results       []row  `json:"results,omitempty"`
		NextPageToken string `json:"nextPageToken,omitempty"`
	}{}
	if i < len(clicks) {
		var rw row
		rw.ClickView.GCLID = clicks[i].gclid
		if clicks[i].keyword != "" {
			rw.ClickView.Keyword = "customers/" + adsCustomer + "/adGroupCriteria/111~222"
			rw.ClickView.KeywordInfo = &struct {
				Text      string `json:"text"`
				MatchType string `json:"matchType"`
			}{clicks[i].keyword, "EXACT"}
		}
		out.Results = []row{rw}
		if i+1 < len(clicks) {
			out.NextPageToken = fmt.Sprint(i + 1)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

func (g *googleAds) searched() ([]string, http.Header) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.asked...), g.header
}

// keywordVisits records visits through a dni.Service on a new SQLite
// store at the times given, each landing on url with ads consent as
// given and sending a form five minutes later, and returns the store's
// flag value. The pool "ads" serves them.
func keywordVisits(t *testing.T, visits []struct {
	at      time.Time
	url     string
	consent bool
}) string {
	t.Helper()
	ctx := context.Background()
	st, path := newSQLiteStore(t)
	defer st.Close()
	var now time.Time
	svc, err := dni.New(dni.Config{
		Pools: []dni.Pool{{PoolConfig: pool.PoolConfig{Name: "ads", Numbers: []string{"+14155550111", "+14155550112", "+14155550113"},
			BusinessNumber: "+14155550100"}}},
		VisitorKeys: [][]byte{[]byte("0123456789abcdef0123456789abcdef")},
	}, dni.WithStore(st), dni.WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range visits {
		now = v.at
		a, err := svc.Visit(ctx, dni.VisitRequest{URL: v.url, AdIDs: journey.AdIDs{Consent: v.consent}})
		if err != nil {
			t.Fatal(err)
		}
		now = v.at.Add(5 * time.Minute)
		if err := svc.RecordForm(ctx, a.SessionID, dni.FormSubmission{Name: "quote"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := svc.Close(); err != nil { // writes what was behind
		t.Fatal(err)
	}
	return "sqlite:" + path
}

// keywordEnv sets the secrets' environment variables, "" unsetting one.
func keywordEnv(t *testing.T, devToken, secret, refresh string) {
	t.Setenv(envDeveloperToken, devToken)
	t.Setenv(envClientSecret, secret)
	t.Setenv(envRefreshToken, refresh)
}

// keywordArgs is a keywords command line against g for storeURL, with
// extra flags after (a repeated flag's last value wins).
func keywordArgs(g *googleAds, storeURL string, extra ...string) []string {
	return append([]string{"keywords", "-store", storeURL, "-from", "2026-03-01", "-to", "2026-03-02", "-tz", "America/New_York",
		"-customer-id", "123-456-7890", "-login-customer-id", adsLogin, "-client-id", adsClientID,
		"-api-url", g.srv.URL, "-token-url", g.srv.URL + "/token"}, extra...)
}

// March 2nd, 10:00 in New York.
var keywordNow = time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)

// TestKeywordsFillsConsentedClicks runs keywords over a store with a
// consented gclid visit, one whose click had no keyword and one without
// consent (its click id is not kept), and wants the first filled, the
// count printed, the keyword in the dashboard's sources by keyword, and
// nothing more filled by a second run.
func TestKeywordsFillsConsentedClicks(t *testing.T) {
	g := newGoogleAds(t)
	g.clicks["2026-03-02"] = []adsClick{{"gclid-a", "emergency plumber"}, {"gclid-b", ""}, {"gclid-c", "boiler repair"}}
	storeURL := keywordVisits(t, []struct {
		at      time.Time
		url     string
		consent bool
	}{
		{keywordNow.Add(-2 * time.Hour), "https://plumber.example/?gclid=gclid-a", true},
		{keywordNow.Add(-90 * time.Minute), "https://plumber.example/?gclid=gclid-b", true},
		{keywordNow.Add(-time.Hour), "https://plumber.example/?gclid=gclid-c", false},
	})
	keywordEnv(t, adsDevToken, adsSecret, adsRefresh)
	clock := func() time.Time { return keywordNow }

	var out, errOut bytes.Buffer
	if err := runAt(keywordArgs(g, storeURL), &out, &errOut, clock); err != nil {
		t.Fatalf("keywords: %v\n%s", err, errOut.String())
	}
	if got, want := out.String(), "1 of the sessions of 2026-03-01 to 2026-03-02 (America/New_York) filled with their Google Ads click's keyword\n"; got != want {
		t.Errorf("output %q, want %q", got, want)
	}
	asked, header := g.searched()
	if got := strings.Join(asked, ","); got != "2026-03-02,2026-03-02,2026-03-02" {
		t.Errorf("searched %s, want the visits' day in New York, page after page", got)
	}
	if header.Get("developer-token") != adsDevToken || header.Get("login-customer-id") != adsLogin {
		t.Errorf("headers %v", header)
	}

	base := serveAt(t, serveOptions{store: storeURL, readOnly: true, now: clock})
	rows := getCSV(t, base+"/sources?format=csv&dim=keyword")
	forms := indexOf(rows[0], "Forms")
	found := false
	for _, r := range rows[1:] {
		if r[0] == "emergency plumber" {
			found = true
			if r[forms] != "1" {
				t.Errorf("the keyword's forms: %s, want 1 (the session's form carries the keyword)", r[forms])
			}
		}
		if r[0] == "boiler repair" {
			t.Errorf("the visit without consent got its click's keyword: %v", r)
		}
	}
	if !found {
		t.Errorf("no row of the keyword in the sources by keyword:\n%v", rows)
	}

	out.Reset()
	if err := runAt(keywordArgs(g, storeURL), &out, &errOut, clock); err != nil {
		t.Fatalf("keywords again: %v\n%s", err, errOut.String())
	}
	if !strings.HasPrefix(out.String(), "0 of the sessions") {
		t.Errorf("second run: %q, want nothing filled", out.String())
	}
}

// TestKeywordsMissingInputsAreOneUsageError: every missing flag and
// environment variable is named at once, as a usage error (exit 2).
func TestKeywordsMissingInputsAreOneUsageError(t *testing.T) {
	keywordEnv(t, "", "", "")
	var out, errOut bytes.Buffer
	err := runAt([]string{"keywords", "-from", "2026-03-01"}, &out, &errOut, func() time.Time { return keywordNow })
	if !errors.Is(err, cli.ErrUsage) {
		t.Fatalf("err %v, want a usage error", err)
	}
	for _, name := range []string{"-store", "-to", "-customer-id", "-client-id", envDeveloperToken, envClientSecret, envRefreshToken} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("%q does not name %s", err, name)
		}
	}
	if strings.Contains(err.Error(), "-from") || strings.Contains(err.Error(), "-login-customer-id") {
		t.Errorf("%q names a flag that was given or is optional", err)
	}
}

// TestKeywordsErrorsNameTheFlag: each bad input is refused naming the flag
// or environment variable at fault, before the store is written.
func TestKeywordsErrorsNameTheFlag(t *testing.T) {
	g := newGoogleAds(t)
	storeURL := keywordVisits(t, []struct {
		at      time.Time
		url     string
		consent bool
	}{{keywordNow.Add(-time.Hour), "https://plumber.example/?gclid=gclid-a", true}})
	for _, c := range []struct {
		name  string
		extra []string
		env   [3]string
		want  string
		usage bool
	}{
		{"time zone", []string{"-tz", "New York"}, [3]string{}, "-tz", false},
		{"day", []string{"-from", "1 March"}, [3]string{}, "-from", false},
		{"to before from", []string{"-from", "2026-03-02", "-to", "2026-03-01"}, [3]string{}, "-to", false},
		{"tomorrow", []string{"-to", "2026-03-03"}, [3]string{}, "-to", false},
		{"older than click_view", []string{"-from", "2025-12-02"}, [3]string{}, "-from", false},
		{"customer id", []string{"-customer-id", "12345"}, [3]string{}, "-customer-id", true},
		{"login customer id", []string{"-login-customer-id", "abc"}, [3]string{}, "-login-customer-id", true},
		{"refused refresh token", nil, [3]string{adsDevToken, adsSecret, "revoked"}, envRefreshToken, false},
		{"refused developer token", nil, [3]string{"other", adsSecret, adsRefresh}, envDeveloperToken, false},
		{"another account", []string{"-customer-id", "1112223333"}, [3]string{}, "-customer-id", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := c.env
			if env == [3]string{} {
				env = [3]string{adsDevToken, adsSecret, adsRefresh}
			}
			keywordEnv(t, env[0], env[1], env[2])
			var out, errOut bytes.Buffer
			err := runAt(keywordArgs(g, storeURL, c.extra...), &out, &errOut, func() time.Time { return keywordNow })
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want one naming %s", err, c.want)
			}
			if errors.Is(err, cli.ErrUsage) != c.usage {
				t.Errorf("usage error %v, want %v: %v", errors.Is(err, cli.ErrUsage), c.usage, err)
			}
		})
	}
	// The first day may be 89 days ago: its day before is Google's oldest.
	keywordEnv(t, adsDevToken, adsSecret, adsRefresh)
	var out, errOut bytes.Buffer
	if err := runAt(keywordArgs(g, storeURL, "-from", "2025-12-03"), &out, &errOut, func() time.Time { return keywordNow }); err != nil {
		t.Fatalf("from 89 days ago: %v", err)
	}
}

// TestKeywordsHelpNamesTheEnvironment: -h lists the secrets' variables.
func TestKeywordsHelpNamesTheEnvironment(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run([]string{"help", "keywords"}, &out, &errOut); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("err %v, want flag.ErrHelp", err)
	}
	for _, want := range []string{"-customer-id", "-tz", envDeveloperToken, envClientSecret, envRefreshToken} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("help does not mention %s:\n%s", want, errOut.String())
		}
	}
}
