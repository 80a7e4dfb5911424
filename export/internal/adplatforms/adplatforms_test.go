package adplatforms_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/attriqs/calltrack/classify"
	"github.com/attriqs/calltrack/dni"
	"github.com/attriqs/calltrack/dni/dnitest"
	"github.com/attriqs/calltrack/export"
	"github.com/attriqs/calltrack/export/ga4"
	"github.com/attriqs/calltrack/export/googleadsapi"
	"github.com/attriqs/calltrack/export/meta"
	"github.com/attriqs/calltrack/export/microsoftads"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/journey/attribution"
	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/provider/fake"
	"github.com/attriqs/calltrack/store"
)

// The event names the GA4 and Meta sinks are configured to send
// restatements as (neither platform can change an event it has).
const (
	gaAdjustmentEvent = "lead_value_changed"
	metaRestateEvent  = "Purchase"
)

// platforms are the four stand-ins one service exports to.
type platforms struct {
	google *googleAds
	ga     *measurementProtocol
	meta   *conversionsAPI
	ms     *microsoftAds
}

func newPlatforms(t *testing.T, now func() time.Time) platforms {
	return platforms{google: newGoogleAds(t, now), ga: newMeasurementProtocol(t, now), meta: newConversionsAPI(t, now), ms: newMicrosoftAds(t, now)}
}

// sent counts what each platform accepted.
type sent struct {
	GoogleClicks, GoogleAdjustments            int
	GA4Leads, GA4Adjustments                   int
	MetaLeads, MetaRestatements                int
	MicrosoftConversions, MicrosoftAdjustments int
}

func (p platforms) sent() sent {
	var n sent
	clicks, adjs := p.google.snapshot()
	n.GoogleClicks, n.GoogleAdjustments = len(clicks), len(adjs)
	for _, b := range p.ga.snapshot() {
		for _, ev := range b.Events {
			if ev.Name == gaAdjustmentEvent {
				n.GA4Adjustments++
			} else {
				n.GA4Leads++
			}
		}
	}
	for _, ev := range p.meta.snapshot() {
		if ev["event_name"] == metaRestateEvent {
			n.MetaRestatements++
		} else {
			n.MetaLeads++
		}
	}
	convs, madjs := p.ms.snapshot()
	n.MicrosoftConversions, n.MicrosoftAdjustments = len(convs), len(madjs)
	return n
}

// requests counts every request the stand-ins saw, token exchanges
// included.
func (p platforms) requests() map[string]int {
	return map[string]int{"google ads": p.google.requestCount(), "ga4": p.ga.requestCount(),
		"meta": p.meta.requestCount(), "microsoft ads": p.ms.requestCount()}
}

