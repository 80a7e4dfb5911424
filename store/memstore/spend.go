package memstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/store"
)

type spendKey struct {
	day                                         time.Time
	channel, source, medium, campaign, currency string
}

// PutSpend implements [store.Spends].
func (m *Store) PutSpend(ctx context.Context, rows ...journey.Spend) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	for i, r := range rows {
		if err := store.ValidateRecord(r); err != nil {
			if len(rows) > 1 {
				return fmt.Errorf("spend %d: %w", i, err)
			}
			return err
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.spend == nil {
		m.spend = map[spendKey]journey.Spend{}
	}
	for _, r := range rows {
		r.Day = store.Micro(r.Day)
		m.spend[spendKey{r.Day, r.Channel, r.Source, r.Medium, r.Campaign, r.Currency}] = r
	}
	return nil
}

// SpendBetween implements [store.Spends].
func (m *Store) SpendBetween(ctx context.Context, from, to time.Time) ([]journey.Spend, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	from, to = store.Micro(from), store.Micro(to)
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []journey.Spend
	for _, r := range m.spend {
		if !r.Day.Before(from) && r.Day.Before(to) {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b journey.Spend) int {
		return cmp.Or(a.Day.Compare(b.Day), cmp.Compare(a.Channel, b.Channel), cmp.Compare(a.Source, b.Source),
			cmp.Compare(a.Medium, b.Medium), cmp.Compare(a.Campaign, b.Campaign), cmp.Compare(a.Currency, b.Currency))
	})
	return out, nil
}
