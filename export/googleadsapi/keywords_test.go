package googleadsapi_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/export"
	"github.com/attriqs/calltrack/export/googleadsapi"
	"github.com/attriqs/calltrack/journey"
)

// fixedNow sets the sink's clock to now.
func fixedNow(now time.Time) func(*googleadsapi.Config) {
	return func(c *googleadsapi.Config) { c.Now = func() time.Time { return now } }
}

var kwNow = time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC)

func TestClickViewsReadEveryPageOfOneDay(t *testing.T) {
	f := newFakeAds(t, newClock().now)
	f.clickViews["2026-03-02"] = []searchClick{
		{"gclid-a", "emergency plumber", "EXACT"},
		{"gclid-b", "", ""}, // a click from no keyword (Display)
		{"gclid-c", "boiler repair", "PHRASE"},
		{"gclid-d", "plumber near me", "BROAD"},
		{"gclid-e", "emergency plumber", "BROAD"},
	}
	f.clickViews["2026-03-01"] = []searchClick{{"gclid-z", "other day", "EXACT"}}
	s := newSink(t, f, fixedNow(kwNow))

	views, err := s.ClickViews(context.Background(), time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	require.Len(t, views, 5)
	assert.Equal(t, googleadsapi.ClickView{GCLID: "gclid-a", Keyword: "emergency plumber", MatchType: "EXACT",
		Criterion: "customers/1234567890/adGroupCriteria/111~222"}, views[0])
	assert.Equal(t, googleadsapi.ClickView{GCLID: "gclid-b"}, views[1])

	calls := f.searches()
	require.Len(t, calls, 3, "five clicks in pages of two")
	for i, c := range calls {
		assert.Equal(t, "Bearer access-1", c.header.Get("Authorization"))
		assert.Equal(t, fakeDevToken, c.header.Get("developer-token"))
		assert.Equal(t, fakeLogin, c.header.Get("login-customer-id"))
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
	f := newFakeAds(t, newClock().now)
	ny, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	s := newSink(t, f, fixedNow(kwNow))
	// 23:30 in New York on March 1st is March 2nd in UTC: the day asked is
	// the account's, March 1st.
	_, err = s.ClickViews(context.Background(), time.Date(2026, 3, 1, 23, 30, 0, 0, ny))
	require.NoError(t, err)
	calls := f.searches()
	require.Len(t, calls, 1)
	assert.Equal(t, "2026-03-01", singleDay.FindStringSubmatch(calls[0].query)[2])
}

func TestClickViewsRefusesDaysGoogleDoesNotKeep(t *testing.T) {
	f := newFakeAds(t, newClock().now)
	s := newSink(t, f, fixedNow(kwNow))
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
	assert.Len(t, f.searches(), 1, "refused days are not asked")
}

func TestClickViewsErrorsAreGooglesClassed(t *testing.T) {
	f := newFakeAds(t, newClock().now)
	f.tooOld["2026-03-02"] = true
	s := newSink(t, f, fixedNow(kwNow))
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
	f := newFakeAds(t, newClock().now)
	f.clickViews["2026-03-02"] = []searchClick{{"gclid-a", "emergency plumber", "EXACT"}}
	s := newSink(t, f, fixedNow(kwNow))
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	_, err := s.ClickViews(context.Background(), day)
	require.NoError(t, err)

	f.set(func(f *fakeAds) { f.rejectNext = 1 })
	kws, err := s.ClickKeywords(context.Background(), day)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"gclid-a": "emergency plumber"}, kws)
	calls := f.searches()
	require.Len(t, calls, 3)
	assert.Equal(t, "Bearer access-2", calls[2].header.Get("Authorization"), "a new token after UNAUTHENTICATED")

	f.set(func(f *fakeAds) { f.rejectNext = 2 })
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
	f := newFakeAds(t, newClock().now)
	f.clickViews["2026-03-02"] = []searchClick{{"gclid-a", "emergency plumber", "EXACT"}}
	cfg := googleadsapi.Config{
		CustomerID: fakeCustomer, DeveloperToken: fakeDevToken, ReadOnly: true,
		ClientID: fakeClientID, ClientSecret: fakeSecret, RefreshToken: fakeRefresh,
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
	assert.Len(t, f.searches(), 1, "only the search; no upload")
	_, _, _, uploads := f.snapshot()
	assert.Empty(t, uploads, "no upload")

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
