package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/store"
)

var _ store.Outcomes = (*Engine)(nil)

const outcomeCols = `touchpoint_id, status, value, currency, note, set_at, version`

// SetOutcome implements store.Outcomes. The outcome is written first and
// conditionally on its version: the row lock (or the unique key, for a
// first version) decides between concurrent writers before any
// conversion is touched, in the order ErasePerson takes them.
func (e *Engine) SetOutcome(ctx context.Context, o journey.ManualOutcome, put *journey.Conversion, retract []string, msgs ...store.OutboxMessage) error {
	if err := store.ValidateSetOutcome(o, put, retract, msgs); err != nil {
		return err
	}
	o.SetAt = store.Micro(o.SetAt)
	return e.tx(ctx, func(tx *sql.Tx) error {
		var res sql.Result
		var err error
		if o.Version == 1 {
			res, err = tx.ExecContext(ctx, e.q(`INSERT INTO outcomes (`+outcomeCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (touchpoint_id) DO NOTHING`),
				o.TouchpointID, string(o.Status), o.Value, o.Currency, o.Note, micro(o.SetAt), o.Version)
		} else {
			res, err = tx.ExecContext(ctx, e.q(`UPDATE outcomes SET status = ?, value = ?, currency = ?, note = ?,
				set_at = ?, version = ? WHERE touchpoint_id = ? AND version = ?`),
				string(o.Status), o.Value, o.Currency, o.Note, micro(o.SetAt), o.Version, o.TouchpointID, o.Version-1)
		}
		if err != nil {
			return fmt.Errorf("store/%s: set outcome: %w", e.d.Name, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("outcome of %q: version %d does not follow the stored one: %w", o.TouchpointID, o.Version, store.ErrConflict)
		}
		for _, id := range retract {
			if _, err := tx.ExecContext(ctx, e.q(`DELETE FROM conversions WHERE id = ?`), id); err != nil {
				return fmt.Errorf("store/%s: set outcome: retract %q: %w", e.d.Name, id, err)
			}
		}
		if put != nil {
			res, err := tx.ExecContext(ctx, e.q(putConversion), conversionArgs(*put)...)
			if err := e.putConversionResult(*put, res, err); err != nil {
				return err
			}
		}
		return e.insertOutbox(ctx, tx, msgs)
	})
}

// scanOutcome reads a row of outcomeCols.
func scanOutcome(r *sql.Rows) (journey.ManualOutcome, error) {
	var o journey.ManualOutcome
	var status string
	var setAt int64
	err := r.Scan(&o.TouchpointID, &status, &o.Value, &o.Currency, &o.Note, &setAt, &o.Version)
	o.Status, o.SetAt = journey.OutcomeStatus(status), fromMicro(setAt)
	return o, err
}

// ManualOutcome implements store.Outcomes.
func (e *Engine) ManualOutcome(ctx context.Context, touchpointID string) (journey.ManualOutcome, error) {
	var o journey.ManualOutcome
	var status string
	var setAt int64
	err := e.queryRow(ctx, fmt.Sprintf("outcome of %q", touchpointID),
		[]any{&o.TouchpointID, &status, &o.Value, &o.Currency, &o.Note, &setAt, &o.Version},
		`SELECT `+outcomeCols+` FROM outcomes WHERE touchpoint_id = ?`, touchpointID)
	if err != nil {
		return journey.ManualOutcome{}, err
	}
	o.Status, o.SetAt = journey.OutcomeStatus(status), fromMicro(setAt)
	return o, nil
}

// deleteOutcomesBefore is the retention statement for outcomes: those of
// the touchpoints DeleteBefore deletes, and those set before the cut-off
// whose touchpoint is not stored, which nothing else would delete. It
// runs before the touchpoints go.
const deleteOutcomesBefore = `DELETE FROM outcomes WHERE touchpoint_id IN (SELECT id FROM touchpoints WHERE at < ?)
	OR (set_at < ? AND NOT EXISTS (SELECT 1 FROM touchpoints t WHERE t.id = outcomes.touchpoint_id))`

// eraseOutcomes deletes, inside ErasePerson's transaction and before
// anything else it deletes, the outcomes of the person's touchpoints and
// of their calls, whose touchpoint may not be stored.
func (e *Engine) eraseOutcomes(ctx context.Context, tx *sql.Tx, personID string, calls []callRef) error {
	for _, k := range calls {
		if _, err := tx.ExecContext(ctx, e.q(`DELETE FROM outcomes WHERE touchpoint_id = ?`),
			journey.CallTouchpointID(k.provider, k.id)); err != nil {
			return err
		}
	}
	const theirs = `DELETE FROM outcomes WHERE touchpoint_id IN (SELECT id FROM touchpoints
		WHERE visitor_id IN (` + personVisitors + `) OR session_id IN (` + personSessions + `))`
	_, err := tx.ExecContext(ctx, e.q(theirs), bindAll(theirs, personID)...)
	return err
}
