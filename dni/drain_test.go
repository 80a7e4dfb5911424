package dni

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/store/memstore"
)

// The pool drain tests: one 100-number pool and clients who try to hold
// it. Time moves only by the injected clock; nothing here measures
// wall-clock time. Each figure in docs/security.md ("Pool drain") is
// logged by the test named next to it.

const (
	drainPool     = "site"
	drainFallback = "+14155550399"
	drainURL      = "https://example-plumbing.com/?utm_source=google&utm_medium=cpc&utm_campaign=drain"
)

var testVisitorKey = bytes.Repeat([]byte("k"), MinVisitorKeyLen)

func drainConfig() Config {
	numbers := make([]string, 100)
	for i := range numbers {
		numbers[i] = fmt.Sprintf("+1415555%04d", 200+i)
	}
	return Config{
		Pools: []Pool{{PoolConfig: pool.PoolConfig{Name: drainPool, Numbers: numbers, BusinessNumber: mainLine,
			Fallback: drainFallback}}},
		VisitorKeys: [][]byte{testVisitorKey},
	}
}

// drainSite is a Service served without a network, so each request can
// come from any address.
type drainSite struct {
	t       *testing.T
	svc     *Service
	clock   *testClock
	numbers map[string]bool // the pool's numbers
	maxHeld int             // the most numbers seen held at once
}

func newDrainSite(t *testing.T, cfg Config) *drainSite {
	t.Helper()
	clock := &testClock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
	svc, err := New(cfg, WithStore(memstore.New()), WithClock(clock.now), WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, svc.Close()) })
	d := &drainSite{t: t, svc: svc, clock: clock, numbers: map[string]bool{}}
	for _, n := range cfg.Pools[0].Numbers {
		d.numbers[n] = true
	}
	return d
}

// post sends body to the API path from peer (an address), with header
// pairs, and returns the status and the body.
func (d *drainSite) post(peer, path string, body any, header ...string) (int, []byte) {
	d.t.Helper()
	b, err := json.Marshal(body)
	require.NoError(d.t, err)
	r := httptest.NewRequest(http.MethodPost, DefaultPrefix+path, bytes.NewReader(b))
	r.RemoteAddr = netip.AddrPortFrom(netip.MustParseAddr(peer), 41000).String()
	r.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	r.Header.Set("User-Agent", browserUA)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	d.svc.Handler().ServeHTTP(w, r)
	return w.Code, w.Body.Bytes()
}

// visit is a page view from peer that must succeed.
func (d *drainSite) visit(peer string, req VisitRequest, header ...string) Assignment {
	d.t.Helper()
	code, body := d.post(peer, "v1/visit", req, header...)
	require.Equal(d.t, http.StatusOK, code, string(body))
	var a Assignment
	require.NoError(d.t, json.Unmarshal(body, &a))
	d.noteHeld()
	return a
}

func (d *drainSite) heartbeat(peer string, a Assignment) Assignment {
	d.t.Helper()
	code, body := d.post(peer, "v1/heartbeat", heartbeatRequest{VisitorID: a.VisitorID, SessionID: a.SessionID})
	require.Equal(d.t, http.StatusOK, code, string(body))
	var out Assignment
	require.NoError(d.t, json.Unmarshal(body, &out))
	d.noteHeld()
	return out
}

// held is how many of the pool's numbers live leases hold now.
func (d *drainSite) held() int {
	d.t.Helper()
	stats, err := d.svc.PoolStats(context.Background())
	require.NoError(d.t, err)
	return stats[drainPool].Leased
}

func (d *drainSite) noteHeld() { d.maxHeld = max(d.maxHeld, d.held()) }

// shown is the number a visit shows instead of the business line; "" for
// none.
func shown(a Assignment) string {
	for _, s := range a.Swaps {
		if s.Target == mainLine {
			return s.Number
		}
	}
	return ""
}

// drain is an attacker that never keeps its visitor id (every visit is a
// first visit) and sends one visit per second, as fast as the per-address
// rate limit lets one address, for 35 minutes: longer than the session
// window, so the leases it took first would have expired had it not
// renewed them. peers gives the address (and extra headers) of visit i.
// It returns how many visits saw a tracking number of the pool.
func (d *drainSite) drain(visits int, peer func(i int) (string, []string)) (tracked int) {
	d.t.Helper()
	for i := range visits {
		addr, header := peer(i)
		a := d.visit(addr, VisitRequest{URL: drainURL}, header...)
		if d.numbers[shown(a)] {
			tracked++
		}
		d.clock.add(time.Second)
	}
	return tracked
}

const drainVisits = 35 * 60

