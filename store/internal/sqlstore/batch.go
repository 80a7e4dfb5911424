package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/store"
)

// WriteBatch implements store.Batches: all in one transaction, so a batch
// pays one commit however many visits it carries: one statement over
// arrays (Dialect.ArrayBatches), or one cached prepared statement per row.
func (e *Engine) WriteBatch(ctx context.Context, b store.Batch) error {
	if b.Len() == 0 {
		return nil
	}
	sessions, err := e.sessionRows(b.Sessions)
	if err != nil {
		return err
	}
	touches, err := touchpointRows(b.Touchpoints)
	if err != nil {
		return err
	}
	holds, err := mergeHolds(b.Holds)
	if err != nil {
		return err
	}
	if e.d.ArrayBatches {
		return e.arrayBatch(ctx, sessions, touches, holds)
	}
	return e.tx(ctx, func(tx *sql.Tx) error { return e.rowBatch(ctx, tx, sessions, touches, holds) })
}

const sessionUpsert = ` ON CONFLICT (id) DO UPDATE SET visitor_id = excluded.visitor_id,
	started_at = excluded.started_at, last_seen_at = excluded.last_seen_at,
	active_at = excluded.active_at, landing_url = excluded.landing_url,
	referrer = excluded.referrer, source = excluded.source, pool = excluded.pool,
	number = excluded.number, ad_ids = excluded.ad_ids,
	page_views = excluded.page_views, exit_url = excluded.exit_url`

