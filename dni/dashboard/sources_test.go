package dashboard_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/journey"
)

// column finds a CSV column by its heading.
func column(t *testing.T, rows [][]string, name string) int {
	t.Helper()
	for i, h := range rows[0] {
		if h == name {
			return i
		}
	}
	t.Fatalf("no column %q in %v", name, rows[0])
	return -1
}

func TestSourcesAgreeWithTheOverview(t *testing.T) {
	f := newFixture(t)
	f.journeyWithThreeCalls(t)
	require.NoError(t, f.svc.ImportSpend(context.Background(), []journey.Spend{
		{Day: time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC), Channel: "Paid Search", Source: "google", Medium: "cpc",
			Campaign: "emergency", Currency: "USD", Amount: 5000},
	}))
	require.NoError(t, f.svc.Close())

	for _, dim := range []string{"channel", "source_medium", "campaign", "keyword", "landing_page"} {
		rows := f.csv(t, "/dashboard/sources?format=csv&dim="+dim)
		foot := rows[len(rows)-1]
		require.Equal(t, "Total", foot[0], dim)
		assert.Equal(t, "3", foot[column(t, rows, "Calls")], "%s: the calls of the overview", dim)
		assert.Equal(t, "1", foot[column(t, rows, "Qualified")], dim)
		assert.Equal(t, "1", foot[column(t, rows, "Missed")], dim)
		assert.Equal(t, "1", foot[column(t, rows, "Spam")], dim)
		assert.Equal(t, "$250.00", foot[column(t, rows, "Call revenue")], dim)
		for _, m := range []string{"First touch", "Last touch", "Markov chain", "Shapley value"} {
			assert.Equal(t, "$250.00", foot[column(t, rows, "Credited · "+m)], "%s: %s", dim, m)
		}
	}

	rows := f.csv(t, "/dashboard/sources?format=csv&dim=channel")
	for _, r := range rows[1:] {
		if r[0] != "Paid Search" {
			continue
		}
		assert.Equal(t, "$50.00", r[column(t, rows, "Spend")])
		assert.Equal(t, "$50.00", r[column(t, rows, "Cost per call")], "one call from paid search")
		assert.Equal(t, "5.00×", r[column(t, rows, "ROAS · Last touch")], "$250 credited over $50 spent")
		assert.Equal(t, "0.00×", r[column(t, rows, "ROAS · First touch")], "first touch credits the newsletter")
	}
	keywords := text(f.get(t, "/dashboard/sources?dim=keyword"))
	assert.Contains(t, keywords, "burst pipe")
	assert.Contains(t, keywords, "not reported by cost reports", "spend is not by keyword, and the page says so")
	page := text(f.get(t, "/dashboard/sources?dim=channel&model=first_touch"))
	assert.Contains(t, page, "Credited · First touch")
	assert.NotContains(t, page, "Credited · Last touch", "the page shows the chosen model; the CSV has every one")
	for _, d := range defects {
		assert.NotContains(t, page, d)
	}
}

func TestSourcesSayWhySpendIsMissing(t *testing.T) {
	f := newFixture(t)
	f.journeyWithThreeCalls(t)
	require.NoError(t, f.svc.Close())
	page := text(f.get(t, "/dashboard/sources"))
	assert.Contains(t, page, "No spend imported for this period")
	assert.Contains(t, page, "day,channel,source,medium,campaign,currency,amount")
	assert.Contains(t, page, "no spend imported", "cost cells say why they are empty")
	assert.False(t, strings.Contains(page, " — "), "never a bare dash")

	empty := newFixture(t)
	assert.Contains(t, text(empty.get(t, "/dashboard/sources")), "No traffic in this period yet. No calls yet: place one from the demo phone.")
}
