package redispool

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/attriqs/calltrack/pool"
)

// LeaseMany leases numbers to many sessions of one pool in a single round
// trip (one pipeline of script calls), for bursts such as a page of visits
// arriving together. Results are in the order of sessionIDs; each carries
// what Lease would have returned. The error is the first one met; a session
// whose lease failed gets the business number with Outcome Original.
func (a *Allocator) LeaseMany(ctx context.Context, poolName string, sessionIDs []string, now time.Time) ([]pool.Lease, error) {
	p, err := a.pool(poolName)
	if err != nil {
		return nil, err
	}
	out := make([]pool.Lease, len(sessionIDs))
	cmds := make([]*redis.Cmd, len(sessionIDs))
	var firstErr error
	_, pipeErr := a.rdb.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		for i, id := range sessionIDs {
			if err := checkSession(id); err != nil {
				firstErr = cmp(firstErr, err)
				continue
			}
			cmds[i] = a.scripts.lease.Run(ctx, pipe, []string{a.key(p.Name)}, a.leaseArgs(p, id, now)...)
		}
		return nil
	})
	if pipeErr != nil && isNoScript(pipeErr) {
		// Redis restarted and lost its script cache: load and go again.
		if err := a.scripts.lease.Load(ctx, a.rdb).Err(); err != nil {
			return fill(out, p), a.unavailable("lease many", err)
		}
		return a.LeaseMany(ctx, poolName, sessionIDs, now)
	}
	for i, cmd := range cmds {
		out[i] = original(p)
		if cmd == nil {
			continue
		}
		res, err := cmd.Slice()
		if err != nil {
			firstErr = cmp(firstErr, a.unavailable("lease many", err))
			continue
		}
		l, err := a.leaseResult(p, sessionIDs[i], res)
		if errors.Is(err, errUnregistered) {
			l, err = a.Lease(ctx, poolName, sessionIDs[i], now) // registers the pool again
		}
		firstErr = cmp(firstErr, err)
		out[i] = l
	}
	return out, firstErr
}

func cmp(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

func fill(out []pool.Lease, p *pool.PoolInfo) []pool.Lease {
	for i := range out {
		out[i] = original(p)
	}
	return out
}

func isNoScript(err error) bool { return err != nil && strings.HasPrefix(err.Error(), "NOSCRIPT") }