// Without the bound, one address holds the whole pool: what this release
// fixes, for comparison.
func TestDrainWithoutHoldLimits(t *testing.T) {
	cfg := drainConfig()
	cfg.HoldLimits = HoldLimits{PerAddressPercent: -1, PerNetworkPercent: -1}
	d := newDrainSite(t, cfg)
	var drainedAfter int
	for i := 0; drainedAfter == 0 && i < drainVisits; i++ {
		d.drain(1, func(int) (string, []string) { return "203.0.113.9", nil })
		if d.held() == 100 {
			drainedAfter = i + 1
		}
	}
	t.Logf("no bound: one address held all 100 numbers after %d visits (%v)", drainedAfter, time.Duration(drainedAfter)*time.Second)
	require.Equal(t, 100, drainedAfter, "every visit takes a number of its own")
	other := d.visit("198.51.100.20", VisitRequest{URL: drainURL})
	assert.NotEqual(t, "", shown(other), "the pool's policy (reuse) still shows a number")
}

func TestDrainFromOneAddress(t *testing.T) {
	d := newDrainSite(t, drainConfig())
	tracked := d.drain(drainVisits, func(int) (string, []string) { return "203.0.113.9", nil })
	t.Logf("one address, %d visits, new visitor id each: at most %d of 100 numbers held; %d visits saw a pool number", drainVisits, d.maxHeld, tracked)
	assert.Equal(t, 10, d.maxHeld, "10 % of the pool")
	assert.Equal(t, drainVisits, tracked, "every visit still sees a number (the address's most recent)")

	other := d.visit("198.51.100.20", VisitRequest{URL: drainURL})
	assert.True(t, d.numbers[shown(other)], "a visitor from elsewhere gets a number")
	assert.Equal(t, 11, d.held(), "of its own")
}

func TestDrainFromOneSlash24(t *testing.T) {
	d := newDrainSite(t, drainConfig())
	// 256 addresses, each under its own rate limit: two visits a second.
	perSecond := 2
	for i := 0; i < drainVisits*perSecond; i++ {
		a := d.visit(fmt.Sprintf("203.0.113.%d", i%256), VisitRequest{URL: drainURL})
		require.True(t, d.numbers[shown(a)], "visit %d sees a number", i)
		if i%perSecond == perSecond-1 {
			d.clock.add(time.Second)
		}
	}
	t.Logf("256 addresses of one /24, %d visits: at most %d of 100 numbers held", drainVisits*perSecond, d.maxHeld)
	assert.Equal(t, 10, d.maxHeld)
}

func TestDrainFromOneSlash64(t *testing.T) {
	d := newDrainSite(t, drainConfig())
	tracked := d.drain(drainVisits, func(i int) (string, []string) {
		return fmt.Sprintf("2001:db8:1:2:%x:%x::1", i/65536, i%65536), nil
	})
	t.Logf("%d addresses of one IPv6 /64: at most %d of 100 numbers held", drainVisits, d.maxHeld)
	assert.Equal(t, 10, d.maxHeld)
	assert.Equal(t, drainVisits, tracked)
}

func TestDrainWithForgedForwardedHeaders(t *testing.T) {
	forged := func(i int) string { return fmt.Sprintf("198.18.%d.%d", i/256%256, i%256) }
	t.Run("no trusted proxy: the header is ignored", func(t *testing.T) {
		d := newDrainSite(t, drainConfig())
		d.drain(drainVisits, func(i int) (string, []string) {
			return "203.0.113.9", []string{"X-Forwarded-For", forged(i), "Forwarded", "for=" + forged(i)}
		})
		t.Logf("forged X-Forwarded-For and Forwarded, no trusted proxy: at most %d of 100 numbers held", d.maxHeld)
		assert.Equal(t, 10, d.maxHeld)
	})
	t.Run("behind a trusted proxy: forged entries left of the client are skipped", func(t *testing.T) {
		cfg := drainConfig()
		cfg.TrustedProxies = []string{"10.0.0.0/8"}
		d := newDrainSite(t, cfg)
		d.drain(drainVisits, func(i int) (string, []string) {
			// The client forges the header; the proxy appends the client's
			// real address.
			return "10.0.0.1", []string{"X-Forwarded-For", forged(i) + ", 10.9.9.9, 203.0.113.9"}
		})
		t.Logf("forged X-Forwarded-For behind a trusted proxy: at most %d of 100 numbers held", d.maxHeld)
		assert.Equal(t, 10, d.maxHeld)
	})
	t.Run("made-up visitor ids", func(t *testing.T) {
		d := newDrainSite(t, drainConfig())
		for i := range 100 {
			code, _ := d.post("203.0.113.9", "v1/visit", VisitRequest{VisitorID: fmt.Sprintf("visitor-%d", i), URL: drainURL})
			assert.Equal(t, http.StatusBadRequest, code)
			d.clock.add(time.Second)
		}
		assert.Zero(t, d.held(), "no lease for an id the site did not issue")
	})
}