// newService is one dni.Service exporting to all four sinks, each aimed
// at its stand-in, on the harness's clock.
func newService(t *testing.T, clk *dnitest.Clock, p platforms) *dnitest.Harness {
	t.Helper()
	google, err := googleadsapi.New(googleadsapi.Config{CustomerID: "123-456-7890", LoginCustomerID: googleLogin,
		DeveloperToken: googleDevToken, ConversionAction: googleAction,
		ClientID: googleClientID, ClientSecret: googleClientSecret, RefreshToken: googleRefresh,
		BaseURL: p.google.srv.URL, TokenURL: p.google.srv.URL + "/token", Now: clk.Now})
	require.NoError(t, err)
	ga, err := ga4.New(ga4.Config{MeasurementID: gaMeasurementID, APISecret: gaSecret, BaseURL: p.ga.srv.URL,
		AdjustmentEventName: gaAdjustmentEvent, Now: clk.Now})
	require.NoError(t, err)
	fb, err := meta.New(meta.Config{PixelID: metaPixel, AccessToken: metaToken, BaseURL: p.meta.srv.URL,
		RestateEventName: metaRestateEvent, Now: clk.Now})
	require.NoError(t, err)
	// Microsoft's tokens come as its package documents: an
	// oauth2.Config's TokenSource refreshing from a refresh token.
	msOAuth := &oauth2.Config{ClientID: msClientID, Scopes: []string{msAdsScope, "offline_access"},
		Endpoint: oauth2.Endpoint{TokenURL: p.ms.srv.URL + "/oauth2/v2.0/token", AuthStyle: oauth2.AuthStyleInParams}}
	var h *dnitest.Harness
	ms, err := microsoftads.New(microsoftads.Config{Endpoint: p.ms.srv.URL,
		TokenSource:    msOAuth.TokenSource(context.Background(), &oauth2.Token{RefreshToken: msRefresh}),
		DeveloperToken: msDevToken, CustomerID: msCustomer, AccountID: msAccount, ConversionName: msGoal,
		// The sinks are built before the service whose model credits them.
		Credit: func(ctx context.Context, ev export.Event) (string, float64, error) {
			return h.Service.CreditFor(attribution.Linear{}, dni.ClickPlatform, "Microsoft Ads")(ctx, ev)
		},
		Now: clk.Now})
	require.NoError(t, err)
	h = dnitest.New(t, dnitest.Config{DNI: dni.Config{
		Pools: []dni.Pool{
			{PoolConfig: pool.PoolConfig{Name: "paid-search", Numbers: []string{"+14155550101", "+14155550102", "+14155550103"}, BusinessNumber: "+14155550000"},
				Serves: []string{string(classify.ChannelPaidSearch)}},
			{PoolConfig: pool.PoolConfig{Name: "main", Numbers: []string{"+14155550111", "+14155550112", "+14155550113"}, BusinessNumber: "+14155550000"}},
		},
		// A two-minute answered call qualifies at $250.
		Qualify:     []journey.QualifyRule{{Name: "booked job", Value: 25000, Currency: "USD"}},
		VisitorKeys: [][]byte{bytes.Repeat([]byte("k"), 32)},
	}, Clock: clk, Export: export.Config{Rand: func() float64 { return 0 }}, Sinks: []export.Sink{google, ga, fb, ms}})
	return h
}

// visit is a landing and the call that follows it.
type visit struct {
	url, referrer string
	ids           journey.AdIDs
	call, from    string
}

func paidSearch(consent bool) visit {
	// The site uses Consent Mode, whose signals follow the ads consent.
	signal := map[bool]string{true: "granted", false: "denied"}[consent]
	return visit{url: "https://example-plumbing.com/?utm_source=google&utm_medium=cpc&gclid=Cj0KCQjw-search",
		referrer: "https://www.google.com/",
		ids: journey.AdIDs{Consent: consent, GAClientID: "1234567890.1700000000", GASessionID: "1772445600",
			AdUserData: signal, AdPersonalization: signal},
		call: "CA-search", from: "+12125550101"}
}

func paidSocial(consent bool) visit {
	return visit{url: "https://example-plumbing.com/?utm_source=facebook&utm_medium=paid_social&fbclid=IwAR0social",
		referrer: "https://m.facebook.com/",
		ids:      journey.AdIDs{Consent: consent, GAClientID: "2234567890.1700000001", FBP: "fb.1.1772445500000.987654321"},
		call:     "CA-social", from: "+12125550102"}
}

func microsoftSearch(consent bool) visit {
	return visit{url: "https://example-plumbing.com/?utm_source=bing&utm_medium=cpc&msclkid=msclk-3",
		referrer: "https://www.bing.com/",
		ids:      journey.AdIDs{Consent: consent},
		call:     "CA-bing", from: "+12125550103"}
}

