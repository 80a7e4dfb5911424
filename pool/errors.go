package pool

import "errors"

// Sentinel errors. Check them with [errors.Is]; the allocators wrap them with
// the pool, number or session concerned.
var (
	// ErrInvalidConfig wraps every configuration problem reported by
	// [Config.Validate] and [New].
	ErrInvalidConfig = errors.New("pool: invalid config")
	// ErrInvalidNumber reports a phone number that is not a valid E.164 number.
	ErrInvalidNumber = errors.New("pool: invalid phone number")
	// ErrUnknownPool reports a pool name that the configuration does not define.
	ErrUnknownPool = errors.New("pool: unknown pool")
	// ErrUnknownNumber reports a number that belongs to no pool and is not dedicated.
	ErrUnknownNumber = errors.New("pool: unknown number")
	// ErrInvalidSession reports an empty or over-long session id.
	ErrInvalidSession = errors.New("pool: invalid session id")
	// ErrStaleLease reports a renew or release with a token that no longer
	// names a live lease of that session: it was released, it expired, or
	// the number has moved on to another holder.
	ErrStaleLease = errors.New("pool: lease is no longer held")
	// ErrUnavailable reports that the allocator's backing service (Redis)
	// could not be reached. The visitor should be shown the original number.
	ErrUnavailable = errors.New("pool: allocator unavailable")
)
