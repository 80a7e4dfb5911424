package redispool

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/attriqs/calltrack/pool"
)

// Allocator is the Redis [pool.Allocator]: any number of instances, in any
// number of processes, sharing one Redis and one key prefix, behave as one
// allocator. Every state change is one Lua script, so it is atomic: two
// instances never hand one number to two live sessions.
//
// When Redis cannot be reached, methods return errors wrapping
// [pool.ErrUnavailable] (and Lease still returns the business number with
// Outcome Original); the go-redis client reconnects by itself, so service
// resumes with no manual step once Redis is back.
type Allocator struct {
	rdb     redis.UniversalClient
	catalog *pool.Catalog
	prefix  string
	scripts scripts
	calls   *combiner
	// onRecord mirrors pool.Config.OnRecord.
	onRecord func(pool.HoldRecord)
	log      *slog.Logger
}

var _ pool.Allocator = (*Allocator)(nil)

// Config configures an Allocator: the pools, as [pool.New] takes them, and
// how they live in Redis. The zero value of each field means its
// documented default.
type Config struct {
	// Config describes the pools and dedicated numbers; it is validated as
	// [pool.New] validates it.
	pool.Config
	// Prefix starts every key; zero means "calltrack:pool". Instances that
	// must share pools use the same prefix.
	Prefix string
	// MaxBatch bounds how many concurrent calls share one pipelined round
	// trip (see the package documentation); zero means 64, one turns
	// combining off.
	MaxBatch int
	// Logger receives a Warn record when a pool's state is found missing
	// in Redis and registered again; nil means slog.Default().
	Logger *slog.Logger
}

