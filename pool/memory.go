package pool

import (
	"context"
	"fmt"
	"runtime"
	"time"
)

// Memory is the in-process [Allocator]. Its hot path (Lease, Renew, Release,
// HoldersAt) takes no lock: see the package documentation for the design and
// the ordering it guarantees. It starts no goroutine; expired leases are
// collected lazily or by [Memory.Sweep]. All methods are safe for concurrent
// use.
//
// Memory keeps a reference to each leased session id's bytes instead of a
// copy (copying would allocate on every lease), so a session id must be an
// ordinary immutable Go string, not one aliased by unsafe code to a buffer
// that is later reused.
type Memory struct {
	catalog *Catalog
	pools   []*memPool // few pools: a scan beats hashing the name
}

var _ Allocator = (*Memory)(nil)

// New validates cfg and builds an in-process allocator. All numbers start
// free and out of cooldown. The error joins every configuration problem.
func New(cfg Config) (*Memory, error) {
	cat, err := compile(cfg)
	if err != nil {
		return nil, err
	}
	shards := min(max(runtime.GOMAXPROCS(0), 1), maxShards)
	m := &Memory{catalog: cat}
	for _, name := range cat.order {
		m.pools = append(m.pools, newMemPool(cat.pools[name], cat.historyPerNumber, shards, cfg.OnRecord))
	}
	return m, nil
}

// maxShards bounds the per-processor free lists; each can hold every number.
const maxShards = 16

// Catalog returns the validated configuration.
func (m *Memory) Catalog() *Catalog { return m.catalog }

func (m *Memory) pool(name string) (*memPool, error) {
	for _, p := range m.pools {
		if p.info.Name == name {
			return p, nil
		}
	}
	return nil, fmt.Errorf("%w: %q", ErrUnknownPool, name)
}

// Lease implements [Allocator.Lease]. It fails only for an unknown pool or an
// invalid session id.
func (m *Memory) Lease(_ context.Context, pool, sessionID string, now time.Time) (l Lease, err error) {
	p, err := m.pool(pool)
	if err != nil {
		return Lease{}, err
	}
	if len(sessionID) == 0 || len(sessionID) > MaxSessionIDLen {
		return p.original(), fmt.Errorf("%w: length %d", ErrInvalidSession, len(sessionID))
	}
	// Written straight into the result: a returned Lease would be copied.
	p.leaseInto(&l, sessionID, now)
	return l, nil
}

// Renew implements [Allocator.Renew].
func (m *Memory) Renew(_ context.Context, pool, sessionID string, token Token, now time.Time) (Lease, error) {
	p, err := m.pool(pool)
	if err != nil {
		return Lease{}, err
	}
	return p.renew(sessionID, token, now)
}

// Release implements [Allocator.Release].
func (m *Memory) Release(_ context.Context, pool, sessionID string, token Token, now time.Time) error {
	p, err := m.pool(pool)
	if err != nil {
		return err
	}
	return p.release(sessionID, token, now)
}

// HoldersAt implements [Allocator.HoldersAt] from the holds kept in memory
// (the last Config.HistoryPerNumber of each number). A dedicated or fallback
// number has no holders; an unknown number gives [ErrUnknownNumber].
func (m *Memory) HoldersAt(_ context.Context, number string, at time.Time, grace time.Duration) ([]Holder, error) {
	info, ok := m.catalog.Number(number)
	if !ok {
		if _, dedicated := m.catalog.Dedicated(number); dedicated {
			return nil, nil
		}
		return nil, fmt.Errorf("%w: %q", ErrUnknownNumber, number)
	}
	if info.Fallback {
		return nil, nil
	}
	p, err := m.pool(info.Pool)
	if err != nil {
		return nil, err
	}
	return p.holdersAt(uint32(info.Index), at, grace), nil
}

// Sweep implements [Allocator.Sweep]. Call it periodically (say every
// minute) to return expired numbers to the free lists promptly; Lease also
// sweeps when it finds no number out of cooldown.
func (m *Memory) Sweep(_ context.Context, now time.Time) (int, error) {
	ended := 0
	for _, p := range m.pools {
		ended += p.sweep(encodeTime(now))
	}
	return ended, nil
}

// Stats implements [Allocator.Stats]. It scans the pool: O(numbers ×
// HistoryPerNumber), meant for dashboards, not the hot path.
func (m *Memory) Stats(_ context.Context, pool string, now time.Time) (Stats, error) {
	p, err := m.pool(pool)
	if err != nil {
		return Stats{}, err
	}
	return p.stats(encodeTime(now)), nil
}

// Holds returns every hold of the named pool still in memory (the last
// Config.HistoryPerNumber per number), oldest first, for [Audit] or export.
// Live holds carry their current expiry as Until.
func (m *Memory) Holds(pool string) ([]HoldRecord, error) {
	p, err := m.pool(pool)
	if err != nil {
		return nil, err
	}
	return p.history(), nil
}
