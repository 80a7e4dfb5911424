package dni

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/attriqs/calltrack/classify"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/store"
)

// ClickKeywordSource is an ad platform that tells which keyword each of
// its clicks came from. googleadsapi.Sink is one, for Google Ads clicks
// (gclid), read from the click_view report.
type ClickKeywordSource interface {
	// ClickKeywords returns the keyword text of each click of one day, by
	// click id: the day is day's calendar date in day's location (the ad
	// account's time zone). Clicks that came from no keyword are absent.
	ClickKeywords(ctx context.Context, day time.Time) (map[string]string, error)
}

// clickKeywordParam is the click id whose keywords a ClickKeywordSource
// gives: Google's gclid. gbraid and wbraid name no single click.
const clickKeywordParam = "gclid"

// clickMidnightSlack is how soon after midnight a session may start and
// still come from a click of the day before.
const clickMidnightSlack = time.Hour

// ApplyClickKeywords writes the keyword an ad platform reports for a
// session's click as the session's Source.Term, so that reports grouped by
// keyword (report.DimKeyword) show keywords for visits whose URL carried a
// gclid but no utm_term. It fills the sessions started in [from, to) whose
// source has a gclid (kept only with ads consent) and no Term, and returns
// how many it filled.
//
//   - A session's click is looked up on the calendar day the session
//     started, read in from's location: pass from and to in the ad
//     account's time zone. A session started within an hour after
//     midnight is also looked up on the day before, if the click is not
//     on its own day. src is asked once per day.
//   - The keyword goes on the session and on its touchpoints since from
//     that carry the session's click and no Term: the session's own
//     ("session:" + id) and those of the calls, chats, forms and events
//     it explains, so every report keyed by Term sees it. Calls stitched
//     later read it from the session.
//   - A Term the URL gave (utm_term) is never overwritten, and a session
//     with a keyword is not asked again: running it twice fills nothing
//     the second time. Touchpoints are written before their session, so a
//     run cut short is finished by the next.
//
// Writes still queued by visits land first. An error of src names its
// day; the sessions filled before it stay filled and n counts them.
func (s *Service) ApplyClickKeywords(ctx context.Context, from, to time.Time, src ClickKeywordSource) (n int, err error) {
	var errs []error
	if src == nil {
		errs = append(errs, errors.New("dni: ApplyClickKeywords: src is nil"))
	}
	if from.IsZero() || !to.After(from) {
		errs = append(errs, fmt.Errorf("dni: ApplyClickKeywords: to (%s) is not after from (%s)", to.Format(time.RFC3339), from.Format(time.RFC3339)))
	}
	if len(errs) > 0 {
		return 0, errors.Join(errs...)
	}
	if err := s.writes.flush(ctx); err != nil {
		return 0, err
	}
	// Touchpoints of the period's sessions come until now (a call days
	// later); journeys of [from, until) with a lookback that reaches from
	// hold every touchpoint since from, once or more.
	until := to
	if now := s.now(); now.After(until) {
		until = now
	}
	journeys, err := s.store.JourneysBetween(ctx, from, until, until.Sub(from))
	if err != nil {
		return 0, err
	}
	bySession := map[string][]journey.Touchpoint{}
	seen := map[string]bool{}
	arrivals := map[string]journey.Touchpoint{} // each session's own touchpoint
	for _, j := range journeys {
		for _, tp := range j.Touchpoints {
			if seen[tp.ID] || tp.SessionID == "" || tp.At.Before(from) {
				continue
			}
			seen[tp.ID] = true
			bySession[tp.SessionID] = append(bySession[tp.SessionID], tp)
			if tp.Kind == journey.TouchSession && tp.At.Before(to) {
				arrivals[tp.SessionID] = tp
			}
		}
	}
	days := clickDays{src: src, keywords: map[string]map[string]string{}}
	loc := from.Location()
	for _, id := range slices.Sorted(maps.Keys(arrivals)) {
		// The session's touchpoint says what its session does of the click
		// (the Service keeps them together), so sessions without one cost
		// no read.
		arrival := arrivals[id]
		click := arrival.Source.ClickID
		if click.Param != clickKeywordParam || click.Value == "" || arrival.Source.Term != "" {
			continue
		}
		kw, err := days.keyword(ctx, arrival.At.In(loc), click.Value)
		if err != nil {
			return n, err
		}
		if kw == "" {
			continue
		}
		filled, err := s.fillTerm(ctx, id, click, kw, bySession[id])
		if err != nil {
			return n, fmt.Errorf("dni: keyword of session %s: %w", id, err)
		}
		if filled {
			n++
		}
	}
	return n, nil
}

// fillTerm writes kw as the Term of session id and of its touchpoints tps,
// each read again just before it is written, and only while it still has
// click and no Term: what changed since the period was read (a withdrawal
// of ads consent, which takes the click away, a later webhook, an
// erasure) is not undone.
func (s *Service) fillTerm(ctx context.Context, id string, click classify.ClickID, kw string, tps []journey.Touchpoint) (bool, error) {
	if err := s.writes.flush(ctx); err != nil {
		return false, err
	}
	unchanged := func(src classify.Source) bool { return src.ClickID == click && src.Term == "" }
	sess, err := s.store.Session(ctx, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && !unchanged(sess.Source) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	for _, old := range tps {
		tp, err := s.store.Touchpoint(ctx, old.ID)
		if errors.Is(err, store.ErrNotFound) || err == nil && !unchanged(tp.Source) {
			continue
		}
		if err != nil {
			return false, err
		}
		tp.Source.Term = kw
		if err := s.store.AddTouchpoint(ctx, tp); err != nil {
			return false, fmt.Errorf("touchpoint %s: %w", tp.ID, err)
		}
	}
	if sess, err = s.store.Session(ctx, id); errors.Is(err, store.ErrNotFound) || err == nil && !unchanged(sess.Source) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	sess.Source.Term = kw
	return true, s.store.PutSession(ctx, sess)
}

// clickDays asks a ClickKeywordSource once per day.
type clickDays struct {
	src      ClickKeywordSource
	keywords map[string]map[string]string // by date
}

// keyword is the keyword of click, on the day of started or, for a
// session started just after midnight, the day before; "" when the
// platform gives none.
func (d *clickDays) keyword(ctx context.Context, started time.Time, click string) (string, error) {
	day := time.Date(started.Year(), started.Month(), started.Day(), 0, 0, 0, 0, started.Location())
	kw, err := d.on(ctx, day, click)
	if kw != "" || err != nil || started.Sub(day) >= clickMidnightSlack {
		return kw, err
	}
	return d.on(ctx, day.AddDate(0, 0, -1), click)
}

func (d *clickDays) on(ctx context.Context, day time.Time, click string) (string, error) {
	date := day.Format(time.DateOnly)
	kws, ok := d.keywords[date]
	if !ok {
		var err error
		if kws, err = d.src.ClickKeywords(ctx, day); err != nil {
			return "", fmt.Errorf("dni: click keywords of %s: %w", date, err)
		}
		d.keywords[date] = kws
	}
	return kws[click], nil
}
