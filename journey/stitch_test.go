package journey

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/classify"
	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/provider"
)

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

const (
	poolNum1   = "+14155550101"
	poolNum2   = "+14155550102"
	fallback   = "+14155550199"
	printAd    = "+14155550150"
	business   = "+14155550000"
	notOurs    = "+14155559999"
	callerJane = "+12125550123"
)

func testCatalog(t testing.TB) *pool.Catalog {
	t.Helper()
	c, err := pool.NewCatalog(pool.Config{
		Pools: []pool.PoolConfig{{Name: "paid-search", Numbers: []string{poolNum1, poolNum2}, BusinessNumber: business, Fallback: fallback}},
		Dedicated: []pool.DedicatedNumber{{Number: printAd, BusinessNumber: business, Campaign: "Spring flyer",
			Source: "flyer", Medium: "print", Channel: "Offline"}},
	})
	require.NoError(t, err)
	return c
}

// fakeHolds answers HoldersAt from a fixed list, as an allocator or store would.
type fakeHolds []pool.Holder

func (f fakeHolds) HoldersAt(_ context.Context, number string, at time.Time, grace time.Duration) ([]pool.Holder, error) {
	var out []pool.Holder
	for _, h := range f {
		if h.Number == number && !h.From.After(at) && (h.Live || !h.Until.Before(at.Add(-grace))) {
			out = append(out, h)
		}
	}
	return out, nil
}

type fakeSessions map[string]Session

var errNoSession = errors.New("no such session")

func (f fakeSessions) Session(_ context.Context, id string) (Session, error) {
	if s, ok := f[id]; ok {
		return s, nil
	}
	return Session{}, errNoSession
}

var paidSearch = classify.Source{Channel: classify.ChannelPaidSearch, Source: "google", Medium: "cpc", Paid: true}

func hold(session string, from, until time.Duration, reused bool) pool.Holder {
	return pool.Holder{Pool: "paid-search", Number: poolNum1, SessionID: session, From: t0.Add(from), Until: t0.Add(until), Reused: reused}
}

func TestStitchConfidenceCases(t *testing.T) {
	sessions := fakeSessions{
		"S1": {ID: "S1", VisitorID: "V1", StartedAt: t0, Source: paidSearch},
		"S2": {ID: "S2", VisitorID: "V2", StartedAt: t0, Source: classify.Source{Channel: classify.ChannelOrganicSearch, Source: "google", Medium: "organic"}},
	}
	cases := []struct {
		name       string
		holds      fakeHolds
		to         string
		callAt     time.Duration
		confidence Confidence
		session    string
		candidates int
		reason     string // a fragment of the reason
		source     string
	}{
		{"dedicated number", nil, printAd, time.Hour, ConfidenceDedicated, "", 0, `fixed to campaign "Spring flyer"`, "flyer"},
		{"held at the call time", fakeHolds{hold("S1", 0, 30*time.Minute, false)}, poolNum1, 10 * time.Minute, ConfidenceExact, "S1", 1, "while held", "google"},
		{"live hold", fakeHolds{{Pool: "paid-search", Number: poolNum1, SessionID: "S1", From: t0, Until: t0.Add(30 * time.Minute), Live: true}}, poolNum1, 5 * time.Minute, ConfidenceExact, "S1", 1, "still held", "google"},
		{"ended within grace", fakeHolds{hold("S1", 0, 31*time.Minute, false)}, poolNum1, 40 * time.Minute, ConfidenceExact, "S1", 1, "9m0s after the hold ended, within 1h0m0s grace", "google"},
		{"ended before grace", fakeHolds{hold("S1", 0, 30*time.Minute, false)}, poolNum1, 2 * time.Hour, ConfidencePoolOnly, "", 0, "no session held", "(pool paid-search)"},
		{"reused under exhaustion", fakeHolds{hold("S1", 0, 40*time.Minute, false), hold("S2", 10*time.Minute, 50*time.Minute, true)}, poolNum1, 30 * time.Minute, ConfidenceReused, "S2", 2, "1 other sessions held it in the window (S1)", "google"},
		{"sequential holders in grace", fakeHolds{hold("S1", 0, 20*time.Minute, false), hold("S2", 25*time.Minute, 45*time.Minute, false)}, poolNum1, 50 * time.Minute, ConfidenceReused, "S2", 2, "most recently active", "google"},
		{"fallback number", nil, fallback, time.Hour, ConfidencePoolOnly, "", 0, "fallback number of pool", "(pool paid-search)"},
		{"not our number", nil, notOurs, time.Hour, ConfidenceUnknown, "", 0, "is not a tracking number", "(not set)"},
		{"withheld dialled number", nil, "", time.Hour, ConfidenceUnknown, "", 0, "(not given)", "(not set)"},
		{"hold starting after the call", fakeHolds{hold("S1", time.Hour, 2*time.Hour, false)}, poolNum1, 30 * time.Minute, ConfidencePoolOnly, "", 0, "no session held", "(pool paid-search)"},
		{"session record missing", fakeHolds{hold("S9", 0, 30*time.Minute, false)}, poolNum1, 10 * time.Minute, ConfidenceExact, "S9", 1, "session record not found", "(pool paid-search)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewStitcher(testCatalog(t), tc.holds, sessions, StitcherConfig{Clock: func() time.Time { return t0 }})
			require.NoError(t, err)
			a, err := s.Stitch(context.Background(), provider.CallEvent{Provider: "fake", CallID: "C1", From: callerJane, To: tc.to, StartedAt: t0.Add(tc.callAt)})
			require.NoError(t, err)
			assert.Equal(t, tc.confidence, a.Confidence)
			assert.Equal(t, tc.session, a.SessionID)
			assert.Len(t, a.Candidates, tc.candidates)
			assert.Contains(t, a.Reason, tc.reason)
			assert.Equal(t, tc.source, a.Source.Source)
			require.NoError(t, a.Validate())
			if tc.candidates > 0 {
				assert.Equal(t, tc.session, a.Candidates[0].SessionID, "the chosen session is listed first")
			}
		})
	}
}

