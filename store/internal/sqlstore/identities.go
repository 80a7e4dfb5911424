package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/store"
)

func newPersonID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "p_" + hex.EncodeToString(b[:])
}

// personOfTx returns id's person, or "" when id is unknown.
func (e *Engine) personOfTx(ctx context.Context, tx *sql.Tx, id journey.Identifier) (string, error) {
	var p string
	err := tx.QueryRowContext(ctx, e.q(`SELECT person_id FROM identities WHERE kind = ? AND value = ?`),
		string(id.Kind), id.Value).Scan(&p)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return p, err
}

func (e *Engine) attach(ctx context.Context, tx *sql.Tx, id journey.Identifier, personID string, now time.Time) error {
	_, err := tx.ExecContext(ctx, e.q(`INSERT INTO identities (kind, value, person_id, linked_at) VALUES (?, ?, ?, ?)`),
		string(id.Kind), id.Value, personID, micro(now))
	return err
}

func (e *Engine) newPerson(ctx context.Context, tx *sql.Tx, now time.Time) (string, error) {
	p := newPersonID()
	_, err := tx.ExecContext(ctx, e.q(`INSERT INTO persons (id, created_at) VALUES (?, ?)`), p, micro(now))
	return p, err
}

// link runs the union-find step for ids (one or two) in a locked
// transaction and returns the surviving person.
func (e *Engine) link(ctx context.Context, a, b journey.Identifier) (string, error) {
	for _, id := range []journey.Identifier{a, b} {
		if err := store.ValidateRecord(id); err != nil {
			return "", err
		}
	}
	var person string
	err := e.tx(ctx, func(tx *sql.Tx) error {
		var err error
		person, err = e.linkTx(ctx, tx, a, b)
		return err
	})
	if err != nil {
		return "", err
	}
	return person, nil
}

// lockIdentities takes the dialect's lock on the identity graph for the
// rest of tx (SQLite serializes writes instead).
func (e *Engine) lockIdentities(ctx context.Context, tx *sql.Tx) error {
	if e.d.LockIdentities == "" {
		return nil
	}
	_, err := tx.ExecContext(ctx, e.d.LockIdentities)
	return err
}

// linkTx is link inside the caller's transaction.
func (e *Engine) linkTx(ctx context.Context, tx *sql.Tx, a, b journey.Identifier) (string, error) {
	if err := e.lockIdentities(ctx, tx); err != nil {
		return "", err
	}
	return e.linkLockedTx(ctx, tx, a, b)
}

// linkLockedTx is linkTx once the identity graph is locked.
func (e *Engine) linkLockedTx(ctx context.Context, tx *sql.Tx, a, b journey.Identifier) (string, error) {
	var person string
	err := func() error {
		now := store.Micro(e.opt.Now())
		pa, err := e.personOfTx(ctx, tx, a)
		if err != nil {
			return err
		}
		pb := pa
		if b != a {
			if pb, err = e.personOfTx(ctx, tx, b); err != nil {
				return err
			}
		}
		switch {
		case pa == "" && pb == "":
			if person, err = e.newPerson(ctx, tx, now); err != nil {
				return err
			}
			if err := e.attach(ctx, tx, a, person, now); err != nil {
				return err
			}
			if b != a {
				return e.attach(ctx, tx, b, person, now)
			}
			return nil
		case pb == "":
			person = pa
			return e.attach(ctx, tx, b, person, now)
		case pa == "":
			person = pb
			return e.attach(ctx, tx, a, person, now)
		case pa == pb:
			person = pa
			return nil
		}
		// Two persons: the one created first survives.
		var older string
		if err := tx.QueryRowContext(ctx, e.q(`SELECT id FROM persons WHERE id IN (?, ?) ORDER BY seq LIMIT 1`),
			pa, pb).Scan(&older); err != nil {
			return fmt.Errorf("store/%s: link: %w", e.d.Name, err)
		}
		loser := pb
		if older == pb {
			loser = pa
		}
		person = older
		if _, err := tx.ExecContext(ctx, e.q(`UPDATE identities SET person_id = ? WHERE person_id = ?`), older, loser); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, e.q(`DELETE FROM persons WHERE id = ?`), loser)
		return err
	}()
	if err != nil {
		return "", err
	}
	return person, nil
}

// Link implements store.Identities.
func (e *Engine) Link(ctx context.Context, a, b journey.Identifier) (string, error) {
	return e.link(ctx, a, b)
}

