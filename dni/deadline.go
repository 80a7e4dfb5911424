package dni

import (
	"context"
	"sync"
	"time"
)

// deadlineCtx is context.WithDeadline for the tracker API's two deadlines
// per request (Config.APITimeout, Config.StoreWait), made when Done is
// first called instead of at once. Most visits never wait on a channel:
// they check Err, and that needs only the clock. context.WithDeadline
// costs several allocations (the context, its timer, its parent's set of
// children), about a tenth of a visit's; a deadlineCtx costs one until
// something selects on Done or derives a context from it, and then what
// WithDeadline would have cost.
//
// Until then Err answers as WithDeadline's would, from the parent, the
// clock and cancel, and Value is the parent's (and client's under
// clientKey); after, the real context answers (but for an Err that cancel
// fixed first).
type deadlineCtx struct {
	parent   context.Context
	deadline time.Time
	client   string // clientOf; "" defers to the parent

	mu   sync.Mutex
	real context.Context // made by Done; nil until then
	stop context.CancelFunc
	err  error // set by cancel
}

// withDeadline is context.WithTimeout(parent, d), made lazily; client, if
// not "", is the client address clientOf reads.
func withDeadline(parent context.Context, d time.Duration, client string) (context.Context, context.CancelFunc) {
	c := &deadlineCtx{parent: parent, deadline: time.Now().Add(d), client: client}
	if pd, ok := parent.Deadline(); ok && pd.Before(c.deadline) {
		c.deadline = pd
	}
	return c, c.cancel
}

func (c *deadlineCtx) Deadline() (time.Time, bool) { return c.deadline, true }

func (c *deadlineCtx) Done() <-chan struct{} { return c.made().Done() }

// made returns the real context, making it on first use.
func (c *deadlineCtx) made() context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.real != nil:
	case c.err != nil && c.err != context.DeadlineExceeded:
		// Canceled (or the parent's end) before the deadline: a real
		// context made with the deadline, now past, would end with
		// DeadlineExceeded, and its children and Cause would disagree
		// with Err.
		c.real, c.stop = context.WithCancel(c.parent)
		c.stop()
	default:
		c.real, c.stop = context.WithDeadline(c.parent, c.deadline)
		if c.err != nil {
			c.stop()
		}
	}
	return c.real
}

func (c *deadlineCtx) Err() error {
	c.mu.Lock()
	real, err := c.real, c.err
	c.mu.Unlock()
	switch {
	case err != nil:
		return err
	case real != nil:
		return real.Err()
	}
	return c.errNow()
}

// errNow is the error of a context not made yet and not canceled.
func (c *deadlineCtx) errNow() error {
	if err := c.parent.Err(); err != nil {
		return err
	}
	if !time.Now().Before(c.deadline) {
		return context.DeadlineExceeded
	}
	return nil
}

func (c *deadlineCtx) Value(key any) any {
	if _, ok := key.(clientKey); ok && c.client != "" {
		return c.client
	}
	// While this context is live, and not made, the parent's values are
	// right, the context package's own too (context.Cause is nil, or the
	// parent's cause). After, the real context knows its cause.
	if c.Err() == nil {
		c.mu.Lock()
		real := c.real
		c.mu.Unlock()
		if real == nil {
			return c.parent.Value(key)
		}
	}
	return c.made().Value(key)
}

func (c *deadlineCtx) cancel() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return
	}
	if c.real != nil {
		c.stop()
		c.err = c.real.Err()
		return
	}
	if c.err = c.errNow(); c.err == nil {
		c.err = context.Canceled
	}
}
