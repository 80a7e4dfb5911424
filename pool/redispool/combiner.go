package redispool

import (
	"context"
	"slices"
	"sync"

	"github.com/redis/go-redis/v9"
)

// combiner sends the script calls that goroutines make at the same time in
// one pipeline. A call that finds fewer than maxInFlight round trips on the
// wire goes out at once, on its caller's goroutine; later calls queue up,
// and when a round trip returns, the caller that sent it hands the queue to
// the first caller in it, who sends it as one pipeline, and so on. Under
// load this turns many round trips into a few: fewer system calls and
// wake-ups on both sides, which on a small machine shared with Redis is what
// the tail latency follows. No goroutine of its own ever runs.
type combiner struct {
	rdb      redis.UniversalClient
	maxBatch int

	mu       sync.Mutex
	queue    []*scriptCall
	inFlight int // round trips on the wire or about to be; at maxInFlight new calls queue
}

// scriptCall is one script run and, once done is closed, its reply.
type scriptCall struct {
	script *redis.Script
	keys   []string
	args   []any
	cmd    *redis.Cmd
	done   chan struct{}
	// Guarded by combiner.mu:
	taken bool          // left the queue in some batch
	lead  []*scriptCall // when set, this caller is to send lead (it is in it)
}

// maxInFlight is how many round trips may be on the wire at once: one
// would leave Redis idle while each reply is read and handed out; a few
// keep it busy while still combining under load (measured: 2 to 8 behave
// alike on two cores, 1 is slower than not combining at all).
const maxInFlight = 4

func newCombiner(rdb redis.UniversalClient, maxBatch int) *combiner {
	return &combiner{rdb: rdb, maxBatch: maxBatch}
}

// run runs script as Script.Run would and returns its reply.
func (c *combiner) run(ctx context.Context, script *redis.Script, keys []string, args ...any) *redis.Cmd {
	if c.maxBatch == 1 {
		return script.Run(ctx, c.rdb, keys, args...)
	}
	call := &scriptCall{script: script, keys: keys, args: args, done: make(chan struct{})}
	c.mu.Lock()
	if c.inFlight < maxInFlight {
		c.inFlight++
		call.taken = true
		c.mu.Unlock()
		c.lead(ctx, []*scriptCall{call})
		return call.cmd
	}
	c.queue = append(c.queue, call)
	c.mu.Unlock()
	select {
	case <-call.done:
	case <-ctx.Done():
		c.mu.Lock()
		switch {
		case !call.taken: // still queued: withdraw it
			c.queue = slices.DeleteFunc(c.queue, func(q *scriptCall) bool { return q == call })
			c.mu.Unlock()
			return ctxCmd(ctx)
		case call.lead == nil: // in a batch another caller sends
			c.mu.Unlock()
			return ctxCmd(ctx)
		}
		c.mu.Unlock()
		<-call.done // chosen to send a batch: others wait on it
	}
	if batch := call.lead; batch != nil {
		// The batch carries other callers' calls: this caller's deadline or
		// cancellation must not fail them (the client's own read and write
		// timeouts still bound the round trip).
		c.lead(context.WithoutCancel(ctx), batch)
	}
	return call.cmd
}

func ctxCmd(ctx context.Context) *redis.Cmd {
	cmd := redis.NewCmd(ctx)
	cmd.SetErr(ctx.Err())
	return cmd
}

// lead sends batch, then hands what queued meanwhile to the first caller
// of the next batch (or marks the line idle), and only then returns, so the
// leader's own reply is never held up by later batches.
func (c *combiner) lead(ctx context.Context, batch []*scriptCall) {
	c.send(ctx, batch)
	for _, call := range batch {
		if call.lead == nil {
			close(call.done)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	n := min(len(c.queue), c.maxBatch)
	if n == 0 {
		c.inFlight--
		return
	}
	next := slices.Clone(c.queue[:n])
	c.queue = append(c.queue[:0], c.queue[n:]...)
	for _, call := range next {
		call.taken = true
	}
	next[0].lead = next
	close(next[0].done)
}

// send runs batch in one pipeline. A script
// missing from the server (Redis restarted and lost its cache) is loaded
// and the calls that met NOSCRIPT are sent once more.
func (c *combiner) send(ctx context.Context, batch []*scriptCall) {
	c.pipeline(ctx, batch)
	var retry []*scriptCall
	loaded := map[*redis.Script]bool{}
	for _, call := range batch {
		if !isNoScript(call.cmd.Err()) {
			continue
		}
		retry = append(retry, call)
		if !loaded[call.script] {
			loaded[call.script] = true
			_ = call.script.Load(ctx, c.rdb).Err() // a failure shows in the retry
		}
	}
	if len(retry) > 0 {
		c.pipeline(ctx, retry)
	}
}

// pipeline sets each call's cmd; errors are read per command.
func (c *combiner) pipeline(ctx context.Context, batch []*scriptCall) {
	if len(batch) == 1 {
		call := batch[0]
		call.cmd = call.script.EvalSha(ctx, c.rdb, call.keys, call.args...)
		return
	}
	_, _ = c.rdb.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		for _, call := range batch {
			call.cmd = call.script.EvalSha(ctx, pipe, call.keys, call.args...)
		}
		return nil
	})
}
