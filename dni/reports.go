package dni

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/journey/attribution"
	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/store"
)

// CallReport is one call with its attribution.
type CallReport struct {
	Call        provider.CallEvent   `json:"call"`
	Attribution *journey.Attribution `json:"attribution,omitempty"` // nil until stitched
	TalkSeconds int                  `json:"talk_seconds"`
	// Missed: the caller did not reach the business (the forward's
	// outcome, or the call ended unanswered).
	Missed bool `json:"missed"`
	// Spam says why the call is spam under Config.Spam, "" when it is not.
	Spam string `json:"spam,omitempty"`
}

// spamVerdict is the verdict the call was derived with, which decided
// whether it qualified and was exported: the one its touchpoint keeps.
// Checking again could differ (the caller's history changes as calls are
// recorded late, retained or erased). A call not derived yet is checked
// now.
func (s *Service) spamVerdict(ctx context.Context, c provider.CallEvent) (string, error) {
	tp, err := s.store.Touchpoint(ctx, journey.CallTouchpointID(c.Provider, c.CallID))
	switch {
	case err == nil:
		return tp.Attrs[journey.AttrSpam], nil
	case errors.Is(err, store.ErrNotFound):
		return s.spam.Check(ctx, c)
	}
	return "", err
}

// missed reports whether a finished call did not reach the business.
func missed(c provider.CallEvent) bool {
	if c.Outcome != provider.OutcomeUnknown {
		return c.Outcome.Missed()
	}
	return c.Status.Terminal() && !journey.Answered(c)
}

