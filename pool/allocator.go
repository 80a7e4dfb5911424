package pool

import (
	"context"
	"time"
)

// Allocator leases tracking numbers to visitor sessions. [Memory] implements
// it in process; pool/redispool implements it on Redis for several app
// instances. Both pass the pool/pooltest conformance suite.
//
// Contract, for every implementation:
//   - Methods are safe for concurrent use.
//   - Lease gives a live session the same number and token back on every call
//     (and extends its expiry); a session with no live lease gets the free
//     number whose last hold ended longest ago, and never a number inside its
//     cooldown while a number out of cooldown is free.
//   - Two live sessions never share a number, except through a reuse that is
//     recorded (Outcome [Reused], Holder.Reused) under the ReuseLeastRecent policy.
//   - Exhaustion is never an error: the pool's policy picks a reuse, the
//     fallback number or the original number.
//   - Renew and Release succeed only with the token of the session's live
//     lease; otherwise they return [ErrStaleLease] and change nothing.
//     Release is therefore safe to retry.
//   - Leases expire SessionWindow after their last Lease or Renew. Expiry is
//     lazy: expired leases stop counting as held at once, and their numbers
//     return to the free list on the next Sweep or when a Lease needs them.
//   - Errors wrap the package's sentinels ([ErrUnknownPool],
//     [ErrInvalidSession], [ErrStaleLease], [ErrUnavailable], ...). When Lease
//     fails for a known pool, the returned Lease still carries the pool's
//     business number with Outcome [Original], so a visitor always sees a
//     number.
type Allocator interface {
	// Lease gives sessionID a number of the named pool at time now.
	Lease(ctx context.Context, pool, sessionID string, now time.Time) (Lease, error)
	// Renew extends the session's lease to now + SessionWindow (heartbeat).
	Renew(ctx context.Context, pool, sessionID string, token Token, now time.Time) (Lease, error)
	// Release ends the session's lease at now; its number starts cooling.
	Release(ctx context.Context, pool, sessionID string, token Token, now time.Time) error
	// HoldersAt lists the holds of number that overlap [at-grace, at], oldest
	// first: the sessions a call to number at time at may belong to.
	HoldersAt(ctx context.Context, number string, at time.Time, grace time.Duration) ([]Holder, error)
	// Sweep ends every lease expired at now and returns how many it ended.
	Sweep(ctx context.Context, now time.Time) (int, error)
	// Stats reports the state of the named pool at time now.
	Stats(ctx context.Context, pool string, now time.Time) (Stats, error)
}

// Token identifies one lease. A lease token never names a later lease, so a
// stale holder can neither renew nor release a number that moved on. Zero
// means "no lease" (fallback and original outcomes).
type Token uint64

// Outcome tells how a Lease call was served.
type Outcome uint8

const (
	// Assigned: the session got a free number of its own.
	Assigned Outcome = iota + 1
	// Continued: the session already held this number; its lease was extended.
	Continued
	// Reused: the pool was exhausted and the session shares a number whose
	// other holder was least recently active. Attribution confidence is lower.
	Reused
	// Fallback: the pool was exhausted and the session sees the pool's
	// fallback number; calls to it match the pool but no session.
	Fallback
	// Original: the session sees the business number itself (pool exhausted
	// under ServeOriginal, or the allocator is unavailable).
	Original
)

func (o Outcome) String() string {
	switch o {
	case Assigned:
		return "assigned"
	case Continued:
		return "continued"
	case Reused:
		return "reused"
	case Fallback:
		return "fallback"
	case Original:
		return "original"
	}
	return "none"
}

// Tracked reports whether the number shown is a tracking number tied to this
// session (so calls to it can be stitched to the session).
func (o Outcome) Tracked() bool { return o == Assigned || o == Continued || o == Reused }

// Lease is the answer to a Lease or Renew call.
type Lease struct {
	Pool      string
	Number    string // E.164
	Token     Token  // zero unless Outcome.Tracked()
	ExpiresAt time.Time
	Outcome   Outcome
}

// Holder is one hold of a number by a session, as HoldersAt returns it.
type Holder struct {
	Pool      string
	Number    string
	SessionID string
	From      time.Time
	// Until is when the hold ended or, while it is live, when it will
	// expire without renewal.
	Until  time.Time
	Live   bool
	Reused bool // the hold started as a reuse of a held number
}

// HoldRecord is a hold as written through to a store ([Config.OnRecord]):
// Until is zero when the hold starts and set when it ends.
type HoldRecord struct {
	Token     Token
	Pool      string
	Number    string
	SessionID string
	From      time.Time
	Until     time.Time
	Reused    bool
}

// Stats is a snapshot of one pool.
type Stats struct {
	Size    int // leasable numbers
	Leased  int // numbers held by at least one live lease
	Free    int // not held, out of cooldown
	Cooling int // not held, inside cooldown
	// Holds counts live leases; above Leased when numbers are shared.
	Holds int
	// Reuses, Fallbacks and Originals count exhausted Lease outcomes since
	// start; CoolingHandouts counts numbers handed out inside their cooldown
	// because nothing colder was free.
	Reuses          uint64
	Fallbacks       uint64
	Originals       uint64
	CoolingHandouts uint64
	// PeakConcurrency is the most numbers seen held at once: in the holds
	// still in memory and at every Stats or Sweep call.
	PeakConcurrency int
	// Utilisation is Leased / Size.
	Utilisation float64
}
