package sqlstore_test

import (
	"database/sql"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/store"
	"github.com/attriqs/calltrack/store/internal/sqlstore"
)

// TestACallStoredBeforeTheErasedCallsTableStaysErased migrates a database
// to the schema before 0009, stores a call and its caller as that version
// wrote them, then migrates on: erasing the caller remembers the call, and
// its late event is refused.
func TestACallStoredBeforeTheErasedCallsTableStaysErased(t *testing.T) {
	migratedBefore(t, "0009", func(t *testing.T, db *sql.DB, d sqlstore.Dialect) {
		ctx := t.Context()
		_, err := db.ExecContext(ctx, `INSERT INTO calls (provider, call_id, call_at, kind, from_number, to_number,
			direction, status, started_at, duration_ns, caller_name, caller_city, caller_region, caller_country, forwarded_from)
			VALUES ('twilio', 'CA1', 1773498413000000, 1, '+14155550123', '+14155550100', 'inbound', 'in-progress',
			1773498413000000, 0, '', '', '', '', '')`)
		require.NoError(t, err)

		e := sqlstore.New(db, d, sqlstore.Options{})
		require.NoError(t, e.Migrate(ctx))
		p, err := e.Resolve(ctx, journey.Identifier{Kind: journey.IDPhone, Value: "+14155550123"})
		require.NoError(t, err)
		require.NoError(t, e.ErasePerson(ctx, p))

		_, err = e.RecordCall(ctx, provider.CallEvent{Provider: "twilio", CallID: "CA1", Kind: provider.KindStatus,
			Status: provider.StatusCompleted})
		require.ErrorIs(t, err, store.ErrErased)
		_, err = e.Call(ctx, "twilio", "CA1")
		require.ErrorIs(t, err, store.ErrNotFound)
	})
}
