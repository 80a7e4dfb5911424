package memstore

import (
	"context"
	"fmt"
	"time"

	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/journey/attribution"
	"github.com/attriqs/calltrack/store"
	"github.com/attriqs/calltrack/store/internal/assemble"
)

// CallsBefore implements [store.Calls].
func (m *Store) CallsBefore(ctx context.Context, from string, before time.Time) (int, time.Time, error) {
	if err := ctxErr(ctx); err != nil {
		return 0, time.Time{}, err
	}
	if from == "" {
		return 0, time.Time{}, nil
	}
	before = store.Micro(before)
	m.mu.RLock()
	defer m.mu.RUnlock()
	var n int
	var latest time.Time
	for _, c := range m.calls {
		if c.ev.From == from && c.at.Before(before) {
			n++
			if c.at.After(latest) {
				latest = c.at
			}
		}
	}
	return n, latest, nil
}

// PutCallRecord implements [store.CallRecords]: every conflict is checked
// before anything is written, so a refused record leaves no trace.
func (m *Store) PutCallRecord(ctx context.Context, rec journey.CallRecord, msgs ...store.OutboxMessage) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if err := store.ValidateCallRecord(rec, msgs); err != nil {
		return err
	}
	a := rec.Attribution
	m.mu.Lock()
	defer m.mu.Unlock()
	// Erased since rec was derived from it: writing rec would bring the
	// person back.
	if _, ok := m.calls[callKey{a.Provider, a.CallID}]; !ok {
		return fmt.Errorf("put call record: call %s/%s: %w", a.Provider, a.CallID, store.ErrNotFound)
	}
	// An outcome set by hand while rec was derived wins over it; its
	// conversion's deliveries are SetOutcome's to make.
	if o, ok := m.outcomes[rec.Touchpoint.ID]; ok {
		rec, msgs = journey.ApplyStoredOutcome(rec, o), nil
	}
	tp := rec.Touchpoint
	if cur, ok := m.touchpoints[tp.ID]; ok && cur.Kind != tp.Kind {
		return fmt.Errorf("touchpoint %q is a %s, not a %s: %w", tp.ID, cur.Kind, tp.Kind, store.ErrConflict)
	}
	if c := rec.Conversion; c != nil {
		if cur, ok := m.conversions[c.ID]; ok && cur.Type != c.Type {
			return fmt.Errorf("conversion %q is a %s, not a %s: %w", c.ID, cur.Type, c.Type, store.ErrConflict)
		}
	}
	m.attrs[callKey{a.Provider, a.CallID}] = normAttribution(a)
	if rec.Caller != nil {
		m.link(rec.Caller.Phone, rec.Caller.Visitor)
	}
	m.touchpoints[tp.ID] = normTouchpoint(tp)
	if c := rec.Conversion; c != nil {
		m.conversions[c.ID] = normConversion(*c)
		m.enqueue(msgs)
	}
	return nil
}

// JourneysBetween implements [store.Journeys].
func (m *Store) JourneysBetween(ctx context.Context, from, to time.Time, lookback time.Duration) ([]attribution.Journey, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	from, to = store.Micro(from), store.Micro(to)
	tfrom, tto := assemble.TouchWindow(from, to, lookback)
	m.mu.RLock()
	defer m.mu.RUnlock()
	personOf := func(visitor, session string) string {
		var sessionVisitor string
		if s, ok := m.sessions[session]; ok {
			sessionVisitor = s.VisitorID
		}
		return assemble.PersonKey(m.identities[journey.Identifier{Kind: journey.IDVisitor, Value: visitor}],
			m.identities[journey.Identifier{Kind: journey.IDVisitor, Value: sessionVisitor}], visitor, sessionVisitor)
	}
	var convs []assemble.Conversion
	for _, c := range m.conversions {
		if !c.At.Before(from) && c.At.Before(to) {
			convs = append(convs, assemble.Conversion{Person: personOf(c.VisitorID, c.SessionID), Conversion: normConversion(c)})
		}
	}
	var tps []assemble.Touchpoint
	for _, tp := range m.touchpoints {
		if !tp.At.Before(tfrom) && tp.At.Before(tto) {
			tps = append(tps, assemble.Touchpoint{Person: personOf(tp.VisitorID, tp.SessionID), Touchpoint: normTouchpoint(tp)})
		}
	}
	return assemble.Journeys(tps, convs, from, to, lookback), nil
}
