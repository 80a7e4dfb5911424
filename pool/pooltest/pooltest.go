// Package pooltest is the conformance suite every [pool.Allocator] passes.
//
// An implementation's test is one call:
//
//	func TestConformance(t *testing.T) {
//		pooltest.Run(t, func(t *testing.T, cfg pool.Config) pool.Allocator {
//			a, err := pool.New(cfg)
//			require.NoError(t, err)
//			return a
//		}, pooltest.Features{})
//	}
//
// Each case is named after the rule of the [pool.Allocator] contract it
// enforces, and builds a fresh allocator from its own configuration through
// the factory. Time is simulated: cases pass explicit instants, so the suite
// runs in milliseconds whatever the session windows and cooldowns.
package pooltest

import (
	"fmt"
	"testing"
	"time"

	"github.com/attriqs/calltrack/pool"
)

// Factory builds a fresh, empty allocator for cfg. It registers any cleanup
// with t.Cleanup and fails t if it cannot build one.
type Factory func(t *testing.T, cfg pool.Config) pool.Allocator

// Features gates behaviour that implementations may legitimately differ on.
type Features struct {
	// ExactLRU: among numbers out of cooldown, the one released longest ago
	// always comes first. The in-process allocator keeps this order per
	// processor only, so it leaves this false; the cooldown rule is enforced
	// for every implementation regardless.
	ExactLRU bool
	// Goroutines used by the concurrency cases; zero means 8.
	Goroutines int
}

// Run runs every case of the suite against allocators built by newAllocator.
func Run(t *testing.T, newAllocator Factory, f Features) {
	if f.Goroutines == 0 {
		f.Goroutines = 8
	}
	s := &suite{newAllocator: newAllocator, features: f}
	for _, c := range s.cases() {
		t.Run(c.name, c.run)
	}
}

type suite struct {
	newAllocator Factory
	features     Features
}

type testCase struct {
	name string
	run  func(t *testing.T)
}

// start is an arbitrary instant; every case counts simulated time from it.
var start = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

const (
	poolName = "paid-search"
	business = "+12125550100"
	fallback = "+12125550199"
	window   = 30 * time.Minute
	cooldown = 60 * time.Minute
)

// Numbers returns n distinct valid E.164 numbers for test pools.
func Numbers(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("+1415%03d%04d", 200+i/10000, i%10000)
	}
	return out
}

// config is a one-pool configuration of n numbers with explicit window and
// cooldown, adjusted by mod.
func config(n int, mod func(*pool.PoolConfig)) pool.Config {
	pc := pool.PoolConfig{
		Name:           poolName,
		Numbers:        Numbers(n),
		BusinessNumber: business,
		SessionWindow:  window,
		Cooldown:       cooldown,
	}
	if mod != nil {
		mod(&pc)
	}
	return pool.Config{Pools: []pool.PoolConfig{pc}}
}

func at(minutes float64) time.Time {
	return start.Add(time.Duration(minutes * float64(time.Minute)))
}

func session(i int) string { return fmt.Sprintf("session-%04d", i) }
