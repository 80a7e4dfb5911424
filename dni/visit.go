package dni

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/attriqs/calltrack/classify"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/store"
)

// VisitRequest is what the tracker sends when a page loads.
type VisitRequest struct {
	VisitorID string `json:"visitor_id,omitempty"` // empty on a first visit
	SessionID string `json:"session_id,omitempty"` // empty when no session is live
	URL       string `json:"url"`
	Referrer  string `json:"referrer,omitempty"`
	UserAgent string `json:"-"` // from the request header
	// AdIDs are the ad platforms' browser ids the tracker read with the
	// visitor's ads consent (journey.AdIDs); each page view may add some.
	// Their Consent also decides whether the session keeps the click id
	// of URL (gclid, msclkid, fbclid, ...): without it, only its kind.
	AdIDs journey.AdIDs `json:"ad_ids,omitzero"`
	// AdsWithdrawn says the visitor withdrew the ads consent they had
	// given: the session forgets its ad ids and its click id, so nothing
	// more of it is sent to an ad platform.
	AdsWithdrawn bool `json:"ads_withdrawn,omitempty"`
	// Again marks a page view's visit sent a second time (ads consent
	// given or withdrawn after the first was answered): it is not another
	// page view.
	Again bool `json:"again,omitempty"`
}

// Swap tells the tracker to show Number wherever the page shows Target.
type Swap struct {
	Target  string `json:"target"`  // the business line, E.164
	Number  string `json:"number"`  // the tracking number, E.164
	Display string `json:"display"` // Number in the national format, for elements that show no number yet
}

// Assignment is the answer to a visit or a heartbeat.
type Assignment struct {
	VisitorID  string          `json:"visitor_id"`
	SessionID  string          `json:"session_id"`
	Source     classify.Source `json:"source"`
	Swaps      []Swap          `json:"swaps"`
	ExpiresAt  time.Time       `json:"expires_at"`
	HeartbeatS int             `json:"heartbeat_s"`
}

// ErrInvalidID is returned for visitor or session ids the tracker could
// not have made.
var ErrInvalidID = errors.New("dni: invalid id")