// Calls lists the calls whose time falls in [from, to), each with its
// attribution.
func (s *Service) Calls(ctx context.Context, from, to time.Time) ([]CallReport, error) {
	calls, err := s.store.CallsBetween(ctx, from, to)
	if err != nil {
		return nil, err
	}
	out := make([]CallReport, 0, len(calls))
	for _, c := range calls {
		c.Raw = nil // reports never echo provider payloads
		r := CallReport{Call: c, TalkSeconds: int(journey.TalkTime(c).Seconds()), Missed: missed(c)}
		if r.Spam, err = s.spamVerdict(ctx, c); err != nil {
			return nil, err
		}
		a, err := s.store.Attribution(ctx, c.Provider, c.CallID)
		switch {
		case err == nil:
			r.Attribution = &a
		case !errors.Is(err, store.ErrNotFound):
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// SourceCalls counts the calls of one traffic source: how many reached
// the business, how many were missed and how (by forward outcome), and
// the spam, which is counted apart from the rest.
type SourceCalls struct {
	Channel  string `json:"channel"`
	Source   string `json:"source"`
	Medium   string `json:"medium"`
	Campaign string `json:"campaign"`
	// Calls counts every call, spam included.
	Calls    int `json:"calls"`
	Answered int `json:"answered"`
	Missed   int `json:"missed"`
	// MissedBy breaks Missed down by the forward's outcome ("" when the
	// vendor reported none).
	MissedBy map[provider.Outcome]int `json:"missed_by,omitempty"`
	Spam     int                      `json:"spam"`
}

// CallsBySource summarizes the calls of [from, to) per traffic source
// (channel, source, medium, campaign; calls not yet stitched under an
// empty source), in the order the sources first appear. Answered and
// Missed count calls that are not spam; calls still ringing are in Calls
// only.
func (s *Service) CallsBySource(ctx context.Context, from, to time.Time) ([]SourceCalls, error) {
	calls, err := s.Calls(ctx, from, to)
	if err != nil {
		return nil, err
	}
	var out []SourceCalls
	index := map[[4]string]int{}
	for _, c := range calls {
		var src [4]string
		if a := c.Attribution; a != nil {
			src = [4]string{string(a.Source.Channel), a.Source.Source, a.Source.Medium, a.Source.Campaign}
		}
		i, ok := index[src]
		if !ok {
			i = len(out)
			index[src] = i
			out = append(out, SourceCalls{Channel: src[0], Source: src[1], Medium: src[2], Campaign: src[3]})
		}
		row := &out[i]
		row.Calls++
		switch {
		case c.Spam != "":
			row.Spam++
		case c.Missed:
			row.Missed++
			if row.MissedBy == nil {
				row.MissedBy = map[provider.Outcome]int{}
			}
			row.MissedBy[c.Call.Outcome]++
		case journey.Answered(c.Call):
			row.Answered++
		}
	}
	return out, nil
}

// Journey returns every touchpoint and conversion of the person an
// identifier names, oldest first, within [from, to).
func (s *Service) Journey(ctx context.Context, id journey.Identifier, from, to time.Time) ([]journey.Touchpoint, []journey.Conversion, error) {
	person, err := s.personOf(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	tps, err := s.store.TouchpointsOf(ctx, person, from, to)
	if err != nil {
		return nil, nil, err
	}
	convs, err := s.store.ConversionsOf(ctx, person)
	if err != nil {
		return nil, nil, err
	}
	kept := convs[:0]
	for _, c := range convs {
		if !c.At.Before(from) && c.At.Before(to) {
			kept = append(kept, c)
		}
	}
	return tps, kept, nil
}

// personOf finds the person an identifier names. A visitor id that was
// never linked to anything is a person of its own: visits do not write an
// identity record (it would cost every first visit a commit), so one is
// made here, when a report first needs it.
func (s *Service) personOf(ctx context.Context, id journey.Identifier) (string, error) {
	if id.Kind == journey.IDVisitor {
		return s.store.Resolve(ctx, id)
	}
	return s.store.PersonOf(ctx, id)
}

// reportsHandler serves GET reports/calls?from=RFC3339&to=RFC3339 (default:
// the last 7 days), and the routes of insightRoutes.
func (s *Service) reportsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /reports/calls", func(w http.ResponseWriter, r *http.Request) {
		from, to, err := period(r, s.now())
		if err != nil {
			writeJSON(w, http.StatusBadRequest, apiError{err.Error()})
			return
		}
		calls, err := s.Calls(r.Context(), from, to)
		if err != nil {
			writeJSON(w, http.StatusServiceUnavailable, apiError{err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, calls)
	})
	mux.HandleFunc("GET /reports/calls/by-source", func(w http.ResponseWriter, r *http.Request) {
		from, to, err := period(r, s.now())
		if err != nil {
			writeJSON(w, http.StatusBadRequest, apiError{err.Error()})
			return
		}
		rows, err := s.CallsBySource(r.Context(), from, to)
		if err != nil {
			writeJSON(w, http.StatusServiceUnavailable, apiError{err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, rows)
	})
	s.insightRoutes(mux) // spend, sources and series: insights.go
	mux.HandleFunc("POST /reports/outcomes", s.serveSetOutcome)
	mux.HandleFunc("GET /reports/exports", func(w http.ResponseWriter, r *http.Request) {
		rows, err := s.ExportStatus(r.Context())
		if err != nil {
			writeJSON(w, http.StatusServiceUnavailable, apiError{err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, rows)
	})
	return mux
}

// period reads the from and to query parameters.
func period(r *http.Request, now time.Time) (from, to time.Time, err error) {
	to, from = now, now.Add(-7*24*time.Hour)
	for name, t := range map[string]*time.Time{"from": &from, "to": &to} {
		if v := r.URL.Query().Get(name); v != "" {
			if *t, err = time.Parse(time.RFC3339, v); err != nil {
				return from, to, fmt.Errorf("%s: not an RFC 3339 time: %q", name, v)
			}
		}
	}
	if !from.Before(to) {
		return from, to, errors.New("from must be before to")
	}
	return from, to, nil
}

// Journeys returns the journeys of [from, to) as the store builds them in
// one pass (store.Journeys.JourneysBetween): one per conversion, however it
// was made (with or without a session, with or without value), of its
// person's touchpoints within lookback before it, and one per person whose
// touchpoints there did not convert, which the data-driven models (Markov,
// Shapley) learn from. lookback zero means attribution.DefaultLookback,
// negative no limit. Reading journeys writes nothing.
func (s *Service) Journeys(ctx context.Context, from, to time.Time, lookback time.Duration) ([]attribution.Journey, error) {
	if lookback == 0 {
		lookback = attribution.DefaultLookback
	}
	return s.store.JourneysBetween(ctx, from, to, lookback)
}

// Attribute credits the conversions of [from, to) to their touchpoints'
// groups under each model (every default model when none are given), side
// by side. Conversions no counted touchpoint explains are each result's
// Unattributed, so credited plus unattributed value is the period's
// conversion value under every model.
func (s *Service) Attribute(ctx context.Context, from, to time.Time, opts attribution.Options, models ...attribution.Model) (*attribution.Comparison, error) {
	journeys, err := s.Journeys(ctx, from, to, opts.Lookback)
	if err != nil {
		return nil, err
	}
	if len(journeys) == 0 {
		return nil, attribution.ErrNoJourneys
	}
	return attribution.Compare(journeys, opts, models...)
}

// PoolStats reports every pool's state now, by pool name.
func (s *Service) PoolStats(ctx context.Context) (map[string]pool.Stats, error) {
	now := s.now()
	out := map[string]pool.Stats{}
	for _, name := range s.catalog.PoolNames() {
		st, err := s.alloc.Stats(ctx, name, now)
		if err != nil {
			return nil, fmt.Errorf("dni: stats of pool %q: %w", name, err)
		}
		out[name] = st
	}
	return out, nil
}

// Audit reads a pool's hold history of [from, to) from the store and
// reports its utilisation, reuse, peak concurrency, the share of calls at
// risk of misattribution and the size it should have (pool.Audit).
func (s *Service) Audit(ctx context.Context, poolName string, from, to time.Time) (pool.AuditReport, error) {
	info, ok := s.catalog.Pool(poolName)
	if !ok {
		return pool.AuditReport{}, fmt.Errorf("dni: %w: %q", pool.ErrUnknownPool, poolName)
	}
	holds, err := s.store.HoldsBetween(ctx, from, to)
	if err != nil {
		return pool.AuditReport{}, err
	}
	mine := holds[:0]
	for _, h := range holds {
		if h.Pool == poolName {
			mine = append(mine, h)
		}
	}
	size := len(info.Numbers)
	if st, err := s.alloc.Stats(ctx, poolName, s.now()); err == nil && st.Size > 0 {
		size = st.Size // a resizable allocator's pool is the size it is now
	}
	return pool.Audit(mine, pool.AuditOptions{Size: size, Cooldown: info.Cooldown})
}
