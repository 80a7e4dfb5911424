package memstore

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/store"
)

// InMemory implements [store.InMemory]: the visitor API writes to this
// store at once rather than in batches.
func (m *Store) InMemory() bool { return true }

// WriteBatch implements [store.Batches]: every record is checked before
// any is stored, under one lock, so a batch is stored whole or not at all.
func (m *Store) WriteBatch(ctx context.Context, b store.Batch) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	for i, s := range b.Sessions {
		if err := store.ValidateRecord(s); err != nil {
			return fmt.Errorf("session %d: %w", i, err)
		}
	}
	for i, tp := range b.Touchpoints {
		if err := store.ValidateRecord(tp); err != nil {
			return fmt.Errorf("touchpoint %d: %w", i, err)
		}
	}
	holds := make([]pool.HoldRecord, len(b.Holds))
	for i, h := range b.Holds {
		if err := store.ValidateHold(h); err != nil {
			return fmt.Errorf("hold %d: %w", i, err)
		}
		h.From, h.Until = store.Micro(h.From), store.Micro(h.Until)
		holds[i] = h
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	// Conflicts with what is stored or with earlier records of the batch.
	kinds := map[string]string{}
	for _, tp := range b.Touchpoints {
		kind, ok := kinds[tp.ID]
		if !ok {
			if cur, stored := m.touchpoints[tp.ID]; stored {
				kind, ok = string(cur.Kind), true
			}
		}
		if ok && kind != string(tp.Kind) {
			return fmt.Errorf("touchpoint %q is a %s, not a %s: %w", tp.ID, kind, tp.Kind, store.ErrConflict)
		}
		kinds[tp.ID] = string(tp.Kind)
	}
	pools := map[holdKey]string{}
	for _, h := range holds {
		k := holdKey{h.Number, h.SessionID, h.From}
		p, ok := pools[k]
		if !ok {
			if cur, stored := m.holds[k]; stored {
				p, ok = cur.Pool, true
			}
		}
		if ok && p != h.Pool {
			return fmt.Errorf("hold of %s by %q from %s is in pool %q, not %q: %w",
				h.Number, h.SessionID, h.From.Format(time.RFC3339Nano), p, h.Pool, store.ErrConflict)
		}
		pools[k] = h.Pool
	}
	for _, s := range b.Sessions {
		m.sessions[s.ID] = normSession(s)
	}
	for _, tp := range b.Touchpoints {
		m.touchpoints[tp.ID] = normTouchpoint(tp)
	}
	for _, h := range holds {
		m.recordHoldLocked(h)
	}
	return nil
}

// recordHoldLocked merges h as RecordHold does, once its pool is known not
// to conflict; m.mu must be held.
func (m *Store) recordHoldLocked(h pool.HoldRecord) {
	k := holdKey{h.Number, h.SessionID, h.From}
	cur, ok := m.holds[k]
	if !ok {
		r := h
		m.holds[k] = &r
		list := m.holdsByNum[h.Number]
		i, _ := slices.BinarySearchFunc(list, &r, compareHold)
		m.holdsByNum[h.Number] = slices.Insert(list, i, &r)
		cur = &r
	} else {
		if h.Until.After(cur.Until) {
			cur.Until = h.Until
		}
		cur.Reused = cur.Reused || h.Reused
		if cur.Token == 0 {
			cur.Token = h.Token
		}
	}
	if !cur.Until.IsZero() {
		if span := cur.Until.Sub(cur.From); span > m.maxSpan[h.Number] {
			m.maxSpan[h.Number] = span
		}
	}
}
