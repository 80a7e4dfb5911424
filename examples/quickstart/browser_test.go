package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/internal/testenv"
)

// TestQuickstartInChromium is the newcomer's tour in a real browser: arrive
// from a Google Ads link, see the number swapped, place a call from the
// demo page, and find it credited to Paid Search on the dashboard.
// CALLTRACK_SCREENSHOT=path also saves the dashboard as a PNG (the one in
// docs/ was made so).
func TestQuickstartInChromium(t *testing.T) {
	chromium := testenv.ChromiumPath(t)
	_, srv := startDemo(t)

	opts := append(chromedp.DefaultExecAllocatorOptions[:0:0],
		chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 1500))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	// Waits end at the test's own deadline (less a margin, so the failure
	// names the step): a loaded machine may take seconds where a quiet one
	// takes milliseconds.
	deadline := time.Now().Add(10 * time.Minute)
	if d, ok := t.Deadline(); ok {
		deadline = d.Add(-time.Until(d) / 10)
	}
	ctx, cancelTimeout := context.WithDeadline(ctx, deadline)
	defer cancelTimeout()

	poll := func(expr string) chromedp.Action[chromedp.Void] {
		return chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(time.Until(deadline)))
	}
	// A script sent while the page swaps its JavaScript context (a load
	// finishing as the tracker starts) can name the context just
	// destroyed; the browser then refuses it, and the same script sent
	// again runs in the new one.
	retry := func(run func() error) error {
		for {
			err := run()
			if err == nil || !strings.Contains(err.Error(), "Cannot find context with specified id") || time.Now().After(deadline) {
				return err
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	// Page state is read with script rather than DOM queries: simpler,
	// and it never waits on layout.
	text := func(sel string) string {
		t.Helper()
		var s string
		err := retry(func() (err error) {
			s, err = chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector(`+strconv.Quote(sel)+`).textContent`))
			return err
		})
		require.NoError(t, err, sel)
		return s
	}
	click := func(sel string) chromedp.Action[chromedp.Void] {
		return chromedp.Evaluate[chromedp.Void](`document.querySelector(` + strconv.Quote(sel) + `).click()`)
	}

	step := func(name string, a chromedp.Action[chromedp.Void]) {
		t.Helper()
		require.NoError(t, retry(func() error { return chromedp.Do(ctx, a) }), name)
	}
	step("open the start page", chromedp.Navigate(srv.URL+"/"))
	// Follow the first arrival link, Google Ads, as a click would.
	var href string
	err := retry(func() (err error) {
		href, err = chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('a.arrive').href`))
		return err
	})
	require.NoError(t, err)
	require.Contains(t, href, "gclid=")
	step("arrive from Google Ads", chromedp.Navigate(href))
	step("see the number swapped", poll(`document.getElementById('main-number').textContent !== '(415) 555-0100'`))
	assert.Regexp(t, `^\(415\) 555-011\d$`, text(`#main-number`), "a number of the paid-search pool, in the page's own format")

	step("open the chat", click(`#chat-open`))
	step("chat", click(`#chat-send`))
	step("place the call", click(`#call`))
	step("see it forwarded", poll(`document.getElementById('result').textContent.indexOf('forwarded') >= 0`))
	assert.Contains(t, text(`#result`), "(415) 555-0100", "the call reached the real line")

	// The call is recorded after the caller was answered: reload until the
	// dashboard shows it qualified.
	var qualified string
	for ; time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/dashboard")))
		// The chat's events leave the page in a beacon when it is hidden.
		if qualified = text(`#kpi-qualified`); qualified == "1" && strings.Contains(text(`.timeline`), "chat:") {
			break
		}
	}
	assert.Equal(t, "1", text(`#kpi-calls`))
	assert.Equal(t, "1", qualified)
	table, models := text(`#calls`), text(`#models`)
	assert.Contains(t, table, "Paid Search · emergency-plumber")
	assert.Contains(t, table, "exact")
	assert.Contains(t, models, "markov")
	journeyText := text(`.timeline`)
	assert.Contains(t, journeyText, "chat: Paid Search", "the chat joined the caller's journey")
	assert.True(t, strings.Contains(models, "$250.00"), "every model credits the call's value: %s", models)

	if path := os.Getenv("CALLTRACK_SCREENSHOT"); path != "" {
		// A fuller picture for the docs: a visitor from the newsletter who
		// calls, and a call to the flyer's dedicated number.
		visitAndCall(t, srv.URL, arrivals[3].Query, "+1 646 555 0142", 240)
		placeCall(t, srv.URL, callRequest{Number: flyerNumber, From: "+1 718 555 0188", TalkS: 75})
		require.NoError(t, chromedp.Do(ctx, poll(`true`)))
		time.Sleep(time.Second) // let the ingest record both calls
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/dashboard")))
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		require.NoError(t, err)
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, png, 0o644))
	}
}
