package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/store"
)

// callColumns are the calls table's columns as callArgs and scanCall
// order them; call_at is apart, as only writes set it.
var callColumns = []string{"provider", "call_id", "kind", "from_number", "to_number", "direction", "status",
	"occurred_at", "started_at", "answered_at", "ended_at", "duration_ns",
	"caller_name", "caller_city", "caller_region", "caller_country", "forwarded_from", "raw",
	"outcome", "talk_time_ns", "recording_id", "recording_url", "recording_duration_ns", "attestation", "labels", "transcript"}

var (
	callCols = strings.Join(callColumns, ", ")
	// callSet rewrites every column but the key, then call_at.
	callSet = strings.Join(callColumns[2:], " = ?, ") + " = ?, call_at = ?"
	// callValues binds call_at and every column.
	callValues = strings.TrimSuffix(strings.Repeat("?, ", len(callColumns)+1), ", ")
)

func callArgs(ev provider.CallEvent) ([]any, error) {
	var raw any
	if len(ev.Raw) > 0 {
		raw = ev.Raw
	}
	labels, err := labelsText(ev.Labels)
	if err != nil {
		return nil, err
	}
	return []any{ev.Provider, ev.CallID, int64(ev.Kind), ev.From, ev.To, string(ev.Direction), string(ev.Status),
		nullMicro(ev.OccurredAt), nullMicro(ev.StartedAt), nullMicro(ev.AnsweredAt), nullMicro(ev.EndedAt), int64(ev.Duration),
		ev.CallerName, ev.CallerCity, ev.CallerRegion, ev.CallerCountry, ev.ForwardedFrom, raw,
		string(ev.Outcome), int64(ev.TalkTime), ev.Recording.ID, ev.Recording.URL, int64(ev.Recording.Duration),
		string(ev.Attestation), labels, ev.Transcript}, nil
}

// labelsText is labels as the labels column holds them: a JSON array.
// JSON would silently replace bytes that are not UTF-8, so such a label is
// refused instead, as PostgreSQL refuses them in the text columns.
func labelsText(labels []string) (string, error) {
	for i, l := range labels {
		if !utf8.ValidString(l) {
			return "", fmt.Errorf("%w: call: labels[%d] %q is not valid UTF-8", store.ErrInvalid, i, l)
		}
	}
	if len(labels) == 0 {
		return "[]", nil
	}
	return jsonText(labels)
}

func scanCall(r interface{ Scan(...any) error }, extra ...any) (provider.CallEvent, error) {
	var ev provider.CallEvent
	var kind, duration, talk, recDuration int64
	var direction, status, outcome, attestation, labels string
	var occurred, started, answered, ended sql.NullInt64
	var raw []byte
	dest := []any{&ev.Provider, &ev.CallID, &kind, &ev.From, &ev.To, &direction, &status,
		&occurred, &started, &answered, &ended, &duration,
		&ev.CallerName, &ev.CallerCity, &ev.CallerRegion, &ev.CallerCountry, &ev.ForwardedFrom, &raw,
		&outcome, &talk, &ev.Recording.ID, &ev.Recording.URL, &recDuration, &attestation, &labels, &ev.Transcript}
	if err := r.Scan(append(dest, extra...)...); err != nil {
		return ev, err
	}
	ev.Kind, ev.Direction, ev.Status = provider.Kind(kind), provider.Direction(direction), provider.Status(status)
	ev.OccurredAt, ev.StartedAt = fromNullMicro(occurred), fromNullMicro(started)
	ev.AnsweredAt, ev.EndedAt = fromNullMicro(answered), fromNullMicro(ended)
	ev.Duration = time.Duration(duration)
	if len(raw) > 0 {
		ev.Raw = raw
	}
	ev.Outcome, ev.TalkTime = provider.Outcome(outcome), time.Duration(talk)
	ev.Recording.Duration = time.Duration(recDuration)
	ev.Attestation = provider.Attestation(attestation)
	if err := fromJSON(labels, &ev.Labels); err != nil {
		return ev, fmt.Errorf("call %s/%s: labels: %w", ev.Provider, ev.CallID, err)
	}
	if len(ev.Labels) == 0 {
		ev.Labels = nil
	}
	return ev, nil
}

