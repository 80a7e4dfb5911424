package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/dni"
	"github.com/attriqs/calltrack/store/memstore"
)

const browserUA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"

// startDemo serves the demo on a loopback test server.
func startDemo(t *testing.T) (*demo, *httptest.Server) {
	t.Helper()
	var d *demo
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { d.ServeHTTP(w, r) }))
	var err error
	d, err = newDemo(srv.URL, memstore.New(), t.TempDir(), time.Now, true)
	require.NoError(t, err)
	ran := make(chan error, 1)
	go func() { ran <- d.svc.Run(context.Background()) }() // as main runs it
	t.Cleanup(func() {
		srv.Close()
		_ = d.Close()
		require.NoError(t, <-ran)
	})
	return d, srv
}

func get(t *testing.T, url string) string {
	t.Helper()
	res, err := http.Get(url)
	require.NoError(t, err)
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	require.Equal(t, http.StatusOK, res.StatusCode, string(body))
	return string(body)
}

func TestDemoPages(t *testing.T) {
	d, srv := startDemo(t)
	start := get(t, srv.URL+"/")
	for _, a := range arrivals {
		assert.Contains(t, start, a.Label)
		assert.Contains(t, start, `href="`+strings.ReplaceAll(a.Href(), "&", "&amp;")+`"`, "links keep their tags unescaped")
	}
	for page := range pages {
		body := get(t, srv.URL+"/site/"+page)
		assert.Contains(t, body, d.svc.ScriptSrc(), "every page loads the tracker")
		assert.Contains(t, body, "data-attriqs-phone")
	}
	assert.Contains(t, get(t, srv.URL+"/flyer"), "(415) 555-0150")
	res, err := http.Get(srv.URL + "/site/nope")
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
}

// TestDemoCallShowsOnDashboard drives the demo as the tracker and a visitor
// would: a visit from Google Ads, a call to the number it was given, and the
// call credited to Paid Search on the dashboard.
func TestDemoCallShowsOnDashboard(t *testing.T) {
	d, srv := startDemo(t)
	visitAndCall(t, srv.URL, arrivals[0].Query, "(212) 555-0123", 90)
	require.NoError(t, d.Close(), "drain the call ingest")

	dash := get(t, srv.URL+"/dashboard")
	assert.Contains(t, dash, `<b id="kpi-calls">1</b>`)
	assert.Contains(t, dash, `<b id="kpi-revenue">$250.00</b>`)
	assert.Contains(t, dash, "Paid Search")
	assert.Contains(t, dash, "<svg", "charts are inline SVG")
	assert.NotContains(t, strings.ToLower(dash), "<script", "the dashboard needs no script")
	calls := get(t, srv.URL+"/dashboard/calls")
	assert.Contains(t, calls, "Paid Search · emergency-plumber")
	assert.Contains(t, calls, "exact")
	assert.Contains(t, get(t, srv.URL+"/dashboard/attribution"), "First touch", "models side by side")
}

// Every attribution column sums to the revenue card, the flyer's calls
// (a dedicated number, no session) included.
func TestEveryAttributionColumnSumsToTheRevenue(t *testing.T) {
	d, srv := startDemo(t)
	visitAndCall(t, srv.URL, arrivals[0].Query, "(212) 555-0123", 90)
	placeCall(t, srv.URL, callRequest{Number: flyerNumber, From: "+1 718 555 0188", TalkS: 75})
	placeCall(t, srv.URL, callRequest{Number: flyerNumber, From: "+1 718 555 0199", TalkS: 20})
	require.NoError(t, d.Close(), "drain the call ingest")

	assert.Contains(t, get(t, srv.URL+"/dashboard/"), `<b id="kpi-revenue">$500.00</b>`, "two booked jobs")
	rows, err := csv.NewReader(strings.NewReader(get(t, srv.URL+"/dashboard/attribution?format=csv"))).ReadAll()
	require.NoError(t, err)
	require.Greater(t, len(rows), 2)
	total := rows[len(rows)-1]
	require.Equal(t, "Total", total[0])
	for i, v := range total[1:] {
		assert.Equal(t, "$500.00", v, "the %s column", rows[0][i+1])
	}
}

// visitAndCall visits the demo site as the tracker would, with the given
// arrival tags, and calls the main-line number the visit was given.
func visitAndCall(t *testing.T, base, query, from string, talkS int) {
	t.Helper()
	visit, err := json.Marshal(dni.VisitRequest{URL: base + "/site/home?" + query})
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, base+"/dni/v1/visit", bytes.NewReader(visit))
	require.NoError(t, err)
	req.Header.Set("User-Agent", browserUA)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	var a dni.Assignment
	require.NoError(t, json.NewDecoder(res.Body).Decode(&a))
	res.Body.Close()
	require.NotEmpty(t, a.Swaps)
	require.Equal(t, mainLine, a.Swaps[0].Target)
	body := placeCall(t, base, callRequest{Number: a.Swaps[0].Display, From: from, TalkS: talkS})
	assert.Contains(t, body, "(415) 555-0100", "forwarded to the real line")
}

func placeCall(t *testing.T, base string, req callRequest) string {
	t.Helper()
	call, err := json.Marshal(req)
	require.NoError(t, err)
	res, err := http.Post(base+"/demo/call", "application/json", bytes.NewReader(call))
	require.NoError(t, err)
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode, string(body))
	return string(body)
}

func TestDemoCallRejectsBadInput(t *testing.T) {
	_, srv := startDemo(t)
	for body, want := range map[string]string{
		`{"number":"nope","from":"+12125550123","talk_s":10}`:         "number:",
		`{"number":"+14155550111","from":"x","talk_s":10}`:            "from:",
		`{"number":"+14155550111","from":"+12125550123","talk_s":-1}`: "talk_s",
		`not json`: "bad request",
	} {
		res, err := http.Post(srv.URL+"/demo/call", "application/json", strings.NewReader(body))
		require.NoError(t, err)
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		assert.Equal(t, http.StatusBadRequest, res.StatusCode)
		assert.Contains(t, string(b), want)
	}
}
