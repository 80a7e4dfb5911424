package sqlstore_test

import (
	"database/sql"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/store/internal/sqlstore"
)

// TestSessionsWrittenBeforeThePageViewColumnsReadUncounted migrates a
// database to the schema before 0008, stores a session as that version
// wrote it, then migrates on: the session reads with no page views and no
// exit page, and a later write adds them.
func TestSessionsWrittenBeforeThePageViewColumnsReadUncounted(t *testing.T) {
	migratedBefore(t, "0008", func(t *testing.T, db *sql.DB, d sqlstore.Dialect) {
		ctx := t.Context()
		_, err := db.ExecContext(ctx, `INSERT INTO sessions (id, visitor_id, started_at, last_seen_at, active_at,
			landing_url, referrer, source, pool, number, ad_ids)
			VALUES ('s1', 'v1', 1773498413000000, NULL, 1773498413000000, 'https://example.com/', '', '{}', 'paid', '+14155550100', '')`)
		require.NoError(t, err)

		e := sqlstore.New(db, d, sqlstore.Options{})
		require.NoError(t, e.Migrate(ctx))
		got, err := e.Session(ctx, "s1")
		require.NoError(t, err)
		require.Zero(t, got.PageViews)
		require.Empty(t, got.ExitURL)

		got.PageViews, got.ExitURL = 2, "https://example.com/contact"
		require.NoError(t, e.PutSession(ctx, got))
		again, err := e.Session(ctx, "s1")
		require.NoError(t, err)
		require.Equal(t, got, again)
	})
}