// Renewing is no way around the bound: heartbeats of sessions that hold
// nothing, also after the leases expired, take no more than the share.
func TestDrainThroughHeartbeats(t *testing.T) {
	d := newDrainSite(t, drainConfig())
	const peer = "203.0.113.9"
	var sessions []Assignment
	for range 40 {
		sessions = append(sessions, d.visit(peer, VisitRequest{URL: drainURL}))
		d.clock.add(time.Second)
	}
	require.Equal(t, 10, d.held())
	d.clock.add(10 * time.Second)
	for _, a := range sessions {
		d.heartbeat(peer, a)
	}
	assert.Equal(t, 10, d.held(), "heartbeats renew the 10, and lease nothing more")

	d.clock.add(31 * time.Minute) // every lease expired
	require.Zero(t, d.held())
	for _, a := range sessions {
		d.clock.add(time.Second)
		d.heartbeat(peer, a)
	}
	t.Logf("40 sessions of one address heartbeating, before and after their leases expired: at most %d of 100 numbers held", d.maxHeld)
	assert.Equal(t, 10, d.maxHeld)
}

// Fifty colleagues behind one office NAT: everyone sees a number of the
// pool, 10 hold their own, and as their sessions end others take their
// places.
func TestFiftyVisitorsBehindOneNAT(t *testing.T) {
	const office = "198.51.100.20"
	for _, beyond := range []BeyondLimit{ShowNetworkNumber, ShowPoolFallback} {
		t.Run(beyond.String(), func(t *testing.T) {
			cfg := drainConfig()
			cfg.HoldLimits.Beyond = beyond
			d := newDrainSite(t, cfg)
			var first []Assignment
			own, shared := map[string]int{}, map[string]int{}
			for range 50 {
				a := d.visit(office, VisitRequest{URL: drainURL})
				first = append(first, a)
				d.clock.add(10 * time.Second)
			}
			for i, a := range first {
				next := d.visit(office, VisitRequest{VisitorID: a.VisitorID, SessionID: a.SessionID, URL: "https://example-plumbing.com/contact"})
				require.Equal(t, a.SessionID, next.SessionID, "visitor %d keeps its session", i)
				n := shown(next)
				require.NotEmpty(t, n, "visitor %d sees a tracking number", i)
				if i < 10 {
					own[n]++
					assert.Equal(t, shown(a), n, "visitor %d keeps its own number", i)
				} else {
					shared[n]++
				}
			}
			assert.Len(t, own, 10, "10 hold a number of their own")
			assert.Equal(t, 10, d.held())
			switch beyond {
			case ShowNetworkNumber:
				assert.Len(t, shared, 1, "the other 40 see one number of the pool")
				for n := range shared {
					assert.True(t, d.numbers[n] && own[n] == 1, "the office's most recent lease, %s", n)
				}
			case ShowPoolFallback:
				assert.Equal(t, map[string]int{drainFallback: 40}, shared, "the other 40 see the fallback number")
			}
			t.Logf("50 visitors behind one NAT, %s: %d hold their own number, the other 40 see %v", beyond, len(own), shared)

			// Half an hour later the first ten have gone: new colleagues
			// take their places.
			d.clock.add(31 * time.Minute)
			later := d.visit(office, VisitRequest{URL: drainURL})
			assert.True(t, d.numbers[shown(later)])
			assert.Equal(t, 1, d.held())
		})
	}
}

// Loopback and private clients are not bounded: a proxy that is not in
// TrustedProxies would otherwise give the whole site one share.
func TestPrivateClientsAreNotBounded(t *testing.T) {
	for _, peer := range []string{"127.0.0.1", "::1", "10.1.2.3", "192.168.0.7", "fd00::7"} {
		d := newDrainSite(t, drainConfig())
		for range 20 {
			d.visit(peer, VisitRequest{URL: drainURL})
		}
		assert.Equal(t, 20, d.held(), peer)
	}
}

