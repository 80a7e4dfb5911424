package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/store"
)

var _ store.Outbox = (*Engine)(nil)

const outboxCols = `id, sink, kind, conversion_id, payload, state, attempts, next_at, claim, last_error, created_at, updated_at, delivered_at`

func scanOutbox(r interface{ Scan(...any) error }) (store.OutboxMessage, error) {
	var m store.OutboxMessage
	var state string
	var next, created, updated int64
	var delivered sql.NullInt64
	if err := r.Scan(&m.ID, &m.Sink, &m.Kind, &m.ConversionID, &m.Payload, &state, &m.Attempts, &next,
		&m.Claim, &m.LastError, &created, &updated, &delivered); err != nil {
		return m, err
	}
	m.State = store.OutboxState(state)
	m.NextAt, m.CreatedAt, m.UpdatedAt, m.DeliveredAt = fromMicro(next), fromMicro(created), fromMicro(updated), fromNullMicro(delivered)
	return m, nil
}

// insertOutbox enqueues msgs inside tx; existing ids are left alone.
func (e *Engine) insertOutbox(ctx context.Context, tx *sql.Tx, msgs []store.OutboxMessage) error {
	now := e.opt.Now()
	for _, m := range msgs {
		created := m.CreatedAt
		if created.IsZero() {
			created = now
		}
		next := m.NextAt
		if next.IsZero() {
			next = created
		}
		c := micro(store.Micro(created))
		if _, err := tx.ExecContext(ctx, e.q(`INSERT INTO outbox (`+outboxCols+`)
			VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, '', '', ?, ?, NULL) ON CONFLICT (id) DO NOTHING`),
			m.ID, m.Sink, m.Kind, m.ConversionID, m.Payload, micro(store.Micro(next)), c, c); err != nil {
			return fmt.Errorf("store/%s: enqueue outbox %q: %w", e.d.Name, m.ID, err)
		}
	}
	return nil
}

// EnqueueOutbox implements store.Outbox in one transaction.
func (e *Engine) EnqueueOutbox(ctx context.Context, msgs ...store.OutboxMessage) error {
	if err := store.ValidateOutbox(msgs); err != nil {
		return err
	}
	if len(msgs) == 0 {
		return nil
	}
	return e.tx(ctx, func(tx *sql.Tx) error { return e.insertOutbox(ctx, tx, msgs) })
}

// PutConversionWithOutbox implements store.Outbox: the conversion and its
// messages commit together or not at all.
func (e *Engine) PutConversionWithOutbox(ctx context.Context, c journey.Conversion, msgs ...store.OutboxMessage) error {
	if err := store.ValidateRecord(c); err != nil {
		return err
	}
	if err := store.ValidateOutbox(msgs); err != nil {
		return err
	}
	return e.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, e.q(putConversion), conversionArgs(c)...)
		if err := e.putConversionResult(c, res, err); err != nil {
			return err
		}
		return e.insertOutbox(ctx, tx, msgs)
	})
}

