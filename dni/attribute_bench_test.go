package dni_test

// BenchmarkAttribute1M credits a 30-day period over 1,000,000 stored
// touchpoints, on SQLite and on PostgreSQL. Loading the data takes minutes,
// so the benchmark runs only with CALLTRACK_BENCH_1M=1 and keeps what it
// loaded between runs: a SQLite file in os.TempDir() and the PostgreSQL
// schema bench_attr_1m, both rebuilt when attr1MVersion changes.
// PostgreSQL is found as the store tests find it (CALLTRACK_POSTGRES_DSN,
// else the local database "test"); without it the postgres half is
// skipped, or fails with CALLTRACK_REQUIRE_SERVICES=1.
//
//	CALLTRACK_BENCH_1M=1 go test -run '^$' -bench Attribute1M -benchmem -count 3 ./dni/
//
// Each store has three sub-benchmarks: JourneysBetween (the store's read
// alone), Compare (every default model over the journeys read, in memory)
// and Attribute (both, through dni.Service as reports run it).

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/attriqs/calltrack/classify"
	"github.com/attriqs/calltrack/dni"
	"github.com/attriqs/calltrack/internal/testenv"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/journey/attribution"
	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/store"
	"github.com/attriqs/calltrack/store/postgres"
	"github.com/attriqs/calltrack/store/sqlite"
)

// attr1MEnv enables BenchmarkAttribute1M.
const attr1MEnv = "CALLTRACK_BENCH_1M"

// attr1MVersion names the generated data; change it whenever attr1M's
// shape changes so that cached stores are rebuilt rather than reused.
const attr1MVersion = 1

// attr1M is the benchmark's history: exactly Touchpoints touchpoints of
// about 250,000 people (265,000 visitors) over Days days, ending at End.
// Each visitor has 1 to 8 sessions (each a session and its touchpoint),
// spread by gaps of 3 days on average and cut off at End; 6 % of people
// use two devices, linked by a user id; 5 % of people convert after their
// last session, by a call (55 %: a call touchpoint, a call_conversion and
// a phone identifier linked to the visitor) or a form (a form touchpoint,
// a form conversion and a hashed email linked to the visitor). Channels
// follow the GA4 default groups, classified by classify from typical
// landing URLs and referrers.
var attr1M = struct {
	Touchpoints int
	Days        int
	End         time.Time
}{Touchpoints: 1_000_000, Days: 90, End: time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)}

// attr1MPeriod is the benchmarked period: the last 30 days. With the
// default 90-day lookback the read covers every touchpoint before its end.
func attr1MPeriod() (from, to time.Time) {
	return attr1M.End.Add(-30 * 24 * time.Hour), attr1M.End
}

// channelMix is the share (per mille) of sessions from each kind of
// landing, roughly a local-services site's traffic.
var channelMix = []struct {
	perMille int
	visit    classify.Visit
}{
	{300, classify.Visit{URL: "https://www.example-plumbing.com/", Referrer: "https://www.google.com/"}},
	{40, classify.Visit{URL: "https://www.example-plumbing.com/", Referrer: "https://www.bing.com/"}},
	{200, classify.Visit{URL: "https://www.example-plumbing.com/"}},
	{150, classify.Visit{URL: "https://www.example-plumbing.com/emergency?gclid=Cj0KCQiA4L67BhDUARIsADWrl7E", Referrer: "https://www.google.com/"}},
	{50, classify.Visit{URL: "https://www.example-plumbing.com/", Referrer: "https://m.facebook.com/"}},
	{50, classify.Visit{URL: "https://www.example-plumbing.com/?utm_source=facebook&utm_medium=paid_social&utm_campaign=fall-tuneup", Referrer: "https://m.facebook.com/"}},
	{50, classify.Visit{URL: "https://www.example-plumbing.com/", Referrer: "https://www.angi.com/companylist/plumbing.htm"}},
	{40, classify.Visit{URL: "https://www.example-plumbing.com/offers?utm_source=newsletter&utm_medium=email&utm_campaign=november"}},
	{30, classify.Visit{URL: "https://www.example-plumbing.com/?utm_source=gdn&utm_medium=display&utm_campaign=remarketing"}},
	{20, classify.Visit{URL: "https://www.example-plumbing.com/?utm_source=google&utm_medium=cpc&utm_campaign=pmax-cross-network"}},
	{10, classify.Visit{URL: "https://www.example-plumbing.com/?utm_source=youtube&utm_medium=cpv&utm_campaign=brand"}},
	{10, classify.Visit{URL: "https://www.example-plumbing.com/", Referrer: "https://www.youtube.com/"}},
	{10, classify.Visit{URL: "https://www.example-plumbing.com/?utm_source=partner&utm_medium=affiliate"}},
	{10, classify.Visit{URL: "https://www.example-plumbing.com/?utm_source=sms&utm_medium=text&utm_campaign=reminder"}},
	{10, classify.Visit{URL: "https://www.example-plumbing.com/?utm_source=google&utm_medium=cpc&utm_campaign=shopping-feed"}},
	{5, classify.Visit{URL: "https://www.example-plumbing.com/?utm_source=spotify&utm_medium=audio"}},
	{15, classify.Visit{URL: "https://www.example-plumbing.com/?utm_source=partner&utm_medium=banner2"}},
}