func normCall(ev provider.CallEvent) provider.CallEvent {
	ev.OccurredAt, ev.StartedAt = store.Micro(ev.OccurredAt), store.Micro(ev.StartedAt)
	ev.AnsweredAt, ev.EndedAt = store.Micro(ev.AnsweredAt), store.Micro(ev.EndedAt)
	return ev
}

// RecordCall implements store.Calls: insert the event if the call is new;
// otherwise lock the row, merge and rewrite it.
func (e *Engine) RecordCall(ctx context.Context, ev provider.CallEvent) (provider.CallEvent, error) {
	return e.recordCall(ctx, ev, false)
}

// AmendCall implements store.Calls.
func (e *Engine) AmendCall(ctx context.Context, ev provider.CallEvent) (provider.CallEvent, error) {
	return e.recordCall(ctx, ev, true)
}

// recordCall upserts the call or, when existing, only updates a stored one.
func (e *Engine) recordCall(ctx context.Context, ev provider.CallEvent, existing bool) (provider.CallEvent, error) {
	if err := store.ValidateCall(ev); err != nil {
		return provider.CallEvent{}, err
	}
	if _, err := labelsText(ev.Labels); err != nil {
		return provider.CallEvent{}, err
	}
	ev = normCall(provider.Merge(provider.CallEvent{}, ev))
	var merged provider.CallEvent
	err := e.tx(ctx, func(tx *sql.Tx) error {
		at := store.Micro(e.opt.Now())
		if t, err := journey.CallTime(ev); err == nil {
			at = t
		}
		first, at := store.FileCall(ev, at)
		args, err := callArgs(first)
		if err != nil {
			return err
		}
		var cur provider.CallEvent
		var storedAt int64
		for attempt := 0; ; attempt++ {
			if !existing {
				res, err := tx.ExecContext(ctx, e.q(`INSERT INTO calls (call_at, `+callCols+`) VALUES (`+callValues+`)
					ON CONFLICT (provider, call_id) DO NOTHING`), append([]any{micro(at)}, args...)...)
				if err != nil {
					return fmt.Errorf("store/%s: record call: %w", e.d.Name, err)
				}
				if n, err := res.RowsAffected(); err != nil {
					return err
				} else if n == 1 {
					merged = first
					return e.refuseErased(ctx, tx, ev)
				}
			}
			cur, err = scanCall(tx.QueryRowContext(ctx, e.q(`SELECT `+callCols+`, call_at FROM calls
				WHERE provider = ? AND call_id = ?`+e.d.ForUpdate), ev.Provider, ev.CallID), &storedAt)
			if !errors.Is(err, sql.ErrNoRows) {
				break
			}
			// Not stored, or (PostgreSQL) deleted after the insert met it:
			// by an erasure, which refuses the event, or by retention, after
			// which the event is a new call.
			if err := e.refuseErased(ctx, tx, ev); err != nil {
				return err
			}
			if existing {
				return fmt.Errorf("call %s/%s: %w", ev.Provider, ev.CallID, store.ErrNotFound)
			}
			if attempt > 0 {
				break
			}
		}
		if err != nil {
			return fmt.Errorf("store/%s: record call: read: %w", e.d.Name, err)
		}
		if err := e.refuseErased(ctx, tx, ev); err != nil {
			return err
		}
		merged = normCall(provider.Merge(cur, ev))
		var filed time.Time
		merged, filed = store.FileCall(merged, fromMicro(min(storedAt, micro(at))))
		if args, err = callArgs(merged); err != nil {
			return err
		}
		args = append(args[2:], micro(filed), ev.Provider, ev.CallID)
		_, err = tx.ExecContext(ctx, e.q(`UPDATE calls SET `+callSet+` WHERE provider = ? AND call_id = ?`), args...)
		if err != nil {
			return fmt.Errorf("store/%s: record call: update: %w", e.d.Name, err)
		}
		return nil
	})
	if err != nil {
		return provider.CallEvent{}, err
	}
	if len(merged.Raw) == 0 {
		merged.Raw = nil
	}
	return merged, nil
}

