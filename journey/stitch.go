package journey

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/attriqs/calltrack/classify"
	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/provider"
)

// DefaultCallGrace is how long after a session lost its number a call to
// that number is still credited to it.
const DefaultCallGrace = 60 * time.Minute

// ErrNoCallTime is returned for a call event that carries no time at all.
var ErrNoCallTime = errors.New("journey: call has no start or event time")

// NumberDirectory tells what a dialled number is: *pool.Catalog implements it.
type NumberDirectory interface {
	Dedicated(number string) (pool.DedicatedNumber, bool)
	Number(number string) (pool.NumberInfo, bool)
}

// HoldHistory lists the sessions that held a number around a time: the
// pool allocators and the stores implement it. It returns the holds that
// overlap [at-grace, at], oldest first.
type HoldHistory interface {
	HoldersAt(ctx context.Context, number string, at time.Time, grace time.Duration) ([]pool.Holder, error)
}

// SessionFinder finds a session by id; it returns an error wrapping a
// not-found sentinel when there is none.
type SessionFinder interface {
	Session(ctx context.Context, id string) (Session, error)
}

// StitcherConfig configures a Stitcher. The zero value means the
// documented defaults.
type StitcherConfig struct {
	// CallGrace is how long after a hold ended its session still gets the
	// number's calls. Zero means DefaultCallGrace.
	CallGrace time.Duration
	// PoolSources is the source credited when no session held a pool
	// number ("pool-only"): typically the source the pool serves, such as
	// Paid Search for a "paid-search" pool. Pools missing here get a source
	// named after the pool, in the Unassigned channel.
	PoolSources map[string]classify.Source
	// Clock stamps attributions; nil means time.Now.
	Clock func() time.Time
}

// Stitcher links calls to the sessions that caused them. It is safe for
// concurrent use; its answer depends only on the call and the data it
// reads, so stitching a call again gives the same attribution.
type Stitcher struct {
	numbers  NumberDirectory
	holds    HoldHistory
	sessions SessionFinder
	cfg      StitcherConfig
}

