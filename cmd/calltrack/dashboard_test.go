package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/attriqs/calltrack/chat"
	"github.com/attriqs/calltrack/dni"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/provider/fake"
	"github.com/attriqs/calltrack/report"
)

// leadAt is a visit at the first of times that then chats (a
// conversation with an event at each of times) or, without conv, sends a
// form at each of times.
type leadAt struct {
	conv  string
	times []time.Time
}

// callsAt records calls through a dni.Service on a new SQLite store, each
// answered for 90 s (a qualified call worth 250.00) unless its talk is
// zero, and the leads' visits, chats and forms, and returns the store's
// flag value. The pool "ads" has the numbers called.
func callsAt(t *testing.T, calls map[string]struct {
	at   time.Time
	talk time.Duration
}, leads ...leadAt) string {
	t.Helper()
	ctx := context.Background()
	st, path := newSQLiteStore(t)
	defer st.Close()
	var now time.Time
	clock := func() time.Time { return now }
	prov, err := fake.New(fake.Config{Secret: []byte("webhook secret"), Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := dni.New(dni.Config{
		Pools: []dni.Pool{{PoolConfig: pool.PoolConfig{Name: "ads", Numbers: []string{"+14155550111", "+14155550112"},
			BusinessNumber: "+14155550100"}}},
		Qualify:     []journey.QualifyRule{{Name: "booked job", MinTalk: time.Minute, Value: 25000, Currency: "USD"}},
		VisitorKeys: [][]byte{[]byte("0123456789abcdef0123456789abcdef")},
	}, dni.WithStore(st), dni.WithProvider(prov), dni.WithSpoolDir(t.TempDir()), dni.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	for id, c := range calls {
		now = c.at
		ev := provider.CallEvent{Provider: "fake", CallID: id, From: "+12125550123", To: "+14155550111",
			Status: provider.StatusNoAnswer, StartedAt: c.at.Add(-c.talk - 10*time.Second), EndedAt: c.at}
		if c.talk > 0 {
			ev.Status, ev.AnsweredAt, ev.Duration = provider.StatusCompleted, c.at.Add(-c.talk), c.talk
		}
		if err := svc.RecordCall(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	for i, l := range leads {
		now = l.times[0]
		a, err := svc.Visit(ctx, dni.VisitRequest{URL: "https://www.example.com/?utm_source=google&utm_medium=cpc", UserAgent: "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0"})
		if err != nil {
			t.Fatal(err)
		}
		for j, at := range l.times {
			now = at
			if l.conv == "" {
				err = svc.RecordForm(ctx, a.SessionID, dni.FormSubmission{ID: fmt.Sprintf("form-%d-%d", i, j), Name: "quote"})
			} else {
				typ := chat.Message
				if j == 0 {
					typ = chat.Started
				}
				err = svc.RecordChat(ctx, []chat.Event{{Platform: "tawk", Type: typ, ConversationID: l.conv, SessionID: a.SessionID, At: at}})
			}
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := svc.Close(); err != nil { // writes what was behind
		t.Fatal(err)
	}
	return "sqlite:" + path
}

// serveAt serves the dashboard over storeURL with the clock fixed at now
// and returns its address.
func serveAt(t *testing.T, o serveOptions) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var errOut bytes.Buffer
	o.addr = "127.0.0.1:0"
	srv, ln, closeAll, err := newServer(ctx, o, &errOut)
	if err != nil {
		cancel()
		t.Fatalf("newServer: %v\n%s", err, errOut.String())
	}
	done := make(chan error, 1)
	go func() { done <- serveUntil(ctx, srv, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve after cancel: %v", err)
		}
		closeAll()
	})
	return "http://" + ln.Addr().String()
}

func getPage(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d\n%s", url, resp.StatusCode, body)
	}
	return string(body)
}

func getCSV(t *testing.T, url string) [][]string {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(getPage(t, url))).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", url, err)
	}
	return rows
}

// kpi is the overview's figure of id.
func kpi(t *testing.T, page, id string) string {
	t.Helper()
	m := regexp.MustCompile(`id="` + id + `">([^<]*)<`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no %s in the page", id)
	}
	return m[1]
}

// TestSeriesEqualsTheDashboardAtThePeriodsEdges: the command line's series
// and the dashboard's overview read the same default period, the last 30
// UTC days to the start of tomorrow, so a call, chat or form late on the
// day before it or early on its first day is counted by both or neither,
// whatever the hour, and a chat once however many days it spans.
func TestSeriesEqualsTheDashboardAtThePeriodsEdges(t *testing.T) {
	now := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	storeURL := callsAt(t, map[string]struct {
		at   time.Time
		talk time.Duration
	}{
		"before":    {time.Date(2026, 2, 8, 22, 0, 0, 0, time.UTC), 90 * time.Second}, // the day before the period
		"first":     {time.Date(2026, 2, 9, 0, 30, 0, 0, time.UTC), 90 * time.Second},
		"missed":    {time.Date(2026, 2, 20, 12, 0, 0, 0, time.UTC), 0},
		"this-hour": {time.Date(2026, 3, 10, 8, 50, 0, 0, time.UTC), 90 * time.Second},
	},
		leadAt{conv: "before", times: []time.Time{time.Date(2026, 2, 8, 21, 0, 0, 0, time.UTC)}},
		// Started the day before the period, written in on its first day:
		// counted once, by its first event in the period.
		leadAt{conv: "edge", times: []time.Time{time.Date(2026, 2, 8, 23, 50, 0, 0, time.UTC), time.Date(2026, 2, 9, 0, 10, 0, 0, time.UTC)}},
		// Written in twice, on two days: one chat.
		leadAt{conv: "two-days", times: []time.Time{time.Date(2026, 2, 20, 23, 0, 0, 0, time.UTC), time.Date(2026, 2, 21, 1, 0, 0, 0, time.UTC)}},
		leadAt{conv: "this-hour", times: []time.Time{time.Date(2026, 3, 10, 8, 55, 0, 0, time.UTC)}},
		leadAt{times: []time.Time{time.Date(2026, 2, 8, 23, 30, 0, 0, time.UTC), time.Date(2026, 2, 9, 0, 40, 0, 0, time.UTC)}},
		leadAt{times: []time.Time{time.Date(2026, 3, 10, 8, 45, 0, 0, time.UTC)}},
	)
	clock := func() time.Time { return now }

	var out, errOut bytes.Buffer
	if err := runAt([]string{"series", "-store", storeURL}, &out, &errOut, clock); err != nil {
		t.Fatalf("series: %v\n%s", err, errOut.String())
	}
	rows, err := csv.NewReader(&out).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rows[1][0], "2026-02-09"; got != want {
		t.Errorf("the series starts on %s, want %s", got, want)
	}
	sum := func(metric string) int64 {
		col := indexOf(rows[0], metric)
		var s int64
		for _, r := range rows[1:] {
			s += parseMinor(t, r[col])
		}
		return s
	}

	config := filepath.Join(t.TempDir(), "pools.json")
	if err := os.WriteFile(config, []byte(`{"pools":[{"name":"ads","numbers":["+14155550111","+14155550112"]}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	base := serveAt(t, serveOptions{store: storeURL, config: config, readOnly: true, now: clock})
	overview := getPage(t, base+"/")
	for _, c := range []struct {
		id, metric string
		want       string
	}{
		{"kpi-calls", "calls", "3"},
		{"kpi-qualified", "qualified_calls", "2"},
		{"kpi-revenue", "call_revenue", "$500.00"},
		{"kpi-chats", "chats", "3"},
		{"kpi-forms", "forms", "2"},
	} {
		series := strconv.FormatInt(sum(c.metric), 10)
		if strings.HasPrefix(c.want, "$") {
			series = "$" + report.FormatMoney(sum(c.metric), "USD")
		}
		if got := kpi(t, overview, c.id); got != c.want || series != c.want {
			t.Errorf("%s: dashboard %s, series %s, want %s", c.metric, got, series, c.want)
		}
	}
}