// sessionsPerVisitor is the weight of 1 to 8 sessions (mean 4.02, before
// the cut at End).
var sessionsPerVisitor = []int{20, 15, 13, 11, 10, 10, 10, 11}

// attrPerson is one person of attr1M with everything stored about them.
type attrPerson struct {
	sessions    []journey.Session
	touchpoints []journey.Touchpoint // sessions' touchpoints first, then the conversion's
	conversion  *journey.Conversion
	links       [][2]journey.Identifier
}

// eachAttrPerson calls fn with every person of attr1M, the same on every
// call. The last person is cut short (and does not convert) so that the
// touchpoints number exactly attr1M.Touchpoints.
func eachAttrPerson(fn func(*attrPerson) error) error {
	c, err := classify.New(classify.Config{})
	if err != nil {
		return err
	}
	sources := make([]classify.Source, len(channelMix))
	mix := make([]int, 0, 1000) // index into channelMix, one per mille
	for i, m := range channelMix {
		sources[i] = c.Classify(m.visit)
		for range m.perMille {
			mix = append(mix, i)
		}
	}
	r := rand.New(rand.NewPCG(attr1MVersion, 2026))
	hex := func() string { return fmt.Sprintf("%016x", r.Uint64()) }
	start := attr1M.End.Add(-time.Duration(attr1M.Days) * 24 * time.Hour)
	span := attr1M.End.Sub(start)
	sessionsOf := func() int {
		w := r.IntN(100)
		for i, p := range sessionsPerVisitor {
			if w < p {
				return i + 1
			}
			w -= p
		}
		return len(sessionsPerVisitor)
	}
	stored := 0
	for n := 0; stored < attr1M.Touchpoints; n++ {
		p := &attrPerson{}
		devices := 1
		if r.IntN(100) < 6 {
			devices = 2
		}
		var visitors []journey.Identifier
		for range devices {
			v := journey.Identifier{Kind: journey.IDVisitor, Value: hex()}
			visitors = append(visitors, v)
			at := start.Add(time.Duration(r.Int64N(int64(span))))
			for k := sessionsOf(); k > 0 && at.Before(attr1M.End); k-- {
				m := mix[r.IntN(len(mix))]
				src := sources[m]
				s := journey.Session{ID: hex(), VisitorID: v.Value, StartedAt: at,
					LastSeenAt: at.Add(time.Duration(30+r.IntN(600)) * time.Second),
					LandingURL: channelMix[m].visit.URL, Referrer: channelMix[m].visit.Referrer, Source: src,
					Pool: "main", Number: "+14155550101"}
				p.sessions = append(p.sessions, s)
				p.touchpoints = append(p.touchpoints, journey.Touchpoint{ID: "session:" + s.ID, Kind: journey.TouchSession,
					At: at, VisitorID: v.Value, SessionID: s.ID, Source: src})
				at = at.Add(time.Duration(r.ExpFloat64() * float64(3*24*time.Hour)))
			}
		}
		if devices == 2 {
			user := journey.Identifier{Kind: journey.IDUser, Value: fmt.Sprintf("user-%d", n)}
			for _, v := range visitors {
				p.links = append(p.links, [2]journey.Identifier{user, v})
			}
		}
		if len(p.sessions) > 0 && r.IntN(100) < 5 {
			last := p.sessions[0]
			for _, s := range p.sessions[1:] {
				if s.StartedAt.After(last.StartedAt) {
					last = s
				}
			}
			at := last.StartedAt.Add(time.Duration(2+r.IntN(28)) * time.Minute)
			if at.Before(attr1M.End) {
				visitor := journey.Identifier{Kind: journey.IDVisitor, Value: last.VisitorID}
				if r.IntN(100) < 55 {
					callID := "CA" + hex() + hex()
					p.conversion = &journey.Conversion{ID: journey.CallConversionID("twilio", callID), Type: journey.ConversionCall,
						At: at, VisitorID: last.VisitorID, SessionID: last.ID, Value: 25000, Currency: "USD",
						CallProvider: "twilio", CallID: callID}
					p.touchpoints = append(p.touchpoints, journey.Touchpoint{ID: journey.CallTouchpointID("twilio", callID),
						Kind: journey.TouchCall, At: at, VisitorID: last.VisitorID, SessionID: last.ID, Source: last.Source,
						Attrs: map[string]string{"status": "completed", "confidence": "exact", "talk_s": fmt.Sprint(60 + r.IntN(600))}})
					phone := journey.Identifier{Kind: journey.IDPhone, Value: fmt.Sprintf("+1415%07d", n%10_000_000)}
					p.links = append(p.links, [2]journey.Identifier{phone, visitor})
				} else {
					p.conversion = &journey.Conversion{ID: "form:" + last.ID, Type: journey.ConversionForm,
						At: at, VisitorID: last.VisitorID, SessionID: last.ID, Value: 8000, Currency: "USD"}
					p.touchpoints = append(p.touchpoints, journey.Touchpoint{ID: fmt.Sprintf("form:%s/quote/%d", last.ID, at.UnixMilli()),
						Kind: journey.TouchForm, At: at, VisitorID: last.VisitorID, SessionID: last.ID, Source: last.Source,
						Attrs: map[string]string{"event": "form", "name": "quote"}})
					email := journey.Identifier{Kind: journey.IDEmailHash, Value: "e" + hex()}
					p.links = append(p.links, [2]journey.Identifier{email, visitor})
				}
			}
		}
		if over := stored + len(p.touchpoints) - attr1M.Touchpoints; over > 0 {
			// Cut the last person short: sessions only, as many as fit.
			keep := len(p.sessions) - over
			if p.conversion != nil {
				keep++
			}
			p.sessions, p.touchpoints, p.conversion, p.links = p.sessions[:keep], p.touchpoints[:keep], nil, nil
		}
		stored += len(p.touchpoints)
		if err := fn(p); err != nil {
			return err
		}
	}
	return nil
}

