package memstore

import (
	"context"
	"fmt"

	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/store"
)

var _ store.Outcomes = (*Store)(nil)

// SetOutcome implements [store.Outcomes]: every conflict is checked before
// anything is written, so a refused call leaves no trace.
func (m *Store) SetOutcome(ctx context.Context, o journey.ManualOutcome, put *journey.Conversion, retract []string, msgs ...store.OutboxMessage) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if err := store.ValidateSetOutcome(o, put, retract, msgs); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	// A missing outcome reads as version 0, so the first must be 1.
	if cur := m.outcomes[o.TouchpointID]; o.Version != cur.Version+1 {
		return fmt.Errorf("outcome of %q: version %d does not follow the stored one: %w", o.TouchpointID, o.Version, store.ErrConflict)
	}
	if put != nil {
		if cur, ok := m.conversions[put.ID]; ok && cur.Type != put.Type {
			return fmt.Errorf("conversion %q is a %s, not a %s: %w", put.ID, cur.Type, put.Type, store.ErrConflict)
		}
	}
	o.SetAt = store.Micro(o.SetAt)
	if m.outcomes == nil {
		m.outcomes = map[string]journey.ManualOutcome{}
	}
	m.outcomes[o.TouchpointID] = o
	for _, id := range retract {
		delete(m.conversions, id)
	}
	if put != nil {
		m.conversions[put.ID] = normConversion(*put)
	}
	m.enqueue(msgs)
	return nil
}

// ManualOutcome implements [store.Outcomes].
func (m *Store) ManualOutcome(ctx context.Context, touchpointID string) (journey.ManualOutcome, error) {
	if err := ctxErr(ctx); err != nil {
		return journey.ManualOutcome{}, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	o, ok := m.outcomes[touchpointID]
	if !ok {
		return journey.ManualOutcome{}, fmt.Errorf("outcome of %q: %w", touchpointID, store.ErrNotFound)
	}
	return o, nil
}
