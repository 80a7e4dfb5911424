package postgres_test

// Benchmarks. The 1,000,000-hold benchmark loads its data with COPY first,
// so it runs only with CALLTRACK_BIG=1:
//
//	CALLTRACK_BIG=1 go test -run '^$' -bench HoldersAt1M -benchtime 20000x ./store/postgres/
//	go test -run '^$' -bench 'PutSession' ./store/postgres/

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/attriqs/calltrack/internal/testenv"
	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/store/internal/storebench"
	"github.com/attriqs/calltrack/store/postgres"
)

// benchSchemas are dropped by TestMain: benchmark stores outlive a single
// benchmark run, so they cannot use b.Cleanup.
var benchSchemas struct {
	mu     sync.Mutex
	dsn    string
	names  []string
	pools  []*pgxpool.Pool
	stores []*postgres.Store
}

// benchStore makes a migrated store in a fresh schema that lives until the
// test binary exits.
func benchStore(b *testing.B) *postgres.Store {
	dsn := testenv.PostgresDSN(b)
	ctx := context.Background()
	var r [6]byte
	_, _ = rand.Read(r[:])
	schema := "calltrack_bench_" + hex.EncodeToString(r[:])
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		b.Fatal(err)
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		b.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	p, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	benchSchemas.mu.Lock()
	benchSchemas.dsn = dsn
	benchSchemas.names = append(benchSchemas.names, schema)
	benchSchemas.pools = append(benchSchemas.pools, p)
	st := postgres.New(p, postgres.Config{})
	benchSchemas.stores = append(benchSchemas.stores, st)
	benchSchemas.mu.Unlock()
	if err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	return st
}

func dropBenchSchemas() {
	benchSchemas.mu.Lock()
	defer benchSchemas.mu.Unlock()
	for _, st := range benchSchemas.stores {
		_ = st.Close()
	}
	for _, p := range benchSchemas.pools {
		p.Close()
	}
	if len(benchSchemas.names) == 0 {
		return
	}
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, benchSchemas.dsn)
	if err != nil {
		return
	}
	defer admin.Close(ctx)
	for _, s := range benchSchemas.names {
		_, _ = admin.Exec(ctx, "DROP SCHEMA "+s+" CASCADE")
	}
}

// copyHolds bulk-loads h with COPY, rebuilding the secondary indexes after
// the load.
func copyHolds(ctx context.Context, p *pgxpool.Pool, h storebench.History) error {
	var indexes []string
	rows, err := p.Query(ctx, `SELECT indexname, indexdef FROM pg_indexes
		WHERE schemaname = current_schema() AND tablename = 'holds' AND indexname <> 'holds_pkey'`)
	if err != nil {
		return err
	}
	var names []string
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			return err
		}
		names = append(names, name)
		indexes = append(indexes, def)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, n := range names {
		if _, err := p.Exec(ctx, "DROP INDEX "+n); err != nil {
			return err
		}
	}
	var recs [][]any
	maxSpan := map[string]int64{}
	_ = h.Each(func(r pool.HoldRecord) error {
		var until any
		if !r.Until.IsZero() {
			until = r.Until.UnixMicro()
			maxSpan[r.Number] = max(maxSpan[r.Number], r.Until.UnixMicro()-r.From.UnixMicro())
		}
		recs = append(recs, []any{r.Number, r.From.UnixMicro(), r.SessionID, until, r.Pool, int64(r.Token), false})
		return nil
	})
	if _, err := p.CopyFrom(ctx, pgx.Identifier{"holds"},
		[]string{"number", "held_from", "session_id", "held_until", "pool", "token", "reused"},
		pgx.CopyFromRows(recs)); err != nil {
		return err
	}
	var spans [][]any
	for n, s := range maxSpan {
		spans = append(spans, []any{n, s})
	}
	if _, err := p.CopyFrom(ctx, pgx.Identifier{"hold_spans"}, []string{"number", "max_span"}, pgx.CopyFromRows(spans)); err != nil {
		return err
	}
	for _, def := range indexes {
		if _, err := p.Exec(ctx, def); err != nil {
			return err
		}
	}
	_, err = p.Exec(ctx, "VACUUM ANALYZE holds")
	if err == nil {
		_, err = p.Exec(ctx, "ANALYZE hold_spans")
	}
	return err
}

var big struct {
	once sync.Once
	st   *postgres.Store
	err  error
}

func bigStore(b *testing.B) *postgres.Store {
	storebench.RequireBig(b)
	big.once.Do(func() {
		st := benchStore(b)
		t0 := time.Now()
		big.err = copyHolds(context.Background(), st.Pool(), storebench.Million())
		b.Logf("loaded 1,000,000 holds with COPY in %s", time.Since(t0).Round(time.Millisecond))
		big.st = st
	})
	if big.err != nil {
		b.Fatal(big.err)
	}
	return big.st
}

func BenchmarkHoldersAt1M(b *testing.B) {
	st := bigStore(b)
	h := storebench.Million()
	plan, err := st.ExplainHoldersAt(context.Background(), h.Number(7), h.Start.Add(100*time.Hour), time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("EXPLAIN (ANALYZE, BUFFERS) HoldersAt:\n  %s", strings.Join(plan, "\n  "))
	storebench.HoldersAt(b, st, h)
}

// BenchmarkStitch1M stitches calls against the 1,000,000-hold history:
// HoldersAt plus the session lookup.
func BenchmarkStitch1M(b *testing.B) { storebench.Stitch(b, bigStore(b), storebench.Million()) }

// BenchmarkJourneyOf1000 merges ten visitors into one person and assembles
// their 1,000-touchpoint journey.
func BenchmarkJourneyOf1000(b *testing.B) {
	storebench.JourneyOf1000(b, benchStore(b), fmt.Sprintf("j%d", time.Now().UnixNano()))
}

// BenchmarkSelect1 is the floor under every query: one round trip through
// database/sql, pgx's stdlib adapter and the pool, with the same p50/p99
// measurement as the HoldersAt benchmark.
func BenchmarkSelect1(b *testing.B) {
	st := benchStore(b)
	ctx := context.Background()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		var one int
		if err := st.DB().QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	storebench.ReportLatency(b, lat)
}

func BenchmarkPutSession(b *testing.B) { storebench.PutSession(b, benchStore(b)) }

func BenchmarkPutSessionsBatch500(b *testing.B) { storebench.PutSessions(b, benchStore(b), 500) }
