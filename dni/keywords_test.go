package dni_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/classify"
	"github.com/attriqs/calltrack/dni"
	"github.com/attriqs/calltrack/dni/dnitest"
	"github.com/attriqs/calltrack/export/googleadsapi"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/provider/fake"
	"github.com/attriqs/calltrack/report"
)

var _ dni.ClickKeywordSource = (*googleadsapi.Sink)(nil)

// clickKeywords is an ad platform's click report: keywords by day and
// click id, and the days it was asked for.
type clickKeywords struct {
	mu    sync.Mutex
	days  map[string]map[string]string
	fail  map[string]error
	asked []string
}

func (c *clickKeywords) ClickKeywords(_ context.Context, day time.Time) (map[string]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	date := day.Format(time.DateOnly)
	c.asked = append(c.asked, date)
	if err := c.fail[date]; err != nil {
		return nil, err
	}
	return c.days[date], nil
}

func (c *clickKeywords) askedDays() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.asked...)
}

func keywordHarness(t *testing.T, clk *dnitest.Clock) *dnitest.Harness {
	t.Helper()
	return dnitest.New(t, dnitest.Config{Clock: clk, DNI: dni.Config{
		Pools: []dni.Pool{
			{PoolConfig: pool.PoolConfig{Name: "paid-search", BusinessNumber: "+14155550000",
				Numbers: []string{"+14155550101", "+14155550102", "+14155550103", "+14155550104", "+14155550105"}},
				Serves: []string{string(classify.ChannelPaidSearch)}},
			{PoolConfig: pool.PoolConfig{Name: "main", Numbers: []string{"+14155550111", "+14155550112"}, BusinessNumber: "+14155550000"}},
		},
		Qualify: []journey.QualifyRule{{Name: "booked job", Value: 25000, Currency: "USD"}},
	}})
}

const adURL = "https://example-plumbing.com/emergency?utm_source=google&utm_medium=cpc&utm_campaign=spring"

// A visit from a Google Ads click with ads consent calls and qualifies;
// the platform's keyword of its gclid becomes the session's Term and the
// keyword report shows the call, its revenue and every model's credit
// under it. A Term the URL gave stays, a session without consent kept no
// gclid to look up, and a second run fills nothing.
func TestClickKeywordsReachTheKeywordReport(t *testing.T) {
	ctx := context.Background()
	h := keywordHarness(t, nil)
	consent := journey.AdIDs{Consent: true}

	paid := h.Visit(t, dni.VisitRequest{URL: adURL + "&gclid=gclid-paid", Referrer: "https://www.google.com/", AdIDs: consent})
	tagged := h.Visit(t, dni.VisitRequest{URL: adURL + "&utm_term=plumber+prices&gclid=gclid-tagged", Referrer: "https://www.google.com/", AdIDs: consent})
	noConsent := h.Visit(t, dni.VisitRequest{URL: adURL + "&gclid=gclid-private", Referrer: "https://www.google.com/"})
	unknown := h.Visit(t, dni.VisitRequest{URL: adURL + "&gclid=gclid-display", Referrer: "https://www.google.com/", AdIDs: consent})
	h.Advance(t, time.Minute)
	require.NotEmpty(t, paid.Swaps)
	h.Call(t, fake.Call{ID: "CA-kw", From: "+14155550123", To: paid.Swaps[0].Number, Answered: true, Duration: 2 * time.Minute})
	h.Advance(t, time.Minute)
	h.Close(t) // the call is recorded

	src := &clickKeywords{days: map[string]map[string]string{"2026-03-02": {
		"gclid-paid": "emergency plumber", "gclid-tagged": "plumber cost", "gclid-private": "private keyword",
	}}}
	from := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(0, 0, 1)
	n, err := h.Service.ApplyClickKeywords(ctx, from, to, src)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "only the consented click without a Term and with a keyword")
	assert.Equal(t, []string{"2026-03-02"}, src.askedDays(), "one question per day")

	st := h.Service.Store()
	sess, err := st.Session(ctx, paid.SessionID)
	require.NoError(t, err)
	assert.Equal(t, "emergency plumber", sess.Source.Term)
	for _, id := range []string{"session:" + paid.SessionID, journey.CallTouchpointID(fake.Name, "CA-kw")} {
		tp, err := st.Touchpoint(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, "emergency plumber", tp.Source.Term, id)
		assert.Equal(t, "gclid", tp.Source.ClickID.Param, id)
	}
	for id, want := range map[string]string{tagged.SessionID: "plumber prices", noConsent.SessionID: "", unknown.SessionID: ""} {
		s, err := st.Session(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, want, s.Source.Term, id)
	}

	rows, err := h.Service.Sources(ctx, from, to, report.DimKeyword)
	require.NoError(t, err)
	byKey := map[string]report.SourceRow{}
	for _, r := range rows {
		byKey[r.Key] = r
	}
	row, ok := byKey["emergency plumber"]
	require.True(t, ok, "rows: %+v", rows)
	assert.Equal(t, 1, row.Calls)
	assert.Equal(t, 1, row.QualifiedCalls)
	assert.Equal(t, int64(25000), row.Revenue)
	require.NotEmpty(t, row.Models)
	for _, m := range row.Models {
		assert.InDelta(t, 1, m.Conversions, 1e-9, m.Model)
		assert.Equal(t, int64(25000), m.Value, m.Model)
	}
	assert.NotContains(t, byKey, "plumber cost")
	assert.NotContains(t, byKey, "private keyword")

	n, err = h.Service.ApplyClickKeywords(ctx, from, to, src)
	require.NoError(t, err)
	assert.Zero(t, n, "idempotent")
	again, err := st.Session(ctx, paid.SessionID)
	require.NoError(t, err)
	assert.Equal(t, sess, again)
}