// Issue 19, done when: a qualified call from a paid-search visit with a
// gclid is exactly one Google Ads click conversion and one GA4 event, from
// a visit with an fbclid exactly one Meta event, from one with an msclkid
// exactly one Microsoft Ads conversion, each accepted by its stand-in;
// the value changed later is exactly one adjustment on each platform that
// had the conversion; and without ads consent nothing reaches any of
// them. All four sinks share one service, so each case also shows that a
// platform's click is sent to no other ad platform.
//
// GA4 is not a click platform: it measures the site's visitors, so it
// has every consented call whose visitor the tracker read a _ga client id
// for, the paid-social one included.
func TestQualifiedCallsReachOnlyTheirPlatforms(t *testing.T) {
	for _, tc := range []struct {
		name        string
		visits      []visit
		first, then sent
		check       func(t *testing.T, p platforms)
	}{
		{
			name:   "paid search with a gclid: Google Ads and GA4",
			visits: []visit{paidSearch(true)},
			first:  sent{GoogleClicks: 1, GA4Leads: 1},
			then:   sent{GoogleClicks: 1, GoogleAdjustments: 1, GA4Leads: 1, GA4Adjustments: 1},
			check: func(t *testing.T, p platforms) {
				clicks, adjs := p.google.snapshot()
				require.Len(t, clicks, 1)
				require.Len(t, adjs, 1)
				c := clicks[0]
				assert.Equal(t, "Cj0KCQjw-search", c.GCLID)
				assert.Equal(t, googleadsapi.OrderID(googleadsapi.DefaultName, journey.CallConversionID(fake.Name, "CA-search")), c.OrderID)
				assertNumber(t, 250, c.ConversionValue)
				assert.Equal(t, "USD", c.CurrencyCode)
				assert.Equal(t, "GRANTED", c.Consent.AdUserData)
				assert.Equal(t, "RESTATEMENT", adjs[0].AdjustmentType)
				assert.Equal(t, c.OrderID, adjs[0].OrderID, "the adjustment names the conversion")
				assertNumber(t, 900, adjs[0].RestatementValue.AdjustedValue)
				assertGA4(t, p, "1234567890.1700000000", "CA-search")
			},
		},
		{
			name:   "paid social with an fbclid: Meta and GA4",
			visits: []visit{paidSocial(true)},
			first:  sent{GA4Leads: 1, MetaLeads: 1},
			then:   sent{GA4Leads: 1, GA4Adjustments: 1, MetaLeads: 1, MetaRestatements: 1},
			check: func(t *testing.T, p platforms) {
				evs := p.meta.snapshot()
				require.Len(t, evs, 2)
				lead, purchase := evs[0], evs[1]
				assert.Equal(t, meta.DefaultEventName, lead["event_name"])
				assert.Equal(t, "meta/"+journey.CallConversionID(fake.Name, "CA-social"), lead["event_id"])
				assert.Equal(t, "phone_call", lead["action_source"])
				ud := lead["user_data"].(map[string]any)
				assert.Regexp(t, `^fb\.1\.[0-9]+\.IwAR0social$`, ud["fbc"], "fbc built from the fbclid")
				assert.Equal(t, "fb.1.1772445500000.987654321", ud["fbp"])
				assertNumber(t, 250, lead["custom_data"].(map[string]any)["value"])
				assert.Equal(t, metaRestateEvent, purchase["event_name"])
				assertNumber(t, 900, purchase["custom_data"].(map[string]any)["value"])
				assert.NotEqual(t, lead["event_id"], purchase["event_id"], "Meta would drop the restatement as a duplicate")
				assertGA4(t, p, "2234567890.1700000001", "CA-social")
			},
		},
		{
			name:   "Microsoft Ads with an msclkid: Microsoft Ads alone",
			visits: []visit{microsoftSearch(true)},
			first:  sent{MicrosoftConversions: 1},
			then:   sent{MicrosoftConversions: 1, MicrosoftAdjustments: 1},
			check: func(t *testing.T, p platforms) {
				convs, adjs := p.ms.snapshot()
				require.Len(t, convs, 1)
				require.Len(t, adjs, 1)
				c := convs[0]
				assert.Equal(t, "msclk-3", c.MicrosoftClickId)
				require.NotNil(t, c.ConversionValue)
				assert.Equal(t, 250.0, *c.ConversionValue)
				assert.Equal(t, "USD", c.ConversionCurrencyCode)
				assert.Equal(t, "linear", c.ExternalAttributionModel)
				require.NotNil(t, c.ExternalAttributionCredit)
				assert.InDelta(t, 1.0, *c.ExternalAttributionCredit, 1e-9, "the only click in the journey earns it all")
				a := adjs[0]
				assert.Equal(t, "Restate", a.AdjustmentType)
				require.NotNil(t, a.AdjustmentValue)
				assert.Equal(t, 900.0, *a.AdjustmentValue)
				assert.Equal(t, c.ConversionTime, a.ConversionTime, "names the conversion as sent")
			},
		},
		{
			name:   "the same visits without ads consent: nothing anywhere",
			visits: []visit{paidSearch(false), paidSocial(false), microsoftSearch(false)},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			clk := dnitest.NewClock(dnitest.Start)
			p := newPlatforms(t, clk.Now)
			h := newService(t, clk, p)

			for _, v := range tc.visits {
				a := h.Visit(t, dni.VisitRequest{URL: v.url, Referrer: v.referrer, AdIDs: v.ids})
				require.NotEmpty(t, a.Swaps)
				clk.Advance(time.Minute)
				h.Call(t, fake.Call{ID: v.call, From: v.from, To: a.Swaps[0].Number, Answered: true, Duration: 2 * time.Minute})
			}
			h.Close(t)
			h.DeliverAll(t)
			assert.Equal(t, tc.first, p.sent(), "the qualified calls")

			// Google adjusts conversions at least 24 hours old.
			clk.Advance(25 * time.Hour)
			for _, v := range tc.visits {
				require.NoError(t, h.Service.SetOutcome(ctx, journey.CallTouchpointID(fake.Name, v.call),
					dni.Outcome{Status: dni.OutcomeWon, Value: 90000, Currency: "USD"}))
			}
			h.DeliverAll(t)
			assert.Equal(t, tc.then, p.sent(), "after the value changed")

			if tc.check != nil {
				tc.check(t, p)
			}
			want := map[string]int{googleadsapi.DefaultName: tc.then.GoogleClicks + tc.then.GoogleAdjustments,
				"ga4": tc.then.GA4Leads + tc.then.GA4Adjustments, "meta": tc.then.MetaLeads + tc.then.MetaRestatements,
				"microsoftads": tc.then.MicrosoftConversions + tc.then.MicrosoftAdjustments}
			assert.Equal(t, want, accepted(t, h), "the status report agrees with the platforms")
			if tc.then == (sent{}) {
				assert.Equal(t, map[string]int{"google ads": 0, "ga4": 0, "meta": 0, "microsoft ads": 0}, p.requests(),
					"not a request, not even for a token")
				assert.Zero(t, h.Exporter.Stats().Claimed, "nothing queued")
			}
			dead, err := h.Exporter.ByState(ctx, store.OutboxDead, 10)
			require.NoError(t, err)
			assert.Empty(t, dead)
		})
	}
}

