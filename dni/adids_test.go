package dni

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/classify"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/provider/fake"
)

// The ad ids a visit brings with ads consent reach the sinks with the
// call's conversion; without consent nothing of them is kept.
func TestAdIDsTravelWithTheConversionOnlyWithConsent(t *testing.T) {
	for _, consent := range []bool{true, false} {
		h, _, x, crm := newExportHarness(t, testConfig())
		ctx := context.Background()
		a := h.visit(t, VisitRequest{URL: "https://example-plumbing.com/?utm_source=facebook&utm_medium=paid_social&fbclid=IwAR0abc",
			AdIDs: journey.AdIDs{Consent: consent, GAClientID: "1234567890.1700000000", FBP: "fb.1.1700000000000.987", AdUserData: "granted", AdPersonalization: "maybe"}})
		h.clock.add(time.Minute)
		h.visit(t, VisitRequest{VisitorID: a.VisitorID, SessionID: a.SessionID, URL: "https://example-plumbing.com/contact",
			AdIDs: journey.AdIDs{Consent: consent, GASessionID: "1700000100", AdUserData: "denied"}})
		_, err := h.caller.PlaceCall(ctx, h.srv.URL+DefaultPrefix+"webhooks/fake", fake.Call{ID: "CA1", From: caller, To: a.Swaps[0].Number, Answered: true, Duration: 2 * time.Minute})
		require.NoError(t, err)
		require.NoError(t, h.svc.Close())
		deliverAll(t, x)
		m, ok := crm.message("capture/call:fake/CA1")
		require.True(t, ok, "delivered: %v", crm.delivered())
		if !consent {
			assert.True(t, m.AdIDs.IsZero(), "without consent: %+v", m.AdIDs)
			continue
		}
		got := m.AdIDs
		assert.True(t, got.Consent)
		assert.Equal(t, "1234567890.1700000000", got.GAClientID)
		assert.Equal(t, "1700000100", got.GASessionID, "a later page view fills in what was missing")
		assert.Equal(t, "fb.1.1700000000000.987", got.FBP)
		assert.True(t, strings.HasPrefix(got.FBC, "fb.1.") && strings.HasSuffix(got.FBC, ".IwAR0abc"), "fbc built from fbclid: %q", got.FBC)
		assert.Equal(t, "denied", got.AdUserData, "the latest consent signal")
		assert.Empty(t, got.AdPersonalization, "only granted or denied are kept")
		assert.False(t, got.SharesUserData())
	}
}

// An ad id is kept exactly as the browser sent it or not at all: cut or
// stripped it would be another visitor's id, or one the platform refuses.
func TestCleanAdIDsDropsRatherThanAlters(t *testing.T) {
	now := time.UnixMilli(1700000000000)
	long := strings.Repeat("a", maxAdIDLen+1)
	fb := func(v string) classify.Source {
		return classify.Source{ClickID: classify.ClickID{Param: "fbclid", Value: v}}
	}
	for _, tc := range []struct {
		name string
		in   journey.AdIDs
		src  classify.Source
		want journey.AdIDs
	}{
		{"kept as sent", journey.AdIDs{Consent: true, FBP: " fb.1.1.2 "}, classify.Source{}, journey.AdIDs{Consent: true, FBP: "fb.1.1.2"}},
		{"too long", journey.AdIDs{Consent: true, FBP: long, GAClientID: long}, classify.Source{}, journey.AdIDs{Consent: true}},
		{"control character", journey.AdIDs{Consent: true, FBC: "fb.1.1.ab\x00c"}, classify.Source{}, journey.AdIDs{Consent: true}},
		{"fbclid too long", journey.AdIDs{Consent: true}, fb(long), journey.AdIDs{Consent: true}},
		{"fbclid with a space", journey.AdIDs{Consent: true}, fb("ab c"), journey.AdIDs{Consent: true}},
		{"fbclid", journey.AdIDs{Consent: true}, fb("IwAR0abc"), journey.AdIDs{Consent: true, FBC: "fb.1.1700000000000.IwAR0abc"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, cleanAdIDs(tc.in, tc.src, now))
		})
	}
}

// Ads consent withdrawn after it was given: the session forgets its ad
// ids, and the call's conversion goes to the sinks without them (ad
// platform sinks then send nothing).
func TestWithdrawnAdsConsentClearsTheSessionsAdIDs(t *testing.T) {
	h, _, x, crm := newExportHarness(t, testConfig())
	ctx := context.Background()
	a := h.visit(t, VisitRequest{URL: "https://example-plumbing.com/?gclid=abc",
		AdIDs: journey.AdIDs{Consent: true, GAClientID: "1234567890.1700000000", AdUserData: "granted"}})
	h.visit(t, VisitRequest{VisitorID: a.VisitorID, SessionID: a.SessionID, URL: "https://example-plumbing.com/?gclid=abc", AdsWithdrawn: true})
	_, err := h.caller.PlaceCall(ctx, h.srv.URL+DefaultPrefix+"webhooks/fake", fake.Call{ID: "CA1", From: caller, To: a.Swaps[0].Number, Answered: true, Duration: 2 * time.Minute})
	require.NoError(t, err)
	require.NoError(t, h.svc.Close())
	deliverAll(t, x)
	m, ok := crm.message("capture/call:fake/CA1")
	require.True(t, ok, "delivered: %v", crm.delivered())
	assert.True(t, m.AdIDs.IsZero(), "withdrawn consent: %+v", m.AdIDs)
}
