package redispool_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/internal/testenv"
	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/pool/pooltest"
	"github.com/attriqs/calltrack/pool/redispool"
)

var prefixSeq atomic.Int64

// uniquePrefix gives each test its own keys and deletes them afterwards.
func uniquePrefix(t testing.TB, rdb *redis.Client) string {
	prefix := fmt.Sprintf("calltrack-test:%d:%d", time.Now().UnixNano(), prefixSeq.Add(1))
	t.Cleanup(func() {
		ctx := context.Background()
		iter := rdb.Scan(ctx, 0, "{"+prefix+":*", 1000).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if len(keys) > 0 {
			rdb.Del(ctx, keys...)
		}
	})
	return prefix
}

func newClient(t testing.TB) *redis.Client {
	rdb := redis.NewClient(&redis.Options{Addr: testenv.RedisAddr(t)})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

func newAllocator(t testing.TB, rdb redis.UniversalClient, cfg pool.Config, prefix string) *redispool.Allocator {
	a, err := redispool.New(context.Background(), rdb, redispool.Config{Config: cfg, Prefix: prefix})
	require.NoError(t, err)
	return a
}

func TestConformance(t *testing.T) {
	rdb := newClient(t)
	pooltest.Run(t, func(t *testing.T, cfg pool.Config) pool.Allocator {
		return newAllocator(t, rdb, cfg, uniquePrefix(t, rdb))
	}, pooltest.Features{ExactLRU: true})
}

// TestConformanceAcrossTwoInstances runs the suite against two allocators on
// two clients sharing one prefix, alternating calls between them: the
// contract holds for the pair as for one.
func TestConformanceAcrossTwoInstances(t *testing.T) {
	first, second := newClient(t), newClient(t)
	pooltest.Run(t, func(t *testing.T, cfg pool.Config) pool.Allocator {
		prefix := uniquePrefix(t, first)
		return &alternating{pair: [2]pool.Allocator{
			newAllocator(t, first, cfg, prefix),
			newAllocator(t, second, cfg, prefix),
		}}
	}, pooltest.Features{ExactLRU: true})
}

// alternating sends each call to the next of two allocators in turn.
type alternating struct {
	pair [2]pool.Allocator
	next atomic.Uint64
}

func (a *alternating) pick() pool.Allocator { return a.pair[a.next.Add(1)%2] }

func (a *alternating) Lease(ctx context.Context, p, s string, now time.Time) (pool.Lease, error) {
	return a.pick().Lease(ctx, p, s, now)
}
func (a *alternating) Renew(ctx context.Context, p, s string, tok pool.Token, now time.Time) (pool.Lease, error) {
	return a.pick().Renew(ctx, p, s, tok, now)
}
func (a *alternating) Release(ctx context.Context, p, s string, tok pool.Token, now time.Time) error {
	return a.pick().Release(ctx, p, s, tok, now)
}
func (a *alternating) HoldersAt(ctx context.Context, n string, at time.Time, g time.Duration) ([]pool.Holder, error) {
	return a.pick().HoldersAt(ctx, n, at, g)
}
func (a *alternating) Sweep(ctx context.Context, now time.Time) (int, error) {
	return a.pick().Sweep(ctx, now)
}
func (a *alternating) Stats(ctx context.Context, p string, now time.Time) (pool.Stats, error) {
	return a.pick().Stats(ctx, p, now)
}
