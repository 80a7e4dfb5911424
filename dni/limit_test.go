package dni

import (
	"fmt"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"
)

// oneShard is a table of size buckets in one shard, so that which bucket
// goes first is exactly the least recently used.
func oneShard(perMinute, size int, clock *testClock) *buckets {
	return newBuckets(perMinute, size, 1, clock.now)
}

func (b *buckets) keys() []string {
	var out []string
	for i := range b.shards {
		sh := &b.shards[i]
		sh.mu.Lock()
		for e := sh.lru.next; e != &sh.lru; e = e.next {
			out = append(out, e.key)
		}
		sh.mu.Unlock()
	}
	return out
}

func (b *buckets) len() int {
	n := 0
	for i := range b.shards {
		sh := &b.shards[i]
		sh.mu.Lock()
		n += len(sh.byKey)
		sh.mu.Unlock()
	}
	return n
}

func TestLimiterBucketRefillsPerMinute(t *testing.T) {
	clock := &testClock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
	b := oneShard(3, 10, clock)
	for i := range 3 {
		assert.True(t, b.allow("a"), "token %d of the burst", i)
	}
	assert.False(t, b.allow("a"), "burst spent")
	assert.True(t, b.allow("b"), "another key has its own bucket")
	clock.add(20 * time.Second)
	assert.True(t, b.allow("a"), "one token a third of a minute")
	assert.False(t, b.allow("a"))
}

func TestLimiterNegativeDisables(t *testing.T) {
	clock := &testClock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
	l := newLimiterSize(-1, 1, 4, clock.now)
	for range 100 {
		require.True(t, l.allowIP("192.0.2.1"))
	}
	assert.True(t, l.allowVisitor("v"))
	assert.False(t, l.allowVisitor("v"), "the per-visitor limit still holds")
	assert.Nil(t, l.byIP, "a disabled limit keeps no table")
}

// A new key takes the place of the least recently used bucket once that
// bucket is full again; using a bucket makes it the most recent.
func TestLimiterForgetsTheLeastRecentlyUsedIdleBucket(t *testing.T) {
	clock := &testClock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
	b := oneShard(2, 3, clock)
	for _, k := range []string{"a", "b", "c"} {
		require.True(t, b.allow(k))
	}
	require.True(t, b.allow("a"), "a is now the most recently used")
	assert.Equal(t, []string{"a", "c", "b"}, b.keys())

	clock.add(time.Minute) // every bucket full again
	require.True(t, b.allow("d"))
	assert.Equal(t, []string{"d", "a", "c"}, b.keys(), "b, the least recently used, is forgotten")
	require.True(t, b.allow("e"))
	assert.Equal(t, []string{"e", "d", "a"}, b.keys())
	assert.Equal(t, 3, b.len())
}

// While every bucket is busy, no one's bucket is taken: newcomers share
// one overflow bucket, and the busy clients keep what they have spent.
func TestLimiterNewcomersShareOneBucketWhileAllAreBusy(t *testing.T) {
	clock := &testClock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
	b := oneShard(2, 2, clock)
	for _, k := range []string{"a", "b"} {
		require.True(t, b.allow(k))
		require.True(t, b.allow(k))
		require.False(t, b.allow(k), "%s has spent its burst", k)
	}
	assert.True(t, b.allow("new-1"))
	assert.True(t, b.allow("new-2"))
	assert.False(t, b.allow("new-3"), "the overflow bucket is shared, and spent")
	assert.False(t, b.allow("a"), "a busy client is not forgotten, so not refilled")
	assert.Equal(t, []string{"a", "b"}, b.keys(), "newcomers take no place")

	clock.add(time.Minute)
	assert.True(t, b.allow("new-3"), "an idle bucket makes room")
	assert.Equal(t, []string{"new-3", "a"}, b.keys())
}

// However many keys arrive, a table never holds more than its size.
func TestLimiterMemoryIsBounded(t *testing.T) {
	clock := &testClock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
	l := newLimiterSize(60, 20, 1_000, clock.now)
	for i := range 50_000 {
		clock.add(10 * time.Millisecond) // a key goes quiet every minute's worth of arrivals
		l.allowIP(benchAddr(i))
		l.allowVisitor("visitor-" + strconv.Itoa(i))
	}
	for name, b := range map[string]*buckets{"per address": l.byIP, "per visitor": l.byVisitor} {
		assert.LessOrEqual(t, b.len(), 1_000, name)
		assert.Positive(t, b.len(), name)
		assert.Len(t, b.keys(), b.len(), "%s: the list and the map agree", name)
	}
}

