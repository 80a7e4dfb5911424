// Package pool leases tracking numbers to visitor sessions for Dynamic
// Number Insertion: one live session holds one number of its pool, numbers
// are recycled least recently used first after a cooldown, and every hold is
// remembered so a call can be traced back to the session that saw the number.
//
// # Configuration
//
// A [Config] lists [PoolConfig] pools (interchangeable numbers per traffic
// source) and [DedicatedNumber] numbers fixed to one offline campaign. Zero
// fields mean the documented defaults: a 30-minute [DefaultSessionWindow], a
// 60-minute [DefaultCooldown] (the call-grace period), the
// [ReuseLeastRecent] exhaustion policy and [DefaultHistoryPerNumber] holds
// kept per number. Numbers are E.164, checked with [ParseNumber].
// [Config.Validate] reports every problem at once, each a [*ConfigError]
// naming the field and entry:
//
//	pool "paid-search": numbers[3] "+1555": not a valid E.164 number
//
// [NewCatalog] gives the validated form; [Catalog.Number] finds the pool of a
// tracking number and [Catalog.Dedicated] the campaign of a dedicated one.
//
// # Allocators
//
// [Allocator] is the contract; [Memory] implements it in process and
// pool/redispool on Redis for several app instances. Both pass the
// pool/pooltest conformance suite. Per visit the caller runs
// [Allocator.Lease] (the same live session always gets its number and token
// back), [Allocator.Renew] on each heartbeat and [Allocator.Release] when the
// visitor leaves. A [Token] names one lease: a holder whose lease ended can
// neither renew nor release the number's next lease. Exhaustion is never an
// error for the visitor: the [ExhaustionPolicy] gives a recorded reuse
// ([Reused]), the fallback number ([Fallback]) or the business number
// ([Original]).
//
// [Elastic] also implements [Resizer]: numbers are added at run time and
// drained (no new leases; holds and late calls still resolve) through
// their cooldown before removal, which pool/autoscale drives from an
// audit through a vendor's provisioner. It passes the pooltest suite and
// pooltest.RunResize; [Memory] and pool/redispool keep the numbers they
// were built with.
//
// The journey stitcher asks [Allocator.HoldersAt] which sessions held a
// number at the time of a call or within the grace window before it; a
// store writes history through [Config.OnRecord]. [Allocator.Stats] reports
// leased, free and cooling numbers, reuses, fallbacks, peak concurrency and
// utilisation.
//
// # The lock-free allocator
//
// [Memory] takes no lock on Lease, Renew, Release or HoldersAt: each step is
// a load or a compare-and-swap on one 64-bit word, so no goroutine ever
// waits for another, and a goroutine stalled mid-operation blocks nobody.
//
//   - Free numbers wait in per-processor FIFO rings (bounded lock-free
//     queues whose cells pack sequence and value in one word). A Lease
//     starts with the ring of the processor it runs on, so on a multi-core
//     machine each core mostly touches its own cache lines: one shared
//     queue would bounce its head and tail between cores on every call.
//     A number released goes back to its home ring; a number whose lease
//     lapsed goes to a separate expiry ring, so every ring stays ordered by
//     when its numbers' holds ended.
//   - Each number has one state word (when it was freed, live holders,
//     generation of its latest hold) and a small ring of hold slots, each
//     hold's state (expiry, live, reused, generation) in one word, so renew,
//     release and expiry are single compare-and-swaps and linearise against
//     one another: an expiry never overrides a renewal that landed first.
//   - Sessions are found through an open-addressing table of atomic words
//     pointing at holds; the hold is the truth, so an entry whose hold ended
//     is simply free to overwrite and Release never touches the table. Two
//     concurrent first Leases of one session both publish, then look again;
//     at least one sees the other and withdraws, so they agree.
//   - A [Token] packs the number and a 14-bit hold generation, and Renew
//     and Release also check the session id, so a stale token could only
//     ever match the same session's own lease on the same number 16,384
//     holds later.
//   - Expiry is lazy: an expired hold stops counting at once and its number
//     is freed by the next [Memory.Sweep], or by a Lease that finds no
//     number out of cooldown. No goroutine is started.
//
// Ordering guarantee: a number is handed out inside its cooldown only when
// no free number anywhere is out of cooldown (Lease checks the head of every
// ring, and sweeps expired holds, before settling for a cooling number, and
// then takes the one freed longest ago). Among numbers out of cooldown the
// order is exactly least recently used within a ring, and approximately so
// across rings: a Lease prefers a cold number from its own processor's ring
// to an older one elsewhere. With one processor (or on Redis) the order is
// exact.
//
// # Sizing
//
// [Recommend] sizes a pool from peak traffic with an M/G/∞ model: the count
// of numbers held or cooling is Poisson with mean λ·(session + window +
// cooldown), and the pool gets the smallest size whose chance of having no
// number out of cooldown stays under a target such as 1 %. The example of
// [Recommend] compares it with the vendors' rules of thumb
// ([RuleOfThumbPerDailyVisitors], [RuleOfThumbPerPeakHour]) on worked
// numbers. [Audit] reads observed holds and reports utilisation, reuse rate,
// peak concurrency, the estimated share of calls at risk of misattribution
// and a recommended size.
//
// # Benchmarks
//
//	go test ./pool -run '^$' -bench 'LeaseRelease|MutexBaseline' -benchmem -cpu 1,2
//
// BenchmarkMutexBaseline is the reference design (one mutex, a
// container/list LRU and a session map), measured in the same run.
// Stress, without the race detector as well as with it:
//
//	GOMAXPROCS=2 go test -count=3 -run TestStress ./pool/
package pool
