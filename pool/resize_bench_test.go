package pool_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/attriqs/calltrack/pool"
)

// BenchmarkElasticLeaseRelease is BenchmarkLeaseRelease on the resizable
// allocator, for comparison in one run:
//
//	go test ./pool -run '^$' -bench 'LeaseRelease$' -benchmem
func BenchmarkElasticLeaseRelease(b *testing.B) {
	ctx := context.Background()
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("numbers=%d", n), func(b *testing.B) {
			e, err := pool.NewElastic(onePool(n, func(pc *pool.PoolConfig) { pc.Cooldown = time.Minute }))
			if err != nil {
				b.Fatal(err)
			}
			ids := benchSessions(1024)
			now := t0
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				now = now.Add(time.Minute)
				id := ids[i&1023]
				l, _ := e.Lease(ctx, "paid", id, now)
				if err := e.Release(ctx, "paid", id, l.Token, now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
