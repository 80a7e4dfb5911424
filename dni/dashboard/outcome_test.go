package dashboard_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// post sends the outcome form as a browser on the dashboard's own page
// would (same origin), or as another site would.
func (f *fixture) post(t *testing.T, path string, form url.Values, origin string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, f.srv.URL+path, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", origin)
	if origin == f.srv.URL {
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	} else {
		req.Header.Set("Sec-Fetch-Site", "cross-site")
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res, string(body)
}

func TestOutcomeFormSetsTheValueEverywhere(t *testing.T) {
	f := newFixture(t)
	f.journeyWithThreeCalls(t)
	require.NoError(t, f.svc.Close())
	page := f.get(t, "/dashboard/calls/fake/missed")
	assert.Contains(t, page, `action="/dashboard/calls/fake/missed/outcome"`)

	res, _ := f.post(t, "/dashboard/calls/fake/missed/outcome",
		url.Values{"status": {"won"}, "value": {"1,200.50"}, "currency": {"usd"}, "note": {"called back, booked"}}, f.srv.URL)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, "/dashboard/calls/fake/missed?saved=1", res.Header.Get("Location"))

	overview := f.get(t, "/dashboard/")
	assert.Equal(t, "2", kpi(t, overview, "kpi-qualified"))
	assert.Equal(t, "$1450.50", kpi(t, overview, "kpi-revenue"))
	rows := f.csv(t, "/dashboard/attribution?format=csv")
	for i, v := range rows[len(rows)-1][1:] {
		assert.Equal(t, "$1450.50", v, "the %s column", rows[0][i+1])
	}
	call := text(f.get(t, "/dashboard/calls/fake/missed?saved=1"))
	assert.Contains(t, call, "Saved")
	assert.Contains(t, call, "$1200.50")
	assert.Contains(t, f.get(t, "/dashboard/calls/fake/missed"), `value="called back, booked"`, "the form shows what was set")
}

func TestOutcomeFormRefusesAnotherOrigin(t *testing.T) {
	f := newFixture(t)
	f.journeyWithThreeCalls(t)
	require.NoError(t, f.svc.Close())
	res, _ := f.post(t, "/dashboard/calls/fake/missed/outcome",
		url.Values{"status": {"won"}, "value": {"999"}, "currency": {"USD"}}, "https://attacker.example")
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	assert.Equal(t, "1", kpi(t, f.get(t, "/dashboard/"), "kpi-qualified"), "nothing changed")
}

func TestOutcomeFormNamesItsMistakes(t *testing.T) {
	f := newFixture(t)
	f.journeyWithThreeCalls(t)
	require.NoError(t, f.svc.Close())
	for form, want := range map[string]string{
		"status=maybe&value=1&currency=USD":    "status &#34;maybe&#34;",
		"status=won&value=12.345&currency=USD": "value: &#34;12.345&#34;: at most 2 decimals",
		"status=won&value=abc&currency=USD":    "value: &#34;abc&#34;: not an amount",
		"status=won&value=1&currency=dollars":  "currency &#34;dollars&#34;",
	} {
		v, err := url.ParseQuery(form)
		require.NoError(t, err)
		res, body := f.post(t, "/dashboard/calls/fake/missed/outcome", v, f.srv.URL)
		assert.Equal(t, http.StatusBadRequest, res.StatusCode, form)
		assert.Contains(t, body, want, form)
		assert.Contains(t, body, "Not saved", form)
	}
	res, _ := f.post(t, "/dashboard/calls/fake/nope/outcome", url.Values{"status": {"won"}, "value": {"1"}, "currency": {"USD"}}, f.srv.URL)
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
	assert.Equal(t, "1", kpi(t, f.get(t, "/dashboard/"), "kpi-qualified"), "nothing changed")
}