// NewStitcher returns a stitcher that looks dialled numbers up in numbers,
// finds who held them in holds and reads the holders' sessions from
// sessions. It validates them and cfg, naming every problem.
func NewStitcher(numbers NumberDirectory, holds HoldHistory, sessions SessionFinder, cfg StitcherConfig) (*Stitcher, error) {
	var errs []error
	if numbers == nil {
		errs = append(errs, errors.New("journey: NewStitcher: numbers is nil"))
	}
	if holds == nil {
		errs = append(errs, errors.New("journey: NewStitcher: holds is nil"))
	}
	if sessions == nil {
		errs = append(errs, errors.New("journey: NewStitcher: sessions is nil"))
	}
	if cfg.CallGrace < 0 {
		errs = append(errs, fmt.Errorf("journey: StitcherConfig.CallGrace %v is negative", cfg.CallGrace))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if cfg.CallGrace == 0 {
		cfg.CallGrace = DefaultCallGrace
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	return &Stitcher{numbers: numbers, holds: holds, sessions: sessions, cfg: cfg}, nil
}

// CallTime is the moment a call is stitched at: when it started or, for a
// call whose start event has not arrived, the earliest moment its merged
// events name. For a call a store returns it is the time the call is
// filed under (store.FileCall), which does not move as later status
// callbacks arrive.
func CallTime(call provider.CallEvent) (time.Time, error) {
	if !call.StartedAt.IsZero() {
		return call.StartedAt, nil
	}
	var first time.Time
	for _, t := range []time.Time{call.AnsweredAt, call.EndedAt, call.OccurredAt} {
		if !t.IsZero() && (first.IsZero() || t.Before(first)) {
			first = t
		}
	}
	if first.IsZero() {
		return time.Time{}, ErrNoCallTime
	}
	return first, nil
}

// Stitch attributes one call: to the dedicated number's campaign, to the
// session that held the pool number at the call time (or within the call
// grace before it), to the pool's own source when no session did, or to
// nothing when the number is not ours. The Reason says why, in words.
func (s *Stitcher) Stitch(ctx context.Context, call provider.CallEvent) (Attribution, error) {
	at, err := CallTime(call)
	if err != nil {
		return Attribution{}, err
	}
	a := Attribution{Provider: call.Provider, CallID: call.CallID, StitchedAt: s.cfg.Clock().UTC()}
	dialled := call.To

	if d, ok := s.numbers.Dedicated(dialled); ok {
		a.Confidence = ConfidenceDedicated
		a.Source = dedicatedSource(d)
		a.Reason = fmt.Sprintf("%s is a dedicated number fixed to campaign %q (%s / %s)", d.Number, d.Campaign, a.Source.Source, a.Source.Medium)
		return a, nil
	}
	info, ok := s.numbers.Number(dialled)
	if !ok {
		a.Confidence = ConfidenceUnknown
		a.Source = unknownSource()
		a.Reason = fmt.Sprintf("%s is not a tracking number of any pool", orWithheld(dialled))
		return a, nil
	}
	if info.Fallback {
		a.Confidence = ConfidencePoolOnly
		a.Source = s.poolSource(info.Pool)
		a.Reason = fmt.Sprintf("%s is the fallback number of pool %q, shown when the pool was exhausted; credited to the pool's source", info.Number, info.Pool)
		return a, nil
	}

	holders, err := s.holds.HoldersAt(ctx, info.Number, at, s.cfg.CallGrace)
	if err != nil {
		return Attribution{}, fmt.Errorf("journey: holders of %s at %s: %w", info.Number, at.Format(time.RFC3339), err)
	}
	holders = withinGrace(holders, at, s.cfg.CallGrace)
	if len(holders) == 0 {
		a.Confidence = ConfidencePoolOnly
		a.Source = s.poolSource(info.Pool)
		a.Reason = fmt.Sprintf("no session held %s from %s to the call at %s (%v grace); credited to pool %q",
			info.Number, clock(at.Add(-s.cfg.CallGrace)), clock(at), s.cfg.CallGrace, info.Pool)
		return a, nil
	}

	rankHolders(holders)
	chosen := holders[0]
	for _, h := range holders {
		a.Candidates = append(a.Candidates, Candidate{SessionID: h.SessionID, HeldFrom: h.From.UTC(), HeldUntil: h.Until.UTC(), Reused: h.Reused})
	}
	a.SessionID = chosen.SessionID
	a.Confidence = ConfidenceExact
	a.Reason = fmt.Sprintf("%s held by session %s from %s to %s; %s", info.Number, chosen.SessionID, clock(chosen.From), holdEnd(chosen, at), callRelation(chosen, at, s.cfg.CallGrace))
	if len(holders) > 1 {
		a.Confidence = ConfidenceReused
		others := make([]string, 0, len(holders)-1)
		for _, h := range holders[1:] {
			others = append(others, h.SessionID)
		}
		a.Reason += fmt.Sprintf("; %d other sessions held it in the window (%s), the most recently active was chosen",
			len(others), strings.Join(others, ", "))
	}

	sess, err := s.sessions.Session(ctx, chosen.SessionID)
	if err != nil {
		// The hold is proof enough of the session; its source is not known
		// yet (the session record may still be on its way), so the pool's
		// source stands in and the reason says so.
		a.Source = s.poolSource(info.Pool)
		a.Reason += fmt.Sprintf("; session record not found (%v), credited to pool %q's source", err, info.Pool)
		return a, nil
	}
	a.VisitorID = sess.VisitorID
	a.Source = sess.Source
	return a, nil
}

// withinGrace keeps the holds that could have led to a call at at: started
// by then, and not ended more than grace before it. Allocators and stores
// already filter so; this makes the rule independent of their rounding.
func withinGrace(holders []pool.Holder, at time.Time, grace time.Duration) []pool.Holder {
	out := holders[:0:0]
	for _, h := range holders {
		if h.From.After(at) {
			continue
		}
		if !h.Live && !h.Until.IsZero() && h.Until.Before(at.Add(-grace)) {
			continue
		}
		out = append(out, h)
	}
	return out
}

// rankHolders orders candidates most recently active first: the hold that
// ended last (a live hold counts as active at the call), then the one that
// started last, then by session id so the order never depends on input order.
func rankHolders(hs []pool.Holder) {
	activeUntil := func(h pool.Holder) time.Time {
		if h.Live || h.Until.IsZero() {
			return time.Unix(1<<62, 0)
		}
		return h.Until
	}
	slices.SortFunc(hs, func(a, b pool.Holder) int {
		if c := activeUntil(b).Compare(activeUntil(a)); c != 0 {
			return c
		}
		if c := b.From.Compare(a.From); c != 0 {
			return c
		}
		return strings.Compare(a.SessionID, b.SessionID)
	})
}

func holdEnd(h pool.Holder, at time.Time) string {
	if h.Live || h.Until.IsZero() || h.Until.After(at) {
		return "after the call (still held)"
	}
	return clock(h.Until)
}

func callRelation(h pool.Holder, at time.Time, grace time.Duration) string {
	if h.Live || h.Until.IsZero() || !h.Until.Before(at) {
		return fmt.Sprintf("call at %s while held", clock(at))
	}
	return fmt.Sprintf("call at %s, %v after the hold ended, within %v grace", clock(at), at.Sub(h.Until).Round(time.Second), grace)
}

func clock(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") }

func orWithheld(n string) string {
	if n == "" {
		return "the dialled number (not given)"
	}
	return n
}

func dedicatedSource(d pool.DedicatedNumber) classify.Source {
	ch := classify.Channel(d.Channel)
	if ch == "" {
		ch = classify.ChannelUnassigned
	}
	return classify.Source{
		Channel: ch, Source: strings.ToLower(d.Source), Medium: strings.ToLower(d.Medium), Campaign: d.Campaign,
		Paid: ch.Paid(), Basis: "dedicated-number", Rule: "dedicated:" + d.Number,
	}
}

func (s *Stitcher) poolSource(poolName string) classify.Source {
	if src, ok := s.cfg.PoolSources[poolName]; ok {
		return src
	}
	return classify.Source{Channel: classify.ChannelUnassigned, Source: "(pool " + poolName + ")", Medium: "(not set)", Basis: "pool", Rule: "pool:" + poolName}
}

func unknownSource() classify.Source {
	return classify.Source{Channel: classify.ChannelUnassigned, Source: "(not set)", Medium: "(not set)", Basis: "unknown-number", Rule: "unknown-number"}
}