// Visit starts or continues a session and leases its tracking numbers. A
// live session keeps its source (the landing that started it) and its
// numbers, unless the page view arrived through another campaign, which
// starts a new session as in GA4; a visit without a live session starts
// one. Every visit is a page view of its session (journey.Session's
// PageViews and ExitURL; LandingURL stays the first). Crawlers get no
// session and no swaps: they see, and index, the real numbers. Exhausted
// pools never fail a visit; the visitor then sees what the pool's policy
// says, possibly the real number.
//
// A visit without a visitor id is a new visitor's: the answer carries its
// id, issued and signed by the service (Config.VisitorKeys). Any other id,
// one made up by the client, one of another site or one from before ids
// were signed, fails with ErrInvalidID and an error naming visitor_id (the
// tracker then drops its stored id and visits again without one).
//
// Through Handler, the leases are bounded per client address and network
// (Config.HoldLimits): a visit beyond a bound still sees a number, not an
// error. Called from Go, a visit carries no client address and is not
// bounded.
//
// Visit waits on the store for at most Config.StoreWait: classification
// and leasing happen in memory (or in the allocator), and the session and
// touchpoint writes that the store has not finished by then go on in the
// background. A session whose read does not finish in time counts as not
// live.
func (s *Service) Visit(ctx context.Context, req VisitRequest) (Assignment, error) {
	now := s.now().UTC()
	landed := s.classifier.Classify(classify.Visit{URL: req.URL, Referrer: req.Referrer, UserAgent: req.UserAgent, Time: now})
	if landed.Crawler {
		return Assignment{Source: landed, Swaps: []Swap{}, HeartbeatS: 0}, nil
	}
	src := clickConsent(landed, req.AdIDs.Consent)
	visitor := req.VisitorID
	if visitor == "" {
		visitor = s.visitorIDs.issue(now)
	} else if err := s.visitorIDs.verify(visitor); err != nil {
		return Assignment{}, fmt.Errorf("visitor_id: %w", err)
	}
	sessionID, err := validID(req.SessionID)
	if err != nil {
		return Assignment{}, fmt.Errorf("session_id: %w", err)
	}

	storeCtx, cancel := withDeadline(ctx, s.cfg.StoreWait, "")
	defer cancel()
	sess, live := s.liveSession(storeCtx, sessionID, visitor, now)
	if live && newCampaign(sess.Source, src) {
		live = false // as in GA4: arriving through another campaign starts a new session
	}
	if !live {
		// Time-ordered (UUIDv7): new sessions' rows land together at the
		// end of every index keyed by the id, not on random pages.
		sess = journey.Session{ID: uuid.Must(uuid.NewV7()).String(), VisitorID: visitor, StartedAt: now, LandingURL: req.URL, Referrer: req.Referrer, Source: src}
	}
	// Every visit is a page view, but for one sent again. The count and
	// exit page ride on the session write a live session's visit makes
	// anyway (written behind, batched): no write of their own.
	if !live || !req.Again {
		sess.PageViews++
		sess.ExitURL = req.URL
	}
	sess.LastSeenAt = now
	clicked := sess.Source.ClickID
	if req.AdsWithdrawn {
		sess.AdIDs = journey.AdIDs{}
		sess.Source.ClickID.Value = ""
	}
	if live && sameClickKept(sess.Source.ClickID, src.ClickID) {
		sess.Source.ClickID = src.ClickID // consent came after the landing page's visit
	}
	sess.AdIDs = mergeAdIDs(sess.AdIDs, cleanAdIDs(req.AdIDs, landed, now))
	a := s.lease(ctx, &sess, clientOf(ctx), now)
	// Failures are logged, not returned: the lease stands and the numbers
	// show; a call can still be stitched through the allocator's memory.
	switch {
	case !live:
		// A new session and its touchpoint: one batch, one wait.
		s.writes.putSessionAndTouchpoint(storeCtx, s.store, sess, sessionTouchpoint(sess))
	case sess.Source.ClickID != clicked:
		// The click id came with consent or went with it: the session's
		// touchpoint, which reports and exports read, says so too.
		s.writes.putSessionWithTouchpoint(storeCtx, s.store, sess, sessionTouchpoint(sess))
	default:
		s.writes.putSession(storeCtx, s.store, sess)
	}
	return a, nil
}

// sessionTouchpoint is the touchpoint of a session's arrival.
func sessionTouchpoint(sess journey.Session) journey.Touchpoint {
	return journey.Touchpoint{ID: "session:" + sess.ID, Kind: journey.TouchSession, At: sess.StartedAt,
		VisitorID: sess.VisitorID, SessionID: sess.ID, Source: sess.Source}
}

// Heartbeat keeps a session's numbers while its page is open. A session
// that expired meanwhile is leased again under the same id, within the
// bounds of Config.HoldLimits as a visit is. Like Visit, it
// waits on the store for at most Config.StoreWait and writes the session
// behind; a session it cannot read by then fails the heartbeat, and the
// tracker keeps the numbers it shows. The visitor id must be one the
// service signed, as for Visit.
func (s *Service) Heartbeat(ctx context.Context, visitorID, sessionID string) (Assignment, error) {
	now := s.now().UTC()
	if visitorID == "" {
		return Assignment{}, fmt.Errorf("visitor_id: %w: empty", ErrInvalidID)
	}
	if err := s.visitorIDs.verify(visitorID); err != nil {
		return Assignment{}, fmt.Errorf("visitor_id: %w", err)
	}
	visitor := visitorID
	id, err := validID(sessionID)
	if err != nil || id == "" {
		return Assignment{}, fmt.Errorf("session_id: %w", orEmpty(err))
	}
	storeCtx, cancel := withDeadline(ctx, s.cfg.StoreWait, "")
	defer cancel()
	sess, err := s.session(storeCtx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return Assignment{}, fmt.Errorf("session_id: %w: no such session", ErrInvalidID)
	case err != nil:
		return Assignment{}, err
	case sess.VisitorID != visitor:
		return Assignment{}, fmt.Errorf("session_id: %w: belongs to another visitor", ErrInvalidID)
	}
	sess.LastSeenAt = now
	a := s.lease(ctx, &sess, clientOf(ctx), now)
	s.writes.putSession(storeCtx, s.store, sess)
	return a, nil
}