const putSession = `INSERT INTO sessions (` + sessionCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)` + sessionUpsert

const holdUpsert = `
	ON CONFLICT (number, held_from, session_id) DO UPDATE SET
		held_until = CASE WHEN excluded.held_until IS NULL THEN holds.held_until
			WHEN holds.held_until IS NULL OR excluded.held_until > holds.held_until THEN excluded.held_until
			ELSE holds.held_until END,
		token = CASE WHEN holds.token = 0 THEN excluded.token ELSE holds.token END,
		reused = holds.reused OR excluded.reused
	WHERE holds.pool = excluded.pool`

const holdSpanUpsert = `
	ON CONFLICT (number) DO UPDATE SET max_span = excluded.max_span
	WHERE excluded.max_span > hold_spans.max_span`

// rowBatch writes a batch inside tx one row at a time, each through a
// cached prepared statement.
func (e *Engine) rowBatch(ctx context.Context, tx *sql.Tx, sessions, touches [][]any, holds []pool.HoldRecord) error {
	for _, r := range sessions {
		if _, err := e.txExec(ctx, tx, putSession, r...); err != nil {
			return fmt.Errorf("store/%s: write batch: session %q: %w", e.d.Name, r[0], err)
		}
	}
	for _, r := range touches {
		res, err := e.txExec(ctx, tx, addTouchpoint, r...)
		if err != nil {
			return fmt.Errorf("store/%s: write batch: touchpoint %q: %w", e.d.Name, r[0], err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("touchpoint %q exists with another kind: %w", r[0], store.ErrConflict)
		}
	}
	for _, h := range holds {
		if err := e.recordHoldTx(ctx, tx, h); err != nil {
			return err
		}
	}
	return nil
}

// arrayBatch writes a batch in one statement, the rows passed as arrays
// (one per column, empty for a table with none), so a batch costs one
// round trip and is atomic without BEGIN and COMMIT. A stored touchpoint
// of another kind, or hold in another pool, sets that column NULL, which
// its NOT NULL constraint refuses: the statement fails whole, and
// Dialect.NotNull tells that failure from others.
func (e *Engine) arrayBatch(ctx context.Context, sessions, touches [][]any, holds []pool.HoldRecord) error {
	hrows := make([][]any, len(holds))
	var spans [][]any
	spanOf := map[string]int{}
	for i, h := range holds {
		hrows[i] = []any{h.Number, micro(h.From), h.SessionID, nullMicro(h.Until), h.Pool, int64(h.Token), h.Reused}
		if h.Until.IsZero() {
			continue
		}
		span := micro(h.Until) - micro(h.From)
		if j, ok := spanOf[h.Number]; !ok {
			spanOf[h.Number] = len(spans)
			spans = append(spans, []any{h.Number, span})
		} else if span > spans[j][1].(int64) {
			spans[j][1] = span
		}
	}
	args := append(append(append(arrays(sessions, "ssiiissssssis"), arrays(touches, "ssissss")...),
		arrays(hrows, "sisisib")...), arrays(spans, "si")...)
	err := e.retry(ctx, func() error {
		_, err := e.db.ExecContext(ctx, arrayBatchSQL, args...)
		if err == nil {
			e.wrote()
		}
		if err != nil && e.d.NotNull != nil {
			switch e.d.NotNull(err) {
			case "touchpoints.kind":
				return fmt.Errorf("a touchpoint exists with another kind: %w: %w", store.ErrConflict, err)
			case "holds.pool":
				return fmt.Errorf("a hold is stored in another pool: %w: %w", store.ErrConflict, err)
			}
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("store/%s: write batch: %w", e.d.Name, err)
	}
	return nil
}

// arrayBatchSQL is arrayBatch's statement: data-modifying WITH clauses
// run to completion whether or not the query reads them.
const arrayBatchSQL = `WITH s AS (
	INSERT INTO sessions (` + sessionCols + `)
	SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::text[],
		$7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::int[], $13::text[])` + sessionUpsert + `
), t AS (
	INSERT INTO touchpoints (` + touchCols + `)
	SELECT * FROM unnest($14::text[], $15::text[], $16::bigint[], $17::text[], $18::text[], $19::text[], $20::text[])
	ON CONFLICT (id) DO UPDATE SET kind = CASE WHEN touchpoints.kind = excluded.kind THEN excluded.kind END,
		at = excluded.at, visitor_id = excluded.visitor_id, session_id = excluded.session_id,
		source = excluded.source, attrs = excluded.attrs
), h AS (
	INSERT INTO holds (number, held_from, session_id, held_until, pool, token, reused)
	SELECT * FROM unnest($21::text[], $22::bigint[], $23::text[], $24::bigint[], $25::text[], $26::bigint[], $27::boolean[])
	ON CONFLICT (number, held_from, session_id) DO UPDATE SET
		pool = CASE WHEN holds.pool = excluded.pool THEN holds.pool END,
		held_until = CASE WHEN excluded.held_until IS NULL THEN holds.held_until
			WHEN holds.held_until IS NULL OR excluded.held_until > holds.held_until THEN excluded.held_until
			ELSE holds.held_until END,
		token = CASE WHEN holds.token = 0 THEN excluded.token ELSE holds.token END,
		reused = holds.reused OR excluded.reused
)
INSERT INTO hold_spans (number, max_span)
SELECT * FROM unnest($28::text[], $29::bigint[])` + holdSpanUpsert

// arrays turns rows into one array per column, typed by kinds, a letter
// a column: s string, i int64 or int (NULL-able, as *int64), b bool.
func arrays(rows [][]any, kinds string) []any {
	cols := make([]any, len(kinds))
	for c, k := range kinds {
		switch k {
		case 's':
			a := make([]string, len(rows))
			for i, r := range rows {
				a[i] = r[c].(string)
			}
			cols[c] = a
		case 'b':
			a := make([]bool, len(rows))
			for i, r := range rows {
				a[i] = r[c].(bool)
			}
			cols[c] = a
		default:
			a := make([]*int64, len(rows))
			for i, r := range rows {
				switch v := r[c].(type) {
				case int64:
					a[i] = &v
				case int:
					n := int64(v)
					a[i] = &n
				}
			}
			cols[c] = a
		}
	}
	return cols
}

func holdKey(number string, from int64, session string) string {
	return number + " by " + session + " from " + fromMicro(from).Format(time.RFC3339Nano)
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

// touchpointRows validates tps and returns their rows, the last of
// repeated ids only; a repeated id of another Kind conflicts, as a second
// AddTouchpoint would.
func touchpointRows(tps []journey.Touchpoint) ([][]any, error) {
	last := make(map[string]int, len(tps))
	for i, tp := range tps {
		if err := store.ValidateRecord(tp); err != nil {
			return nil, fmt.Errorf("touchpoint %d: %w", i, err)
		}
		if j, ok := last[tp.ID]; ok && tps[j].Kind != tp.Kind {
			return nil, fmt.Errorf("touchpoint %q is a %s, not a %s: %w", tp.ID, tps[j].Kind, tp.Kind, store.ErrConflict)
		}
		last[tp.ID] = i
	}
	rows := make([][]any, 0, len(last))
	for i, tp := range tps {
		if last[tp.ID] != i {
			continue
		}
		args, err := touchpointArgs(tp)
		if err != nil {
			return nil, err
		}
		rows = append(rows, args)
	}
	return rows, nil
}

// mergeHolds validates hs, truncates their times as stored, and merges
// records of one hold (number, start, session) as repeated RecordHold
// calls would: the latest end, the first token, reused if any was; one
// in another pool conflicts.
func mergeHolds(hs []pool.HoldRecord) ([]pool.HoldRecord, error) {
	out := make([]pool.HoldRecord, 0, len(hs))
	at := make(map[string]int, len(hs))
	for i, h := range hs {
		if err := store.ValidateHold(h); err != nil {
			return nil, fmt.Errorf("hold %d: %w", i, err)
		}
		h.From, h.Until = store.Micro(h.From), store.Micro(h.Until)
		k := holdKey(h.Number, micro(h.From), h.SessionID)
		j, ok := at[k]
		if !ok {
			at[k] = len(out)
			out = append(out, h)
			continue
		}
		m := &out[j]
		if m.Pool != h.Pool {
			return nil, fmt.Errorf("hold %d: %s is in pool %q, not %q: %w", i, k, m.Pool, h.Pool, store.ErrConflict)
		}
		if h.Until.After(m.Until) {
			m.Until = h.Until
		}
		if m.Token == 0 {
			m.Token = h.Token
		}
		m.Reused = m.Reused || h.Reused
	}
	return out, nil
}

// recordHoldTx is the upsert of one hold record inside tx (RecordHold's,
// and each of a batch's on SQLite); h is valid and truncated.
func (e *Engine) recordHoldTx(ctx context.Context, tx *sql.Tx, h pool.HoldRecord) error {
	res, err := e.txExec(ctx, tx, `INSERT INTO holds (number, held_from, session_id, held_until, pool, token, reused)
		VALUES (?, ?, ?, ?, ?, ?, ?)`+holdUpsert,
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
	_, err = e.txExec(ctx, tx, `INSERT INTO hold_spans (number, max_span) VALUES (?, ?)`+holdSpanUpsert,
		h.Number, micro(h.Until)-micro(h.From))
	return err
}

// txExec runs a '?' statement inside tx, prepared once when the dialect
// caches statements.
func (e *Engine) txExec(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	if !e.d.CacheStatements {
		return tx.ExecContext(ctx, e.q(query), args...)
	}
	st, err := e.prepared(ctx, e.q(query))
	if err != nil {
		return nil, err
	}
	return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
}