// Days are the account's: a session that starts twenty minutes after
// midnight in New York is looked up on its New York day and, when its
// click is not there, on the day before.
func TestClickKeywordsLookUpTheDayBeforeJustAfterMidnight(t *testing.T) {
	ctx := context.Background()
	ny, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	h := keywordHarness(t, dnitest.NewClock(time.Date(2026, 3, 3, 0, 20, 0, 0, ny)))
	a := h.Visit(t, dni.VisitRequest{URL: adURL + "&gclid=gclid-late", AdIDs: journey.AdIDs{Consent: true}})
	h.Close(t)

	src := &clickKeywords{days: map[string]map[string]string{"2026-03-02": {"gclid-late": "night plumber"}}}
	from := time.Date(2026, 3, 3, 0, 0, 0, 0, ny)
	n, err := h.Service.ApplyClickKeywords(ctx, from, from.AddDate(0, 0, 1), src)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Equal(t, []string{"2026-03-03", "2026-03-02"}, src.askedDays())
	sess, err := h.Service.Store().Session(ctx, a.SessionID)
	require.NoError(t, err)
	assert.Equal(t, "night plumber", sess.Source.Term)
}

func TestClickKeywordsErrorsNameTheDayAndTheFields(t *testing.T) {
	ctx := context.Background()
	h := keywordHarness(t, nil)
	h.Visit(t, dni.VisitRequest{URL: adURL + "&gclid=gclid-x", AdIDs: journey.AdIDs{Consent: true}})
	h.Close(t)
	from := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

	boom := errors.New("quota exhausted")
	_, err := h.Service.ApplyClickKeywords(ctx, from, from.AddDate(0, 0, 1), &clickKeywords{fail: map[string]error{"2026-03-02": boom}})
	require.ErrorIs(t, err, boom)
	assert.Contains(t, err.Error(), "2026-03-02")

	_, err = h.Service.ApplyClickKeywords(ctx, from, from, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "src is nil")
	assert.Contains(t, err.Error(), "is not after from")
}

// withdrawing is a click report during whose answer the visitor withdraws
// ads consent.
type withdrawing struct {
	clickKeywords
	withdraw func()
}

func (w *withdrawing) ClickKeywords(ctx context.Context, day time.Time) (map[string]string, error) {
	w.withdraw()
	return w.clickKeywords.ClickKeywords(ctx, day)
}

// A visitor who withdraws ads consent while the platform is asked keeps
// the withdrawal: the run writes back neither the click id nor a keyword
// of it, on the session or its touchpoint, nor on the session's form sent
// before, which the withdrawal leaves with its click.
func TestClickKeywordsLeaveAWithdrawalMadeMeanwhile(t *testing.T) {
	ctx := context.Background()
	clk := dnitest.NewClock(dnitest.Start)
	h := keywordHarness(t, clk)
	a := h.Visit(t, dni.VisitRequest{URL: adURL + "&gclid=gclid-w", AdIDs: journey.AdIDs{Consent: true}})
	h.Advance(t, time.Minute)
	require.NoError(t, h.Service.RecordForm(ctx, a.SessionID, dni.FormSubmission{ID: "f1", Name: "quote"}))
	day := clk.Now().Format(time.DateOnly)
	src := &withdrawing{clickKeywords: clickKeywords{days: map[string]map[string]string{day: {"gclid-w": "burst pipe"}}},
		withdraw: func() {
			h.Visit(t, dni.VisitRequest{VisitorID: a.VisitorID, SessionID: a.SessionID, URL: "https://example-plumbing.com/", AdsWithdrawn: true})
		}}
	from := clk.Now().Add(-time.Hour)
	n, err := h.Service.ApplyClickKeywords(ctx, from, from.Add(2*time.Hour), src)
	require.NoError(t, err)
	assert.Zero(t, n, "nothing filled")
	h.Close(t)
	sess, err := h.Service.Store().Session(ctx, a.SessionID)
	require.NoError(t, err)
	assert.Empty(t, sess.Source.ClickID.Value)
	assert.Empty(t, sess.Source.Term)
	tp, err := h.Service.Store().Touchpoint(ctx, "session:"+a.SessionID)
	require.NoError(t, err)
	assert.Empty(t, tp.Source.ClickID.Value, "the withdrawal stands on the touchpoint")
	assert.Empty(t, tp.Source.Term)
	form, err := h.Service.Store().Touchpoint(ctx, "form:"+a.SessionID+"/quote/id:f1")
	require.NoError(t, err)
	assert.Equal(t, "gclid-w", form.Source.ClickID.Value, "the withdrawal does not rewrite the form")
	assert.Empty(t, form.Source.Term, "the form gets no keyword of a withdrawn click")
}