// newCampaign reports whether a page view of a live session arrived
// through tagging (UTM parameters, auto-tagging or a click id) that names
// another source, medium or campaign than the session's. Untagged page
// views, including internal navigation, continue the session.
func newCampaign(session, page classify.Source) bool {
	switch page.Basis {
	case classify.BasisUTM, classify.BasisGoogleAutoTag, classify.BasisClickID:
	default:
		return false
	}
	return page.Source != session.Source || page.Medium != session.Medium || page.Campaign != session.Campaign ||
		(page.ClickID.Value != "" && page.ClickID != session.ClickID && !sameClickKept(session.ClickID, page.ClickID))
}

// clickConsent keeps the click id of a page's URL (gclid, msclkid, fbclid,
// ...) only with the visitor's ads consent. Without it the source still
// says what kind of click brought the visitor, so channels and campaigns
// are reported as before, but not the id, which names the click to the ad
// platform.
func clickConsent(src classify.Source, adsConsent bool) classify.Source {
	if !adsConsent {
		src.ClickID.Value = ""
	}
	return src
}

// sameClickKept reports whether page is the click of a session that kept
// its kind but not its id (the consent came later): the id is filled in,
// and the session goes on.
func sameClickKept(session, page classify.ClickID) bool {
	return session.Value == "" && session.Param != "" && page.Param == session.Param && page.Value != ""
}

// liveSession returns the visitor's session when it is still live.
func (s *Service) liveSession(ctx context.Context, id, visitor string, now time.Time) (journey.Session, bool) {
	if id == "" {
		return journey.Session{}, false
	}
	sess, err := s.session(ctx, id)
	if err != nil || sess.VisitorID != visitor {
		return journey.Session{}, false
	}
	window := pool.DefaultSessionWindow
	if p, ok := s.catalog.Pool(sess.Pool); ok {
		window = p.SessionWindow
	}
	return sess, now.Sub(sess.LastSeenAt) <= window
}

// lease takes a number for the session on every business line. It cannot
// fail: a line whose allocator fails shows its real number. A session
// whose client's address or network already holds its share of a pool
// (Config.HoldLimits) takes no lease there and is shown what
// HoldLimits.Beyond says.
func (s *Service) lease(ctx context.Context, sess *journey.Session, client string, now time.Time) Assignment {
	a := Assignment{VisitorID: sess.VisitorID, SessionID: sess.ID, Source: sess.Source, Swaps: []Swap{},
		HeartbeatS: int(s.cfg.Heartbeat / time.Second)}
	for i, name := range s.router.pools(sess.Source) {
		info, _ := s.catalog.Pool(name)
		var l pool.Lease
		if recent, ok := s.netHolds.take(name, sess.ID, client, now); !ok {
			l = s.beyondLimit(info, recent)
			s.log.Debug("dni: the client's network holds its share of the pool", "pool", name, "session", sess.ID, "shown", l.Number)
		} else {
			var err error
			l, err = s.alloc.Lease(ctx, name, sess.ID, now)
			s.netHolds.settle(name, sess.ID, l, err)
			if err != nil {
				// The allocator is down or the session id is unusable: the
				// visitor sees the real number on this line.
				s.log.Warn("dni: lease", "pool", name, "session", sess.ID, "err", err)
				continue
			}
		}
		if i == 0 {
			sess.Pool = name
			if l.Outcome.Tracked() {
				sess.Number = l.Number
			}
		}
		if a.ExpiresAt.IsZero() || l.ExpiresAt.Before(a.ExpiresAt) {
			a.ExpiresAt = l.ExpiresAt
		}
		if l.Number != info.BusinessNumber {
			a.Swaps = append(a.Swaps, Swap{Target: info.BusinessNumber, Number: l.Number, Display: s.display(l.Number)})
		}
	}
	return a
}

