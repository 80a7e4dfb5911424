package memstore

import (
	"context"
	"time"

	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/store"
)

// ShortCallsBetween implements [store.Calls].
func (m *Store) ShortCallsBetween(ctx context.Context, from string, since, before time.Time, shorter time.Duration) (int, error) {
	if err := ctxErr(ctx); err != nil {
		return 0, err
	}
	if from == "" {
		return 0, nil
	}
	since, before = store.Micro(since), store.Micro(before)
	m.mu.RLock()
	defer m.mu.RUnlock()
	n := 0
	for _, c := range m.calls {
		if c.ev.From == from && !c.at.Before(since) && c.at.Before(before) &&
			!c.ev.EndedAt.IsZero() && journey.CallLength(c.ev) < shorter {
			n++
		}
	}
	return n, nil
}