// Attach implements store.Identities: in the locked link transaction, id
// is looked up and, only when unknown, linked to to's person (which,
// id being unknown, merges no one).
func (e *Engine) Attach(ctx context.Context, id, to journey.Identifier) (string, bool, error) {
	for _, v := range []journey.Identifier{id, to} {
		if err := store.ValidateRecord(v); err != nil {
			return "", false, err
		}
	}
	var person string
	var attached bool
	err := e.tx(ctx, func(tx *sql.Tx) error {
		person, attached = "", false
		if err := e.lockIdentities(ctx, tx); err != nil {
			return err
		}
		p, err := e.personOfTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if p != "" {
			person = p
			return nil
		}
		person, err = e.linkLockedTx(ctx, tx, id, to)
		attached = err == nil
		return err
	})
	if err != nil {
		return "", false, fmt.Errorf("store/%s: attach %s: %w", e.d.Name, id, err)
	}
	return person, attached, nil
}

// Resolve implements store.Identities.
func (e *Engine) Resolve(ctx context.Context, id journey.Identifier) (string, error) {
	var p string
	err := e.retry(ctx, func() error {
		return e.dbQueryRow(ctx, e.q(`SELECT person_id FROM identities WHERE kind = ? AND value = ?`),
			string(id.Kind), id.Value).Scan(&p)
	})
	if err == nil {
		return p, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", err
	}
	return e.link(ctx, id, id)
}

// PersonOf implements store.Identities.
func (e *Engine) PersonOf(ctx context.Context, id journey.Identifier) (string, error) {
	var p string
	err := e.queryRow(ctx, "person of "+id.String(), []any{&p},
		`SELECT person_id FROM identities WHERE kind = ? AND value = ?`, string(id.Kind), id.Value)
	return p, err
}

// Identifiers implements store.Identities.
func (e *Engine) Identifiers(ctx context.Context, personID string) ([]journey.Identifier, error) {
	var out []journey.Identifier
	err := e.query(ctx, func(r *sql.Rows) error {
		var id journey.Identifier
		var kind string
		err := r.Scan(&kind, &id.Value)
		id.Kind = journey.IDKind(kind)
		out = append(out, id)
		return err
	}, `SELECT kind, value FROM identities WHERE person_id = ? ORDER BY kind, value`, personID)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("person %q: %w", personID, store.ErrNotFound)
	}
	return out, nil
}

// ---- retention

