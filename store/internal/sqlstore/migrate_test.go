package sqlstore_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/attriqs/calltrack/internal/testenv"
	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/store/internal/sqlstore"
)

// TestCallsRecordedBeforeTheForwardColumnsReadAsNotReported migrates a
// database to the schema before 0004, stores a call as that version wrote
// it, then migrates on: the call reads with every forward field empty, and
// later events fill them in.
func TestCallsRecordedBeforeTheForwardColumnsReadAsNotReported(t *testing.T) {
	migratedBefore(t, "0004", func(t *testing.T, db *sql.DB, d sqlstore.Dialect) {
		ctx := t.Context()
		_, err := db.ExecContext(ctx, `INSERT INTO calls (provider, call_id, call_at, kind, from_number, to_number,
			direction, status, started_at, duration_ns, caller_name, caller_city, caller_region, caller_country, forwarded_from)
			VALUES ('twilio', 'CA1', 1773498413000000, 1, '+14155550123', '+14155550100', 'inbound', 'completed',
			1773498413000000, 60000000000, '', '', '', '', '')`)
		require.NoError(t, err)

		e := sqlstore.New(db, d, sqlstore.Options{})
		require.NoError(t, e.Migrate(ctx))
		got, err := e.Call(ctx, "twilio", "CA1")
		require.NoError(t, err)
		require.Equal(t, provider.StatusCompleted, got.Status)
		require.Equal(t, time.Minute, got.Duration)
		require.Empty(t, got.Outcome)
		require.Zero(t, got.TalkTime)
		require.Zero(t, got.Recording)
		require.Empty(t, got.Attestation)
		require.Nil(t, got.Labels)
		require.Empty(t, got.Transcript)

		leg := provider.CallEvent{Provider: "twilio", CallID: "CA1", Outcome: provider.OutcomeAnswered,
			TalkTime: 50 * time.Second, Labels: []string{"booked"}}
		merged, err := e.RecordCall(ctx, leg)
		require.NoError(t, err)
		require.Equal(t, provider.OutcomeAnswered, merged.Outcome)
		require.Equal(t, 50*time.Second, merged.TalkTime)
		require.Equal(t, []string{"booked"}, merged.Labels)
	})
}

// migratedBefore runs test once per dialect on a database migrated to the
// schema before version, for it to store rows as that version wrote them
// and migrate on with d.
func migratedBefore(t *testing.T, version string, test func(t *testing.T, db *sql.DB, d sqlstore.Dialect)) {
	for name, open := range map[string]func(t *testing.T) (*sql.DB, sqlstore.Dialect){
		"sqlite": func(t *testing.T) (*sql.DB, sqlstore.Dialect) {
			db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "calltrack.db"))
			require.NoError(t, err)
			t.Cleanup(func() { _ = db.Close() })
			return db, sqlstore.SQLite()
		},
		"postgres": openPostgres,
	} {
		t.Run(name, func(t *testing.T) {
			db, d := open(t)
			old := d
			old.Migrations = migrationsBefore(t, d.Migrations, version)
			require.NoError(t, sqlstore.New(db, old, sqlstore.Options{}).Migrate(t.Context()))
			test(t, db, d)
		})
	}
}

// migrationsBefore is the dialect's migrations older than version.
func migrationsBefore(t *testing.T, all fs.FS, version string) fs.FS {
	t.Helper()
	names, err := fs.Glob(all, "*.sql")
	require.NoError(t, err)
	out := fstest.MapFS{}
	for _, n := range names {
		if strings.Compare(n, version) >= 0 {
			continue
		}
		b, err := fs.ReadFile(all, n)
		require.NoError(t, err)
		out[n] = &fstest.MapFile{Data: b}
	}
	require.NotEmpty(t, out)
	return out
}

// openPostgres returns a handle whose search_path is a fresh schema,
// dropped when the test ends.
func openPostgres(t *testing.T) (*sql.DB, sqlstore.Dialect) {
	dsn := testenv.PostgresDSN(t)
	ctx := context.Background()
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "calltrack_test_" + hex.EncodeToString(b[:])
	admin, err := pgxpool.New(ctx, dsn)
	require.NoError(t, err)
	_, err = admin.Exec(ctx, "CREATE SCHEMA "+schema)
	require.NoError(t, err)
	cfg, err := pgxpool.ParseConfig(dsn)
	require.NoError(t, err)
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	db := stdlib.OpenDBFromPool(pool)
	t.Cleanup(func() {
		_ = db.Close()
		pool.Close()
		_, err := admin.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		admin.Close()
		require.NoError(t, err)
	})
	return db, sqlstore.Postgres()
}
