package export_test

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

	"github.com/attriqs/calltrack/export"
	"github.com/attriqs/calltrack/internal/testenv"
	"github.com/attriqs/calltrack/store"
	"github.com/attriqs/calltrack/store/postgres"
)

// TestInstancesShareTheOutboxOnPostgres runs two exporters, as two app
// instances would, over one PostgreSQL outbox: every message is delivered,
// and none twice, since claims skip the rows another instance holds.
func TestInstancesShareTheOutboxOnPostgres(t *testing.T) {
	ctx := t.Context()
	pool := schemaPool(t)

	// Each instance has its own sink (one name, as two processes would).
	// A sink's first delivery waits until the other instance's sink has a
	// delivery too: the first claimer holds its batch meanwhile, so the
	// other instance can only get work by claiming other rows. Both
	// instances take work by construction, not by luck of scheduling, and a
	// claim that did not skip held rows shows as a message delivered twice.
	const n = 60
	var mu sync.Mutex
	got := map[string]int{}
	allDelivered := make(chan struct{})
	var arrived [2]chan struct{}
	var arrive [2]sync.Once
	for i := range arrived {
		arrived[i] = make(chan struct{})
	}
	var instances []*export.Exporter
	for i := range 2 {
		sink := sinkFunc(func(ctx context.Context, m export.Message) error {
			arrive[i].Do(func() { close(arrived[i]) })
			select {
			case <-arrived[1-i]:
			case <-ctx.Done():
				return ctx.Err()
			}
			mu.Lock()
			defer mu.Unlock()
			got[m.ID]++
			if len(got) == n && got[m.ID] == 1 {
				close(allDelivered)
			}
			return nil
		})
		st := postgres.New(pool, postgres.Config{})
		require.NoError(t, st.Migrate(ctx))
		x, err := export.New(st, export.Config{Batch: 3, Poll: 5 * time.Millisecond, Logger: quiet}, sink)
		require.NoError(t, err)
		instances = append(instances, x)
	}
	for i := range n {
		require.NoError(t, instances[i%2].Record(ctx, qualifiedCall(fmt.Sprintf("CA%03d", i))))
	}
	var wg sync.WaitGroup
	for _, x := range instances {
		wg.Add(1)
		go func() { defer wg.Done(); _ = x.Run(context.Background()) }()
	}
	select {
	case <-allDelivered:
	case <-ctx.Done():
		t.Fatal("the test ended before every message was delivered")
	}
	// Close waits for the deliveries in flight to record their outcomes.
	for _, x := range instances {
		require.NoError(t, x.Close())
	}
	wg.Wait()
	pending, err := instances[0].ByState(ctx, store.OutboxPending, 0)
	require.NoError(t, err)
	require.Empty(t, pending)
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, got, n)
	for id, k := range got {
		require.Equal(t, 1, k, "%s delivered %d times", id, k)
	}
	s0, s1 := instances[0].Stats(), instances[1].Stats()
	require.Equal(t, uint64(n), s0.Delivered+s1.Delivered)
	require.Positive(t, s0.Delivered, "both instances took work")
	require.Positive(t, s1.Delivered, "both instances took work")
}

// schemaPool is a pool on a fresh PostgreSQL schema of its own, dropped
// when the test ends (skipped when PostgreSQL is absent, unless services
// are required).
func schemaPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	dsn := testenv.PostgresDSN(t)
	ctx := t.Context()
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "calltrack_export_" + hex.EncodeToString(b[:])
	admin, err := pgxpool.New(ctx, dsn)
	require.NoError(t, err)
	t.Cleanup(admin.Close)
	_, err = admin.Exec(ctx, "CREATE SCHEMA "+schema)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = admin.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE") })
	cfg, err := pgxpool.ParseConfig(dsn)
	require.NoError(t, err)
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	return pool
}

// sinkFunc is a sink named "s" that delivers with itself.
type sinkFunc func(ctx context.Context, m export.Message) error

func (sinkFunc) Name() string                                          { return "s" }
func (f sinkFunc) Deliver(ctx context.Context, m export.Message) error { return f(ctx, m) }