// refuseErased is store.ErrErased when ev's call was erased. It runs
// after the call's row was inserted, locked or found missing: on
// PostgreSQL each of those waits for, or comes after, an erasure that
// deleted the row, so this later statement sees the erasure's record and
// the event is rolled back rather than storing the call again.
func (e *Engine) refuseErased(ctx context.Context, tx *sql.Tx, ev provider.CallEvent) error {
	var one int
	err := tx.QueryRowContext(ctx, e.q(`SELECT 1 FROM erased_calls WHERE provider = ? AND call_hash = ?`),
		ev.Provider, store.ErasedCallDigest(ev.CallID)).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return fmt.Errorf("store/%s: record call: erased calls: %w", e.d.Name, err)
	}
	return fmt.Errorf("call %s/%s: %w", ev.Provider, ev.CallID, store.ErrErased)
}

// CallsBefore implements store.Calls.
func (e *Engine) CallsBefore(ctx context.Context, from string, before time.Time) (int, time.Time, error) {
	if from == "" {
		return 0, time.Time{}, nil
	}
	var n int64
	var latest sql.NullInt64
	err := e.queryRow(ctx, "calls before", []any{&n, &latest},
		`SELECT COUNT(*), MAX(call_at) FROM calls WHERE from_number = ? AND call_at < ?`,
		from, micro(store.Micro(before)))
	if err != nil {
		return 0, time.Time{}, err
	}
	return int(n), fromNullMicro(latest), nil
}

// PutCallRecord implements store.CallRecords.
func (e *Engine) PutCallRecord(ctx context.Context, rec journey.CallRecord, msgs ...store.OutboxMessage) error {
	if err := store.ValidateCallRecord(rec, msgs); err != nil {
		return err
	}
	attr, err := attributionArgs(rec.Attribution)
	if err != nil {
		return err
	}
	touch, err := touchpointArgs(rec.Touchpoint)
	if err != nil {
		return err
	}
	a := rec.Attribution
	return e.tx(ctx, func(tx *sql.Tx) error {
		// The identity lock before any row, in the order ErasePerson takes
		// them, so the two cannot deadlock; held to commit, it orders this
		// record wholly before or after an erasure, and after one the call
		// is gone: rec was derived from it before, and would bring the
		// person back.
		if err := e.lockIdentities(ctx, tx); err != nil {
			return fmt.Errorf("store/%s: put call record: %w", e.d.Name, err)
		}
		var one int
		err := tx.QueryRowContext(ctx, e.q(`SELECT 1 FROM calls WHERE provider = ? AND call_id = ?`+e.d.ForUpdate),
			a.Provider, a.CallID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store/%s: put call record: call %s/%s: %w", e.d.Name, a.Provider, a.CallID, store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("store/%s: put call record: call %s/%s: %w", e.d.Name, a.Provider, a.CallID, err)
		}
		if rec.Caller != nil {
			if _, err := e.linkLockedTx(ctx, tx, rec.Caller.Phone, rec.Caller.Visitor); err != nil {
				return fmt.Errorf("store/%s: put call record: caller link: %w", e.d.Name, err)
			}
		}
		if _, err := tx.ExecContext(ctx, e.q(putAttribution), attr...); err != nil {
			return fmt.Errorf("store/%s: put call record: attribution: %w", e.d.Name, err)
		}
		// An outcome set by hand while rec was derived wins over it; its
		// conversion's deliveries are SetOutcome's to make.
		var outcomes []journey.ManualOutcome
		if err := e.queryTx(ctx, tx, func(r *sql.Rows) error {
			o, err := scanOutcome(r)
			outcomes = append(outcomes, o)
			return err
		}, `SELECT `+outcomeCols+` FROM outcomes WHERE touchpoint_id = ?`, rec.Touchpoint.ID); err != nil {
			return fmt.Errorf("store/%s: put call record: outcome: %w", e.d.Name, err)
		}
		if len(outcomes) > 0 {
			rec, msgs = journey.ApplyStoredOutcome(rec, outcomes[0]), nil
			if touch, err = touchpointArgs(rec.Touchpoint); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, e.q(addTouchpoint), touch...)
		if err := e.addTouchpointResult(rec.Touchpoint, res, err); err != nil {
			return err
		}
		if rec.Conversion == nil {
			return nil
		}
		res, err = tx.ExecContext(ctx, e.q(putConversion), conversionArgs(*rec.Conversion)...)
		if err := e.putConversionResult(*rec.Conversion, res, err); err != nil {
			return err
		}
		return e.insertOutbox(ctx, tx, msgs)
	})
}