func newClaim() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ClaimOutbox implements store.Outbox. One transaction picks the due
// messages (skipping rows other claimers hold locked, on PostgreSQL) and
// moves them to the end of the lease, so no other claim sees them as due
// until it runs out.
func (e *Engine) ClaimOutbox(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]store.OutboxMessage, error) {
	if limit <= 0 {
		return nil, nil
	}
	n := micro(store.Micro(now))
	until := micro(store.Micro(now.Add(lease)))
	var out []store.OutboxMessage
	err := e.tx(ctx, func(tx *sql.Tx) error {
		out = nil
		claim := newClaim()
		rows, err := tx.QueryContext(ctx, e.q(`SELECT id FROM outbox WHERE state = 'pending' AND next_at <= ?
			ORDER BY next_at, id LIMIT ?`+e.d.SkipLocked), n, limit)
		if err != nil {
			return fmt.Errorf("store/%s: claim outbox: %w", e.d.Name, err)
		}
		var ids []any
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		in := strings.Repeat("?, ", len(ids)-1) + "?"
		args := append([]any{claim, until, n}, ids...)
		rows, err = tx.QueryContext(ctx, e.q(`UPDATE outbox SET attempts = attempts + 1, claim = ?, next_at = ?, updated_at = ?
			WHERE id IN (`+in+`) RETURNING `+outboxCols), args...)
		if err != nil {
			return fmt.Errorf("store/%s: claim outbox: %w", e.d.Name, err)
		}
		byID := make(map[string]store.OutboxMessage, len(ids))
		for rows.Next() {
			m, err := scanOutbox(rows)
			if err != nil {
				rows.Close()
				return err
			}
			byID[m.ID] = m
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, id := range ids { // in due order, as selected
			if m, ok := byID[id.(string)]; ok {
				out = append(out, m)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// outboxMiss explains an update that matched no row: the message is
// missing (ErrNotFound) or in a state the update does not apply to
// (conflict, unless conflict is nil: then nothing is wrong).
func (e *Engine) outboxMiss(ctx context.Context, tx *sql.Tx, id string, conflict error) error {
	var one int
	err := tx.QueryRowContext(ctx, e.q(`SELECT 1 FROM outbox WHERE id = ?`), id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("outbox message %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return err
	}
	return conflict
}

// updateOutbox runs one UPDATE of a message and explains a miss.
func (e *Engine) updateOutbox(ctx context.Context, id string, conflict error, query string, args ...any) error {
	return e.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, e.q(query), args...)
		if err != nil {
			return fmt.Errorf("store/%s: update outbox %q: %w", e.d.Name, id, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			return e.outboxMiss(ctx, tx, id, conflict)
		}
		return nil
	})
}

// MarkOutboxDelivered implements store.Outbox.
func (e *Engine) MarkOutboxDelivered(ctx context.Context, id string, at time.Time) error {
	a := micro(store.Micro(at))
	return e.updateOutbox(ctx, id, nil,
		`UPDATE outbox SET state = 'delivered', delivered_at = ?, updated_at = ? WHERE id = ? AND state <> 'delivered'`,
		a, a, id)
}

// MarkOutboxFailed implements store.Outbox.
func (e *Engine) MarkOutboxFailed(ctx context.Context, id, claim, lastError string, at, retryAt time.Time, dead bool) error {
	conflict := fmt.Errorf("outbox message %q is no longer held by claim %q: %w", id, claim, store.ErrConflict)
	a := micro(store.Micro(at))
	if dead {
		return e.updateOutbox(ctx, id, conflict, `UPDATE outbox SET state = 'dead', last_error = ?, updated_at = ?
			WHERE id = ? AND state = 'pending' AND claim = ?`, lastError, a, id, claim)
	}
	return e.updateOutbox(ctx, id, conflict, `UPDATE outbox SET next_at = ?, last_error = ?, updated_at = ?
		WHERE id = ? AND state = 'pending' AND claim = ?`, micro(store.Micro(retryAt)), lastError, a, id, claim)
}

// DeferOutbox implements store.Outbox.
func (e *Engine) DeferOutbox(ctx context.Context, id, claim, reason string, at, retryAt time.Time) error {
	conflict := fmt.Errorf("outbox message %q is no longer held by claim %q: %w", id, claim, store.ErrConflict)
	return e.updateOutbox(ctx, id, conflict, `UPDATE outbox SET attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END,
		next_at = ?, last_error = ?, updated_at = ? WHERE id = ? AND state = 'pending' AND claim = ?`,
		micro(store.Micro(retryAt)), reason, micro(store.Micro(at)), id, claim)
}

// RequeueOutbox implements store.Outbox.
func (e *Engine) RequeueOutbox(ctx context.Context, id string, at time.Time) error {
	a := micro(store.Micro(at))
	return e.updateOutbox(ctx, id, fmt.Errorf("outbox message %q was delivered: %w", id, store.ErrConflict),
		`UPDATE outbox SET state = 'pending', attempts = 0, next_at = ?, updated_at = ?, claim = ''
		WHERE id = ? AND state <> 'delivered'`, a, a, id)
}

func (e *Engine) outboxList(ctx context.Context, query string, args ...any) ([]store.OutboxMessage, error) {
	var out []store.OutboxMessage
	err := e.query(ctx, func(r *sql.Rows) error {
		m, err := scanOutbox(r)
		out = append(out, m)
		return err
	}, query, args...)
	if err != nil {
		out = nil
	}
	return out, err
}

// OutboxMessage implements store.Outbox.
func (e *Engine) OutboxMessage(ctx context.Context, id string) (store.OutboxMessage, error) {
	out, err := e.outboxList(ctx, `SELECT `+outboxCols+` FROM outbox WHERE id = ?`, id)
	if err != nil {
		return store.OutboxMessage{}, err
	}
	if len(out) == 0 {
		return store.OutboxMessage{}, fmt.Errorf("outbox message %q: %w", id, store.ErrNotFound)
	}
	return out[0], nil
}

// OutboxOfConversion implements store.Outbox.
func (e *Engine) OutboxOfConversion(ctx context.Context, conversionID string) ([]store.OutboxMessage, error) {
	return e.outboxList(ctx, `SELECT `+outboxCols+` FROM outbox WHERE conversion_id = ? ORDER BY sink, id`, conversionID)
}

// OutboxByState implements store.Outbox.
func (e *Engine) OutboxByState(ctx context.Context, state store.OutboxState, limit int) ([]store.OutboxMessage, error) {
	if limit <= 0 {
		return e.outboxList(ctx, `SELECT `+outboxCols+` FROM outbox WHERE state = ? ORDER BY updated_at DESC, id`, string(state))
	}
	return e.outboxList(ctx, `SELECT `+outboxCols+` FROM outbox WHERE state = ? ORDER BY updated_at DESC, id LIMIT ?`,
		string(state), limit)
}