// beyondLimit is what a visit beyond its network's share of a pool sees:
// the network's most recent number, or the pool's fallback number, or its
// business number. None of them is a lease of the session's own (Outcome
// zero): the session holds nothing.
func (s *Service) beyondLimit(info *pool.PoolInfo, recent hold) pool.Lease {
	switch {
	case s.cfg.HoldLimits.Beyond == ShowNetworkNumber && recent.number != "":
		return pool.Lease{Pool: info.Name, Number: recent.number, ExpiresAt: recent.until}
	case info.Fallback != "":
		return pool.Lease{Pool: info.Name, Number: info.Fallback}
	}
	return pool.Lease{Pool: info.Name, Number: info.BusinessNumber}
}

// validID accepts the ids the tracker makes (UUIDs; up to 64 characters of
// letters, digits, '-' and '_') and "" for none.
func validID(id string) (string, error) {
	if len(id) > 64 {
		return "", fmt.Errorf("%w: longer than 64 characters", ErrInvalidID)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return "", fmt.Errorf("%w: character %q at %d", ErrInvalidID, c, i)
		}
	}
	return id, nil
}

func orEmpty(err error) error {
	if err != nil {
		return err
	}
	return fmt.Errorf("%w: empty", ErrInvalidID)
}

// session reads a session, from the write-behind queue while its write is
// pending there, else from the store.
func (s *Service) session(ctx context.Context, id string) (journey.Session, error) {
	if sess, ok := s.writes.session(id); ok {
		return sess, nil
	}
	return s.store.Session(ctx, id)
}

// Defaults of HoldLimits, in percent of a pool's numbers.
const (
	DefaultHoldsPerAddressPercent = 10
	DefaultHoldsPerNetworkPercent = 10
)

// HoldLimits bound the tracking numbers that the live sessions of one
// client hold in one pool, so that one address, or one network of
// addresses, cannot lease a pool empty and leave real visitors with the
// fallback (docs/security.md, "Pool drain"). Each bound is a share of
// the pool's numbers, rounded down but at least one number: with the
// defaults, 10 of a 100-number pool, 2 of 20, 1 of 9 or fewer.
//
// A session counts against the address and the network it first leased
// from, while its lease lives (the pool's SessionWindow after its last
// visit or heartbeat). The counts are kept in memory, in each instance:
// behind a balancer that spreads one network's visits over n instances,
// the network may hold up to n times its share.
//
// The client address is the one the rate limits use (Config.TrustedProxies).
// Loopback, private (RFC 1918, fc00::/7) and link-local addresses are not
// bounded: they are not clients from the internet but your own network, or
// a proxy not listed in TrustedProxies, behind which every visitor would
// share one address and the whole site one share of each pool.
type HoldLimits struct {
	// PerAddressPercent bounds the numbers of a pool held by the sessions
	// of one client address; default DefaultHoldsPerAddressPercent. A
	// negative value means no bound.
	PerAddressPercent int
	// PerNetworkPercent bounds the numbers of a pool held by the sessions
	// of one network: the address's /24 for IPv4, its /64 for IPv6;
	// default DefaultHoldsPerNetworkPercent. A negative value means no
	// bound.
	PerNetworkPercent int
	// Beyond is what a visit beyond a bound is shown; the default is
	// ShowNetworkNumber.
	Beyond BeyondLimit
}

// BeyondLimit is what a visit is shown when its address or network already
// holds its share of the pool. Either way the visitor sees a number, never
// an error, and takes no lease.
type BeyondLimit int