// Call implements store.Calls.
func (e *Engine) Call(ctx context.Context, providerName, callID string) (provider.CallEvent, error) {
	var ev provider.CallEvent
	err := e.retry(ctx, func() error {
		var err error
		ev, err = scanCall(e.dbQueryRow(ctx, e.q(`SELECT `+callCols+` FROM calls WHERE provider = ? AND call_id = ?`),
			providerName, callID))
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return ev, fmt.Errorf("call %s/%s: %w", providerName, callID, store.ErrNotFound)
	}
	return ev, err
}

// CallsBetween implements store.Calls.
func (e *Engine) CallsBetween(ctx context.Context, from, to time.Time) ([]provider.CallEvent, error) {
	var out []provider.CallEvent
	err := e.query(ctx, func(r *sql.Rows) error {
		ev, err := scanCall(r)
		out = append(out, ev)
		return err
	}, `SELECT `+callCols+` FROM calls WHERE call_at >= ? AND call_at < ? ORDER BY call_at, provider, call_id`,
		micro(store.Micro(from)), micro(store.Micro(to)))
	if err != nil {
		out = nil
	}
	return out, err
}

// ---- attributions

const putAttribution = `INSERT INTO attributions (provider, call_id, session_id, visitor_id, source, confidence,
		reason, candidates, stitched_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (provider, call_id) DO UPDATE SET session_id = excluded.session_id,
		visitor_id = excluded.visitor_id, source = excluded.source, confidence = excluded.confidence,
		reason = excluded.reason, candidates = excluded.candidates, stitched_at = excluded.stitched_at`

func attributionArgs(a journey.Attribution) ([]any, error) {
	source, err := jsonText(a.Source)
	if err != nil {
		return nil, fmt.Errorf("attribution %s/%s: source: %w", a.Provider, a.CallID, err)
	}
	cands := make([]journey.Candidate, len(a.Candidates))
	for i, c := range a.Candidates {
		c.HeldFrom, c.HeldUntil = store.Micro(c.HeldFrom), store.Micro(c.HeldUntil)
		cands[i] = c
	}
	candText, err := jsonText(cands)
	if err != nil {
		return nil, fmt.Errorf("attribution %s/%s: candidates: %w", a.Provider, a.CallID, err)
	}
	return []any{a.Provider, a.CallID, a.SessionID, a.VisitorID, source, string(a.Confidence), a.Reason, candText,
		nullMicro(store.Micro(a.StitchedAt))}, nil
}

// PutAttribution implements store.Attributions.
func (e *Engine) PutAttribution(ctx context.Context, a journey.Attribution) error {
	if err := store.ValidateRecord(a); err != nil {
		return err
	}
	args, err := attributionArgs(a)
	if err != nil {
		return err
	}
	if _, err := e.exec(ctx, putAttribution, args...); err != nil {
		return fmt.Errorf("store/%s: put attribution: %w", e.d.Name, err)
	}
	return nil
}

// Attribution implements store.Attributions.
func (e *Engine) Attribution(ctx context.Context, providerName, callID string) (journey.Attribution, error) {
	a := journey.Attribution{Provider: providerName, CallID: callID}
	var source, cands, confidence string
	var stitched sql.NullInt64
	err := e.queryRow(ctx, fmt.Sprintf("attribution of call %s/%s", providerName, callID),
		[]any{&a.SessionID, &a.VisitorID, &source, &confidence, &a.Reason, &cands, &stitched},
		`SELECT session_id, visitor_id, source, confidence, reason, candidates, stitched_at
		FROM attributions WHERE provider = ? AND call_id = ?`, providerName, callID)
	if err != nil {
		return journey.Attribution{}, err
	}
	a.Confidence, a.StitchedAt = journey.Confidence(confidence), fromNullMicro(stitched)
	if err := fromJSON(source, &a.Source); err != nil {
		return journey.Attribution{}, fmt.Errorf("attribution %s/%s: source: %w", providerName, callID, err)
	}
	if err := json.Unmarshal([]byte(cands), &a.Candidates); err != nil {
		return journey.Attribution{}, fmt.Errorf("attribution %s/%s: candidates: %w", providerName, callID, err)
	}
	for i := range a.Candidates {
		a.Candidates[i].HeldFrom = utcOrZero(a.Candidates[i].HeldFrom)
		a.Candidates[i].HeldUntil = utcOrZero(a.Candidates[i].HeldUntil)
	}
	if len(a.Candidates) == 0 {
		a.Candidates = nil
	}
	return a, nil
}

func utcOrZero(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}
