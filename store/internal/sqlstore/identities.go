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

// linkTx is link inside the caller's transaction.
func (e *Engine) linkTx(ctx context.Context, tx *sql.Tx, a, b journey.Identifier) (string, error) {
	var person string
	err := func() error {
		if e.d.LockIdentities != "" {
			if _, err := tx.ExecContext(ctx, e.d.LockIdentities); err != nil {
				return err
			}
		}
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
			`DELETE FROM sessions WHERE active_at < ?`,
			`DELETE FROM holds WHERE held_until IS NOT NULL AND held_until < ?`,
			`DELETE FROM attributions WHERE (provider, call_id) IN (SELECT provider, call_id FROM calls WHERE call_at < ?)`,
			`DELETE FROM calls WHERE call_at < ?`,
			`DELETE FROM touchpoints WHERE at < ?`,
			`DELETE FROM conversions WHERE at < ?`,
			`DELETE FROM outbox WHERE state <> 'pending' AND updated_at < ?`,
		} {
			res, err := tx.ExecContext(ctx, e.q(stmt), c)
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
// deleted before them.
func (e *Engine) ErasePerson(ctx context.Context, personID string) error {
	const phones = `SELECT value FROM identities WHERE person_id = ? AND kind = 'phone'`
	// The calls to erase: from the person's numbers, or attributed to them.
	const calls = `SELECT provider, call_id FROM calls WHERE from_number IN (` + phones + `)
		UNION SELECT provider, call_id FROM attributions
		WHERE visitor_id IN (` + personVisitors + `) OR session_id IN (` + personSessions + `)`
	stmts := []string{
		`DELETE FROM outbox WHERE conversion_id IN (SELECT id FROM conversions WHERE visitor_id IN (` + personVisitors + `) OR session_id IN (` + personSessions + `))`,
		`DELETE FROM conversions WHERE visitor_id IN (` + personVisitors + `) OR session_id IN (` + personSessions + `)`,
		`DELETE FROM touchpoints WHERE visitor_id IN (` + personVisitors + `) OR session_id IN (` + personSessions + `)`,
		`DELETE FROM holds WHERE session_id IN (` + personSessions + `)`,
		`DELETE FROM sessions WHERE visitor_id IN (` + personVisitors + `)`,
		`DELETE FROM identities WHERE person_id = ?`,
		`DELETE FROM persons WHERE id = ?`,
	}
	bind := func(stmt string) []any {
		args := make([]any, strings.Count(stmt, "?"))
		for i := range args {
			args[i] = personID
		}
		return args
	}
	return e.tx(ctx, func(tx *sql.Tx) error {
		if e.d.LockIdentities != "" {
			if _, err := tx.ExecContext(ctx, e.d.LockIdentities); err != nil {
				return err
			}
		}
		type key struct{ provider, id string }
		var keys []key
		rows, err := tx.QueryContext(ctx, e.q(calls), bind(calls)...)
		if err != nil {
			return fmt.Errorf("store/%s: erase person: %w", e.d.Name, err)
		}
		for rows.Next() {
			var k key
			if err := rows.Scan(&k.provider, &k.id); err != nil {
				rows.Close()
				return err
			}
			keys = append(keys, k)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, k := range keys {
			for _, stmt := range []string{
				`DELETE FROM outbox WHERE conversion_id IN (SELECT id FROM conversions WHERE call_provider = ? AND call_id = ?)`,
				`DELETE FROM conversions WHERE call_provider = ? AND call_id = ?`,
				`DELETE FROM attributions WHERE provider = ? AND call_id = ?`,
				`DELETE FROM calls WHERE provider = ? AND call_id = ?`,
			} {
				if _, err := tx.ExecContext(ctx, e.q(stmt), k.provider, k.id); err != nil {
					return fmt.Errorf("store/%s: erase person: %w", e.d.Name, err)
				}
			}
		}
		for _, stmt := range stmts {
			if _, err := tx.ExecContext(ctx, e.q(stmt), bind(stmt)...); err != nil {
				return fmt.Errorf("store/%s: erase person: %w", e.d.Name, err)
			}
		}
		return nil
	})
}
