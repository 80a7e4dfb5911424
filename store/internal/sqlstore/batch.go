package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/store"
)

// WriteBatch implements store.Batches: sessions and touchpoints as
// multi-row upserts, holds one statement each, all in one transaction, so
// a batch pays one commit (one fsync) however many visits it carries.
func (e *Engine) WriteBatch(ctx context.Context, b store.Batch) error {
	if b.Len() == 0 {
		return nil
	}
	sessions, err := e.sessionRows(b.Sessions)
	if err != nil {
		return err
	}
	touches, touchIDs, err := touchpointRows(b.Touchpoints)
	if err != nil {
		return err
	}
	holds := make([]pool.HoldRecord, len(b.Holds))
	for i, h := range b.Holds {
		if err := store.ValidateHold(h); err != nil {
			return fmt.Errorf("hold %d: %w", i, err)
		}
		h.From, h.Until = store.Micro(h.From), store.Micro(h.Until)
		holds[i] = h
	}
	return e.tx(ctx, func(tx *sql.Tx) error {
		if err := e.multiRow(ctx, tx, `INSERT INTO sessions (`+sessionCols+`) VALUES `, 13, sessions, ` ON CONFLICT (id) DO UPDATE SET visitor_id = excluded.visitor_id,
				started_at = excluded.started_at, last_seen_at = excluded.last_seen_at,
				active_at = excluded.active_at, landing_url = excluded.landing_url,
				referrer = excluded.referrer, source = excluded.source, pool = excluded.pool,
				number = excluded.number, ad_ids = excluded.ad_ids,
				page_views = excluded.page_views, exit_url = excluded.exit_url`, nil); err != nil {
			return fmt.Errorf("store/%s: write batch: sessions: %w", e.d.Name, err)
		}
		var written int64
		if err := e.multiRow(ctx, tx, `INSERT INTO touchpoints (`+touchCols+`) VALUES `, 7, touches, touchpointUpsert, &written); err != nil {
			return fmt.Errorf("store/%s: write batch: touchpoints: %w", e.d.Name, err)
		}
		if written != int64(len(touches)) {
			return fmt.Errorf("a touchpoint of %s exists with another kind: %w", strings.Join(touchIDs, ", "), store.ErrConflict)
		}
		for _, h := range holds {
			if err := e.recordHoldTx(ctx, tx, h); err != nil {
				return err
			}
		}
		return nil
	})
}

// sessionRows validates ss and returns their rows, the last of repeated
// ids only (one INSERT ... ON CONFLICT may not touch a row twice).
func (e *Engine) sessionRows(ss []journey.Session) ([][]any, error) {
	last := make(map[string]int, len(ss))
	for i, s := range ss {
		if err := store.ValidateRecord(s); err != nil {
			return nil, fmt.Errorf("session %d: %w", i, err)
		}
		last[s.ID] = i
	}
	rows := make([][]any, 0, len(last))
	for i, s := range ss {
		if last[s.ID] != i {
			continue
		}
		args, err := sessionArgs(s)
		if err != nil {
			return nil, err
		}
		rows = append(rows, args)
	}
	return rows, nil
}

// touchpointRows validates tps and returns their rows and ids, the last of
// repeated ids only; a repeated id of another Kind conflicts, as a second
// AddTouchpoint would.
func touchpointRows(tps []journey.Touchpoint) ([][]any, []string, error) {
	last := make(map[string]int, len(tps))
	for i, tp := range tps {
		if err := store.ValidateRecord(tp); err != nil {
			return nil, nil, fmt.Errorf("touchpoint %d: %w", i, err)
		}
		if j, ok := last[tp.ID]; ok && tps[j].Kind != tp.Kind {
			return nil, nil, fmt.Errorf("touchpoint %q is a %s, not a %s: %w", tp.ID, tps[j].Kind, tp.Kind, store.ErrConflict)
		}
		last[tp.ID] = i
	}
	rows := make([][]any, 0, len(last))
	ids := make([]string, 0, len(last))
	for i, tp := range tps {
		if last[tp.ID] != i {
			continue
		}
		args, err := touchpointArgs(tp)
		if err != nil {
			return nil, nil, err
		}
		rows = append(rows, args)
		ids = append(ids, fmt.Sprintf("%q", tp.ID))
	}
	return rows, ids, nil
}

// multiRow runs head VALUES (...), (...) tail over rows in chunks that
// keep the placeholders under every engine's limit, adding the rows
// affected to *affected when it is not nil.
func (e *Engine) multiRow(ctx context.Context, tx *sql.Tx, head string, cols int, rows [][]any, tail string, affected *int64) error {
	chunk := max(1, 2000/cols)
	for start := 0; start < len(rows); start += chunk {
		part := rows[start:min(start+chunk, len(rows))]
		var b strings.Builder
		b.WriteString(head)
		args := make([]any, 0, len(part)*cols)
		for i, r := range part {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('(')
			for c := range cols {
				if c > 0 {
					b.WriteString(", ")
				}
				b.WriteByte('?')
			}
			b.WriteByte(')')
			args = append(args, r...)
		}
		b.WriteString(tail)
		res, err := tx.ExecContext(ctx, e.q(b.String()), args...)
		if err != nil {
			return err
		}
		if affected != nil {
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			*affected += n
		}
	}
	return nil
}

// recordHoldTx is the upsert of one hold record inside tx (RecordHold's,
// and each of a batch's); h is valid and truncated.
func (e *Engine) recordHoldTx(ctx context.Context, tx *sql.Tx, h pool.HoldRecord) error {
	res, err := tx.ExecContext(ctx, e.q(`INSERT INTO holds (number, held_from, session_id, held_until, pool, token, reused)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (number, held_from, session_id) DO UPDATE SET
			held_until = CASE WHEN excluded.held_until IS NULL THEN holds.held_until
				WHEN holds.held_until IS NULL OR excluded.held_until > holds.held_until THEN excluded.held_until
				ELSE holds.held_until END,
			token = CASE WHEN holds.token = 0 THEN excluded.token ELSE holds.token END,
			reused = holds.reused OR excluded.reused
		WHERE holds.pool = excluded.pool`),
		h.Number, micro(h.From), h.SessionID, nullMicro(h.Until), h.Pool, int64(h.Token), h.Reused)
	if err != nil {
		return fmt.Errorf("store/%s: record hold: %w", e.d.Name, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("hold of %s by %q from %s is in another pool than %q: %w",
			h.Number, h.SessionID, h.From.Format(time.RFC3339Nano), h.Pool, store.ErrConflict)
	}
	if h.Until.IsZero() {
		return nil
	}
	_, err = tx.ExecContext(ctx, e.q(`INSERT INTO hold_spans (number, max_span) VALUES (?, ?)
		ON CONFLICT (number) DO UPDATE SET max_span = excluded.max_span
		WHERE excluded.max_span > hold_spans.max_span`),
		h.Number, micro(h.Until)-micro(h.From))
	return err
}
