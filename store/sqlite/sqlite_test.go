package sqlite_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/store"
	"github.com/attriqs/calltrack/store/sqlite"
	"github.com/attriqs/calltrack/store/storetest"
)

func TestConformance(t *testing.T) {
	// Migrate once, then give every subtest its own copy of the file:
	// opening and migrating costs more than most subtests.
	template := filepath.Join(t.TempDir(), "template.db")
	st, err := sqlite.Open(t.Context(), template, sqlite.Config{})
	require.NoError(t, err)
	require.NoError(t, st.Close())
	schema, err := os.ReadFile(template)
	require.NoError(t, err)

	storetest.Run(t, func(t *testing.T) store.Store {
		path := filepath.Join(t.TempDir(), "calltrack.db")
		require.NoError(t, os.WriteFile(path, schema, 0o600))
		st, err := sqlite.Open(t.Context(), path, sqlite.Config{})
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, st.Close()) })
		return st
	}, storetest.Features{Outbox: true, Dump: func(t *testing.T, st store.Store) []string {
		return storetest.DumpSQL(t, st.(*sqlite.Store).DB())
	}})
}

func TestMigrateTwiceIsNoOp(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "calltrack.db")
	st, err := sqlite.Open(ctx, path, sqlite.Config{})
	require.NoError(t, err)
	defer st.Close()
	before, err := st.Migrations(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, before)
	require.NoError(t, st.Migrate(ctx))
	after, err := st.Migrations(ctx)
	require.NoError(t, err)
	require.Equal(t, before, after)

	// A second process opening the same file migrates nothing either.
	st2, err := sqlite.Open(ctx, path, sqlite.Config{})
	require.NoError(t, err)
	defer st2.Close()
	again, err := st2.Migrations(ctx)
	require.NoError(t, err)
	require.Equal(t, before, again)
}

func TestNewLeavesCallerHandleOpen(t *testing.T) {
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "x.db"))
	require.NoError(t, err)
	defer db.Close()
	st := sqlite.New(db, sqlite.Config{})
	require.NoError(t, st.Migrate(t.Context()))
	require.NoError(t, st.Close())
	require.NoError(t, db.PingContext(t.Context()))
}

func TestOpenRefusesNonFilePaths(t *testing.T) {
	for _, p := range []string{"", ":memory:", "file:x.db?mode=memory"} {
		t.Run(p, func(t *testing.T) {
			_, err := sqlite.Open(t.Context(), p, sqlite.Config{})
			require.Error(t, err)
		})
	}
}

func TestOpenConfiguresTheConnection(t *testing.T) {
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "p.db"), sqlite.Config{})
	require.NoError(t, err)
	defer st.Close()
	for _, c := range []struct{ pragma, want string }{
		{"journal_mode", "wal"},
		{"busy_timeout", "5000"},
		{"foreign_keys", "1"},
		{"synchronous", "1"}, // NORMAL
	} {
		t.Run(c.pragma, func(t *testing.T) {
			var got string
			require.NoError(t, st.DB().QueryRowContext(t.Context(), "PRAGMA "+c.pragma).Scan(&got))
			require.Equal(t, c.want, got)
		})
	}
}
