package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/store"
)

// PutSpend implements store.Spends: every row validated first, then one
// upsert per row in one transaction.
func (e *Engine) PutSpend(ctx context.Context, rows ...journey.Spend) error {
	if len(rows) == 0 {
		return nil
	}
	for i, r := range rows {
		if err := store.ValidateRecord(r); err != nil {
			if len(rows) > 1 {
				return fmt.Errorf("spend %d: %w", i, err)
			}
			return err
		}
	}
	return e.tx(ctx, func(tx *sql.Tx) error {
		q := e.q(`INSERT INTO spend (day, channel, source, medium, campaign, currency, amount) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (day, channel, source, medium, campaign, currency) DO UPDATE SET amount = excluded.amount`)
		for _, r := range rows {
			if _, err := tx.ExecContext(ctx, q, micro(store.Micro(r.Day)), r.Channel, r.Source, r.Medium,
				r.Campaign, r.Currency, r.Amount); err != nil {
				return fmt.Errorf("store/%s: put spend: %w", e.d.Name, err)
			}
		}
		return nil
	})
}

// SpendBetween implements store.Spends.
func (e *Engine) SpendBetween(ctx context.Context, from, to time.Time) ([]journey.Spend, error) {
	var out []journey.Spend
	err := e.query(ctx, func(r *sql.Rows) error {
		var s journey.Spend
		var day int64
		err := r.Scan(&day, &s.Channel, &s.Source, &s.Medium, &s.Campaign, &s.Currency, &s.Amount)
		s.Day = fromMicro(day)
		out = append(out, s)
		return err
	}, `SELECT day, channel, source, medium, campaign, currency, amount FROM spend
		WHERE day >= ? AND day < ? ORDER BY day, channel, source, medium, campaign, currency`,
		micro(store.Micro(from)), micro(store.Micro(to)))
	if err != nil {
		return nil, fmt.Errorf("store/%s: spend between: %w", e.d.Name, err)
	}
	return out, nil
}
