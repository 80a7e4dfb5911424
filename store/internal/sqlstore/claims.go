package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/store"
)

// PutClaim implements store.Claims. A repeated claim only moves earlier.
func (e *Engine) PutClaim(ctx context.Context, c journey.Claim) error {
	if err := store.ValidateRecord(c); err != nil {
		return err
	}
	_, err := e.exec(ctx, `INSERT INTO claims (kind, value, session_id, visitor_id, at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (kind, value, session_id) DO UPDATE SET at = excluded.at WHERE excluded.at < claims.at`,
		string(c.ID.Kind), c.ID.Value, c.SessionID, c.VisitorID, micro(store.Micro(c.At)))
	if err != nil {
		return fmt.Errorf("store/%s: put claim: %w", e.d.Name, err)
	}
	return nil
}

// ClaimsOf implements store.Claims.
func (e *Engine) ClaimsOf(ctx context.Context, id journey.Identifier) ([]journey.Claim, error) {
	var out []journey.Claim
	err := e.query(ctx, func(r *sql.Rows) error {
		c := journey.Claim{ID: id}
		var at int64
		err := r.Scan(&c.SessionID, &c.VisitorID, &at)
		c.At = fromMicro(at)
		out = append(out, c)
		return err
	}, `SELECT session_id, visitor_id, at FROM claims WHERE kind = ? AND value = ? ORDER BY at, session_id`,
		string(id.Kind), id.Value)
	if err != nil {
		return nil, err
	}
	return out, nil
}