func TestStitchPoolSourceAndSessionVisitor(t *testing.T) {
	s, err := NewStitcher(testCatalog(t), fakeHolds{hold("S1", 0, 30*time.Minute, false)}, fakeSessions{"S1": {ID: "S1", VisitorID: "V1", StartedAt: t0, Source: paidSearch}}, StitcherConfig{
		PoolSources: map[string]classify.Source{"paid-search": paidSearch},
	})
	require.NoError(t, err)
	a, err := s.Stitch(context.Background(), provider.CallEvent{Provider: "fake", CallID: "C1", To: poolNum1, StartedAt: t0.Add(3 * time.Hour)})
	require.NoError(t, err)
	assert.Equal(t, ConfidencePoolOnly, a.Confidence)
	assert.Equal(t, paidSearch, a.Source, "the configured pool source is credited")

	a, err = s.Stitch(context.Background(), provider.CallEvent{Provider: "fake", CallID: "C2", To: "+1 (415) 555-0101", StartedAt: t0.Add(time.Minute)})
	require.NoError(t, err)
	assert.Equal(t, ConfidenceExact, a.Confidence, "the dialled number may come in another spelling")
	assert.Equal(t, "V1", a.VisitorID)
}

// Holders arriving in any order give the same attribution.
func TestStitchIsDeterministic(t *testing.T) {
	holds := fakeHolds{
		hold("S1", 0, 40*time.Minute, false),
		hold("S2", 10*time.Minute, 40*time.Minute, true),
		hold("S3", 5*time.Minute, 40*time.Minute, true),
	}
	var first Attribution
	for i, order := range [][]int{{0, 1, 2}, {2, 1, 0}, {1, 0, 2}, {2, 0, 1}} {
		var hs fakeHolds
		for _, j := range order {
			hs = append(hs, holds[j])
		}
		s, err := NewStitcher(testCatalog(t), hs, fakeSessions{}, StitcherConfig{Clock: func() time.Time { return t0 }})
		require.NoError(t, err)
		a, err := s.Stitch(context.Background(), provider.CallEvent{Provider: "fake", CallID: "C", To: poolNum1, StartedAt: t0.Add(45 * time.Minute)})
		require.NoError(t, err)
		if i == 0 {
			first = a
			assert.Equal(t, "S2", a.SessionID, "equal ends: the latest start wins")
			continue
		}
		assert.Equal(t, first, a)
	}
}

// A call's status callbacks may arrive late, twice or out of order: the
// call time used for stitching is the start time, whichever event the
// merged call was built from first.
func TestStitchOutOfOrderCallbacks(t *testing.T) {
	start := t0.Add(10 * time.Minute)
	events := []provider.CallEvent{
		{Provider: "fake", CallID: "C", Kind: provider.KindInbound, To: poolNum1, From: callerJane, Status: provider.StatusRinging, StartedAt: start, OccurredAt: start},
		{Provider: "fake", CallID: "C", To: poolNum1, Status: provider.StatusInProgress, OccurredAt: start.Add(5 * time.Second), AnsweredAt: start.Add(5 * time.Second)},
		{Provider: "fake", CallID: "C", To: poolNum1, Status: provider.StatusCompleted, OccurredAt: start.Add(5 * time.Hour), EndedAt: start.Add(3 * time.Minute), Duration: 175 * time.Second},
	}
	s, err := NewStitcher(testCatalog(t), fakeHolds{hold("S1", 0, 30*time.Minute, false)}, fakeSessions{"S1": {ID: "S1", VisitorID: "V1", StartedAt: t0, Source: paidSearch}}, StitcherConfig{Clock: func() time.Time { return t0 }})
	require.NoError(t, err)
	var want Attribution
	for i, order := range permutations(len(events)) {
		var merged provider.CallEvent
		for _, j := range order {
			merged = provider.Merge(merged, events[j])
		}
		a, err := s.Stitch(context.Background(), merged)
		require.NoError(t, err, "order %v", order)
		if i == 0 {
			want = a
			assert.Equal(t, "S1", a.SessionID)
			continue
		}
		assert.Equal(t, want, a, "order %v", order)
	}

	_, err = s.Stitch(context.Background(), provider.CallEvent{Provider: "fake", CallID: "X", To: poolNum1})
	assert.ErrorIs(t, err, ErrNoCallTime)
}

func TestNewStitcherNamesMissingParts(t *testing.T) {
	_, err := NewStitcher(nil, nil, nil, StitcherConfig{CallGrace: -time.Second})
	require.Error(t, err)
	for _, want := range []string{"numbers is nil", "holds is nil", "sessions is nil", "CallGrace -1s is negative"} {
		assert.Contains(t, err.Error(), want)
	}
}

func permutations(n int) [][]int {
	if n == 1 {
		return [][]int{{0}}
	}
	var out [][]int
	for _, p := range permutations(n - 1) {
		for i := 0; i <= len(p); i++ {
			q := append(append(append([]int{}, p[:i]...), n-1), p[i:]...)
			out = append(out, q)
		}
	}
	return out
}
