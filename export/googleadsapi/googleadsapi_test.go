package googleadsapi_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/attriqs/calltrack/classify"
	"github.com/attriqs/calltrack/export"
	"github.com/attriqs/calltrack/export/googleadsapi"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/provider"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)} }

func config(f *fakeAds) googleadsapi.Config {
	return googleadsapi.Config{
		CustomerID: "123-456-7890", LoginCustomerID: fakeLogin, DeveloperToken: fakeDevToken, ConversionAction: fakeAction,
		ClientID: fakeClientID, ClientSecret: fakeSecret, RefreshToken: fakeRefresh,
		BaseURL: f.srv.URL, TokenURL: f.srv.URL + "/token", Now: f.now,
	}
}

func newSink(t *testing.T, f *fakeAds, edit ...func(*googleadsapi.Config)) *googleadsapi.Sink {
	t.Helper()
	cfg := config(f)
	for _, e := range edit {
		e(&cfg)
	}
	s, err := googleadsapi.New(cfg)
	require.NoError(t, err)
	return s
}

const caller = "+14155550123"

// conversion is a qualified call's message, as the exporter hands it over.
func conversion(id, param, click string, ids journey.AdIDs) export.Message {
	at := time.Date(2026, 3, 2, 10, 5, 0, 0, time.UTC)
	ev := export.Event{
		Conversion: &journey.Conversion{ID: id, Type: journey.ConversionCall, At: at, Value: 25000, Currency: "USD", CallProvider: "fake", CallID: "CA1"},
		Call:       &provider.CallEvent{Provider: "fake", CallID: "CA1", From: caller, To: "+14155550101"},
		Source:     classify.Source{Channel: classify.ChannelPaidSearch, Source: "google", Medium: "cpc", ClickID: classify.ClickID{Param: param, Value: click, Platform: "Google Ads"}},
		AdIDs:      ids,
	}
	return export.Message{ID: export.MessageID(googleadsapi.DefaultName, ev), Sink: googleadsapi.DefaultName, Attempt: 1, CreatedAt: at, Event: ev}
}

func adjustment(convID, typ string, value int64, at time.Time, version int64) export.Message {
	ev := export.Event{
		Adjustment: &export.Adjustment{ConversionID: convID, Type: typ, Value: value, Currency: "USD", Status: "won", At: at, Version: version},
		Source:     classify.Source{ClickID: classify.ClickID{Param: "gclid", Value: "Cj0KCQ-click", Platform: "Google Ads"}},
		AdIDs:      journey.AdIDs{Consent: true},
	}
	return export.Message{ID: export.MessageID(googleadsapi.DefaultName, ev), Sink: googleadsapi.DefaultName, Attempt: 1, CreatedAt: at, Event: ev}
}

var consented = journey.AdIDs{Consent: true, AdUserData: "granted", AdPersonalization: "denied"}

func TestNewNamesEveryBadField(t *testing.T) {
	_, err := googleadsapi.New(googleadsapi.Config{CustomerID: "12345", LoginCustomerID: "x", ConversionAction: "555",
		Version: "26", BaseURL: "ftp://x", Timeout: -1})
	require.Error(t, err)
	for _, field := range []string{"CustomerID", "LoginCustomerID", "DeveloperToken", "ConversionAction", "ClientID", "ClientSecret", "RefreshToken", "Version", "BaseURL", "Timeout"} {
		assert.Contains(t, err.Error(), "Config."+field)
	}
	_, err = googleadsapi.New(googleadsapi.Config{CustomerID: fakeCustomer, DeveloperToken: "d", ConversionAction: fakeAction,
		TokenSource: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "a"}), RefreshToken: "r"})
	assert.ErrorContains(t, err, "both set", "two kinds of credentials")
}

func TestAcceptsOnlyConsentedGoogleClicks(t *testing.T) {
	f := newFakeAds(t, newClock().now)
	s := newSink(t, f)
	callOnly := conversion("c", "gclid", "g", consented).Event
	callOnly.Conversion = nil
	for name, tc := range map[string]struct {
		ev   export.Event
		want bool
	}{
		"gclid with consent":        {conversion("c", "gclid", "g", consented).Event, true},
		"gbraid with consent":       {conversion("c", "gbraid", "b", consented).Event, true},
		"wbraid with consent":       {conversion("c", "wbraid", "w", consented).Event, true},
		"adjustment with consent":   {adjustment("c", export.AdjustRetract, 0, time.Now(), 1).Event, true},
		"no consent":                {conversion("c", "gclid", "g", journey.AdIDs{}).Event, false},
		"no Google click":           {conversion("c", "msclkid", "m", consented).Event, false},
		"empty click id":            {conversion("c", "gclid", "", consented).Event, false},
		"a call that did not count": {callOnly, false},
	} {
		assert.Equal(t, tc.want, s.Accepts(tc.ev), name)
	}
}