const (
	// ShowNetworkNumber shows the number that the address (or, when only
	// the network is at its bound, the network) leased most recently in
	// the pool, while that lease lives. A call to it is stitched to that
	// session, so it carries the source of a visit from the same network;
	// the pool's other numbers stay free for everyone else. It is the
	// default: it needs no fallback number, and 50 people behind one office
	// NAT all see tracking numbers of the pool their visit was routed to.
	ShowNetworkNumber BeyondLimit = iota
	// ShowPoolFallback shows the pool's Fallback number, whose calls are
	// credited to the pool's Source with confidence pool-only, or the
	// business number when the pool has no fallback (the call is then not
	// tracked).
	ShowPoolFallback
)

func (b BeyondLimit) String() string {
	switch b {
	case ShowNetworkNumber:
		return "network-number"
	case ShowPoolFallback:
		return "pool-fallback"
	}
	return fmt.Sprintf("BeyondLimit(%d)", int(b))
}

// problems lists what is wrong with the limits, each naming its field.
func (h HoldLimits) problems() []string {
	var out []string
	if h.PerAddressPercent > 100 {
		out = append(out, fmt.Sprintf("PerAddressPercent %d is over 100", h.PerAddressPercent))
	}
	if h.PerNetworkPercent > 100 {
		out = append(out, fmt.Sprintf("PerNetworkPercent %d is over 100", h.PerNetworkPercent))
	}
	if h.Beyond != ShowNetworkNumber && h.Beyond != ShowPoolFallback {
		out = append(out, fmt.Sprintf("Beyond %d is neither ShowNetworkNumber nor ShowPoolFallback", int(h.Beyond)))
	}
	return out
}

func (h HoldLimits) withDefaults() HoldLimits {
	if h.PerAddressPercent == 0 {
		h.PerAddressPercent = DefaultHoldsPerAddressPercent
	}
	if h.PerNetworkPercent == 0 {
		h.PerNetworkPercent = DefaultHoldsPerNetworkPercent
	}
	return h
}

// share is percent of size numbers, rounded down, at least one; -1 (no
// bound) for a negative percent.
func share(percent, size int) int {
	if percent < 0 {
		return -1
	}
	return max(1, size*percent/100)
}

// clientKey is the context key of the client address Handler found (as
// the rate limits find it), which Visit and Heartbeat read.
type clientKey struct{}

// clientOf is the client address Handler put in ctx (api); "" without one.
func clientOf(ctx context.Context) string {
	// Read from Handler's deadlines directly: Value would box the string,
	// an allocation per visit.
	for d, ok := ctx.(*deadlineCtx); ok; d, ok = d.parent.(*deadlineCtx) {
		if d.client != "" {
			return d.client
		}
	}
	c, _ := ctx.Value(clientKey{}).(string)
	return c
}

// clientNetworks are the address and the network (/24, /64) a client's
// leases count against; ok is false for a client that is not bounded (no
// address, or not one from the internet: see HoldLimits).
func clientNetworks(client string) (addr, network netip.Prefix, ok bool) {
	a, err := netip.ParseAddr(client)
	if err != nil {
		return netip.Prefix{}, netip.Prefix{}, false
	}
	a = a.WithZone("").Unmap()
	if a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsUnspecified() {
		return netip.Prefix{}, netip.Prefix{}, false
	}
	bits := 64
	if a.Is4() {
		bits = 24
	}
	network, _ = a.Prefix(bits)
	return netip.PrefixFrom(a, a.BitLen()), network, true
}

// holdTable counts the live leases the sessions of each client address and
// network hold in each pool, for HoldLimits.
//
// Memory is bounded: a hold is added only for a lease the allocator gave
// (or is giving) a session of a bounded client, one per pool and session,
// so live holds never outnumber the allocator's live leases; expired holds
// are dropped when the table has doubled since the last sweep, so it holds
// at most about twice the live leases, plus minSweep.
type holdTable struct {
	catalog         *pool.Catalog
	perAddr, perNet int // percent; negative: no bound
	mu              sync.Mutex
	sessions        map[poolSession]*hold
	networks        map[poolNetwork][]*hold // oldest lease first
	sweepAt         int
}

