package redispool

import (
	"context"
	"encoding/csv"
	"fmt"
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
)

// BenchmarkPingSixteenCallers is the floor under BenchmarkLeaseSixteenCallers:
// the same 16 goroutines over one go-redis client, and then redis-benchmark
// at 16 clients, each sending PING instead of the lease script. The server
// does next to nothing, so p99-ratio here is what the Go client and its
// scheduling add to the tail on this machine, before any pool code runs:
//
//	go test ./pool/redispool -run '^$' -bench PingSixteenCallers -benchtime 200000x -cpu 1,2
func BenchmarkPingSixteenCallers(b *testing.B) {
	ctx := context.Background()
	addr := testenv.RedisAddr(b)
	rdb := redis.NewClient(&redis.Options{Addr: addr, PoolSize: benchCallers})
	b.Cleanup(func() { _ = rdb.Close() })
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
			lat := make([]time.Duration, 0, n)
			for range n {
				t := time.Now()
				if err := rdb.Ping(ctx).Err(); err != nil {
					b.Error(err)
					return
				}
				lat = append(lat, time.Since(t))
			}
			latencies[c] = lat
		})
	}
	wg.Wait()
	elapsed := time.Since(began)
	b.StopTimer()

	all := slices.Concat(latencies...)
	if len(all) == 0 {
		return
	}
	slices.Sort(all)
	p99 := float64(all[len(all)*99/100].Microseconds()) / 1000
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "pings/s")
	b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(p99, "p99-ms")

	if _, err := exec.LookPath("redis-benchmark"); err != nil {
		b.Logf("redis-benchmark not on PATH: no ratio")
		return
	}
	host, port, _ := net.SplitHostPort(addr)
	out, err := exec.CommandContext(ctx, "redis-benchmark", "-h", host, "-p", port,
		"-c", strconv.Itoa(benchCallers), "-n", strconv.Itoa(max(b.N, 20000)), "--csv", "PING").Output()
	if err != nil {
		b.Fatal(fmt.Errorf("redis-benchmark: %w", err))
	}
	rows, err := csv.NewReader(strings.NewReader(string(out))).ReadAll()
	if err != nil || len(rows) < 2 {
		b.Fatalf("redis-benchmark: unexpected output %q", out)
	}
	if i := slices.Index(rows[0], "p99_latency_ms"); i >= 0 && i < len(rows[1]) {
		if rbP99, _ := strconv.ParseFloat(rows[1][i], 64); rbP99 > 0 {
			b.ReportMetric(rbP99, "rb-p99-ms")
			b.ReportMetric(p99/rbP99, "p99-ratio")
		}
	}
}
