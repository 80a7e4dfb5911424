package googleadsapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/export"
	"github.com/attriqs/calltrack/export/googleadsapi"
	"github.com/attriqs/calltrack/journey"
)

// searchAds stands in for GoogleAdsService.Search over REST as Google
// documents it: POST /{version}/customers/{customerId}/googleAds:search
// with {query, pageToken}, answered {results, nextPageToken, fieldMask}
// with no nextPageToken on the last page; pageSize is refused
// (PAGE_SIZE_NOT_SUPPORTED); click_view needs a filter on a single day
// (clickViewError EXPECTED_FILTER_ON_A_SINGLE_DAY) no older than 90 days
// (DATE_TOO_OLD); errors are {"error": google.rpc.Status} with a
// GoogleAdsFailure in details. It also stands in for the token endpoint.
type searchAds struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	access   string
	issued   int
	pageSize int
	clicks   map[string][]searchClick // by date
	tooOld   map[string]bool          // dates Google answers DATE_TOO_OLD
	reject   int                      // answer this many searches UNAUTHENTICATED
	requests []searchCall
}

type searchClick struct{ gclid, text, match string }

type searchCall struct {
	header    http.Header
	query     string
	pageToken string
}

const (
	kwCustomer = "1234567890"
	kwLogin    = "9876543210"
	kwDevToken = "dev-token"
	kwID       = "client-id"
	kwSecret   = "client-secret"
	kwRefresh  = "refresh-1"
)

var singleDay = regexp.MustCompile(`^SELECT (.+) FROM click_view WHERE segments\.date = '([0-9]{4}-[0-9]{2}-[0-9]{2})'$`)

func newSearchAds(t *testing.T) *searchAds {
	f := &searchAds{t: t, pageSize: 2, clicks: map[string][]searchClick{}, tooOld: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", f.token)
	mux.HandleFunc("POST /v26/customers/{customer}/googleAds:search", f.search)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *searchAds) token(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "refresh_token" ||
		r.PostForm.Get("client_id") != kwID || r.PostForm.Get("client_secret") != kwSecret || r.PostForm.Get("refresh_token") != kwRefresh {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":"invalid_grant"}`)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.issued++
	f.access = fmt.Sprintf("access-%d", f.issued)
	fmt.Fprintf(w, `{"access_token":%q,"expires_in":3599,"token_type":"Bearer"}`, f.access)
}

// searchError answers as Google does: an HTTP status and a google.rpc.Status
// whose details hold a GoogleAdsFailure.
func searchError(w http.ResponseWriter, code int, status, errType, errCode, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	fmt.Fprintf(w, `{"error":{"code":%d,"message":"Request contains an invalid argument.","status":%q,"details":[{"@type":"type.googleapis.com/google.ads.googleads.v26.errors.GoogleAdsFailure","errors":[{"errorCode":{%q:%q},"message":%q}],"requestId":"req-1"}]}}`,
		code, status, errType, errCode, msg)
}

func (f *searchAds) search(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var body map[string]json.RawMessage
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		searchError(w, 400, "INVALID_ARGUMENT", "requestError", "BAD_RESOURCE_ID", "not JSON")
		return
	}
	var query, pageToken string
	_ = json.Unmarshal(body["query"], &query)
	_ = json.Unmarshal(body["pageToken"], &pageToken)
	f.requests = append(f.requests, searchCall{header: r.Header.Clone(), query: query, pageToken: pageToken})
	switch {
	case r.Header.Get("Authorization") != "Bearer "+f.access || f.reject > 0:
		f.reject = max(f.reject-1, 0)
		searchError(w, 401, "UNAUTHENTICATED", "authenticationError", "OAUTH_TOKEN_EXPIRED", "token expired")
		return
	case r.Header.Get("developer-token") != kwDevToken:
		searchError(w, 401, "UNAUTHENTICATED", "authenticationError", "DEVELOPER_TOKEN_INVALID", "bad developer token")
		return
	case r.PathValue("customer") != kwCustomer:
		searchError(w, 400, "INVALID_ARGUMENT", "requestError", "INVALID_CUSTOMER_ID", "bad customer id")
		return
	case body["pageSize"] != nil:
		searchError(w, 400, "INVALID_ARGUMENT", "requestError", "PAGE_SIZE_NOT_SUPPORTED", "pageSize is not supported")
		return
	}
	m := singleDay.FindStringSubmatch(query)
	if m == nil {
		searchError(w, 400, "INVALID_ARGUMENT", "clickViewError", "EXPECTED_FILTER_ON_A_SINGLE_DAY", "Missing filter on a single day.")
		return
	}
	date := m[2]
	if f.tooOld[date] {
		searchError(w, 400, "INVALID_ARGUMENT", "clickViewError", "DATE_TOO_OLD", "The requested date is too old.")
		return
	}
	start := 0
	if pageToken != "" {
		n, err := strconv.Atoi(pageToken)
		if err != nil || n <= 0 || n > len(f.clicks[date]) {
			searchError(w, 400, "INVALID_ARGUMENT", "requestError", "INVALID_PAGE_TOKEN", "Page token is invalid.")
			return
		}
		start = n
	}
	clicks := f.clicks[date]
	end := min(start+f.pageSize, len(clicks))
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
		v := cv{ResourceName: "customers/" + kwCustomer + "/clickViews/" + date + "~" + c.gclid, GCLID: c.gclid}
		if c.text != "" {
			v.Keyword = "customers/" + kwCustomer + "/adGroupCriteria/111~222"
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

func (f *searchAds) calls() []searchCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]searchCall(nil), f.requests...)
}

