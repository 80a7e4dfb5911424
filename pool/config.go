package pool

import "time"

// Defaults applied where a [PoolConfig] or [Config] field is left zero.
const (
	DefaultSessionWindow    = 30 * time.Minute
	DefaultCooldown         = 60 * time.Minute
	DefaultHistoryPerNumber = 8
	// MaxSessionIDLen bounds session ids so a lease record stays compact.
	MaxSessionIDLen = 1024
)

// Config describes every pool and dedicated number an allocator serves. The
// zero value of each field means its documented default.
type Config struct {
	Pools     []PoolConfig
	Dedicated []DedicatedNumber
	// HistoryPerNumber is how many holds per number are kept in memory for
	// [Allocator.HoldersAt]; older holds are only available through OnRecord.
	// Zero means [DefaultHistoryPerNumber]; it is rounded up to a power of two
	// between 4 and 128. It also caps how many sessions may share one number
	// under the [ReuseLeastRecent] policy.
	HistoryPerNumber int
	// OnRecord, when set, receives every hold when it starts (Until zero) and
	// when it ends, so a store can write history through. It is called
	// synchronously on the allocating goroutine, possibly concurrently, and
	// must be fast and safe for concurrent use.
	OnRecord func(HoldRecord)
}

// PoolConfig is one pool of interchangeable tracking numbers, typically one per
// traffic source ("paid-search", "organic", "social").
type PoolConfig struct {
	// Name identifies the pool in Lease, Renew, Release and Stats.
	Name string
	// Numbers are the tracking numbers, in E.164 form.
	Numbers []string
	// BusinessNumber is the real line calls are forwarded to, and the
	// "original" number shown when the pool cannot serve a tracking number.
	BusinessNumber string
	// Fallback is an optional tracking number shown to every visitor the pool
	// cannot serve under the [ServeFallback] policy; calls to it are
	// attributed to the pool but to no session.
	Fallback string
	// SessionWindow is how long a lease lives without renewal. Zero means
	// [DefaultSessionWindow].
	SessionWindow time.Duration
	// Cooldown is the call-grace period after a hold ends during which its
	// number is handed out again only if no colder number is free. Zero means
	// [DefaultCooldown].
	Cooldown time.Duration
	// Exhaustion decides what a visitor gets when every number is held.
	Exhaustion ExhaustionPolicy
}

// ExhaustionPolicy decides what a visitor gets when every number of a pool is
// held. Whatever the policy, the visitor never sees an error.
type ExhaustionPolicy int

const (
	// ReuseLeastRecent shares the number whose holders were least recently
	// active; the new hold is recorded as a reuse so stitching can lower its
	// confidence. It is the default. When no number can be shared it serves
	// the fallback number if configured, else the original number.
	ReuseLeastRecent ExhaustionPolicy = iota
	// ServeFallback shows the pool's Fallback number.
	ServeFallback
	// ServeOriginal shows the business number itself.
	ServeOriginal
)

func (p ExhaustionPolicy) String() string {
	switch p {
	case ReuseLeastRecent:
		return "reuse-least-recent"
	case ServeFallback:
		return "serve-fallback"
	case ServeOriginal:
		return "serve-original"
	}
	return "unknown"
}

// DedicatedNumber is a number fixed to one offline campaign (print, radio,
// billboard, podcast): it is never leased and every call to it is attributed
// to its campaign.
type DedicatedNumber struct {
	Number         string
	BusinessNumber string
	Campaign       string
	Source         string
	Medium         string
	Channel        string
}

func (p PoolConfig) sessionWindow() time.Duration {
	if p.SessionWindow == 0 {
		return DefaultSessionWindow
	}
	return p.SessionWindow
}

func (p PoolConfig) cooldown() time.Duration {
	if p.Cooldown == 0 {
		return DefaultCooldown
	}
	return p.Cooldown
}

func (c Config) historyPerNumber() int {
	k := c.HistoryPerNumber
	if k == 0 {
		k = DefaultHistoryPerNumber
	}
	k = min(max(k, 4), 128)
	p := 4
	for p < k {
		p <<= 1
	}
	return p
}
