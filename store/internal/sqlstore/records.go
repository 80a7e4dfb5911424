package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/store"
)

func jsonText(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

func fromJSON(s string, v any) error {
	if s == "" {
		return nil
	}
	return json.Unmarshal([]byte(s), v)
}

// ---- sessions

const sessionCols = `id, visitor_id, started_at, last_seen_at, active_at, landing_url, referrer, source, pool, number, ad_ids, page_views, exit_url`

func sessionArgs(s journey.Session) ([]any, error) {
	s.StartedAt, s.LastSeenAt = store.Micro(s.StartedAt), store.Micro(s.LastSeenAt)
	source, err := jsonText(s.Source)
	if err != nil {
		return nil, fmt.Errorf("session %q: source: %w", s.ID, err)
	}
	// Most sessions have no ad ids: '' rather than a JSON object of empty fields.
	var adIDs string
	if !s.AdIDs.IsZero() {
		if adIDs, err = jsonText(s.AdIDs); err != nil {
			return nil, fmt.Errorf("session %q: ad_ids: %w", s.ID, err)
		}
	}
	active := s.LastSeenAt
	if active.IsZero() {
		active = s.StartedAt
	}
	return []any{s.ID, s.VisitorID, micro(s.StartedAt), nullMicro(s.LastSeenAt), micro(active),
		s.LandingURL, s.Referrer, source, s.Pool, s.Number, adIDs, s.PageViews, s.ExitURL}, nil
}

func scanSession(r interface{ Scan(...any) error }) (journey.Session, error) {
	var s journey.Session
	var started, active int64
	var lastSeen sql.NullInt64
	var source, adIDs string
	if err := r.Scan(&s.ID, &s.VisitorID, &started, &lastSeen, &active, &s.LandingURL, &s.Referrer, &source, &s.Pool, &s.Number, &adIDs, &s.PageViews, &s.ExitURL); err != nil {
		return s, err
	}
	s.StartedAt, s.LastSeenAt = fromMicro(started), fromNullMicro(lastSeen)
	if err := fromJSON(source, &s.Source); err != nil {
		return s, fmt.Errorf("session %q: source: %w", s.ID, err)
	}
	if err := fromJSON(adIDs, &s.AdIDs); err != nil {
		return s, fmt.Errorf("session %q: ad_ids: %w", s.ID, err)
	}
	return s, nil
}

// PutSession implements store.Sessions.
func (e *Engine) PutSession(ctx context.Context, s journey.Session) error {
	return e.PutSessions(ctx, []journey.Session{s})
}

// PutSessions implements store.Sessions: a batch of sessions alone
// (WriteBatch), in one transaction.
func (e *Engine) PutSessions(ctx context.Context, ss []journey.Session) error {
	if len(ss) == 1 {
		// One session's problem is named without a position.
		if err := store.ValidateRecord(ss[0]); err != nil {
			return err
		}
	}
	return e.WriteBatch(ctx, store.Batch{Sessions: ss})
}

// Session implements store.Sessions.
func (e *Engine) Session(ctx context.Context, id string) (journey.Session, error) {
	var s journey.Session
	err := e.retry(ctx, func() error {
		var err error
		s, err = scanSession(e.dbQueryRow(ctx, e.q(`SELECT `+sessionCols+` FROM sessions WHERE id = ?`), id))
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return s, fmt.Errorf("session %q: %w", id, store.ErrNotFound)
	}
	return s, err
}

// SessionsOfVisitor implements store.Sessions.
func (e *Engine) SessionsOfVisitor(ctx context.Context, visitorID string) ([]journey.Session, error) {
	var out []journey.Session
	err := e.query(ctx, func(r *sql.Rows) error {
		s, err := scanSession(r)
		out = append(out, s)
		return err
	}, `SELECT `+sessionCols+` FROM sessions WHERE visitor_id = ? ORDER BY started_at, id`, visitorID)
	return out, err
}

// ---- leases

// RecordHold implements store.Leases.
func (e *Engine) RecordHold(ctx context.Context, h pool.HoldRecord) error {
	if err := store.ValidateHold(h); err != nil {
		return err
	}
	h.From, h.Until = store.Micro(h.From), store.Micro(h.Until)
	return e.tx(ctx, func(tx *sql.Tx) error { return e.recordHoldTx(ctx, tx, h) })
}

const holdCols = `pool, number, session_id, held_from, held_until, reused, token`

func scanHold(r *sql.Rows) (pool.HoldRecord, error) {
	var h pool.HoldRecord
	var from int64
	var until sql.NullInt64
	var token int64
	if err := r.Scan(&h.Pool, &h.Number, &h.SessionID, &from, &until, &h.Reused, &token); err != nil {
		return h, err
	}
	h.From, h.Until, h.Token = fromMicro(from), fromNullMicro(until), pool.Token(token)
	return h, nil
}

// holdersAtQuery finds closed holds by a range on the primary key bounded
// below by the number's longest closed hold, and open holds through their
// partial index. The unary + keeps planners off the held_until index, which
// sampled statistics can make look attractive for some times but which
// spans every number.
const holdersAtQuery = `SELECT ` + holdCols + ` FROM holds
	WHERE number = ? AND held_until IS NOT NULL AND held_from <= ?
		AND held_from >= ? - COALESCE((SELECT max_span FROM hold_spans WHERE number = ?), 0)
		AND +held_until >= ?
	UNION ALL
	SELECT ` + holdCols + ` FROM holds
	WHERE number = ? AND held_until IS NULL AND held_from <= ?
	ORDER BY held_from, session_id`

// HoldersAtQuery is the statement behind HoldersAt with '?' placeholders
// and its arguments, for showing the query plan.
func HoldersAtQuery(number string, at time.Time, grace time.Duration) (string, []any) {
	at = store.Micro(at)
	lo := micro(at) - max(grace, 0).Microseconds()
	return holdersAtQuery, []any{number, micro(at), lo, number, lo, number, micro(at)}
}

// ExplainHoldersAt returns the query plan of HoldersAt for these
// arguments, one line per row of the database's EXPLAIN output.
func (e *Engine) ExplainHoldersAt(ctx context.Context, number string, at time.Time, grace time.Duration) ([]string, error) {
	query, args := HoldersAtQuery(number, at, grace)
	rows, err := e.db.QueryContext(ctx, e.d.Explain+e.q(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		out = append(out, fmt.Sprint(vals[len(vals)-1])) // the detail / plan text column
	}
	return out, rows.Err()
}

// HoldersAt implements store.Leases.
func (e *Engine) HoldersAt(ctx context.Context, number string, at time.Time, grace time.Duration) ([]pool.Holder, error) {
	query, args := HoldersAtQuery(number, at, grace)
	var out []pool.Holder
	err := e.query(ctx, func(r *sql.Rows) error {
		h, err := scanHold(r)
		out = append(out, pool.Holder{Pool: h.Pool, Number: h.Number, SessionID: h.SessionID,
			From: h.From, Until: h.Until, Live: h.Until.IsZero(), Reused: h.Reused})
		return err
	}, query, args...)
	if err != nil {
		out = nil
	}
	return out, err
}

// HoldsBetween implements store.Leases.
func (e *Engine) HoldsBetween(ctx context.Context, from, to time.Time) ([]pool.HoldRecord, error) {
	f, t := micro(store.Micro(from)), micro(store.Micro(to))
	var out []pool.HoldRecord
	err := e.query(ctx, func(r *sql.Rows) error {
		h, err := scanHold(r)
		out = append(out, h)
		return err
	}, `SELECT `+holdCols+` FROM holds
		WHERE held_until IS NOT NULL AND held_from < ? AND held_until >= ?
			AND held_from >= ? - COALESCE((SELECT MAX(max_span) FROM hold_spans), 0)
		UNION ALL
		SELECT `+holdCols+` FROM holds WHERE held_until IS NULL AND held_from < ?
		ORDER BY held_from, number, session_id`, t, f, f, t)
	if err != nil {
		out = nil
	}
	return out, err
}

// ---- touchpoints

const touchCols = `id, kind, at, visitor_id, session_id, source, attrs`

func scanTouch(r *sql.Rows) (journey.Touchpoint, error) {
	var tp journey.Touchpoint
	var at int64
	var source, attrs string
	if err := r.Scan(&tp.ID, &tp.Kind, &at, &tp.VisitorID, &tp.SessionID, &source, &attrs); err != nil {
		return tp, err
	}
	tp.At = fromMicro(at)
	if err := fromJSON(source, &tp.Source); err != nil {
		return tp, fmt.Errorf("touchpoint %q: source: %w", tp.ID, err)
	}
	if err := fromJSON(attrs, &tp.Attrs); err != nil {
		return tp, fmt.Errorf("touchpoint %q: attrs: %w", tp.ID, err)
	}
	if len(tp.Attrs) == 0 {
		tp.Attrs = nil
	}
	return tp, nil
}

const addTouchpoint = `INSERT INTO touchpoints (` + touchCols + `) VALUES (?, ?, ?, ?, ?, ?, ?)` + touchpointUpsert

// touchpointUpsert ends an INSERT INTO touchpoints: a stored id is updated
// only when its kind is the same, so a row of another kind is not affected.
const touchpointUpsert = `
	ON CONFLICT (id) DO UPDATE SET at = excluded.at, visitor_id = excluded.visitor_id,
		session_id = excluded.session_id, source = excluded.source, attrs = excluded.attrs
	WHERE touchpoints.kind = excluded.kind`

func touchpointArgs(tp journey.Touchpoint) ([]any, error) {
	source, err := jsonText(tp.Source)
	if err != nil {
		return nil, fmt.Errorf("touchpoint %q: source: %w", tp.ID, err)
	}
	var attrs any = map[string]string{}
	if len(tp.Attrs) > 0 {
		attrs = tp.Attrs
	}
	attrsText, err := jsonText(attrs)
	if err != nil {
		return nil, fmt.Errorf("touchpoint %q: attrs: %w", tp.ID, err)
	}
	return []any{tp.ID, string(tp.Kind), micro(store.Micro(tp.At)), tp.VisitorID, tp.SessionID, source, attrsText}, nil
}

// addTouchpointResult reports a write that touched no row: the id exists
// with another kind.
func (e *Engine) addTouchpointResult(tp journey.Touchpoint, res sql.Result, err error) error {
	if err != nil {
		return fmt.Errorf("store/%s: add touchpoint: %w", e.d.Name, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("touchpoint %q exists with another kind than %s: %w", tp.ID, tp.Kind, store.ErrConflict)
	}
	return nil
}

// AddTouchpoint implements store.Touchpoints.
func (e *Engine) AddTouchpoint(ctx context.Context, tp journey.Touchpoint) error {
	if err := store.ValidateRecord(tp); err != nil {
		return err
	}
	args, err := touchpointArgs(tp)
	if err != nil {
		return err
	}
	res, err := e.exec(ctx, addTouchpoint, args...)
	return e.addTouchpointResult(tp, res, err)
}

// personVisitors selects the visitor ids of the person bound to one '?'.
const personVisitors = `SELECT value FROM identities WHERE person_id = ? AND kind = 'visitor'`

// personSessions selects the session ids of the person bound to one '?'.
const personSessions = `SELECT s.id FROM sessions s JOIN identities i ON i.kind = 'visitor' AND i.value = s.visitor_id WHERE i.person_id = ?`

// TouchpointsOf implements store.Touchpoints.
func (e *Engine) TouchpointsOf(ctx context.Context, personID string, from, to time.Time) ([]journey.Touchpoint, error) {
	f, t := micro(store.Micro(from)), micro(store.Micro(to))
	var out []journey.Touchpoint
	err := e.query(ctx, func(r *sql.Rows) error {
		tp, err := scanTouch(r)
		out = append(out, tp)
		return err
	}, `SELECT `+touchCols+` FROM touchpoints WHERE visitor_id IN (`+personVisitors+`) AND at >= ? AND at < ?
		UNION
		SELECT `+touchCols+` FROM touchpoints WHERE session_id IN (`+personSessions+`) AND at >= ? AND at < ?
		ORDER BY at, id`, personID, f, t, personID, f, t)
	if err != nil {
		out = nil
	}
	return out, err
}

// Touchpoint implements store.Touchpoints.
func (e *Engine) Touchpoint(ctx context.Context, id string) (journey.Touchpoint, error) {
	var out []journey.Touchpoint
	err := e.query(ctx, func(r *sql.Rows) error {
		tp, err := scanTouch(r)
		out = append(out, tp)
		return err
	}, `SELECT `+touchCols+` FROM touchpoints WHERE id = ?`, id)
	switch {
	case err != nil:
		return journey.Touchpoint{}, err
	case len(out) == 0:
		return journey.Touchpoint{}, fmt.Errorf("touchpoint %q: %w", id, store.ErrNotFound)
	}
	return out[0], nil
}

// ---- conversions

const convCols = `id, type, at, visitor_id, session_id, value, currency, call_provider, call_id`

func scanConv(r *sql.Rows) (journey.Conversion, error) {
	var c journey.Conversion
	var at int64
	err := r.Scan(&c.ID, &c.Type, &at, &c.VisitorID, &c.SessionID, &c.Value, &c.Currency, &c.CallProvider, &c.CallID)
	c.At = fromMicro(at)
	return c, err
}

// PutConversion implements store.Conversions.
func (e *Engine) PutConversion(ctx context.Context, c journey.Conversion) error {
	if err := store.ValidateRecord(c); err != nil {
		return err
	}
	res, err := e.exec(ctx, putConversion, conversionArgs(c)...)
	return e.putConversionResult(c, res, err)
}

// putConversion upserts a conversion; no row is affected when the id
// exists with another type.
const putConversion = `INSERT INTO conversions (` + convCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET at = excluded.at, visitor_id = excluded.visitor_id,
			session_id = excluded.session_id, value = excluded.value, currency = excluded.currency,
			call_provider = excluded.call_provider, call_id = excluded.call_id
		WHERE conversions.type = excluded.type`

func conversionArgs(c journey.Conversion) []any {
	return []any{c.ID, c.Type, micro(store.Micro(c.At)), c.VisitorID, c.SessionID, c.Value, c.Currency, c.CallProvider, c.CallID}
}

func (e *Engine) putConversionResult(c journey.Conversion, res sql.Result, err error) error {
	if err != nil {
		return fmt.Errorf("store/%s: put conversion: %w", e.d.Name, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("conversion %q exists with another type than %s: %w", c.ID, c.Type, store.ErrConflict)
	}
	return nil
}

func (e *Engine) conversions(ctx context.Context, query string, args ...any) ([]journey.Conversion, error) {
	var out []journey.Conversion
	err := e.query(ctx, func(r *sql.Rows) error {
		c, err := scanConv(r)
		out = append(out, c)
		return err
	}, query, args...)
	if err != nil {
		out = nil
	}
	return out, err
}

// ConversionsBetween implements store.Conversions.
func (e *Engine) ConversionsBetween(ctx context.Context, from, to time.Time) ([]journey.Conversion, error) {
	return e.conversions(ctx, `SELECT `+convCols+` FROM conversions WHERE at >= ? AND at < ? ORDER BY at, id`,
		micro(store.Micro(from)), micro(store.Micro(to)))
}

// ConversionsOf implements store.Conversions.
func (e *Engine) ConversionsOf(ctx context.Context, personID string) ([]journey.Conversion, error) {
	return e.conversions(ctx, `SELECT `+convCols+` FROM conversions WHERE visitor_id IN (`+personVisitors+`)
		UNION
		SELECT `+convCols+` FROM conversions WHERE session_id IN (`+personSessions+`)
		ORDER BY at, id`, personID, personID)
}
