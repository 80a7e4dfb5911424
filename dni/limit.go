package dni

import (
	"hash/maphash"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiter keeps one token bucket per client address and per visitor id,
// each bucket refilling perMinute tokens a minute and holding as many.
//
// Each table holds at most a fixed number of buckets, so a flood of new
// addresses cannot grow memory without bound, and a request costs the same
// however full the table is: the table is split into shards (fewer
// requests wait on one mutex), each a map plus a list in order of use, and
// a new key takes the place of its shard's least recently used bucket when
// that bucket is full again. A full bucket's client has been quiet long
// enough (a minute at most) that forgetting it changes nothing. When the
// least recently used bucket is still busy, every bucket of the shard is,
// and the newcomer shares the table's one overflow bucket with every other
// newcomer turned away, so a flood of fresh keys is still limited.
type limiter struct {
	byIP, byVisitor *buckets
}

const (
	maxLimiterKeys = 100_000 // buckets per table
	limiterShards  = 16      // a power of two
)

func newLimiter(perIP, perVisitor int, now func() time.Time) *limiter {
	return newLimiterSize(perIP, perVisitor, maxLimiterKeys, now)
}

// newLimiterSize is newLimiter with room for size buckets per table.
func newLimiterSize(perIP, perVisitor, size int, now func() time.Time) *limiter {
	shards := limiterShards
	for shards > 1 && size/shards < 64 { // small tables: fewer, fuller shards
		shards /= 2
	}
	return &limiter{byIP: newBuckets(perIP, size, shards, now), byVisitor: newBuckets(perVisitor, size, shards, now)}
}

func (l *limiter) allowIP(ip string) bool { return l.byIP.allow(ip) }

func (l *limiter) allowVisitor(id string) bool { return l.byVisitor.allow(id) }

// buckets is one table of token buckets; nil means no limit.
type buckets struct {
	now       func() time.Time
	perMinute int
	seed      maphash.Seed
	shards    []bucketShard
	// overflow is shared by the newcomers no shard has room for.
	overflow *rate.Limiter
}

type bucketShard struct {
	mu       sync.Mutex
	byKey    map[string]*bucket
	lru      bucket // sentinel: lru.next is the most recently used, lru.prev the least
	capacity int
	_        [64]byte // keeps neighbouring shards' mutexes off one cache line
}

// bucket is one key's token bucket and its place in its shard's list.
type bucket struct {
	key        string
	lim        *rate.Limiter
	prev, next *bucket
}

// newBuckets makes a table of size buckets (rounded up to a multiple of
// shards, a power of two) refilling perMinute tokens a minute; a negative
// perMinute means no limit.
func newBuckets(perMinute, size, shards int, now func() time.Time) *buckets {
	if perMinute < 0 {
		return nil
	}
	b := &buckets{now: now, perMinute: perMinute, seed: maphash.MakeSeed(),
		shards: make([]bucketShard, shards), overflow: newBucketLimiter(perMinute)}
	for i := range b.shards {
		sh := &b.shards[i]
		sh.byKey = map[string]*bucket{}
		sh.lru.next, sh.lru.prev = &sh.lru, &sh.lru
		sh.capacity = max(1, (size+shards-1)/shards)
	}
	return b
}

func newBucketLimiter(perMinute int) *rate.Limiter {
	return rate.NewLimiter(rate.Limit(float64(perMinute)/60), perMinute)
}

// allow takes a token from key's bucket.
func (b *buckets) allow(key string) bool {
	if b == nil {
		return true
	}
	now := b.now()
	sh := &b.shards[maphash.String(b.seed, key)&uint64(len(b.shards)-1)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e, ok := sh.byKey[key]
	switch {
	case ok:
		sh.unlink(e)
	case len(sh.byKey) < sh.capacity:
		e = &bucket{key: key, lim: newBucketLimiter(b.perMinute)}
		sh.byKey[key] = e
	case sh.lru.prev.lim.TokensAt(now) >= float64(b.perMinute):
		// The least recently used bucket is full again: it becomes key's,
		// as good as new.
		e = sh.lru.prev
		sh.unlink(e)
		delete(sh.byKey, e.key)
		e.key = key
		sh.byKey[key] = e
	default:
		return b.overflow.AllowN(now, 1)
	}
	sh.pushFront(e)
	return e.lim.AllowN(now, 1)
}

func (sh *bucketShard) unlink(e *bucket) {
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = nil, nil
}

func (sh *bucketShard) pushFront(e *bucket) {
	e.prev, e.next = &sh.lru, sh.lru.next
	e.next.prev = e
	sh.lru.next = e
}