// A visitor id is whatever the site issued: a made-up id, one of the ids
// calls no session explains are filed under, a tampered id or another
// site's is refused with 400 naming visitor_id, and nothing is recorded.
func TestUnissuedVisitorIDsAreRefused(t *testing.T) {
	d := newDrainSite(t, drainConfig())
	other := newDrainSite(t, Config{Pools: drainConfig().Pools, VisitorKeys: [][]byte{bytes.Repeat([]byte("o"), 32)}})
	issued := d.visit("198.51.100.20", VisitRequest{URL: drainURL})
	foreign := other.visit("198.51.100.20", VisitRequest{URL: drainURL})
	// Another valid character in the random part: the id keeps its shape
	// and only its signature fails (a flipped bit could make it '^').
	tampered := []byte(issued.VisitorID)
	if tampered[5] == 'A' {
		tampered[5] = 'B'
	} else {
		tampered[5] = 'A'
	}
	held := d.held()

	for _, tc := range []struct{ name, id, why string }{
		{"made up", "2f1e6a3c-5b7d-4e8f-9a0b-1c2d3e4f5a6b", "not a visitor id this site issued"},
		{"a caller's", "caller-14155558888", `"caller-" is reserved`},
		{"withheld caller", "caller-withheld", `"caller-" is reserved`},
		{"tampered", string(tampered), "signature"},
		{"another site's", foreign.VisitorID, "signature"},
		{"bad characters", "<script>", "invalid id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, path := range []string{"v1/visit", "v1/heartbeat"} {
				code, body := d.post("198.51.100.20", path, VisitRequest{VisitorID: tc.id, SessionID: issued.SessionID, URL: drainURL})
				if path == "v1/heartbeat" {
					code, body = d.post("198.51.100.20", path, heartbeatRequest{VisitorID: tc.id, SessionID: issued.SessionID})
				}
				assert.Equal(t, http.StatusBadRequest, code, path)
				var e apiError
				require.NoError(t, json.Unmarshal(body, &e))
				assert.True(t, strings.HasPrefix(e.Error, "visitor_id: "), "%s: %q names visitor_id", path, e.Error)
				assert.Contains(t, e.Error, tc.why)
			}
			sessions, err := d.svc.Store().SessionsOfVisitor(context.Background(), tc.id)
			require.NoError(t, err)
			assert.Empty(t, sessions)
		})
	}
	assert.Equal(t, held, d.held(), "no lease taken")

	// A crawler is answered, without numbers, before its id is looked at.
	code, body := d.post("198.51.100.20", "v1/visit", VisitRequest{VisitorID: "caller-14155558888", URL: drainURL},
		"User-Agent", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)")
	assert.Equal(t, http.StatusOK, code, string(body))
}

// Rotating VisitorKeys: ids signed with the old key are accepted once the
// new key is first, new ids are signed with the new key, and an id under a
// key that was dropped is refused.
func TestVisitorKeyRotation(t *testing.T) {
	oldKey, newKey := bytes.Repeat([]byte("o"), 32), bytes.Repeat([]byte("n"), 32)
	st := memstore.New()
	service := func(keys ...[]byte) *drainSite {
		cfg := drainConfig()
		cfg.VisitorKeys = keys
		clock := &testClock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
		svc, err := New(cfg, WithStore(st), WithClock(clock.now), WithLogger(slog.New(slog.DiscardHandler)))
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, svc.Close()) })
		return &drainSite{t: t, svc: svc, clock: clock}
	}
	before := service(oldKey)
	a := before.visit("198.51.100.20", VisitRequest{URL: drainURL})

	rotated := service(newKey, oldKey)
	again := rotated.visit("198.51.100.20", VisitRequest{VisitorID: a.VisitorID, SessionID: a.SessionID, URL: drainURL})
	assert.Equal(t, a.VisitorID, again.VisitorID, "the old id is kept")
	assert.Equal(t, a.SessionID, again.SessionID, "and so is its session")
	fresh := rotated.visit("198.51.100.21", VisitRequest{URL: drainURL})
	assert.NoError(t, newVisitorIDs([][]byte{newKey}).verify(fresh.VisitorID), "new ids are signed with the new key")
	assert.Error(t, newVisitorIDs([][]byte{oldKey}).verify(fresh.VisitorID))

	dropped := service(newKey)
	code, body := dropped.post("198.51.100.20", "v1/visit", VisitRequest{VisitorID: a.VisitorID, URL: drainURL})
	assert.Equal(t, http.StatusBadRequest, code, string(body))
}

// The table of holds stays bounded while networks come and go.
func TestHoldTableForgetsExpiredHolds(t *testing.T) {
	catalog, err := pool.NewCatalog(drainConfig().poolConfig(nil))
	require.NoError(t, err)
	table := newHoldTable(HoldLimits{}, catalog)
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	for i := range 50_000 {
		// Each visitor leaves after one page view, each from another
		// address, the next in another /24; at most 100 leases live at
		// once (a 30-minute window, a visit every 18 s).
		session, client := fmt.Sprint("s", i), fmt.Sprintf("198.51.%d.%d", 100+i%100, i/100%256)
		_, ok := table.take(drainPool, session, client, now)
		require.True(t, ok)
		table.settle(drainPool, session, pool.Lease{Number: "+14155550200", ExpiresAt: now.Add(30 * time.Minute), Outcome: pool.Assigned}, nil)
		now = now.Add(18 * time.Second)
	}
	assert.LessOrEqual(t, len(table.sessions), 2*101+minSweep)
	assert.LessOrEqual(t, len(table.networks), 2*(2*101+minSweep))
}
