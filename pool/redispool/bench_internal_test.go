package redispool

import (
	"context"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"net"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/attriqs/calltrack/internal/testenv"
	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/pool/pooltest"
)

// Benchmark workload, shared with redis-benchmark: one pool of benchNumbers
// numbers, leases for session ids drawn uniformly from benchSessions (as
// redis-benchmark's __rand_int__ spells them), one fixed instant. The pool
// never runs out, so the mix is the same on both sides: every session's
// first lease assigns a number, later ones continue it.
const (
	benchNumbers  = 20000
	benchSessions = 20000
	benchCallers  = 16
)

// BenchmarkLeaseSixteenCallers measures Lease from 16 goroutines over one
// client, then runs redis-benchmark with 16 clients on the same Lua script,
// keys and argument distribution, and reports our rate as a ratio of its,
// with concurrent calls combined into pipelines (the default) and sent one
// by one:
//
//	go test ./pool/redispool -run '^$' -bench SixteenCallers -benchtime 200000x -cpu 1,2
//
// Metrics: leases/s, p50-ms and p99-ms for this client, rb-leases/s for
// redis-benchmark and ratio = leases/s ÷ rb-leases/s.
func BenchmarkLeaseSixteenCallers(b *testing.B) {
	b.Run("combined", func(b *testing.B) { benchSixteen(b, Config{}) })
	b.Run("direct", func(b *testing.B) { benchSixteen(b, Config{MaxBatch: 1}) })
}

func benchSixteen(b *testing.B, cfg Config) {
	ctx := context.Background()
	addr := testenv.RedisAddr(b)
	rdb := redis.NewClient(&redis.Options{Addr: addr, PoolSize: benchCallers})
	b.Cleanup(func() { _ = rdb.Close() })
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

	a := newBenchAllocator(b, rdb, cfg)
	ids := make([]string, benchSessions)
	for i := range ids {
		ids[i] = fmt.Sprintf("%012d", i)
	}
	all, elapsed := sixteenCallers(b, func(r *rand.Rand) error {
		_, err := a.Lease(ctx, "bench", ids[r.IntN(benchSessions)], now)
		return err
	})
	rate := float64(b.N) / elapsed.Seconds()
	b.ReportMetric(rate, "leases/s")
	if len(all) > 0 {
		b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
	}

	if _, err := exec.LookPath("redis-benchmark"); err != nil {
		b.Logf("redis-benchmark not on PATH: no ratio")
		return
	}
	rb, rbP99, err := redisBenchmarkRate(ctx, b, rdb, addr, max(b.N, 20000), now)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(rb, "rb-leases/s")
	b.ReportMetric(rate/rb, "ratio")
	if rbP99 > 0 && len(all) > 0 {
		p99 := float64(all[len(all)*99/100].Microseconds()) / 1000
		b.ReportMetric(rbP99, "rb-p99-ms")
		b.ReportMetric(p99/rbP99, "p99-ratio")
	}
}

// sixteenCallers times b.N calls of call from benchCallers goroutines, each
// with its own seeded source, and returns their latencies, sorted, and the
// wall time of the run; a failed call ends its goroutine's share.
func sixteenCallers(b *testing.B, call func(r *rand.Rand) error) (all []time.Duration, elapsed time.Duration) {
	latencies := make([][]time.Duration, benchCallers)
	b.ResetTimer()
	began := time.Now()
	var wg sync.WaitGroup
	for c := range benchCallers {
		n := b.N / benchCallers
		if c < b.N%benchCallers {
			n++
		}
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(c), 1))
			lat := make([]time.Duration, 0, n)
			for range n {
				t := time.Now()
				if err := call(r); err != nil {
					b.Error(err)
					return
				}
				lat = append(lat, time.Since(t))
			}
			latencies[c] = lat
		})
	}
	wg.Wait()
	elapsed = time.Since(began)
	b.StopTimer()
	all = slices.Concat(latencies...)
	slices.Sort(all)
	return all, elapsed
}