// Concurrent use from many goroutines (run under -race): no bucket hands
// out more than its burst within the minute, and the table stays bounded.
func TestLimiterConcurrent(t *testing.T) {
	clock := &testClock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
	l := newLimiterSize(5, 5, 256, clock.now)
	var allowed [8]atomic.Int64
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 2_000 {
				k := i % 8
				if l.allowIP(fmt.Sprintf("198.51.100.%d", k)) {
					allowed[k].Add(1)
				}
				l.allowVisitor(fmt.Sprintf("g%d-%d", g, i)) // churn through the other table
			}
		})
	}
	wg.Wait()
	for k := range allowed {
		assert.Equal(t, int64(5), allowed[k].Load(), "address %d: exactly its burst", k)
	}
	assert.LessOrEqual(t, l.byVisitor.len(), 256)
}

// The per-request cost of the rate limiter with its table full at 1,000
// and at 100,000 buckets; the two should cost the same.
//
//	go test ./dni -run '^$' -bench Limiter -benchmem -count 5
func BenchmarkLimiter(b *testing.B) {
	start := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	for _, size := range []int{1_000, 100_000} {
		// full returns a limiter whose table holds size busy buckets: each
		// address has just taken a token, so none may be forgotten yet.
		full := func(now func() time.Time) (*limiter, []string) {
			l := newLimiterSize(DefaultVisitsPerIP, DefaultVisitsPerID, size, now)
			addrs := make([]string, size)
			for i := range addrs {
				addrs[i] = benchAddr(i)
				l.allowIP(addrs[i])
			}
			return l, addrs
		}
		// A flood of addresses never seen, against a full table of busy
		// buckets: the case that scanned the whole table on every request.
		b.Run(fmt.Sprintf("buckets=%d/new-address", size), func(b *testing.B) {
			l, _ := full(func() time.Time { return start })
			fresh := make([]string, 4096)
			for i := range fresh {
				fresh[i] = benchAddr(size + i)
			}
			i := 0
			for b.Loop() {
				l.allowIP(fresh[i%len(fresh)])
				i++
			}
		})
		// New addresses while old ones go quiet: the clock moves so that
		// the oldest bucket has refilled whenever a new address arrives.
		b.Run(fmt.Sprintf("buckets=%d/turnover", size), func(b *testing.B) {
			now := start
			l, _ := full(func() time.Time { return now })
			step := time.Minute/time.Duration(size) + time.Nanosecond
			i := size
			for b.Loop() {
				now = now.Add(step)
				l.allowIP(benchAddr(i))
				i++
			}
		})
		// Addresses already in the table, in an order that jumps about it,
		// and the same lookups in a bare map: the floor any table of that
		// size pays in cache misses.
		b.Run(fmt.Sprintf("buckets=%d/known-address", size), func(b *testing.B) {
			l, addrs := full(func() time.Time { return start })
			i := 0
			for b.Loop() {
				l.allowIP(addrs[(i*7919)%size])
				i++
			}
		})
		b.Run(fmt.Sprintf("buckets=%d/bare-map-lookup", size), func(b *testing.B) {
			m := make(map[string]*rate.Limiter, size)
			addrs := make([]string, size)
			for i := range addrs {
				addrs[i] = benchAddr(i)
				m[addrs[i]] = newBucketLimiter(DefaultVisitsPerIP)
			}
			i := 0
			for b.Loop() {
				m[addrs[(i*7919)%size]].AllowN(start, 1)
				i++
			}
		})
		// Addresses already in the table, from every P at once.
		b.Run(fmt.Sprintf("buckets=%d/known-address-parallel", size), func(b *testing.B) {
			l, addrs := full(func() time.Time { return start })
			var next atomic.Int64
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := int(next.Add(1))
				for pb.Next() {
					l.allowIP(addrs[(i*7919)%size])
					i += 2
				}
			})
		})
	}
}

// benchAddr is the i-th of a run of distinct IPv4 addresses.
func benchAddr(i int) string {
	return netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}).String()
}
