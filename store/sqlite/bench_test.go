package sqlite_test

// Benchmarks. The 1,000,000-hold benchmark loads its data first (tens of
// seconds), so it runs only with CALLTRACK_BIG=1:
//
//	CALLTRACK_BIG=1 go test -run '^$' -bench HoldersAt1M -benchtime 20000x ./store/sqlite/
//	go test -run '^$' -bench 'PutSession' ./store/sqlite/

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/store/internal/storebench"
	"github.com/attriqs/calltrack/store/sqlite"
)

var big struct {
	once sync.Once
	st   *sqlite.Store
	err  error
}

// loadHolds bulk-loads h with multi-row INSERTs in one transaction.
func loadHolds(ctx context.Context, db *sql.DB, h storebench.History) error {
	// Secondary indexes are dropped for the load and rebuilt after it, as
	// for any bulk load: building an index once is much cheaper than a
	// million random insertions into it.
	var indexes []string
	rows, err := db.QueryContext(ctx, `SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'holds' AND sql IS NOT NULL`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return err
		}
		indexes = append(indexes, s)
	}
	rows.Close()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, ix := range indexes {
		name := strings.Fields(ix)[2] // CREATE INDEX name ON ...
		if _, err := tx.ExecContext(ctx, "DROP INDEX "+name); err != nil {
			return err
		}
	}
	const rowsPerInsert = 1000 // 7,000 parameters, under SQLite's 32,766
	var args []any
	maxSpan := map[string]int64{}
	flush := func() error {
		if len(args) == 0 {
			return nil
		}
		n := len(args) / 7
		q := "INSERT INTO holds (number, held_from, session_id, held_until, pool, token, reused) VALUES " +
			strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?),", n), ",")
		_, err := tx.ExecContext(ctx, q, args...)
		args = args[:0]
		return err
	}
	err = h.Each(func(r pool.HoldRecord) error {
		var until any
		if !r.Until.IsZero() {
			until = r.Until.UnixMicro()
			maxSpan[r.Number] = max(maxSpan[r.Number], r.Until.UnixMicro()-r.From.UnixMicro())
		}
		args = append(args, r.Number, r.From.UnixMicro(), r.SessionID, until, r.Pool, int64(r.Token), false)
		if len(args) == rowsPerInsert*7 {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return err
	}
	for n, s := range maxSpan {
		if _, err := tx.ExecContext(ctx, "INSERT INTO hold_spans (number, max_span) VALUES (?, ?)", n, s); err != nil {
			return err
		}
	}
	for _, ix := range indexes {
		if _, err := tx.ExecContext(ctx, ix); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	for _, stmt := range []string{"ANALYZE", "PRAGMA wal_checkpoint(TRUNCATE)"} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	return nil
}

func bigStore(b *testing.B) *sqlite.Store {
	storebench.RequireBig(b)
	big.once.Do(func() {
		ctx := context.Background()
		// Not b.TempDir: the store outlives this benchmark run.
		dir, err := tempDir()
		if err != nil {
			big.err = err
			return
		}
		st, err := sqlite.Open(ctx, filepath.Join(dir, "big.db"), sqlite.Config{})
		if err != nil {
			big.err = err
			return
		}
		t0 := time.Now()
		big.err = loadHolds(ctx, st.DB(), storebench.Million())
		b.Logf("loaded 1,000,000 holds in %s", time.Since(t0).Round(time.Millisecond))
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
	b.Logf("EXPLAIN QUERY PLAN HoldersAt:\n  %s", strings.Join(plan, "\n  "))
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

func benchStore(b *testing.B) *sqlite.Store {
	st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"), sqlite.Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	return st
}

func BenchmarkPutSession(b *testing.B) { storebench.PutSession(b, benchStore(b)) }

func BenchmarkPutSessionsBatch500(b *testing.B) { storebench.PutSessions(b, benchStore(b), 500) }