// bulkDialect is what loading attr1M needs to know about a database.
type bulkDialect struct {
	dollar bool // $1 placeholders rather than ?
	// touchIndexes selects the name and CREATE statement of every
	// secondary index of touchpoints.
	touchIndexes string
}

// loadAttr1M writes attr1M into st (whose handle is db) in the order
// production writes it, oldest first, so that rows lie in the tables in
// time order as they would (SQLite's range read of touchpoints is several
// times slower over rows stored person by person): sessions through
// PutSessions in batches, touchpoints with multi-row INSERTs in one
// transaction with their secondary indexes rebuilt after (the store has
// no batch write for touchpoints; a million AddTouchpoint calls, one
// commit each, take most of an hour on PostgreSQL), conversions through
// PutConversion and identities through Link, so the identity graph is the
// store's own.
func loadAttr1M(ctx context.Context, b *testing.B, st store.Store, db *sql.DB, d bulkDialect) error {
	var sessions []journey.Session
	var tps []journey.Touchpoint
	var convs []journey.Conversion
	var links [][2]journey.Identifier
	err := eachAttrPerson(func(p *attrPerson) error {
		sessions = append(sessions, p.sessions...)
		tps = append(tps, p.touchpoints...)
		if p.conversion != nil {
			convs = append(convs, *p.conversion)
		}
		links = append(links, p.links...)
		return nil
	})
	if err != nil {
		return err
	}
	slices.SortFunc(sessions, func(a, b journey.Session) int {
		return cmp.Or(a.StartedAt.Compare(b.StartedAt), cmp.Compare(a.ID, b.ID))
	})
	slices.SortFunc(tps, func(a, b journey.Touchpoint) int { return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.ID, b.ID)) })
	slices.SortFunc(convs, func(a, b journey.Conversion) int { return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.ID, b.ID)) })

	t0 := time.Now()
	for batch := range slices.Chunk(sessions, 5000) {
		if err := st.PutSessions(ctx, batch); err != nil {
			return fmt.Errorf("sessions: %w", err)
		}
	}
	b.Logf("attr1M: %d sessions in %s", len(sessions), time.Since(t0).Round(time.Millisecond))

	t0 = time.Now()
	if err := loadTouchpoints(ctx, db, d, tps); err != nil {
		return fmt.Errorf("touchpoints: %w", err)
	}
	b.Logf("attr1M: %d touchpoints in %s", len(tps), time.Since(t0).Round(time.Millisecond))

	t0 = time.Now()
	for _, c := range convs {
		if err := st.PutConversion(ctx, c); err != nil {
			return err
		}
	}
	for _, l := range links {
		if _, err := st.Link(ctx, l[0], l[1]); err != nil {
			return err
		}
	}
	b.Logf("attr1M: %d conversions and %d links in %s", len(convs), len(links), time.Since(t0).Round(time.Millisecond))
	return nil
}