func newBenchAllocator(b *testing.B, rdb *redis.Client, cfg Config) *Allocator {
	b.Helper()
	prefix := fmt.Sprintf("calltrack-bench:%d", time.Now().UnixNano())
	b.Cleanup(func() { deleteKeys(rdb, prefix) })
	cfg.Config = pool.Config{Pools: []pool.PoolConfig{{
		Name: "bench", Numbers: pooltest.Numbers(benchNumbers), BusinessNumber: "+12125550100",
	}}}
	cfg.Prefix = prefix
	a, err := New(context.Background(), rdb, cfg)
	if err != nil {
		b.Fatal(err)
	}
	return a
}

// redisBenchmarkRate runs redis-benchmark on a fresh pool with the lease
// script, exactly as Lease calls it, and returns its scripts per second and
// its p99 latency in milliseconds (0 when its output has none).
func redisBenchmarkRate(ctx context.Context, b *testing.B, rdb *redis.Client, addr string, n int, now time.Time) (rate, p99 float64, err error) {
	a := newBenchAllocator(b, rdb, Config{})
	p, _ := a.catalog.Pool("bench")
	if err := a.scripts.lease.Load(ctx, rdb).Err(); err != nil {
		return 0, 0, err
	}
	return runRedisBenchmark(ctx, addr, n, "-r", strconv.Itoa(benchSessions),
		"EVALSHA", a.scripts.lease.Hash(), "1", a.key("bench"), "__rand_int__",
		strconv.FormatInt(millis(now), 10), strconv.FormatInt(durMillis(p.SessionWindow), 10),
		strconv.FormatInt(durMillis(p.Cooldown), 10), "0", strconv.Itoa(a.catalog.HistoryPerNumber()), "0")
}

// runRedisBenchmark runs redis-benchmark against addr with benchCallers
// clients and n requests, then args, and returns its requests per second
// and its p99 latency in milliseconds (0 when its output has none).
func runRedisBenchmark(ctx context.Context, addr string, n int, args ...string) (rate, p99 float64, err error) {
	host, port, _ := net.SplitHostPort(addr)
	args = append([]string{"-h", host, "-p", port, "-c", strconv.Itoa(benchCallers), "-n", strconv.Itoa(n), "--csv"}, args...)
	out, err := exec.CommandContext(ctx, "redis-benchmark", args...).Output()
	if err != nil {
		return 0, 0, fmt.Errorf("redis-benchmark: %w", err)
	}
	rows, err := csv.NewReader(strings.NewReader(string(out))).ReadAll()
	if err != nil || len(rows) < 2 || len(rows[1]) < 2 {
		return 0, 0, fmt.Errorf("redis-benchmark: unexpected output %q", out)
	}
	if rate, err = strconv.ParseFloat(rows[1][1], 64); err != nil {
		return 0, 0, fmt.Errorf("redis-benchmark: rps: %w", err)
	}
	// Redis 7's CSV has a header naming p99_latency_ms; older ones lack it.
	if i := slices.Index(rows[0], "p99_latency_ms"); i >= 0 && i < len(rows[1]) {
		p99, _ = strconv.ParseFloat(rows[1][i], 64)
	}
	return rate, p99, nil
}

// BenchmarkLeaseManyBurst leases a burst of 100 sessions in one pipelined
// round trip; compare leases/s with BenchmarkLeaseSixteenCallers.
func BenchmarkLeaseManyBurst(b *testing.B) {
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: testenv.RedisAddr(b)})
	b.Cleanup(func() { _ = rdb.Close() })
	a := newBenchAllocator(b, rdb, Config{})
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	burst := make([]string, 100)
	b.ResetTimer()
	for i := range b.N {
		for j := range burst {
			burst[j] = fmt.Sprintf("%012d", (i*len(burst)+j)%benchSessions)
		}
		if _, err := a.LeaseMany(ctx, "bench", burst, now); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(burst))/b.Elapsed().Seconds(), "leases/s")
}

func deleteKeys(rdb *redis.Client, prefix string) {
	ctx := context.Background()
	iter := rdb.Scan(ctx, 0, "{"+prefix+":*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if len(keys) > 0 {
		rdb.Del(ctx, keys...)
	}
}
