package redispool

import (
	"context"
	"math/rand/v2"
	"os/exec"
	"testing"

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
	all, elapsed := sixteenCallers(b, func(*rand.Rand) error { return rdb.Ping(ctx).Err() })
	if len(all) == 0 {
		return
	}
	p99 := float64(all[len(all)*99/100].Microseconds()) / 1000
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "pings/s")
	b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(p99, "p99-ms")

	if _, err := exec.LookPath("redis-benchmark"); err != nil {
		b.Logf("redis-benchmark not on PATH: no ratio")
		return
	}
	_, rbP99, err := runRedisBenchmark(ctx, addr, max(b.N, 20000), "PING")
	if err != nil {
		b.Fatal(err)
	}
	if rbP99 > 0 {
		b.ReportMetric(rbP99, "rb-p99-ms")
		b.ReportMetric(p99/rbP99, "p99-ratio")
	}
}