func newKeywordSink(t *testing.T, f *searchAds, now time.Time) *googleadsapi.Sink {
	t.Helper()
	s, err := googleadsapi.New(googleadsapi.Config{
		CustomerID: "123-456-7890", LoginCustomerID: kwLogin, DeveloperToken: kwDevToken,
		ConversionAction: "customers/1234567890/conversionActions/555",
		ClientID:         kwID, ClientSecret: kwSecret, RefreshToken: kwRefresh,
		BaseURL: f.srv.URL, TokenURL: f.srv.URL + "/token", Now: func() time.Time { return now },
	})
	require.NoError(t, err)
	return s
}

var kwNow = time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC)

func TestClickViewsReadEveryPageOfOneDay(t *testing.T) {
	f := newSearchAds(t)
	f.clicks["2026-03-02"] = []searchClick{
		{"gclid-a", "emergency plumber", "EXACT"},
		{"gclid-b", "", ""}, // a click from no keyword (Display)
		{"gclid-c", "boiler repair", "PHRASE"},
		{"gclid-d", "plumber near me", "BROAD"},
		{"gclid-e", "emergency plumber", "BROAD"},
	}
	f.clicks["2026-03-01"] = []searchClick{{"gclid-z", "other day", "EXACT"}}
	s := newKeywordSink(t, f, kwNow)

	views, err := s.ClickViews(context.Background(), time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	require.Len(t, views, 5)
	assert.Equal(t, googleadsapi.ClickView{GCLID: "gclid-a", Keyword: "emergency plumber", MatchType: "EXACT",
		Criterion: "customers/1234567890/adGroupCriteria/111~222"}, views[0])
	assert.Equal(t, googleadsapi.ClickView{GCLID: "gclid-b"}, views[1])

	calls := f.calls()
	require.Len(t, calls, 3, "five clicks in pages of two")
	for i, c := range calls {
		assert.Equal(t, "Bearer access-1", c.header.Get("Authorization"))
		assert.Equal(t, kwDevToken, c.header.Get("developer-token"))
		assert.Equal(t, kwLogin, c.header.Get("login-customer-id"))
		assert.Equal(t, "application/json", c.header.Get("Content-Type"))
		m := singleDay.FindStringSubmatch(c.query)
		require.NotNil(t, m, "query %q filters one day", c.query)
		assert.Equal(t, "2026-03-02", m[2])
		assert.Equal(t, "click_view.gclid, click_view.keyword, click_view.keyword_info.text, click_view.keyword_info.match_type", m[1])
		assert.Equal(t, []string{"", "2", "4"}[i], c.pageToken)
	}

	kws, err := s.ClickKeywords(context.Background(), time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"gclid-a": "emergency plumber", "gclid-c": "boiler repair",
		"gclid-d": "plumber near me", "gclid-e": "emergency plumber"}, kws, "clicks without a keyword are left out")
}

func TestClickViewsDateIsTheDaysOwnCalendarDate(t *testing.T) {
	f := newSearchAds(t)
	ny, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	s := newKeywordSink(t, f, kwNow)
	// 23:30 in New York on March 1st is March 2nd in UTC: the day asked is
	// the account's, March 1st.
	_, err = s.ClickViews(context.Background(), time.Date(2026, 3, 1, 23, 30, 0, 0, ny))
	require.NoError(t, err)
	calls := f.calls()
	require.Len(t, calls, 1)
	assert.Equal(t, "2026-03-01", singleDay.FindStringSubmatch(calls[0].query)[2])
}