const minSweep = 1024

type poolSession struct{ pool, session string }

type poolNetwork struct {
	pool string
	net  netip.Prefix
}

// hold is one session's lease in one pool as the table counts it. It
// lives while until is not before now, as the allocator's leases do.
type hold struct {
	number string    // "" while the lease is being taken
	until  time.Time // zero once the lease is gone
}

func newHoldTable(limits HoldLimits, catalog *pool.Catalog) *holdTable {
	limits = limits.withDefaults()
	return &holdTable{catalog: catalog, perAddr: limits.PerAddressPercent, perNet: limits.PerNetworkPercent,
		sessions: map[poolSession]*hold{}, networks: map[poolNetwork][]*hold{}, sweepAt: minSweep}
}

// take reports whether session may lease a number of poolName now: yes when
// it holds a live lease there already, when its client is not bounded, or
// when the client's address and network are both under their share, in
// which case a place is reserved that settle fills or frees. No comes with
// the most recent live lease of the address or network at its bound (its
// number is "" when that lease is still being taken).
func (t *holdTable) take(poolName, session, client string, now time.Time) (recent hold, ok bool) {
	if t.perAddr < 0 && t.perNet < 0 {
		return hold{}, true
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if h, live := t.sessions[poolSession{poolName, session}]; live && !h.until.Before(now) {
		return hold{}, true
	}
	addr, network, bounded := clientNetworks(client)
	info, known := t.catalog.Pool(poolName)
	if !bounded || !known {
		return hold{}, true
	}
	for _, b := range []struct {
		key     poolNetwork
		percent int
	}{{poolNetwork{poolName, addr}, t.perAddr}, {poolNetwork{poolName, network}, t.perNet}} {
		limit := share(b.percent, len(info.Numbers))
		holds := t.live(b.key, now)
		if limit >= 0 && len(holds) >= limit {
			for i := len(holds) - 1; i >= 0; i-- {
				if holds[i].number != "" {
					return *holds[i], false
				}
			}
			return hold{}, false
		}
	}
	t.maybeSweep(now)
	h := &hold{until: now.Add(info.SessionWindow)}
	t.sessions[poolSession{poolName, session}] = h
	t.networks[poolNetwork{poolName, addr}] = append(t.networks[poolNetwork{poolName, addr}], h)
	t.networks[poolNetwork{poolName, network}] = append(t.networks[poolNetwork{poolName, network}], h)
	return hold{}, true
}

// settle records the allocator's answer to a Lease that take let through:
// a lease of the session's own keeps its place (with its number and
// expiry); anything else frees it.
func (t *holdTable) settle(poolName, session string, l pool.Lease, err error) {
	if t.perAddr < 0 && t.perNet < 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	key := poolSession{poolName, session}
	h, ok := t.sessions[key]
	if !ok {
		return // a client that is not bounded
	}
	if err != nil || !l.Outcome.Tracked() {
		h.until = time.Time{}
		delete(t.sessions, key)
		return
	}
	h.number, h.until = l.Number, l.ExpiresAt
}

// live returns the live holds of key, oldest first, and forgets the others.
func (t *holdTable) live(key poolNetwork, now time.Time) []*hold {
	holds := t.networks[key]
	kept := holds[:0]
	for _, h := range holds {
		if !h.until.Before(now) {
			kept = append(kept, h)
		}
	}
	clear(holds[len(kept):])
	if len(kept) == 0 {
		delete(t.networks, key)
		return nil
	}
	t.networks[key] = kept
	return kept
}

// maybeSweep drops every expired hold once the table has doubled since the
// last sweep: constant time per lease on average.
func (t *holdTable) maybeSweep(now time.Time) {
	if len(t.sessions) < t.sweepAt {
		return
	}
	for k, h := range t.sessions {
		if h.until.Before(now) {
			delete(t.sessions, k)
		}
	}
	for k := range t.networks {
		t.live(k, now)
	}
	t.sweepAt = max(minSweep, 2*len(t.sessions))
}
