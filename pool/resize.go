package pool

import (
	"context"
	"errors"
	"time"
)

// Resizer is the optional capability of an [Allocator] whose pools change
// membership at run time; pool/autoscale finds it by type assertion.
// [Elastic] implements it. [Memory] and pool/redispool do not: their number
// tables and scripts are fixed when they are built (see the documentation of
// [Elastic]).
//
// Contract, on top of the Allocator's:
//   - AddNumbers makes numbers leasable at once, free and out of cooldown.
//     Adding a number the pool already leases is a no-op; adding one the
//     pool is draining puts it back in service; a number of another pool, a
//     dedicated or fallback number, or a malformed one is refused
//     ([ErrNumberElsewhere], [ErrInvalidNumber]) and nothing is added.
//   - Drain stops new leases of the number at once (no Lease, reuse
//     included, hands it out again) while its live holds carry on to their
//     release or expiry. It is idempotent and reports the [DrainState] at now.
//   - A draining number keeps answering HoldersAt, so calls within the grace
//     window still find their sessions.
//   - Draining lists the pool's numbers that are draining or drained and not
//     yet removed, so a drain survives the process that started it.
//   - Remove forgets a drained number: it succeeds only when the number's
//     last hold ended a full cooldown before now ([ErrStillDraining]
//     otherwise, changing nothing); removing a number the pool does not have
//     returns nil, so clean-up can be retried.
type Resizer interface {
	AddNumbers(ctx context.Context, pool string, numbers ...string) error
	Drain(ctx context.Context, pool, number string, now time.Time) (DrainState, error)
	Draining(ctx context.Context, pool string) ([]string, error)
	Remove(ctx context.Context, pool, number string, now time.Time) error
}

// DrainState is how far the drain of one number has come.
type DrainState struct {
	Number string
	// Holds counts the number's live holds; the drain waits for them.
	Holds int
	// CoolsAt is when the last hold's cooldown ends: the earliest time the
	// number may be removed. Zero while holds are live.
	CoolsAt time.Time
	// Done: no live hold and the cooldown has passed, so Remove succeeds.
	Done bool
}

var (
	// ErrNumberElsewhere reports a number added to a pool while it belongs
	// to another pool or is a dedicated or fallback number.
	ErrNumberElsewhere = errors.New("pool: number belongs elsewhere")
	// ErrStillDraining reports a Remove of a number whose drain has not
	// finished: it is still held, or inside its cooldown.
	ErrStillDraining = errors.New("pool: number still draining")
)
