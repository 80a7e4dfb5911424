package main

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/attriqs/calltrack/classify"
	"github.com/attriqs/calltrack/dni"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/report"
)

// seriesFixture writes two days of traffic to a new SQLite store: a paid
// search visitor who calls and converts (120.00), an organic visitor who
// chats and fills a form, an organic caller who does not convert, and a
// day of spend for each channel (50.00 and 10.00).
func seriesFixture(t *testing.T) (storeURL string, day time.Time) {
	t.Helper()
	ctx := context.Background()
	st, path := newSQLiteStore(t)
	defer st.Close()
	day = time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	paid := classify.Source{Channel: classify.ChannelPaidSearch, Source: "google", Medium: "cpc", Campaign: "spring"}
	organic := classify.Source{Channel: "Organic Search", Source: "google", Medium: "organic"}
	call1 := journey.CallTouchpointID("twilio", "CA1")
	tps := []journey.Touchpoint{
		{ID: "session:s1", Kind: journey.TouchSession, At: day.Add(10 * time.Hour), VisitorID: "v1", SessionID: "s1", Source: paid},
		{ID: call1, Kind: journey.TouchCall, At: day.Add(10*time.Hour + 5*time.Minute), VisitorID: "v1", SessionID: "s1", Source: paid},
		{ID: "session:s2", Kind: journey.TouchSession, At: day.Add(34 * time.Hour), VisitorID: "v2", SessionID: "s2", Source: organic},
		{ID: "chat:intercom/1", Kind: journey.TouchChat, At: day.Add(34*time.Hour + time.Minute), VisitorID: "v2", SessionID: "s2", Source: organic},
		{ID: "form:site/1", Kind: journey.TouchForm, At: day.Add(34*time.Hour + 2*time.Minute), VisitorID: "v2", SessionID: "s2", Source: organic},
		{ID: journey.CallTouchpointID("twilio", "CA2"), Kind: journey.TouchCall, At: day.Add(35 * time.Hour), VisitorID: "v3", Source: organic},
	}
	for _, tp := range tps {
		if err := st.AddTouchpoint(ctx, tp); err != nil {
			t.Fatal(err)
		}
	}
	conv := journey.Conversion{ID: call1, Type: journey.ConversionCall, At: day.Add(10*time.Hour + 10*time.Minute),
		VisitorID: "v1", SessionID: "s1", Value: 12000, Currency: "USD", CallProvider: "twilio", CallID: "CA1"}
	if err := st.PutConversion(ctx, conv); err != nil {
		t.Fatal(err)
	}
	if err := st.PutSpend(ctx,
		journey.Spend{Day: day, Channel: string(classify.ChannelPaidSearch), Source: "google", Medium: "cpc", Campaign: "spring", Currency: "USD", Amount: 5000},
		journey.Spend{Day: day.AddDate(0, 0, 1), Channel: "Organic Search", Source: "google", Medium: "organic", Currency: "USD", Amount: 1000},
	); err != nil {
		t.Fatal(err)
	}
	return "sqlite:" + path, day
}

// TestSeriesTotalsEqualThePeriod runs the series command in both layouts
// and granularities and wants its columns to add up to the period's
// traffic, conversions and spend, and to the library's series of the
// same store.
func TestSeriesTotalsEqualThePeriod(t *testing.T) {
	storeURL, day := seriesFixture(t)
	from, to := day.Format(time.DateOnly), day.AddDate(0, 0, 7).Format(time.DateOnly)
	want := map[string]string{
		"conversions": "1", "revenue": "120.00", "calls": "2", "qualified_calls": "1",
		"call_revenue": "120.00", "chats": "1", "forms": "1", "spend": "60.00",
	}
	st, closeStore, err := openStore(context.Background(), storeURL, true)
	if err != nil {
		t.Fatal(err)
	}
	defer closeStore()
	for _, g := range []string{"day", "week"} {
		for _, campaign := range []bool{false, true} {
			args := []string{"series", "-store", storeURL, "-from", from, "-to", to, "-granularity", g}
			if campaign {
				args = append(args, "-campaign")
			}
			t.Run(strings.Join(args[5:], " "), func(t *testing.T) {
				lib, err := buildSeries(context.Background(), st, report.SeriesOptions{
					From: day, To: day.AddDate(0, 0, 7), Granularity: report.Granularity(g), ByCampaign: campaign})
				if err != nil {
					t.Fatal(err)
				}
				tot := lib.Totals()
				libTotals := map[string]string{
					"conversions": strconv.Itoa(tot.Conversions), "revenue": report.FormatMoney(tot.Revenue, "USD"),
					"calls": strconv.Itoa(tot.Calls), "qualified_calls": strconv.Itoa(tot.QualifiedCalls),
					"call_revenue": report.FormatMoney(tot.CallRevenue, "USD"), "chats": strconv.Itoa(tot.Chats),
					"forms": strconv.Itoa(tot.Forms), "spend": report.FormatMoney(tot.Spend, "USD"),
				}
				var wide, errOut bytes.Buffer
				if err := run(args, &wide, &errOut); err != nil {
					t.Fatalf("run: %v\n%s", err, errOut.String())
				}
				rows := readCSV(t, wide.Bytes(), ',')
				wantRows := 8 // 7 days and the header
				if g == "week" {
					wantRows = 2 // the week of Monday 2 November, to Sunday 8
				}
				if len(rows) != wantRows {
					t.Errorf("%d rows, want %d:\n%s", len(rows), wantRows, wide.String())
				}
				for metric, w := range want {
					col := indexOf(rows[0], metric)
					if col < 0 {
						t.Fatalf("no column %s in %v", metric, rows[0])
					}
					var sum int64
					for _, r := range rows[1:] {
						sum += parseMinor(t, r[col])
					}
					if got := formatLike(sum, w); got != w || libTotals[metric] != w {
						t.Errorf("%s: CLI %s, library %s, want %s", metric, got, libTotals[metric], w)
					}
				}
				var long bytes.Buffer
				if err := run(append(args, "-layout", "long"), &long, &errOut); err != nil {
					t.Fatal(err)
				}
				lrows := readCSV(t, long.Bytes(), ',')
				sums := map[string]int64{}
				for _, r := range lrows[1:] {
					sums[r[len(r)-2]] += parseMinor(t, r[len(r)-1])
				}
				for metric, w := range want {
					if got := formatLike(sums[metric], w); got != w {
						t.Errorf("long layout %s: %s, want %s", metric, got, w)
					}
				}
			})
		}
	}
}