// loadTouchpoints inserts tps, in their order, as AddTouchpoint would
// store them.
func loadTouchpoints(ctx context.Context, db *sql.DB, d bulkDialect, tps []journey.Touchpoint) error {
	type index struct{ name, create string }
	var indexes []index
	rows, err := db.QueryContext(ctx, d.touchIndexes)
	if err != nil {
		return err
	}
	for rows.Next() {
		var ix index
		if err := rows.Scan(&ix.name, &ix.create); err != nil {
			return err
		}
		indexes = append(indexes, ix)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	for _, ix := range indexes {
		if _, err := tx.ExecContext(ctx, "DROP INDEX "+ix.name); err != nil {
			return err
		}
	}
	const cols = 7
	const rowsPerInsert = 1000 // 7,000 parameters: under SQLite's 32,766 and PostgreSQL's 65,535
	var args []any
	flush := func() error {
		if len(args) == 0 {
			return nil
		}
		var q strings.Builder
		q.WriteString("INSERT INTO touchpoints (id, kind, at, visitor_id, session_id, source, attrs) VALUES ")
		for i := range len(args) / cols {
			if i > 0 {
				q.WriteByte(',')
			}
			q.WriteByte('(')
			for k := range cols {
				if k > 0 {
					q.WriteByte(',')
				}
				if d.dollar {
					fmt.Fprintf(&q, "$%d", i*cols+k+1)
				} else {
					q.WriteByte('?')
				}
			}
			q.WriteByte(')')
		}
		_, err := tx.ExecContext(ctx, q.String(), args...)
		args = args[:0]
		return err
	}
	for _, tp := range tps {
		src, err := json.Marshal(tp.Source)
		if err != nil {
			return err
		}
		attrs := []byte("{}")
		if len(tp.Attrs) > 0 {
			if attrs, err = json.Marshal(tp.Attrs); err != nil {
				return err
			}
		}
		args = append(args, tp.ID, string(tp.Kind), tp.At.UnixMicro(), tp.VisitorID, tp.SessionID, string(src), string(attrs))
		if len(args) == rowsPerInsert*cols {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	for _, ix := range indexes {
		if _, err := tx.ExecContext(ctx, ix.create); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// attr1MSQLite opens the cached SQLite store of attr1M, loading it first
// when the file for this attr1MVersion does not exist yet. The file is
// loaded under another name and renamed when complete, so an interrupted
// load is never mistaken for a complete one.
func attr1MSQLite(b *testing.B) (store.Store, *sql.DB) {
	ctx := context.Background()
	path := filepath.Join(os.TempDir(), fmt.Sprintf("calltrack-bench-attr-1m-v%d.db", attr1MVersion))
	if _, err := os.Stat(path); err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			b.Fatal(err)
		}
		loading := path + ".loading"
		for _, f := range []string{loading, loading + "-wal", loading + "-shm"} {
			if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
				b.Fatal(err)
			}
		}
		t0 := time.Now()
		st, err := sqlite.Open(ctx, loading, sqlite.Config{})
		if err != nil {
			b.Fatal(err)
		}
		err = loadAttr1M(ctx, b, st, st.DB(), bulkDialect{
			touchIndexes: `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'touchpoints' AND sql IS NOT NULL`,
		})
		if err == nil {
			// No ANALYZE: the store never runs it, so this is the planner
			// production gets.
			_, err = st.DB().ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
		}
		if err = errors.Join(err, st.Close()); err != nil {
			b.Fatal(err)
		}
		if err := os.Rename(loading, path); err != nil {
			b.Fatal(err)
		}
		b.Logf("attr1M: loaded %s in %s", path, time.Since(t0).Round(time.Millisecond))
	}
	st, err := sqlite.Open(ctx, path, sqlite.Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	return st, st.DB()
}

// attr1MSchema holds attr1M on PostgreSQL; its comment names the data
// version and is written last, when the load is complete.
const attr1MSchema = "bench_attr_1m"

// attr1MPostgres opens the PostgreSQL store of attr1M in schema
// bench_attr_1m, loading it first unless the schema holds this version's
// data with the expected touchpoint count.
func attr1MPostgres(b *testing.B) (store.Store, *sql.DB) {
	dsn := testenv.PostgresDSN(b)
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = admin.Close(ctx) }()
	want := fmt.Sprintf("calltrack BenchmarkAttribute1M data v%d", attr1MVersion)
	var comment string
	var touchpoints int
	err = admin.QueryRow(ctx, `SELECT COALESCE(obj_description(oid, 'pg_namespace'), '') FROM pg_namespace WHERE nspname = $1`,
		attr1MSchema).Scan(&comment)
	if err == nil && comment == want {
		err = admin.QueryRow(ctx, "SELECT COUNT(*) FROM "+attr1MSchema+".touchpoints").Scan(&touchpoints)
	}
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		b.Fatal(err)
	}
	load := comment != want || touchpoints != attr1M.Touchpoints
	if load {
		for _, q := range []string{"DROP SCHEMA IF EXISTS " + attr1MSchema + " CASCADE", "CREATE SCHEMA " + attr1MSchema} {
			if _, err := admin.Exec(ctx, q); err != nil {
				b.Fatal(err)
			}
		}
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		b.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = attr1MSchema
	// The load commits tens of thousands of times; waiting for each flush
	// would only measure the disk. Reads are unaffected.
	cfg.ConnConfig.RuntimeParams["synchronous_commit"] = "off"
	p, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	st := postgres.New(p, postgres.Config{})
	b.Cleanup(func() {
		_ = st.Close()
		p.Close()
	})
	if err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	if load {
		t0 := time.Now()
		err := loadAttr1M(ctx, b, st, st.DB(), bulkDialect{dollar: true,
			touchIndexes: `SELECT indexname, indexdef FROM pg_indexes
				WHERE schemaname = current_schema() AND tablename = 'touchpoints' AND indexname <> 'touchpoints_pkey'`,
		})
		if err != nil {
			b.Fatal(err)
		}
		// What autovacuum would do soon after such a load.
		for _, q := range []string{"VACUUM ANALYZE", "COMMENT ON SCHEMA " + attr1MSchema + " IS '" + want + "'"} {
			if _, err := p.Exec(ctx, q); err != nil {
				b.Fatal(err)
			}
		}
		b.Logf("attr1M: loaded schema %s in %s", attr1MSchema, time.Since(t0).Round(time.Millisecond))
	}
	return st, st.DB()
}

// BenchmarkAttribute1M: see the comment at the top of the file.
func BenchmarkAttribute1M(b *testing.B) {
	if os.Getenv(attr1MEnv) != "1" {
		b.Skipf("set %s=1 to run: loads 1,000,000 touchpoints once (minutes), then reuses them", attr1MEnv)
	}
	b.Run("sqlite", func(b *testing.B) { benchAttribute1M(b, attr1MSQLite) })
	b.Run("postgres", func(b *testing.B) { benchAttribute1M(b, attr1MPostgres) })
}

func benchAttribute1M(b *testing.B, open func(*testing.B) (store.Store, *sql.DB)) {
	ctx := context.Background()
	st, db := open(b)
	from, to := attr1MPeriod()
	// What the two reads of JourneysBetween return: the touchpoints of
	// [from-lookback, to) and the conversions of [from, to).
	var read, converted int
	err := db.QueryRowContext(ctx, fmt.Sprintf(`SELECT (SELECT COUNT(*) FROM touchpoints WHERE at >= %d AND at < %d),
		(SELECT COUNT(*) FROM conversions WHERE at >= %d AND at < %d)`,
		from.Add(-attribution.DefaultLookback).UnixMicro(), to.UnixMicro(), from.UnixMicro(), to.UnixMicro())).Scan(&read, &converted)
	if err != nil {
		b.Fatal(err)
	}
	svc, err := dni.New(dni.Config{Pools: []dni.Pool{{PoolConfig: pool.PoolConfig{Name: "main",
		Numbers: []string{"+14155550101"}, BusinessNumber: "+14155550100"}}}},
		dni.WithStore(st), dni.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = svc.Close() })

	b.Run("JourneysBetween", func(b *testing.B) {
		var js []attribution.Journey
		op := func() {
			var err error
			if js, err = st.JourneysBetween(ctx, from, to, attribution.DefaultLookback); err != nil {
				b.Fatal(err)
			}
		}
		loop(b, op)
		converting := 0
		for _, j := range js {
			if j.Conversion != nil {
				converting++
			}
		}
		if converting != converted {
			b.Fatalf("%d converting journeys, want one per conversion of the period: %d", converting, converted)
		}
		b.ReportMetric(float64(read), "touchpoints/op")
		b.ReportMetric(float64(len(js)), "journeys/op")
		js = nil
		b.ReportMetric(peakHeapMB(op), "peak-heap-MB")
	})
	b.Run("Compare", func(b *testing.B) {
		js, err := st.JourneysBetween(ctx, from, to, attribution.DefaultLookback)
		if err != nil {
			b.Fatal(err)
		}
		op := func() {
			if _, err := attribution.Compare(js, attribution.Options{}); err != nil {
				b.Fatal(err)
			}
		}
		loop(b, op)
		b.ReportMetric(float64(len(js)), "journeys/op")
		b.ReportMetric(peakHeapMB(op), "peak-heap-MB")
	})
	b.Run("Attribute", func(b *testing.B) {
		var c *attribution.Comparison
		op := func() {
			var err error
			if c, err = svc.Attribute(ctx, from, to, attribution.Options{}); err != nil {
				b.Fatal(err)
			}
		}
		loop(b, op)
		if got := int(c.Results[0].Conversions) + int(c.Results[0].Unattributed.Conversions); got != converted {
			b.Fatalf("%s: %d conversions credited or unattributed, want %d", c.Results[0].Model, got, converted)
		}
		b.ReportMetric(float64(read), "touchpoints/op")
		b.ReportMetric(float64(converted), "conversions/op")
		c = nil
		b.ReportMetric(peakHeapMB(op), "peak-heap-MB")
	})
}

// loop runs op in b's loop, reporting allocations and, where it can, the
// process's CPU time per op: on a busy machine it moves less than the
// wall time.
func loop(b *testing.B, op func()) {
	b.ReportAllocs()
	cpu0, ok0 := processCPU()
	for b.Loop() {
		op()
	}
	if cpu1, ok1 := processCPU(); ok0 && ok1 {
		b.ReportMetric((cpu1-cpu0).Seconds()/float64(b.N), "cpu-s/op")
	}
}

// peakHeapMB runs op once more, outside the timing, and returns the
// largest heap (live and not yet swept objects) seen while it ran, above
// the heap before it: unlike B/op, which adds up every allocation, this is
// the memory the operation needs at once (at the default GOGC).
func peakHeapMB(op func()) float64 {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	heap := func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64()
	}
	runtime.GC()
	base := heap()
	done := make(chan struct{})
	peak := make(chan uint64)
	go func() {
		top := base
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			top = max(top, heap())
			select {
			case <-done:
				peak <- top
				return
			case <-t.C:
			}
		}
	}()
	op()
	close(done)
	return float64(<-peak-base) / 1e6
}

// processCPU returns the CPU time, user and system, that this process has
// used. It reads /proc/self/stat and reports false where there is none.
func processCPU() (time.Duration, bool) {
	stat, err := os.ReadFile("/proc/self/stat")
	i := strings.LastIndexByte(string(stat), ')') // the command name, in parentheses, may hold spaces
	if err != nil || i < 0 {
		return 0, false
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 13 {
		return 0, false
	}
	// utime and stime, fields 14 and 15 of the line, in USER_HZ (100 Hz
	// on every Linux).
	user, err1 := strconv.ParseInt(f[11], 10, 64)
	sys, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(user+sys) * 10 * time.Millisecond, true
}
