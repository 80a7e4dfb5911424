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

// Factory returns a fresh, empty store for one case. It registers any
// clean-up with t.Cleanup and fails t if it cannot make one. Run also calls
// it once on its own t to see which optional roles the store implements.
type Factory func(t *testing.T) store.Store

// Features declares the optional roles a store implements, and how the
// suite may look inside it. A declared role is checked like any other and
// the store must implement it; an undeclared one is not checked, which Run
// says once in the test log.
type Features struct {
	// Dump returns everything st holds as text, one entry per stored value
	// and naming where it was found: for a SQL store every column of every
	// table ([DumpSQL]), for an in-memory one every string it can reach
	// ([DumpMemory]). The erasure cases search it for the erased person's
	// values, so that no table the API does not read escapes them. Nil
	// skips that search, which the case says in the test log.
	Dump func(t *testing.T, st store.Store) []string

	// Outbox: the store implements the optional [store.Outbox] role. When
	// set, the Outbox cases run, every one of them failing if the store
	// does not implement the role, and PutCallRecord's messages are read
	// back. When not set, Run fails if the store implements store.Outbox
	// anyway: a role the export package will find must be checked.
	Outbox bool
}

// Run runs every case of the suite against stores made by newStore, each
// case on a fresh store, as subtests named after the role and the rule:
// "Sessions/SessionMissingIsErrNotFound".
func Run(t *testing.T, newStore Factory, f Features) {
	t.Helper()
	s := &suite{newStore: newStore, features: f}
	if !f.Outbox {
		if st := newStore(t); implementsOutbox(st) {
			t.Errorf("storetest: %T implements store.Outbox but Features.Outbox is not set; set it so the role is checked", st)
		} else {
			t.Log("storetest: Features.Outbox is not set: the Outbox cases do not run")
		}
	}
	for _, g := range s.groups() {
		t.Run(g.role, func(t *testing.T) {
			for _, c := range g.cases {
				t.Run(c.name, c.run)
			}
		})
	}
}

type suite struct {
	newStore Factory
	features Features
}

// group is the cases of one role of the contract.
type group struct {
	role  string
	cases []testCase
}

type testCase struct {
	name string
	run  func(t *testing.T)
}

func implementsOutbox(st store.Store) bool {
	_, ok := st.(store.Outbox)
	return ok
}

// newOutbox returns a fresh store and its Outbox role.
func (s *suite) newOutbox(t *testing.T) (store.Store, store.Outbox) {
	t.Helper()
	st := s.newStore(t)
	return st, outboxOf(t, st)
}

// outboxOf returns st's Outbox role, failing the case when st does not
// implement the role Features.Outbox declares.
func outboxOf(t *testing.T, st store.Store) store.Outbox {
	t.Helper()
	ob, ok := st.(store.Outbox)
	if !ok {
		t.Fatalf("storetest: Features.Outbox is set but %T does not implement store.Outbox", st)
	}
	return ob
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
		PageViews: 3, ExitURL: "https://example.com/contact?from=" + id,
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