func TestClickConversionFollowsTheDocumentedShape(t *testing.T) {
	f := newFakeAds(t, newClock().now)
	s := newSink(t, f, func(c *googleadsapi.Config) {
		c.EnhancedConversionsForLeads = true
		c.Location = time.FixedZone("EST", -5*3600)
	})
	m := conversion("call:fake/CA1", "gclid", "Cj0KCQ-click", consented)
	require.NoError(t, s.Deliver(context.Background(), m))

	accepted, _, _, headers := f.snapshot()
	require.Len(t, accepted, 1)
	got := accepted["google-ads/call:fake/CA1"]
	assert.Equal(t, "Cj0KCQ-click", got.GCLID)
	assert.Empty(t, got.GBRAID+got.WBRAID)
	assert.Equal(t, fakeAction, got.ConversionAction)
	assert.Equal(t, "2026-03-02 05:05:00-05:00", got.ConversionDateTime, "the configured zone, with its offset")
	assert.Equal(t, "250.00", string(got.RawValue), "minor units as a decimal number")
	assert.Equal(t, "USD", got.CurrencyCode)
	assert.Equal(t, m.ID, got.OrderID, "the message id is the order id Google dedupes on")
	assert.Equal(t, "GRANTED", got.Consent.AdUserData)
	assert.Equal(t, "DENIED", got.Consent.AdPersonalization)
	sum := sha256.Sum256([]byte(caller))
	require.Len(t, got.UserIdentifiers, 1)
	assert.Equal(t, hex.EncodeToString(sum[:]), got.UserIdentifiers[0].HashedPhoneNumber)
	assert.Equal(t, "FIRST_PARTY", got.UserIdentifiers[0].UserIdentifierSource)

	h := headers[len(headers)-1]
	assert.Equal(t, fakeDevToken, h.Get("developer-token"))
	assert.Equal(t, "9876543210", h.Get("login-customer-id"))
	assert.Equal(t, "application/json", h.Get("Content-Type"))
}

func TestUserDataOnlyWhenConsentAndSettingsAllowIt(t *testing.T) {
	for name, tc := range map[string]struct {
		ecl  bool
		ids  journey.AdIDs
		from string
		want bool
	}{
		"allowed":                        {true, consented, caller, true},
		"consent mode denies user data":  {true, journey.AdIDs{Consent: true, AdUserData: "denied"}, caller, false},
		"enhanced conversions off":       {false, consented, caller, false},
		"caller kept keyed":              {true, consented, "h:3f2a", false},
		"caller withheld":                {true, consented, "", false},
		"caller not in E.164":            {true, consented, "anonymous", false},
		"no consent mode, ads consented": {true, journey.AdIDs{Consent: true}, caller, true},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFakeAds(t, newClock().now)
			s := newSink(t, f, func(c *googleadsapi.Config) { c.EnhancedConversionsForLeads = tc.ecl })
			m := conversion("c1", "gclid", "g1", tc.ids)
			m.Call.From = tc.from
			require.NoError(t, s.Deliver(context.Background(), m))
			_, clicks, _, _ := f.snapshot()
			require.Len(t, clicks, 1)
			assert.Equal(t, tc.want, len(clicks[0].UserIdentifiers) == 1)
			if tc.ids.AdUserData == "denied" {
				assert.Equal(t, "DENIED", clicks[0].Consent.AdUserData)
			}
		})
	}
}

func TestBraidsAreSentInTheirOwnField(t *testing.T) {
	f := newFakeAds(t, newClock().now)
	s := newSink(t, f)
	require.NoError(t, s.Deliver(context.Background(), conversion("c1", "gbraid", "braid-1", consented)))
	require.NoError(t, s.Deliver(context.Background(), conversion("c2", "wbraid", "braid-2", consented)))
	_, clicks, _, _ := f.snapshot()
	require.Len(t, clicks, 2)
	assert.Equal(t, "braid-1", clicks[0].GBRAID)
	assert.Equal(t, "braid-2", clicks[1].WBRAID)
	assert.Empty(t, clicks[0].GCLID+clicks[1].GCLID)
}

