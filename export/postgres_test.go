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
	dsn := testenv.PostgresDSN(t)
	ctx := t.Context()
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "calltrack_export_" + hex.EncodeToString(b[:])
	admin, err := pgxpool.New(ctx, dsn)
	require.NoError(t, err)
	defer admin.Close()
	_, err = admin.Exec(ctx, "CREATE SCHEMA "+schema)
	require.NoError(t, err)
	defer func() { _, _ = admin.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE") }()
	cfg, err := pgxpool.ParseConfig(dsn)
	require.NoError(t, err)
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	defer pool.Close()

	var mu sync.Mutex
	got := map[string]int{}
	sink := &fakeSink{name: "s", fail: func(m export.Message) error {
		time.Sleep(time.Millisecond) // let the instances overlap
		mu.Lock()
		got[m.ID]++
		mu.Unlock()
		return nil
	}}
	var instances []*export.Exporter
	for range 2 {
		st := postgres.New(pool)
		require.NoError(t, st.Migrate(ctx))
		x, err := export.New(st, export.Config{Batch: 3, Poll: 5 * time.Millisecond, Logger: quiet}, sink)
		require.NoError(t, err)
		instances = append(instances, x)
	}
	const n = 60
	for i := range n {
		require.NoError(t, instances[i%2].Record(ctx, qualifiedCall(fmt.Sprintf("CA%03d", i))))
	}
	var wg sync.WaitGroup
	for _, x := range instances {
		wg.Add(1)
		go func() { defer wg.Done(); _ = x.Run(context.Background()) }()
	}
	require.Eventually(t, func() bool {
		pending, err := instances[0].ByState(ctx, store.OutboxPending, 0)
		return err == nil && len(pending) == 0
	}, 30*time.Second, 10*time.Millisecond)
	for _, x := range instances {
		require.NoError(t, x.Close())
	}
	wg.Wait()
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
