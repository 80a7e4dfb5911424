package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/internal/testenv"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/store/postgres"
)

// The made-up spend and holds go into the quickstart's own stores; into a
// PostgreSQL database only with -demo-data, and only while it has no
// sessions at all.
func TestDemoDataOnlyIntoItsOwnStores(t *testing.T) {
	ctx := t.Context()
	for _, kind := range []string{"memory", "sqlite"} {
		seed, why, err := seedDemo(ctx, options{kind: kind}, nil)
		require.NoError(t, err)
		assert.True(t, seed, kind)
		assert.Contains(t, why, "the quickstart's own "+kind+" store")
	}

	dsn := testenv.PostgresDSN(t)
	pg := emptySchema(t, dsn)
	st := postgres.New(pg, postgres.Config{})
	require.NoError(t, st.Migrate(ctx))
	now := time.Now()
	written := func() (holds, spend int) {
		h, err := st.HoldsBetween(ctx, now.AddDate(0, 0, -30), now.Add(time.Hour))
		require.NoError(t, err)
		s, err := st.SpendBetween(ctx, now.AddDate(0, 0, -31), now.Add(24*time.Hour))
		require.NoError(t, err)
		return len(h), len(s)
	}
	start := func(o options) (bool, string) {
		seed, why, err := seedDemo(ctx, o, pg)
		require.NoError(t, err)
		d, err := newDemo("http://127.0.0.1:1", st, t.TempDir(), time.Now, seed)
		require.NoError(t, err)
		require.NoError(t, d.Close())
		return seed, why
	}

	seed, why := start(options{dsn: dsn})
	assert.False(t, seed, "-postgres without -demo-data")
	assert.Contains(t, why, "-demo-data")
	holds, spend := written()
	assert.Zero(t, holds, "no made-up holds in the database")
	assert.Zero(t, spend, "no made-up spend in the database")

	require.NoError(t, st.PutSession(ctx, journey.Session{ID: "real-visit", VisitorID: "v-1", StartedAt: now, LastSeenAt: now}))
	seed, why = start(options{dsn: dsn, demoData: true})
	assert.False(t, seed, "-demo-data, but the database has a session")
	assert.Contains(t, why, "has sessions")
	holds, spend = written()
	assert.Zero(t, holds+spend)

	empty := emptySchema(t, dsn)
	require.NoError(t, postgres.New(empty, postgres.Config{}).Migrate(ctx))
	seed, why, err := seedDemo(ctx, options{dsn: dsn, demoData: true}, empty)
	require.NoError(t, err)
	assert.True(t, seed, "-demo-data and no sessions")
	assert.Contains(t, why, "no sessions")
}

// emptySchema is a pool on a new, empty PostgreSQL schema, dropped when
// the test ends.
func emptySchema(t *testing.T, dsn string) *pgxpool.Pool {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "calltrack_quickstart_" + hex.EncodeToString(b[:])
	admin, err := pgxpool.New(t.Context(), dsn)
	require.NoError(t, err)
	t.Cleanup(admin.Close)
	_, err = admin.Exec(t.Context(), "CREATE SCHEMA "+schema)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = admin.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE") })
	cfg, err := pgxpool.ParseConfig(dsn)
	require.NoError(t, err)
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	pool, err := pgxpool.NewWithConfig(t.Context(), cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	return pool
}