func TestARowErrorDeadLettersWithGooglesReason(t *testing.T) {
	f := newFakeAds(t, newClock().now)
	f.set(func(f *fakeAds) { f.rowErrors["old-click"] = "EXPIRED_EVENT" })
	s := newSink(t, f)
	err := s.Deliver(context.Background(), conversion("c1", "gclid", "old-click", consented))
	require.Error(t, err)
	assert.True(t, export.IsPermanent(err))
	assert.ErrorContains(t, err, "conversionUploadError: EXPIRED_EVENT")
	assert.ErrorContains(t, err, "The row was refused.")
	var ae *googleadsapi.Error
	require.True(t, errors.As(err, &ae))
	assert.True(t, ae.Has("EXPIRED_EVENT"))
	assert.Equal(t, "req-2", ae.RequestID)
}

func TestATooRecentClickIsRetriedAfterGooglesWait(t *testing.T) {
	f := newFakeAds(t, newClock().now)
	f.set(func(f *fakeAds) { f.rowErrors["new-click"] = "TOO_RECENT_EVENT" })
	s := newSink(t, f)
	err := s.Deliver(context.Background(), conversion("c1", "gclid", "new-click", consented))
	require.Error(t, err)
	assert.False(t, export.IsPermanent(err))
	var r interface{ RetryAfter() time.Duration }
	require.True(t, errors.As(err, &r))
	assert.Equal(t, 6*time.Hour, r.RetryAfter())
}

func TestADuplicateUploadCountsAsDelivered(t *testing.T) {
	f := newFakeAds(t, newClock().now)
	s := newSink(t, f)
	m := conversion("c1", "gclid", "g1", consented)
	require.NoError(t, s.Deliver(context.Background(), m))
	m.Attempt = 2 // the first answer was lost
	require.NoError(t, s.Deliver(context.Background(), m), "ORDER_ID_ALREADY_IN_USE: Google has it")
	accepted, clicks, _, _ := f.snapshot()
	assert.Len(t, clicks, 2)
	assert.Len(t, accepted, 1)
}

func TestResourceExhaustedIsRetriedAfterRetryAfter(t *testing.T) {
	f := newFakeAds(t, newClock().now)
	f.set(func(f *fakeAds) { f.throttleNext = 1 })
	s := newSink(t, f)
	m := conversion("c1", "gclid", "g1", consented)
	err := s.Deliver(context.Background(), m)
	require.Error(t, err)
	assert.False(t, export.IsPermanent(err))
	var ae *googleadsapi.Error
	require.True(t, errors.As(err, &ae))
	assert.Equal(t, 429, ae.StatusCode)
	assert.Equal(t, "RESOURCE_EXHAUSTED", ae.Status)
	assert.True(t, ae.Has("RESOURCE_TEMPORARILY_EXHAUSTED"))
	assert.Equal(t, 30*time.Second, ae.RetryAfter())
	require.NoError(t, s.Deliver(context.Background(), m))
}

func TestAnExpiredTokenIsRefreshedOnce(t *testing.T) {
	f := newFakeAds(t, newClock().now)
	s := newSink(t, f)
	require.NoError(t, s.Deliver(context.Background(), conversion("c1", "gclid", "g1", consented)))
	f.set(func(f *fakeAds) { f.rejectNext = 1 }) // the cached token expired early
	require.NoError(t, s.Deliver(context.Background(), conversion("c2", "gclid", "g2", consented)))
	f.mu.Lock()
	assert.Equal(t, 2, f.issued, "one token at first, one refresh after UNAUTHENTICATED")
	assert.Equal(t, []string{fakeRefresh, fakeRefresh}, f.refreshTokens)
	f.mu.Unlock()

	f.set(func(f *fakeAds) { f.rejectNext = 2 })
	err := s.Deliver(context.Background(), conversion("c3", "gclid", "g3", consented))
	require.Error(t, err, "refused again after the refresh")
	assert.False(t, export.IsPermanent(err), "retried: credentials fixed by the host make it go away")
	assert.ErrorContains(t, err, "authenticationError: OAUTH_TOKEN_EXPIRED")
	f.mu.Lock()
	assert.Equal(t, 3, f.issued, "refreshed once per delivery, not in a loop")
	f.mu.Unlock()
}

func TestARevokedRefreshTokenIsRetriedNamingTheTokenEndpointsAnswer(t *testing.T) {
	f := newFakeAds(t, newClock().now)
	s := newSink(t, f, func(c *googleadsapi.Config) { c.RefreshToken = "revoked" })
	err := s.Deliver(context.Background(), conversion("c1", "gclid", "g1", consented))
	require.Error(t, err)
	assert.False(t, export.IsPermanent(err))
	assert.ErrorContains(t, err, "invalid_grant")
}

