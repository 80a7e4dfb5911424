package dni

import (
	"context"
	"errors"
	"fmt"
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
// one. Crawlers get no
// session and no swaps: they see, and index, the real numbers. Exhausted
// pools never fail a visit; the visitor then sees what the pool's policy
// says, possibly the real number.
//
// Visit waits on the store for at most Config.StoreWait: classification
// and leasing happen in memory (or in the allocator), and the session and
// touchpoint writes that the store has not finished by then go on in the
// background. A session whose read does not finish in time counts as not
// live.
func (s *Service) Visit(ctx context.Context, req VisitRequest) (Assignment, error) {
	now := s.now().UTC()
	src := s.classifier.Classify(classify.Visit{URL: req.URL, Referrer: req.Referrer, UserAgent: req.UserAgent, Time: now})
	if src.Crawler {
		return Assignment{Source: src, Swaps: []Swap{}, HeartbeatS: 0}, nil
	}
	visitor, err := validID(req.VisitorID)
	if err != nil {
		return Assignment{}, fmt.Errorf("visitor_id: %w", err)
	}
	sessionID, err := validID(req.SessionID)
	if err != nil {
		return Assignment{}, fmt.Errorf("session_id: %w", err)
	}
	if visitor == "" {
		visitor = uuid.NewString()
	}

	storeCtx, cancel := context.WithTimeout(ctx, s.cfg.StoreWait)
	defer cancel()
	sess, live := s.liveSession(storeCtx, sessionID, visitor, now)
	if live && newCampaign(sess.Source, src) {
		live = false // as in GA4: arriving through another campaign starts a new session
	}
	if !live {
		sess = journey.Session{ID: uuid.NewString(), VisitorID: visitor, StartedAt: now, LandingURL: req.URL, Referrer: req.Referrer, Source: src}
	}
	sess.LastSeenAt = now
	a := s.lease(ctx, &sess, now)
	// Failures are logged, not returned: the lease stands and the numbers
	// show; a call can still be stitched through the allocator's memory.
	s.writes.putSession(storeCtx, s.store, sess)
	if !live {
		s.writes.addTouchpoint(storeCtx, s.store, journey.Touchpoint{ID: "session:" + sess.ID, Kind: journey.TouchSession, At: now,
			VisitorID: visitor, SessionID: sess.ID, Source: sess.Source})
	}
	return a, nil
}

// Heartbeat keeps a session's numbers while its page is open. A session
// that expired meanwhile is leased again under the same id. Like Visit, it
// waits on the store for at most Config.StoreWait and writes the session
// behind; a session it cannot read by then fails the heartbeat, and the
// tracker keeps the numbers it shows.
func (s *Service) Heartbeat(ctx context.Context, visitorID, sessionID string) (Assignment, error) {
	now := s.now().UTC()
	visitor, err := validID(visitorID)
	if err != nil || visitor == "" {
		return Assignment{}, fmt.Errorf("visitor_id: %w", orEmpty(err))
	}
	id, err := validID(sessionID)
	if err != nil || id == "" {
		return Assignment{}, fmt.Errorf("session_id: %w", orEmpty(err))
	}
	storeCtx, cancel := context.WithTimeout(ctx, s.cfg.StoreWait)
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
	a := s.lease(ctx, &sess, now)
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
		(page.ClickID.Value != "" && page.ClickID != session.ClickID)
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
// fail: a line whose allocator fails shows its real number.
func (s *Service) lease(ctx context.Context, sess *journey.Session, now time.Time) Assignment {
	a := Assignment{VisitorID: sess.VisitorID, SessionID: sess.ID, Source: sess.Source, Swaps: []Swap{},
		HeartbeatS: int(s.cfg.Heartbeat / time.Second)}
	for i, name := range s.router.pools(sess.Source) {
		l, err := s.alloc.Lease(ctx, name, sess.ID, now)
		if err != nil {
			// The allocator is down or the session id is unusable: the
			// visitor sees the real number on this line.
			s.log.Warn("dni: lease", "pool", name, "session", sess.ID, "err", err)
			continue
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
		info, _ := s.catalog.Pool(name)
		if l.Number != info.BusinessNumber {
			a.Swaps = append(a.Swaps, Swap{Target: info.BusinessNumber, Number: l.Number, Display: s.display(l.Number)})
		}
	}
	return a
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
