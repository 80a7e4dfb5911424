package storetest

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/classify"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/store"
)

// NewStore returns an empty store for one subtest. It should register any
// clean-up with t.Cleanup.
type NewStore func(t *testing.T) store.Store

// Run runs the conformance suite against the stores newStore makes. Every
// subtest gets a fresh store and is named after the contract rule it
// checks.
func Run(t *testing.T, newStore NewStore) {
	t.Helper()
	groups := []struct {
		name  string
		cases []testCase
	}{
		{"Sessions", sessionCases},
		{"Leases", leaseCases},
		{"Calls", callCases},
		{"CallRecords", callRecordCases},
		{"Journeys", journeyCases},
		{"Attributions", attributionCases},
		{"Identities", identityCases},
		{"Touchpoints", touchpointCases},
		{"Conversions", conversionCases},
		{"Retention", retentionCases},
		{"Concurrency", concurrencyCases},
		{"Outbox", outboxCases},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, c := range g.cases {
				t.Run(c.name, func(t *testing.T) {
					c.run(t, newStore(t))
				})
			}
		})
	}
}

type testCase struct {
	name string
	run  func(t *testing.T, st store.Store)
}

// t0 is a base time deliberately outside UTC and below the microsecond, so
// every round trip checks the zone and the precision.
var t0 = time.Date(2026, 3, 14, 9, 26, 53, 589793238, time.FixedZone("UTC-5", -5*3600))

func at(d time.Duration) time.Time { return t0.Add(d) }

// utcMicro is what a store must return for t.
func utcMicro(t time.Time) time.Time { return store.Micro(t) }

func src(campaign string) classify.Source {
	return classify.Source{
		Channel: classify.ChannelPaidSearch, Source: "google", Medium: "cpc", Campaign: campaign,
		Term: "plumber near me", Content: "ad-1",
		ClickID:      classify.ClickID{Param: "gclid", Value: "Cj0K" + campaign, Platform: "Google Ads"},
		Paid:         true,
		ReferrerHost: "www.google.com", Basis: classify.BasisGoogleAutoTag, Rule: "ga4:paid-search", Pool: "paid",
		Problems: []classify.Problem{{Field: "url: utm_term", Reason: "trimmed"}},
	}
}

func session(id, visitor string, start time.Duration) journey.Session {
	return journey.Session{
		ID: id, VisitorID: visitor, StartedAt: at(start), LastSeenAt: at(start + 5*time.Minute),
		LandingURL: "https://example.com/?gclid=x&utm_campaign=" + id, Referrer: "https://www.google.com/",
		Source: src("c-" + id), Pool: "paid", Number: "+14155550100",
	}
}

// wantSession is s as a store returns it.
func wantSession(s journey.Session) journey.Session {
	s.StartedAt, s.LastSeenAt = utcMicro(s.StartedAt), utcMicro(s.LastSeenAt)
	return s
}

func hold(number, sessionID string, from, until time.Duration) pool.HoldRecord {
	h := pool.HoldRecord{Token: 7, Pool: "paid", Number: number, SessionID: sessionID, From: at(from)}
	if until != open {
		h.Until = at(until)
	}
	return h
}

const open time.Duration = -1 << 62 // a hold's until offset meaning "still held"

func call(id string) provider.CallEvent {
	return provider.CallEvent{Provider: "twilio", CallID: id, Kind: provider.KindStatus,
		From: "+14155550123", To: "+14155550100", Direction: provider.DirectionInbound}
}

func touch(id string, kind journey.TouchKind, visitor, sessionID string, d time.Duration) journey.Touchpoint {
	return journey.Touchpoint{ID: id, Kind: kind, At: at(d), VisitorID: visitor, SessionID: sessionID,
		Source: src(id), Attrs: map[string]string{"n": id}}
}

func conversion(id, visitor string, d time.Duration, value int64) journey.Conversion {
	return journey.Conversion{ID: id, Type: journey.ConversionPurchase, At: at(d), VisitorID: visitor, Value: value, Currency: "USD"}
}

func visitor(v string) journey.Identifier {
	return journey.Identifier{Kind: journey.IDVisitor, Value: v}
}
func phone(v string) journey.Identifier { return journey.Identifier{Kind: journey.IDPhone, Value: v} }
func user(v string) journey.Identifier  { return journey.Identifier{Kind: journey.IDUser, Value: v} }

// requireInvalid checks err wraps store.ErrInvalid and names every field.
func requireInvalid(t *testing.T, err error, fields ...string) {
	t.Helper()
	require.Error(t, err)
	require.ErrorIs(t, err, store.ErrInvalid)
	for _, f := range fields {
		require.Contains(t, err.Error(), f, "the error should name the field")
	}
}

func ids[T any](xs []T, id func(T) string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = id(x)
	}
	return out
}

func sessionIDs(xs []journey.Session) []string {
	return ids(xs, func(s journey.Session) string { return s.ID })
}
func holderIDs(xs []pool.Holder) []string {
	return ids(xs, func(h pool.Holder) string { return h.SessionID })
}
func touchIDs(xs []journey.Touchpoint) []string {
	return ids(xs, func(x journey.Touchpoint) string { return x.ID })
}
func convIDs(xs []journey.Conversion) []string {
	return ids(xs, func(x journey.Conversion) string { return x.ID })
}
func callIDs(xs []provider.CallEvent) []string {
	return ids(xs, func(x provider.CallEvent) string { return x.CallID })
}

// permutations returns every order of xs.
func permutations[T any](xs []T) [][]T {
	if len(xs) <= 1 {
		return [][]T{slices.Clone(xs)}
	}
	var out [][]T
	for i := range xs {
		rest := slices.Concat(xs[:i:i], xs[i+1:])
		for _, p := range permutations(rest) {
			out = append(out, append([]T{xs[i]}, p...))
		}
	}
	return out
}

func parallel(n int, f func(i int) error) error {
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f(i)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