// New validates cfg and registers its numbers in Redis (idempotently: a
// second instance, or a restart, leaves existing state alone and only adds
// numbers new to the configuration). Numbers removed from the configuration
// are not removed from Redis. New starts no goroutine.
func New(ctx context.Context, rdb redis.UniversalClient, cfg Config) (*Allocator, error) {
	cat, err := pool.NewCatalog(cfg.Config)
	if err != nil {
		return nil, err
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "calltrack:pool"
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 64
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	a := &Allocator{rdb: rdb, catalog: cat, prefix: cfg.Prefix, scripts: loadScripts(),
		calls: newCombiner(rdb, cfg.MaxBatch), onRecord: cfg.OnRecord, log: cfg.Logger}
	for _, name := range cat.PoolNames() {
		info, _ := cat.Pool(name)
		if err := a.register(ctx, info); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// register adds the pool's numbers to Redis, leaving existing state alone.
func (a *Allocator) register(ctx context.Context, p *pool.PoolInfo) error {
	args := make([]any, len(p.Numbers))
	for i, n := range p.Numbers {
		args[i] = n
	}
	if err := a.scripts.init.Run(ctx, a.rdb, []string{a.key(p.Name)}, args...).Err(); err != nil {
		return a.unavailable("register pool "+strconv.Quote(p.Name), err)
	}
	return nil
}

// errUnregistered is the lease script's answer when the pool has no number
// free and was never registered on this server: its state was lost.
var errUnregistered = errors.New("redispool: the pool's state is missing in Redis")

// reregister registers a pool whose state was lost, and says so at Warn:
// the holds before the loss are forgotten (their Renew answers
// pool.ErrStaleLease) and HoldersAt no longer lists them, so calls on those
// numbers are matched from the holds the host recorded through OnRecord.
func (a *Allocator) reregister(ctx context.Context, p *pool.PoolInfo) error {
	a.log.Warn("redispool: a pool's state is missing in Redis (a failover to a replica that had not synced, or a restart without persistence); registering its numbers again",
		"pool", p.Name, "key", a.key(p.Name), "numbers", len(p.Numbers))
	return a.register(ctx, p)
}

// Catalog returns the validated configuration.
func (a *Allocator) Catalog() *pool.Catalog { return a.catalog }

// key is the prefix of every key of one pool; the braces are a cluster hash
// tag, keeping a pool's keys in one slot so its scripts may touch them all.
func (a *Allocator) key(poolName string) string { return "{" + a.prefix + ":" + poolName + "}" }

func (a *Allocator) pool(name string) (*pool.PoolInfo, error) {
	if p, ok := a.catalog.Pool(name); ok {
		return p, nil
	}
	return nil, fmt.Errorf("%w: %q", pool.ErrUnknownPool, name)
}

// unavailable classes a failed call as pool.ErrUnavailable (a caller's
// cancellation or deadline is its own error). On a cluster it also asks the
// client to reload the slot map: go-redis reloads it by itself only after a
// MOVED, ASK or READONLY reply or once a minute
// (ClusterOptions.ClusterStateReloadInterval), so without this a master that
// died without answering stays the slot's address long after its replica
// was promoted.
func (a *Allocator) unavailable(what string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("redispool: %s: %w", what, err)
	}
	if cc, ok := a.rdb.(*redis.ClusterClient); ok {
		cc.ReloadState(context.Background()) // lazy and coalesced by go-redis
	}
	return fmt.Errorf("%w: redispool: %s: %w", pool.ErrUnavailable, what, err)
}

func millis(t time.Time) int64        { return t.UnixMilli() }
func fromMillis(ms int64) time.Time   { return time.UnixMilli(ms).UTC() }
func durMillis(d time.Duration) int64 { return int64(d / time.Millisecond) }

func original(p *pool.PoolInfo) pool.Lease {
	return pool.Lease{Pool: p.Name, Number: p.BusinessNumber, Outcome: pool.Original}
}

// Lease implements [pool.Allocator.Lease] with one script call.
func (a *Allocator) Lease(ctx context.Context, poolName, sessionID string, now time.Time) (pool.Lease, error) {
	p, err := a.pool(poolName)
	if err != nil {
		return pool.Lease{}, err
	}
	if err := checkSession(sessionID); err != nil {
		return original(p), err
	}
	l, err := a.lease(ctx, p, sessionID, now)
	if !errors.Is(err, errUnregistered) {
		return l, err
	}
	if err := a.reregister(ctx, p); err != nil {
		return original(p), err
	}
	return a.lease(ctx, p, sessionID, now)
}

func (a *Allocator) lease(ctx context.Context, p *pool.PoolInfo, sessionID string, now time.Time) (pool.Lease, error) {
	res, err := a.calls.run(ctx, a.scripts.lease, []string{a.key(p.Name)}, a.leaseArgs(p, sessionID, now)...).Slice()
	if err != nil {
		return original(p), a.unavailable("lease", err)
	}
	return a.leaseResult(p, sessionID, res)
}

func checkSession(id string) error {
	if len(id) == 0 || len(id) > pool.MaxSessionIDLen {
		return fmt.Errorf("%w: length %d", pool.ErrInvalidSession, len(id))
	}
	return nil
}

func (a *Allocator) leaseArgs(p *pool.PoolInfo, sessionID string, now time.Time) []any {
	hasFallback := "0"
	if p.Fallback != "" {
		hasFallback = "1"
	}
	return []any{sessionID, millis(now), durMillis(p.SessionWindow), durMillis(p.Cooldown),
		int(p.Exhaustion), a.catalog.HistoryPerNumber(), hasFallback}
}

func (a *Allocator) leaseResult(p *pool.PoolInfo, sessionID string, res []any) (pool.Lease, error) {
	if len(res) != 5 {
		return original(p), fmt.Errorf("%w: redispool: lease: malformed reply %v", pool.ErrUnavailable, res)
	}
	a.report(p.Name, res[4])
	outcome, _ := res[0].(string)
	number, _ := res[1].(string)
	token, _ := strconv.ParseUint(fmt.Sprint(res[2]), 10, 64)
	until, _ := res[3].(int64)
	l := pool.Lease{Pool: p.Name, Number: number, Token: pool.Token(token), ExpiresAt: fromMillis(until)}
	switch outcome {
	case "continued":
		l.Outcome = pool.Continued
	case "assigned", "reused":
		l.Outcome = pool.Assigned
		if outcome == "reused" {
			l.Outcome = pool.Reused
		}
		if a.onRecord != nil {
			a.onRecord(pool.HoldRecord{Token: l.Token, Pool: p.Name, Number: number, SessionID: sessionID,
				From: l.ExpiresAt.Add(-p.SessionWindow), Reused: l.Outcome == pool.Reused})
		}
	case "fallback":
		return pool.Lease{Pool: p.Name, Number: p.Fallback, Outcome: pool.Fallback}, nil
	case "unregistered":
		return original(p), fmt.Errorf("%w: %w", pool.ErrUnavailable, errUnregistered)
	default:
		return original(p), nil
	}
	return l, nil
}

// report passes holds ended by a script to Config.OnRecord.
func (a *Allocator) report(poolName string, ended any) {
	if a.onRecord == nil {
		return
	}
	list, _ := ended.([]any)
	for _, e := range list {
		s, _ := e.(string)
		// number, token, from, until, reused, session
		f := strings.SplitN(s, "\n", 6)
		if len(f) != 6 {
			continue
		}
		tok, _ := strconv.ParseUint(f[1], 10, 64)
		from, _ := strconv.ParseInt(f[2], 10, 64)
		until, _ := strconv.ParseInt(f[3], 10, 64)
		a.onRecord(pool.HoldRecord{Token: pool.Token(tok), Pool: poolName, Number: f[0], SessionID: f[5],
			From: fromMillis(from), Until: fromMillis(until), Reused: f[4] == "1"})
	}
}

// Renew implements [pool.Allocator.Renew].
func (a *Allocator) Renew(ctx context.Context, poolName, sessionID string, token pool.Token, now time.Time) (pool.Lease, error) {
	p, err := a.pool(poolName)
	if err != nil {
		return pool.Lease{}, err
	}
	res, err := a.calls.run(ctx, a.scripts.renew, []string{a.key(p.Name)},
		sessionID, uint64(token), millis(now), durMillis(p.SessionWindow)).Slice()
	if err != nil {
		return pool.Lease{}, a.unavailable("renew", err)
	}
	if len(res) != 4 {
		return pool.Lease{}, fmt.Errorf("%w: redispool: renew: malformed reply %v", pool.ErrUnavailable, res)
	}
	a.report(p.Name, res[3])
	switch res[0] {
	case "ok":
		number, _ := res[1].(string)
		until, _ := res[2].(int64)
		return pool.Lease{Pool: p.Name, Number: number, Token: token, ExpiresAt: fromMillis(until), Outcome: pool.Continued}, nil
	case "expired":
		return pool.Lease{}, fmt.Errorf("%w: pool %q: session %q: expired", pool.ErrStaleLease, p.Name, sessionID)
	}
	return pool.Lease{}, fmt.Errorf("%w: pool %q: session %q", pool.ErrStaleLease, p.Name, sessionID)
}

// Release implements [pool.Allocator.Release].
func (a *Allocator) Release(ctx context.Context, poolName, sessionID string, token pool.Token, now time.Time) error {
	p, err := a.pool(poolName)
	if err != nil {
		return err
	}
	res, err := a.calls.run(ctx, a.scripts.release, []string{a.key(p.Name)}, sessionID, uint64(token), millis(now)).Slice()
	if err != nil {
		return a.unavailable("release", err)
	}
	if len(res) != 2 {
		return fmt.Errorf("%w: redispool: release: malformed reply %v", pool.ErrUnavailable, res)
	}
	a.report(p.Name, res[1])
	switch res[0] {
	case "ok":
		return nil
	case "expired":
		return fmt.Errorf("%w: pool %q: session %q: expired", pool.ErrStaleLease, p.Name, sessionID)
	}
	return fmt.Errorf("%w: pool %q: session %q", pool.ErrStaleLease, p.Name, sessionID)
}

// HoldersAt implements [pool.Allocator.HoldersAt] from the per-number
// history sorted set (the last HistoryPerNumber holds): O(log n + k).
func (a *Allocator) HoldersAt(ctx context.Context, number string, at time.Time, grace time.Duration) ([]pool.Holder, error) {
	info, ok := a.catalog.Number(number)
	if !ok {
		if _, dedicated := a.catalog.Dedicated(number); dedicated {
			return nil, nil
		}
		return nil, fmt.Errorf("%w: %q", pool.ErrUnknownNumber, number)
	}
	if info.Fallback {
		return nil, nil
	}
	res, err := a.calls.run(ctx, a.scripts.holders, []string{a.key(info.Pool)},
		info.Number, millis(at), millis(at.Add(-grace))).Slice()
	if err != nil {
		return nil, a.unavailable("holders", err)
	}
	var out []pool.Holder
	for i := 0; i+4 < len(res); i += 5 {
		session, _ := res[i].(string)
		from, _ := strconv.ParseInt(fmt.Sprint(res[i+1]), 10, 64)
		until, _ := res[i+2].(int64)
		reused, _ := res[i+3].(string)
		live, _ := res[i+4].(int64)
		out = append(out, pool.Holder{Pool: info.Pool, Number: info.Number, SessionID: session,
			From: fromMillis(from), Until: fromMillis(until), Live: live == 1, Reused: reused == "1"})
	}
	return out, nil
}

// Sweep implements [pool.Allocator.Sweep].
func (a *Allocator) Sweep(ctx context.Context, now time.Time) (int, error) {
	const batch = 1000
	total := 0
	for _, name := range a.catalog.PoolNames() {
		for {
			res, err := a.scripts.sweep.Run(ctx, a.rdb, []string{a.key(name)}, millis(now), batch).Slice()
			if err != nil {
				return total, a.unavailable("sweep", err)
			}
			n, _ := res[0].(int64)
			a.report(name, res[1])
			total += int(n)
			if n < batch {
				break
			}
		}
	}
	return total, nil
}

// Stats implements [pool.Allocator.Stats]. It reads the whole pool: meant
// for dashboards, not the hot path.
func (a *Allocator) Stats(ctx context.Context, poolName string, now time.Time) (pool.Stats, error) {
	p, err := a.pool(poolName)
	if err != nil {
		return pool.Stats{}, err
	}
	res, err := a.scripts.stats.Run(ctx, a.rdb, []string{a.key(p.Name)}, millis(now), durMillis(p.Cooldown)).Int64Slice()
	if err != nil {
		return pool.Stats{}, a.unavailable("stats", err)
	}
	if len(res) != 9 {
		return pool.Stats{}, fmt.Errorf("%w: redispool: stats: malformed reply %v", pool.ErrUnavailable, res)
	}
	st := pool.Stats{
		Size: len(p.Numbers), Leased: int(res[0]), Free: int(res[1]), Cooling: int(res[2]), Holds: int(res[3]),
		Reuses: uint64(res[4]), Fallbacks: uint64(res[5]), Originals: uint64(res[6]), CoolingHandouts: uint64(res[7]),
		PeakConcurrency: int(res[8]),
	}
	st.Utilisation = float64(st.Leased) / float64(st.Size)
	return st, nil
}
