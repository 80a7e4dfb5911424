package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/internal/testenv"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/store"
	"github.com/attriqs/calltrack/store/postgres"
	"github.com/attriqs/calltrack/store/storetest"
)

// testPool returns a pool whose search_path is a fresh schema, dropped
// when the test ends, and the application_name its connections carry.
func testPool(t testing.TB) (*pgxpool.Pool, string) {
	t.Helper()
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
	cfg.ConnConfig.RuntimeParams["application_name"] = schema
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(func() {
		pool.Close()
		_, err := admin.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		admin.Close()
		require.NoError(t, err)
	})
	return pool, schema
}

func newStore(t testing.TB) (*postgres.Store, string) {
	pool, schema := testPool(t)
	st := postgres.New(pool, postgres.Config{})
	require.NoError(t, st.Migrate(context.Background()))
	t.Cleanup(func() { _ = st.Close() })
	return st, schema
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		st, _ := newStore(t)
		return st
	}, storetest.Features{Outbox: true, Dump: func(t *testing.T, st store.Store) []string {
		return storetest.DumpSQL(t, st.(*postgres.Store).DB())
	}})
}

func TestMigrateTwiceIsNoOp(t *testing.T) {
	st, _ := newStore(t)
	ctx := t.Context()
	before, err := st.Migrations(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, before)
	require.NoError(t, st.Migrate(ctx))
	require.NoError(t, postgres.New(st.Pool(), postgres.Config{}).Migrate(ctx), "a second instance migrates nothing")
	after, err := st.Migrations(ctx)
	require.NoError(t, err)
	require.Equal(t, before, after)
}

func TestSurvivesTerminatedConnections(t *testing.T) {
	st, appName := newStore(t)
	ctx := t.Context()
	s := journey.Session{ID: "s1", VisitorID: "v1", StartedAt: time.Now()}
	require.NoError(t, st.PutSession(ctx, s))

	// Kill every connection of this store, as a server restart would.
	admin, err := pgxpool.New(ctx, testenv.PostgresDSN(t))
	require.NoError(t, err)
	defer admin.Close()
	var killed int
	require.NoError(t, admin.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = $1`, appName).Scan(&killed))
	require.Positive(t, killed, "the store's connections should have been found")

	// The next calls succeed without a new pool or store: broken
	// connections are discarded and the engine retries transient errors.
	got, err := st.Session(ctx, "s1")
	require.NoError(t, err, "acknowledged writes survive")
	require.Equal(t, "v1", got.VisitorID)
	s.ID = "s2"
	require.NoError(t, st.PutSession(ctx, s))
	_, err = st.Session(ctx, "s2")
	require.NoError(t, err)
}

func TestAcknowledgedWritesSurviveConnectionsDroppedMidWrite(t *testing.T) {
	st, appName := newStore(t)
	ctx := t.Context()
	admin, err := pgxpool.New(ctx, testenv.PostgresDSN(t))
	require.NoError(t, err)
	defer admin.Close()

	// Writers run while their connections are terminated again and again.
	// A write may fail, but one that returned nil must be stored.
	const writers, perWriter = 4, 25
	var acked [writers][]string
	var wg sync.WaitGroup
	stop, killerDone := make(chan struct{}), make(chan struct{})
	killed := 0
	go func() {
		defer close(killerDone)
		for {
			select {
			case <-stop:
				return
			case <-time.After(25 * time.Millisecond):
				var n int
				_ = admin.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
					WHERE application_name = $1`, appName).Scan(&n)
				killed += n
			}
		}
	}()
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				id := fmt.Sprintf("w%d-%d", w, i)
				s := journey.Session{ID: id, VisitorID: "v1", StartedAt: time.Now()}
				if st.PutSession(ctx, s) == nil {
					acked[w] = append(acked[w], id)
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	<-killerDone
	require.Positive(t, killed, "connections should have been terminated during the writes")
	total := 0
	for w := range writers {
		for _, id := range acked[w] {
			_, err := st.Session(ctx, id)
			require.NoError(t, err, "acknowledged session %s was lost", id)
			total++
		}
	}
	t.Logf("%d of %d writes acknowledged while %d connections were terminated", total, writers*perWriter, killed)
	require.Positive(t, total)
}

func TestTransient(t *testing.T) {
	require.False(t, postgres.Transient(store.ErrInvalid))
	require.False(t, postgres.Transient(context.Canceled))
}