func TestClickViewsRefusesDaysGoogleDoesNotKeep(t *testing.T) {
	f := newSearchAds(t)
	s := newKeywordSink(t, f, kwNow)
	for name, day := range map[string]time.Time{
		"more than 90 days ago": kwNow.AddDate(0, 0, -googleadsapi.ClickViewDays-1),
		"tomorrow":              kwNow.AddDate(0, 0, 1),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := s.ClickViews(context.Background(), day)
			require.Error(t, err)
			assert.Contains(t, err.Error(), day.Format(time.DateOnly))
		})
	}
	_, err := s.ClickViews(context.Background(), kwNow.AddDate(0, 0, -googleadsapi.ClickViewDays))
	require.NoError(t, err, "90 days ago is kept")
	assert.Len(t, f.calls(), 1, "refused days are not asked")
}

func TestClickViewsErrorsAreGooglesClassed(t *testing.T) {
	f := newSearchAds(t)
	f.tooOld["2026-03-02"] = true
	s := newKeywordSink(t, f, kwNow)
	_, err := s.ClickViews(context.Background(), time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC))
	var ae *googleadsapi.Error
	require.True(t, errors.As(err, &ae), "%v", err)
	assert.Equal(t, http.StatusBadRequest, ae.StatusCode)
	assert.Equal(t, "INVALID_ARGUMENT", ae.Status)
	assert.True(t, ae.Has("DATE_TOO_OLD"))
	assert.Equal(t, "req-1", ae.RequestID)
	assert.True(t, export.IsPermanent(err))
	assert.Contains(t, err.Error(), "search click_view")
}

func TestClickViewsRefreshAnExpiredTokenOnce(t *testing.T) {
	f := newSearchAds(t)
	f.clicks["2026-03-02"] = []searchClick{{"gclid-a", "emergency plumber", "EXACT"}}
	s := newKeywordSink(t, f, kwNow)
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	_, err := s.ClickViews(context.Background(), day)
	require.NoError(t, err)

	f.mu.Lock()
	f.reject = 1
	f.mu.Unlock()
	kws, err := s.ClickKeywords(context.Background(), day)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"gclid-a": "emergency plumber"}, kws)
	calls := f.calls()
	require.Len(t, calls, 3)
	assert.Equal(t, "Bearer access-2", calls[2].header.Get("Authorization"), "a new token after UNAUTHENTICATED")

	f.mu.Lock()
	f.reject = 2
	f.mu.Unlock()
	_, err = s.ClickViews(context.Background(), day)
	var ae *googleadsapi.Error
	require.True(t, errors.As(err, &ae), "%v", err)
	assert.Equal(t, "UNAUTHENTICATED", ae.Status)
	assert.False(t, ae.Permanent(), "fixed credentials let a later try through")
}

// TestReadOnlySinkReadsKeywordsAndUploadsNothing: Config.ReadOnly needs no
// conversion action, reads click_view as any sink does, accepts nothing
// and refuses every message as permanent; upload settings with it are
// refused by name.
func TestReadOnlySinkReadsKeywordsAndUploadsNothing(t *testing.T) {
	f := newSearchAds(t)
	f.clicks["2026-03-02"] = []searchClick{{"gclid-a", "emergency plumber", "EXACT"}}
	cfg := googleadsapi.Config{
		CustomerID: kwCustomer, DeveloperToken: kwDevToken, ReadOnly: true,
		ClientID: kwID, ClientSecret: kwSecret, RefreshToken: kwRefresh,
		BaseURL: f.srv.URL, TokenURL: f.srv.URL + "/token", Now: func() time.Time { return kwNow },
	}
	s, err := googleadsapi.New(cfg)
	require.NoError(t, err)
	kws, err := s.ClickKeywords(context.Background(), time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"gclid-a": "emergency plumber"}, kws)

	msg := conversion("call:fake/CA1", "gclid", "gclid-a", journey.AdIDs{Consent: true})
	assert.False(t, s.Accepts(msg.Event))
	err = s.Deliver(context.Background(), msg)
	require.Error(t, err)
	assert.True(t, export.IsPermanent(err))
	assert.Contains(t, err.Error(), "Config.ReadOnly")
	assert.Len(t, f.calls(), 1, "only the search; no upload")

	for name, set := range map[string]func(*googleadsapi.Config){
		"ConversionAction": func(c *googleadsapi.Config) { c.ConversionAction = "customers/1234567890/conversionActions/555" },
		"CallAssets": func(c *googleadsapi.Config) {
			c.CallAssets = googleadsapi.CallAssets{Numbers: []string{"+14155550101"},
				ConversionAction: "customers/1234567890/conversionActions/556", AdUserData: "GRANTED"}
		},
	} {
		t.Run(name, func(t *testing.T) {
			c := cfg
			set(&c)
			_, err := googleadsapi.New(c)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "Config.ReadOnly")
			assert.Contains(t, err.Error(), "Config."+name)
		})
	}
}