func TestTheHostsTokenSourceIsUsed(t *testing.T) {
	f := newFakeAds(t, newClock().now)
	f.set(func(f *fakeAds) { f.access = "host-token" })
	s := newSink(t, f, func(c *googleadsapi.Config) {
		c.ClientID, c.ClientSecret, c.RefreshToken = "", "", ""
		c.TokenSource = oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "host-token"})
	})
	require.NoError(t, s.Deliver(context.Background(), conversion("c1", "gclid", "g1", consented)))
	_, _, _, headers := f.snapshot()
	assert.Equal(t, "Bearer host-token", headers[0].Get("Authorization"))
}

func TestAnInvalidRequestIsPermanent(t *testing.T) {
	f := newFakeAds(t, newClock().now)
	s := newSink(t, f, func(c *googleadsapi.Config) { c.CustomerID = "1111111111" })
	err := s.Deliver(context.Background(), conversion("c1", "gclid", "g1", consented))
	require.Error(t, err)
	assert.True(t, export.IsPermanent(err))
	assert.ErrorContains(t, err, "PERMISSION_DENIED")
}

func TestValidateOnlyRecordsNothing(t *testing.T) {
	f := newFakeAds(t, newClock().now)
	s := newSink(t, f, func(c *googleadsapi.Config) { c.ValidateOnly = true })
	require.NoError(t, s.Deliver(context.Background(), conversion("c1", "gclid", "g1", consented)))
	accepted, clicks, _, _ := f.snapshot()
	assert.Len(t, clicks, 1)
	assert.Empty(t, accepted)
}

func TestAdjustmentsRestateAndRetractByOrderID(t *testing.T) {
	clk := newClock()
	f := newFakeAds(t, clk.now)
	s := newSink(t, f)
	ctx := context.Background()
	m := conversion("call:fake/CA1", "gclid", "g1", consented)
	require.NoError(t, s.Deliver(ctx, m))
	at := m.Conversion.At.Add(2 * time.Hour)

	err := s.Deliver(ctx, adjustment("call:fake/CA1", export.AdjustRestate, 90000, at, 1))
	require.Error(t, err, "Google adjusts conversions at least 24 hours old")
	assert.False(t, export.IsPermanent(err))
	var r interface{ RetryAfter() time.Duration }
	require.True(t, errors.As(err, &r))
	assert.Equal(t, 24*time.Hour, r.RetryAfter())

	clk.add(25 * time.Hour)
	restate := adjustment("call:fake/CA1", export.AdjustRestate, 90000, at, 1)
	require.NoError(t, s.Deliver(ctx, restate))
	require.NoError(t, s.Deliver(ctx, restate), "sent again: RESTATEMENT_ALREADY_EXISTS means Google has it")
	require.NoError(t, s.Deliver(ctx, adjustment("call:fake/CA1", export.AdjustRestate, 50000, at.Add(-time.Minute), 0)),
		"an older change arriving late is superseded")
	retract := adjustment("call:fake/CA1", export.AdjustRetract, 0, at.Add(time.Hour), 2)
	require.NoError(t, s.Deliver(ctx, retract))
	require.NoError(t, s.Deliver(ctx, retract), "a retraction sent again")
	err = s.Deliver(ctx, adjustment("call:fake/CA1", export.AdjustRestate, 1000, at.Add(2*time.Hour), 3))
	assert.True(t, export.IsPermanent(err), "a retracted conversion cannot be restated")
	assert.ErrorContains(t, err, "CONVERSION_ALREADY_RETRACTED")

	_, _, adjs, _ := f.snapshot()
	require.Len(t, adjs, 2)
	assert.Equal(t, m.ID, adjs[0].OrderID, "matched by the conversion's order id")
	assert.Equal(t, googleadsapi.OrderID(googleadsapi.DefaultName, "call:fake/CA1"), adjs[0].OrderID)
	assert.Equal(t, "RESTATEMENT", adjs[0].AdjustmentType)
	assert.Equal(t, "900.00", string(adjs[0].RestatementValue.AdjustedValue))
	assert.Equal(t, "USD", adjs[0].RestatementValue.CurrencyCode)
	assert.Equal(t, "2026-03-02 12:05:00+00:00", adjs[0].AdjustmentDateTime)
	assert.Equal(t, "RETRACTION", adjs[1].AdjustmentType)
	assert.Nil(t, adjs[1].RestatementValue)
	assert.Equal(t, fakeAction, adjs[1].ConversionAction)

	err = s.Deliver(ctx, adjustment("call:fake/unknown", export.AdjustRetract, 0, at, 1))
	assert.True(t, export.IsPermanent(err))
	assert.ErrorContains(t, err, "CONVERSION_NOT_FOUND")
}