// TestSeriesEqualsTheService wants the command's series to be the one
// dni.Service.Series (behind the dashboard and reports/series) builds
// from the same store, in both layouts.
func TestSeriesEqualsTheService(t *testing.T) {
	storeURL, day := seriesFixture(t)
	st, closeStore, err := openStore(context.Background(), storeURL, true)
	if err != nil {
		t.Fatal(err)
	}
	defer closeStore()
	svc, err := dni.New(dni.Config{Pools: []dni.Pool{{PoolConfig: pool.PoolConfig{
		Name: "ads", Numbers: []string{"+14155550100"}, BusinessNumber: "+14155550199"}}}}, dni.WithStore(st))
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	for _, campaign := range []bool{false, true} {
		opts := report.SeriesOptions{From: day, To: day.AddDate(0, 0, 3), Granularity: report.Daily, ByCampaign: campaign}
		want, err := svc.Series(context.Background(), opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, layout := range []string{"wide", "long"} {
			var wantCSV bytes.Buffer
			write := want.WriteWide
			if layout == "long" {
				write = want.WriteLong
			}
			if err := write(&wantCSV); err != nil {
				t.Fatal(err)
			}
			args := []string{"series", "-store", storeURL, "-from", day.Format(time.DateOnly), "-to", opts.To.Format(time.DateOnly), "-layout", layout}
			if campaign {
				args = append(args, "-campaign")
			}
			var out, errOut bytes.Buffer
			if err := run(args, &out, &errOut); err != nil {
				t.Fatalf("run: %v\n%s", err, errOut.String())
			}
			if out.String() != wantCSV.String() {
				t.Errorf("%v:\n%s\nthe service's:\n%s", args[5:], out.String(), wantCSV.String())
			}
		}
	}
}

func TestSeriesFlagErrorsNameTheFlag(t *testing.T) {
	storeURL, _ := seriesFixture(t)
	for _, tc := range []struct {
		args []string
		flag string
	}{
		{[]string{}, "-store"},
		{[]string{"-store", storeURL, "-granularity", "month"}, "-granularity"},
		{[]string{"-store", storeURL, "-layout", "tall"}, "-layout"},
		{[]string{"-store", storeURL, "-currency", "dollars"}, "-currency"},
		{[]string{"-store", storeURL, "-from", "yesterday"}, "-from"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(append([]string{"series"}, tc.args...), &out, &errOut)
			if err == nil || !strings.Contains(err.Error(), tc.flag) {
				t.Errorf("error %v does not name %s", err, tc.flag)
			}
		})
	}
}

func indexOf(row []string, name string) int {
	for i, h := range row {
		if h == name {
			return i
		}
	}
	return -1
}

// parseMinor reads a count or an amount with cents as a whole number of
// units or cents.
func parseMinor(t *testing.T, s string) int64 {
	t.Helper()
	v, err := strconv.ParseInt(strings.Replace(s, ".", "", 1), 10, 64)
	if err != nil {
		t.Fatalf("%q is not a number: %v", s, err)
	}
	return v
}

// formatLike writes a sum as want is written: with cents when want has
// them.
func formatLike(v int64, want string) string {
	if strings.Contains(want, ".") {
		return report.FormatMoney(v, "USD")
	}
	return strconv.FormatInt(v, 10)
}