// assertGA4 checks the one generate_lead and the one restatement GA4 got.
func assertGA4(t *testing.T, p platforms, clientID, call string) {
	t.Helper()
	bodies := p.ga.snapshot()
	require.Len(t, bodies, 2)
	tx := `"ga4/` + journey.CallConversionID(fake.Name, call) + `"`
	for i, b := range bodies {
		assert.Equal(t, clientID, b.ClientID)
		require.Len(t, b.Events, 1)
		ev := b.Events[0]
		if i == 0 {
			assert.Equal(t, ga4.DefaultEventName, ev.Name)
			assert.JSONEq(t, `250`, string(ev.Params["value"]))
			assert.JSONEq(t, tx, string(ev.Params["transaction_id"]))
		} else {
			assert.Equal(t, gaAdjustmentEvent, ev.Name)
			assert.JSONEq(t, `900`, string(ev.Params["value"]))
			assert.JSONEq(t, tx, string(ev.Params["original_transaction_id"]))
		}
		assert.JSONEq(t, `"USD"`, string(ev.Params["currency"]))
	}
}

// accepted is each sink's count of messages its platform took, from the
// exporter's status report, which must hold nothing pending or rejected.
func accepted(t *testing.T, h *dnitest.Harness) map[string]int {
	t.Helper()
	rep, err := h.Exporter.Report(context.Background())
	require.NoError(t, err)
	got := map[string]int{}
	for _, s := range rep {
		got[s.Sink] = s.Accepted
		assert.Zero(t, s.Pending, "%s: pending (%s)", s.Sink, s.LastError)
		assert.Zero(t, s.Rejected, "%s: rejected: %v", s.Sink, s.Reasons)
	}
	return got
}

// assertNumber checks that got, a json.Number, is want.
func assertNumber(t *testing.T, want float64, got any) {
	t.Helper()
	var n json.Number
	switch v := got.(type) {
	case json.Number:
		n = v
	default:
		t.Errorf("%v (%T) is not a number", got, got)
		return
	}
	f, err := n.Float64()
	if assert.NoError(t, err) {
		assert.Equal(t, want, f)
	}
}