// DeleteBefore implements store.Retention in one transaction.
func (e *Engine) DeleteBefore(ctx context.Context, cutoff time.Time) (int64, error) {
	c := micro(store.Micro(cutoff))
	var total int64
	err := e.tx(ctx, func(tx *sql.Tx) error {
		total = 0
		for _, stmt := range []string{
			// Outcomes go with their touchpoints, so before them.
			deleteOutcomesBefore,
			// Claims go with their sessions, so before them.
			`DELETE FROM claims WHERE at < ? OR session_id IN (SELECT id FROM sessions WHERE active_at < ?)`,
			`DELETE FROM sessions WHERE active_at < ?`,
			`DELETE FROM holds WHERE held_until IS NOT NULL AND held_until < ?`,
			`DELETE FROM attributions WHERE (provider, call_id) IN (SELECT provider, call_id FROM calls WHERE call_at < ?)`,
			`DELETE FROM calls WHERE call_at < ?`,
			`DELETE FROM touchpoints WHERE at < ?`,
			`DELETE FROM conversions WHERE at < ?`,
			`DELETE FROM outbox WHERE state <> 'pending' AND updated_at < ?`,
			`DELETE FROM erased_calls WHERE erased_at < ?`,
		} {
			res, err := tx.ExecContext(ctx, e.q(stmt), bindAll(stmt, c)...)
			if err != nil {
				return fmt.Errorf("store/%s: delete before: %w", e.d.Name, err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			total += n
		}
		return nil
	})
	return total, err
}

// ErasePerson implements store.Retention in one transaction. Order
// matters: what is found through identities, sessions and attributions is
// found first, and deleted before them.
func (e *Engine) ErasePerson(ctx context.Context, personID string) error {
	return e.tx(ctx, func(tx *sql.Tx) error {
		if e.d.LockIdentities != "" {
			if _, err := tx.ExecContext(ctx, e.d.LockIdentities); err != nil {
				return err
			}
		}
		fail := func(err error) error { return fmt.Errorf("store/%s: erase person: %w", e.d.Name, err) }
		sessions, err := e.column(ctx, tx, personSessions, personID)
		if err != nil {
			return fail(err)
		}
		calls, err := e.erasedCalls(ctx, tx, personID)
		if err != nil {
			return fail(err)
		}
		if err := e.eraseOutcomes(ctx, tx, personID, calls); err != nil {
			return fail(err)
		}
		now := micro(store.Micro(e.opt.Now()))
		for _, k := range calls {
			if err := e.eraseCall(ctx, tx, k, now); err != nil {
				return fail(err)
			}
		}
		if err := e.dropClaimedEmails(ctx, tx, personID); err != nil {
			return fail(err)
		}
		stmts := []string{
			// Their numbers in other people's calls.
			`UPDATE calls SET forwarded_from = '', raw = NULL WHERE forwarded_from IN (` + personPhones + `)`,
			`DELETE FROM outbox WHERE conversion_id IN (SELECT id FROM conversions WHERE visitor_id IN (` + personVisitors + `) OR session_id IN (` + personSessions + `))`,
			`DELETE FROM conversions WHERE visitor_id IN (` + personVisitors + `) OR session_id IN (` + personSessions + `)`,
			`DELETE FROM touchpoints WHERE visitor_id IN (` + personVisitors + `) OR session_id IN (` + personSessions + `)`,
			`DELETE FROM claims WHERE visitor_id IN (` + personVisitors + `) OR session_id IN (` + personSessions + `)
				OR (kind, value) IN (SELECT kind, value FROM identities WHERE person_id = ?)`,
			`DELETE FROM holds WHERE session_id IN (` + personSessions + `)`,
			`DELETE FROM sessions WHERE visitor_id IN (` + personVisitors + `)`,
			`DELETE FROM identities WHERE person_id = ?`,
			`DELETE FROM persons WHERE id = ?`,
		}
		for _, stmt := range stmts {
			if _, err := tx.ExecContext(ctx, e.q(stmt), bindAll(stmt, personID)...); err != nil {
				return fail(err)
			}
		}
		if err := e.dropCandidates(ctx, tx, sessions); err != nil {
			return fail(err)
		}
		return nil
	})
}

// dropClaimedEmails removes the person's email hashes claimed on
// touchpoints (theirs are deleted anyway; other people's keep the rest of
// their attributes). LIKE narrows; the exact test is the decoded attribute.
func (e *Engine) dropClaimedEmails(ctx context.Context, tx *sql.Tx, personID string) error {
	hashes, err := e.column(ctx, tx, `SELECT value FROM identities WHERE person_id = ? AND kind = ?`,
		personID, string(journey.IDEmailHash))
	if err != nil {
		return err
	}
	for _, h := range hashes {
		type row struct{ id, attrs string }
		var found []row
		err := e.queryTx(ctx, tx, func(rows *sql.Rows) error {
			var r row
			err := rows.Scan(&r.id, &r.attrs)
			found = append(found, r)
			return err
		}, `SELECT id, attrs FROM touchpoints WHERE attrs LIKE ? ESCAPE '\'`, "%"+likeEscape(h)+"%")
		if err != nil {
			return err
		}
		for _, r := range found {
			var attrs map[string]string
			if err := fromJSON(r.attrs, &attrs); err != nil {
				return fmt.Errorf("touchpoint %q: attrs: %w", r.id, err)
			}
			if v, ok := attrs[store.AttrClaimedEmailHash]; !ok || v != h {
				continue
			}
			delete(attrs, store.AttrClaimedEmailHash)
			text, err := jsonText(attrs)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, e.q(`UPDATE touchpoints SET attrs = ? WHERE id = ?`), text, r.id); err != nil {
				return err
			}
		}
	}
	return nil
}

// personPhones selects the phone identifiers of the person bound to one '?'.
const personPhones = `SELECT value FROM identities WHERE person_id = ? AND kind = 'phone'`

// bindAll binds every '?' of stmt to v.
func bindAll(stmt string, v any) []any {
	args := make([]any, strings.Count(stmt, "?"))
	for i := range args {
		args[i] = v
	}
	return args
}

// column runs a query of one text column inside tx.
func (e *Engine) column(ctx context.Context, tx *sql.Tx, query string, args ...any) ([]string, error) {
	var out []string
	err := e.queryTx(ctx, tx, func(rows *sql.Rows) error {
		var v string
		err := rows.Scan(&v)
		out = append(out, v)
		return err
	}, query, args...)
	return out, err
}

type callRef struct{ provider, id string }

// erasedCalls returns the person's calls: from one of their numbers,
// attributed to them, or whose touchpoint or conversion is theirs (a
// call no session explains is filed under their "caller-…" visitor).
func (e *Engine) erasedCalls(ctx context.Context, tx *sql.Tx, personID string) ([]callRef, error) {
	const byCall = `SELECT provider, call_id FROM calls WHERE from_number IN (` + personPhones + `)
		UNION SELECT provider, call_id FROM attributions
		WHERE visitor_id IN (` + personVisitors + `) OR session_id IN (` + personSessions + `)
		UNION SELECT call_provider, call_id FROM conversions
		WHERE call_id <> '' AND (visitor_id IN (` + personVisitors + `) OR session_id IN (` + personSessions + `))`
	seen := map[callRef]bool{}
	var out []callRef
	add := func(k callRef) {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	err := e.queryTx(ctx, tx, func(rows *sql.Rows) error {
		var k callRef
		err := rows.Scan(&k.provider, &k.id)
		add(k)
		return err
	}, byCall, bindAll(byCall, personID)...)
	if err != nil {
		return nil, err
	}
	const touches = `SELECT id FROM touchpoints WHERE kind = 'call' AND visitor_id IN (` + personVisitors + `)
		UNION SELECT id FROM touchpoints WHERE kind = 'call' AND session_id IN (` + personSessions + `)`
	tps, err := e.column(ctx, tx, touches, bindAll(touches, personID)...)
	if err != nil {
		return nil, err
	}
	for _, id := range tps {
		if p, c, ok := journey.ParseCallTouchpointID(id); ok {
			add(callRef{p, c})
		}
	}
	return out, nil
}

// eraseCall deletes one call and everything it produced, and remembers
// it erased at now so that its later events are refused.
func (e *Engine) eraseCall(ctx context.Context, tx *sql.Tx, k callRef, now int64) error {
	// Messages reporting the call alone, found by their id. LIKE narrows
	// (SQLite's ignores case); the exact test is store.IsCallOutboxID.
	msgs, err := e.column(ctx, tx, `SELECT id FROM outbox WHERE id LIKE ? ESCAPE '\'`,
		"%"+likeEscape(store.CallOutboxID("", k.provider, k.id)))
	if err != nil {
		return err
	}
	for _, id := range msgs {
		if !store.IsCallOutboxID(id, k.provider, k.id) {
			continue
		}
		if _, err := tx.ExecContext(ctx, e.q(`DELETE FROM outbox WHERE id = ?`), id); err != nil {
			return err
		}
	}
	for _, stmt := range []string{
		`DELETE FROM outbox WHERE conversion_id IN (SELECT id FROM conversions WHERE call_provider = ? AND call_id = ?)`,
		`DELETE FROM conversions WHERE call_provider = ? AND call_id = ?`,
		`DELETE FROM attributions WHERE provider = ? AND call_id = ?`,
		`DELETE FROM calls WHERE provider = ? AND call_id = ?`,
	} {
		if _, err := tx.ExecContext(ctx, e.q(stmt), k.provider, k.id); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, e.q(`DELETE FROM touchpoints WHERE id = ?`), journey.CallTouchpointID(k.provider, k.id)); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, e.q(`INSERT INTO erased_calls (provider, call_hash, erased_at) VALUES (?, ?, ?)
		ON CONFLICT (provider, call_hash) DO UPDATE SET erased_at = excluded.erased_at`),
		k.provider, store.ErasedCallDigest(k.id), now)
	return err
}

// likeEscape escapes LIKE's wildcards and its escape character '\'.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// dropCandidates removes the erased sessions from the attributions that
// remain (other people's calls to a number one of those sessions also
// held): from their candidates, and from their reason, which names the
// other sessions considered.
func (e *Engine) dropCandidates(ctx context.Context, tx *sql.Tx, sessions []string) error {
	erased := make(map[string]bool, len(sessions))
	for _, id := range sessions {
		erased[id] = true
	}
	type row struct{ provider, id, reason, cands string }
	seen := map[[2]string]bool{}
	for _, sid := range sessions {
		// Candidates are JSON: the session id appears as its JSON string.
		quoted, err := jsonText(sid)
		if err != nil {
			return err
		}
		var found []row
		err = e.queryTx(ctx, tx, func(rows *sql.Rows) error {
			var r row
			err := rows.Scan(&r.provider, &r.id, &r.reason, &r.cands)
			found = append(found, r)
			return err
		}, `SELECT provider, call_id, reason, candidates FROM attributions
			WHERE candidates LIKE ? ESCAPE '\' OR reason LIKE ? ESCAPE '\'`,
			"%"+likeEscape(quoted)+"%", "%"+likeEscape(sid)+"%")
		if err != nil {
			return err
		}
		for _, r := range found {
			if seen[[2]string{r.provider, r.id}] {
				continue // rewritten for every erased session at once
			}
			seen[[2]string{r.provider, r.id}] = true
			var cands []journey.Candidate
			if err := json.Unmarshal([]byte(r.cands), &cands); err != nil {
				return fmt.Errorf("attribution %s/%s: candidates: %w", r.provider, r.id, err)
			}
			kept := slices.DeleteFunc(slices.Clone(cands), func(c journey.Candidate) bool { return erased[c.SessionID] })
			reason := store.WithoutSessions(r.reason, sessions)
			if len(kept) == len(cands) && reason == r.reason {
				continue
			}
			text, err := jsonText(kept)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, e.q(`UPDATE attributions SET candidates = ?, reason = ? WHERE provider = ? AND call_id = ?`),
				text, reason, r.provider, r.id); err != nil {
				return err
			}
		}
	}
	return nil
}
