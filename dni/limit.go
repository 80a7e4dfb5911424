package dni

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiter keeps one token bucket per client address and per visitor id.
// Idle buckets are forgotten once the table grows past maxKeys, so a
// flood of new addresses cannot grow memory without bound.
type limiter struct {
	now             func() time.Time
	perIP, perVisit int
	mu              sync.Mutex
	byIP, byVisitor map[string]*rate.Limiter
}

const maxLimiterKeys = 100_000

func newLimiter(perIP, perVisitor int, now func() time.Time) *limiter {
	return &limiter{now: now, perIP: perIP, perVisit: perVisitor,
		byIP: map[string]*rate.Limiter{}, byVisitor: map[string]*rate.Limiter{}}
}

func (l *limiter) allowIP(ip string) bool { return l.allow(l.byIP, ip, l.perIP) }

func (l *limiter) allowVisitor(id string) bool { return l.allow(l.byVisitor, id, l.perVisit) }

// allow takes a token from key's bucket, which refills perMinute tokens a
// minute and holds as many. A negative perMinute disables the limit.
func (l *limiter) allow(buckets map[string]*rate.Limiter, key string, perMinute int) bool {
	if perMinute < 0 {
		return true
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := buckets[key]
	if !ok {
		if len(buckets) >= maxLimiterKeys {
			forgetIdle(buckets, now)
		}
		if len(buckets) >= maxLimiterKeys {
			// Every bucket is busy: newcomers share one, so the table
			// stays bounded and a flood of fresh keys is still limited.
			key = overflowKey
			b = buckets[key]
		}
		if b == nil {
			b = rate.NewLimiter(rate.Limit(float64(perMinute)/60), perMinute)
			buckets[key] = b
		}
	}
	return b.AllowN(now, 1)
}

const overflowKey = "\x00overflow"

// forgetIdle drops the buckets that are full again: their clients have
// been quiet long enough that forgetting them changes nothing.
func forgetIdle(buckets map[string]*rate.Limiter, now time.Time) {
	for k, b := range buckets {
		if b.TokensAt(now) >= float64(b.Burst()) {
			delete(buckets, k)
		}
	}
}
