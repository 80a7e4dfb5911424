package dashboard_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/dni"
	"github.com/attriqs/calltrack/export"
	"github.com/attriqs/calltrack/store/memstore"
)

// sink answers every delivery with err: nil accepts.
type sink struct {
	name string
	err  error
}

func (s sink) Name() string                                  { return s.name }
func (s sink) Deliver(context.Context, export.Message) error { return s.err }

const (
	rejection = `<script>alert(1)</script> INVALID_ARGUMENT: conversion action "Calls" not found`
	retrying  = `=HYPERLINK("https://evil.example") 503 upstream down`
)

// exportsFixture has three sinks: one accepts, one rejects for good, one
// fails and is retrying. One qualified call has been sent to each.
func exportsFixture(t *testing.T) *fixture {
	t.Helper()
	st := memstore.New()
	var x *export.Exporter
	f := newFixtureWith(t, st, func(clock func() time.Time) []dni.Option {
		var err error
		x, err = export.New(st, export.Config{Now: clock}, sink{"google-ads", nil},
			sink{"hubspot", export.Permanent(errors.New(rejection))}, sink{"webhook", errors.New(retrying)})
		require.NoError(t, err)
		return []dni.Option{dni.WithExports(x)}
	})
	f.journeyWithThreeCalls(t)
	require.NoError(t, f.svc.Close())
	for range 10 {
		n, err := x.DeliverDue(context.Background())
		require.NoError(t, err)
		if n == 0 {
			return f
		}
	}
	t.Fatal("the outbox never emptied")
	return nil
}

func TestExportsShowEachSinksDeliveries(t *testing.T) {
	f := exportsFixture(t)
	page := f.get(t, "/dashboard/exports")
	words := text(page)
	assert.Contains(t, words, "Sink Pending Unsent Retrying Accepted Rejected Last accepted")
	assert.Contains(t, words, "google-ads 0 0 0 1 0 Mar 10 2026 16:06")
	assert.Contains(t, words, "hubspot 0 0 0 0 1 never")
	assert.Contains(t, words, "webhook 1 0 1 0 0 never")
	assert.Contains(t, words, `1 rejected, in the platform's words: 1× &lt;script&gt;alert(1)&lt;/script&gt; INVALID_ARGUMENT: conversion action &#34;Calls&#34; not found`)
	assert.Contains(t, words, "1 retrying; the last error: =HYPERLINK(&#34;https://evil.example&#34;) 503 upstream down")
	assert.NotContains(t, page, `id="periods"`, "the page counts every delivery kept, over no period")
	assert.Contains(t, page, `<a class="csv" href="/dashboard/exports?format=csv">`)
	assert.Contains(t, page, `<a href="/dashboard/exports?days=30" class="on">Exports</a>`)
	assert.Contains(t, f.get(t, "/dashboard/pools?days=7"), `<a href="/dashboard/exports?days=7">Exports</a>`,
		"every page links it, keeping the period for the way back")
	assert.Contains(t, f.get(t, "/dashboard/exports?days=7"), `<a href="/dashboard/pools?days=7">Pools</a>`)
	for _, d := range defects {
		assert.NotContains(t, page, d)
	}

	rows := f.csv(t, "/dashboard/exports?format=csv")
	require.Len(t, rows, 1+3)
	assert.Equal(t, []string{"Sink", "Pending", "Unsent", "Retrying", "Accepted", "Rejected", "Last accepted", "Last error", "Rejection reasons"}, rows[0])
	assert.Equal(t, []string{"google-ads", "0", "0", "0", "1", "0", "Mar 10 2026 16:06", "", ""}, rows[1])
	assert.Equal(t, []string{"hubspot", "0", "0", "0", "0", "1", "never", "", rejection + " (1)"}, rows[2])
	assert.Equal(t, []string{"webhook", "1", "0", "1", "0", "0", "never", "'" + retrying, ""}, rows[3],
		"a cell a spreadsheet would run as a formula is quoted")
}

func TestExportsSayHowToAddOne(t *testing.T) {
	f := newFixture(t)
	words := text(f.get(t, "/dashboard/exports"))
	assert.Contains(t, words, "No exports are configured")
	assert.Contains(t, words, "dni.WithExports")
	rows := f.csv(t, "/dashboard/exports?format=csv")
	assert.Len(t, rows, 1, "a header and no sink")

	st := memstore.New()
	quiet := newFixtureWith(t, st, func(clock func() time.Time) []dni.Option {
		x, err := export.New(st, export.Config{Now: clock}, sink{"google-ads", nil})
		require.NoError(t, err)
		return []dni.Option{dni.WithExports(x)}
	})
	words = text(quiet.get(t, "/dashboard/exports"))
	assert.Contains(t, words, "google-ads 0 0 0 0 0 never")
	assert.Contains(t, words, "Nothing sent yet: each qualified call is queued for every sink")
}
