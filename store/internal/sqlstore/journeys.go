package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/attriqs/calltrack/journey/attribution"
	"github.com/attriqs/calltrack/store"
	"github.com/attriqs/calltrack/store/internal/assemble"
)

// personJoins tags each row of alias r (with visitor_id and session_id
// columns) with the person of its visitor and of its session's visitor.
const personJoins = ` LEFT JOIN identities iv ON iv.kind = 'visitor' AND iv.value = r.visitor_id
	LEFT JOIN sessions s ON s.id = r.session_id
	LEFT JOIN identities isv ON isv.kind = 'visitor' AND isv.value = s.visitor_id`

const personCols = `COALESCE(iv.person_id, ''), COALESCE(isv.person_id, ''), COALESCE(s.visitor_id, '')`

// JourneysBetween implements store.Journeys with two reads in one snapshot,
// one of the period's conversions and one of the touchpoints it may reach,
// each row tagged with its person by joins: a call recorded between the
// two reads cannot leave its touchpoint without its conversion.
func (e *Engine) JourneysBetween(ctx context.Context, from, to time.Time, lookback time.Duration) ([]attribution.Journey, error) {
	from, to = store.Micro(from), store.Micro(to)
	tfrom, tto := assemble.TouchWindow(from, to, lookback)
	var convs []assemble.Conversion
	var tps []assemble.Touchpoint
	err := e.retry(ctx, func() error {
		convs, tps = nil, nil
		tx, err := e.db.BeginTx(ctx, &e.d.Snapshot)
		if err != nil {
			return fmt.Errorf("store/%s: journeys: begin: %w", e.d.Name, err)
		}
		defer func() { _ = tx.Rollback() }()
		err = e.queryTx(ctx, tx, func(rows *sql.Rows) error {
			var c assemble.Conversion
			var at int64
			var vp, sp, sv string
			err := rows.Scan(&c.ID, &c.Type, &at, &c.VisitorID, &c.SessionID, &c.Value, &c.Currency, &c.CallProvider, &c.CallID,
				&vp, &sp, &sv)
			c.At = fromMicro(at)
			c.Person = assemble.PersonKey(vp, sp, c.VisitorID, sv)
			convs = append(convs, c)
			return err
		}, `SELECT r.id, r.type, r.at, r.visitor_id, r.session_id, r.value, r.currency, r.call_provider, r.call_id, `+
			personCols+` FROM conversions r`+personJoins+` WHERE r.at >= ? AND r.at < ?`, micro(from), micro(to))
		if err != nil {
			return err
		}
		return e.queryTx(ctx, tx, func(rows *sql.Rows) error {
			var t assemble.Touchpoint
			var at int64
			var source, attrs, vp, sp, sv string
			if err := rows.Scan(&t.ID, &t.Kind, &at, &t.VisitorID, &t.SessionID, &source, &attrs, &vp, &sp, &sv); err != nil {
				return err
			}
			t.At = fromMicro(at)
			if err := fromJSON(source, &t.Source); err != nil {
				return err
			}
			if err := fromJSON(attrs, &t.Attrs); err != nil {
				return err
			}
			if len(t.Attrs) == 0 {
				t.Attrs = nil
			}
			t.Person = assemble.PersonKey(vp, sp, t.VisitorID, sv)
			tps = append(tps, t)
			return nil
		}, `SELECT r.id, r.kind, r.at, r.visitor_id, r.session_id, r.source, r.attrs, `+personCols+
			` FROM touchpoints r`+personJoins+` WHERE r.at >= ? AND r.at < ?`, micro(store.Micro(tfrom)), micro(tto))
	})
	if err != nil {
		return nil, err
	}
	return assemble.Journeys(tps, convs, from, to, lookback), nil
}
