// Package redispool implements [pool.Allocator] on Redis, so several app
// instances behind a load balancer share their number pools: any instance
// can serve any visit, heartbeat or call.
//
// # Design
//
// Each pool lives under one key prefix with a cluster hash tag,
// "{prefix:pool}", and every operation is one Lua script, atomic on the
// server: two [Allocator] values in two processes never hand one number to
// two live sessions. The keys:
//
//   - free: sorted set of free numbers scored by when their last hold ended,
//     so ZRANGE 0 0 is the least recently used number;
//   - sessions, leases, expiry: the live leases by session, by token, and by
//     expiry time (for lazy and explicit sweeps);
//   - holds, activity, ended: live holders per number, latest activity of
//     held numbers (for reuse under exhaustion), and when each number's last
//     hold ended;
//   - hist:<number>: the last HistoryPerNumber holds of each number, scored
//     by start, which answers HoldersAt in O(log n).
//
// Keys have carried the hash tag since the first release, so a single node
// and a cluster use the same keys and a move to Redis Cluster needs no
// migration of keys (copy them with MIGRATE or DUMP/RESTORE, slot by slot).
//
// # Redis Cluster
//
// [New] takes any [redis.UniversalClient]: a *redis.Client for one node, a
// *redis.ClusterClient for a cluster, where each pool lives on the master
// serving its slot. When a master fails, calls for its pools fail with
// [pool.ErrUnavailable] (Lease answers the business number) until a replica
// is promoted, a few seconds after cluster-node-timeout; each failure also
// asks the client to reload the slot map, which go-redis otherwise does only
// after a MOVED reply or once a minute. Replication is asynchronous: a lease
// acknowledged just before its master died may be missing on the promoted
// replica, which may then hand the number to another session; the first
// session's next Renew answers [pool.ErrStaleLease] and it leases again.
// A promoted replica may even hold none of a pool's keys (it had not
// synced, as on a loaded machine in TestClusterFailover; a restart without
// persistence does the same): a lease that finds no number free and the
// pool never registered on that server registers the numbers again, logs
// it at Warn ([Config].Logger), and goes on, instead of answering the
// business number until the next restart. TestClusterFailover shows all
// this on a cluster the test starts.
//
// The scripts use ZADD GT, so Redis 6.2 or later is required.
//
// Expiry uses the instants callers pass, not Redis TTLs, so it is exact under
// the clock the caller injects (simulated time in tests and simulations).
//
// # Failures
//
// When Redis is unreachable every method returns an error wrapping
// [pool.ErrUnavailable]; Lease also returns the pool's business number with
// Outcome [pool.Original], so the visitor still sees a number. go-redis
// reconnects on its own and the scripts reload themselves after a Redis
// restart, so recovery needs no manual step.
//
// # Bursts and benchmarks
//
// Calls that goroutines make while other calls are on the wire are sent
// together, as one pipeline, when a round trip returns (at most four round
// trips are in flight; [Config].MaxBatch bounds a batch, and 1 turns this
// off). Each caller still waits for its own reply only. On a small machine
// shared with Redis this cuts the system calls and wake-ups per lease, which
// is what the tail latency follows.
//
// [Allocator.LeaseMany] leases for many sessions in one pipelined round trip.
// BenchmarkLeaseSixteenCallers measures Lease from 16 goroutines and, in the
// same run, redis-benchmark with 16 clients on the same script and
// arguments, and reports the ratio and this client's p50 and p99 latency,
// with calls combined and direct:
//
//	go test ./pool/redispool -run '^$' -bench SixteenCallers -benchtime 200000x -cpu 1,2
package redispool
