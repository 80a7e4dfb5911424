package provider

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// IngestConfig configures an Ingest. Zero values mean the documented
// defaults.
type IngestConfig struct {
	// Recorder receives every event. Required.
	Recorder CallRecorder
	// SpoolDir holds the durable spool used while Recorder fails. Required.
	SpoolDir string
	// QueueSize bounds the in-memory hand-off between webhook handlers and
	// the recording goroutine; default 1024. When it is full, Submit waits
	// for room.
	QueueSize int
	// RetryInterval is how often a non-empty spool is replayed; default 2s.
	RetryInterval time.Duration
	// RecordTimeout bounds one RecordCall; default 5s.
	RecordTimeout time.Duration
	// Logger receives recorder failures; default slog.Default().
	Logger *slog.Logger
}

// IngestStats counts what an Ingest has done since it was created.
type IngestStats struct {
	Recorded int64 // delivered to the recorder directly
	Spooled  int64 // written to the spool because the recorder failed or was known down
	Replayed int64 // delivered to the recorder from the spool
	Pending  int   // waiting in the spool now
}

// Ingest delivers call events to a CallRecorder without ever making a
// webhook wait for it: Submit hands the event to one background goroutine
// and returns. When the recorder fails, the event is appended to a durable
// Spool (fsync; events that queued up meanwhile share one fsync) and
// replayed, in order, every RetryInterval until the
// recorder accepts it — also after a process restart, since a new Ingest
// over the same SpoolDir finds the spooled events. While the spool is not
// empty, new events are appended behind the spooled ones instead of calling
// a recorder that is known to be down.
//
// The background goroutine starts on first use (Submit or Start), never in
// NewIngest. Close stops it, waits for it, delivers or spools what is still
// queued, and is idempotent. Submit after Close spools synchronously, so no
// event is lost during shutdown.
type Ingest struct {
	cfg   IngestConfig
	spool *Spool

	startOnce sync.Once
	closeOnce sync.Once
	mu        sync.RWMutex // guards closed against Submit's send
	closed    bool
	queue     chan CallEvent
	stop      chan struct{}
	done      chan struct{}
	kick      chan struct{}

	started                     atomic.Bool
	recorded, spooled, replayed atomic.Int64
}

// NewIngest validates cfg and opens the spool. It starts no goroutines.
func NewIngest(cfg IngestConfig) (*Ingest, error) {
	var errs []error
	if cfg.Recorder == nil {
		errs = append(errs, errors.New("field Recorder: required"))
	}
	if cfg.SpoolDir == "" {
		errs = append(errs, errors.New("field SpoolDir: required (events must survive a store outage)"))
	}
	if cfg.QueueSize < 0 || cfg.RetryInterval < 0 || cfg.RecordTimeout < 0 {
		errs = append(errs, errors.New("fields QueueSize, RetryInterval, RecordTimeout: must not be negative"))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, errors.Join(errs...))
	}
	if cfg.QueueSize == 0 {
		cfg.QueueSize = 1024
	}
	if cfg.RetryInterval == 0 {
		cfg.RetryInterval = 2 * time.Second
	}
	if cfg.RecordTimeout == 0 {
		cfg.RecordTimeout = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	sp, err := OpenSpool(cfg.SpoolDir)
	if err != nil {
		return nil, err
	}
	return &Ingest{
		cfg:   cfg,
		spool: sp,
		queue: make(chan CallEvent, cfg.QueueSize),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
		kick:  make(chan struct{}, 1),
	}, nil
}

// Start launches the background goroutine if it is not running yet, which
// also begins replaying events spooled by an earlier process. Submit calls
// it implicitly.
func (in *Ingest) Start() {
	in.startOnce.Do(func() {
		in.started.Store(true)
		go in.run()
		in.Kick()
	})
}

// Kick asks the background goroutine to retry the spool now rather than
// at the next RetryInterval (e.g. when the host knows the store is back).
func (in *Ingest) Kick() {
	select {
	case in.kick <- struct{}{}:
	default:
	}
}

// Submit queues ev for recording. It never waits on the recorder or the
// disk while the queue has room; when the queue is full it waits for room
// (the background goroutine drains it in batches), so callers on a
// latency-sensitive path submit after writing their response, as Handler
// does. After Close, ev is spooled synchronously.
func (in *Ingest) Submit(ev CallEvent) {
	in.Start()
	in.mu.RLock()
	if !in.closed {
		in.queue <- ev
		in.mu.RUnlock()
		return
	}
	in.mu.RUnlock()
	in.spoolEvent(ev)
}

// Stats returns counters; safe to call at any time.
func (in *Ingest) Stats() IngestStats {
	return IngestStats{
		Recorded: in.recorded.Load(),
		Spooled:  in.spooled.Load(),
		Replayed: in.replayed.Load(),
		Pending:  in.spool.Pending(),
	}
}

// Replay delivers spooled events now, synchronously, and returns the first
// recorder error, if any. Useful at start-up and in tests; the background
// goroutine does the same on its own.
func (in *Ingest) Replay(ctx context.Context) error {
	_, err := in.spool.Drain(func(ev CallEvent) error {
		if err := in.record(ctx, ev); err != nil {
			return err
		}
		in.replayed.Add(1)
		return nil
	})
	return err
}

// Close stops the background goroutine and waits for it; events still
// queued are delivered (or spooled if the recorder fails). Idempotent.
func (in *Ingest) Close() error {
	var err error
	in.closeOnce.Do(func() {
		in.mu.Lock()
		in.closed = true
		in.mu.Unlock()
		in.startOnce.Do(func() {}) // no goroutine may start after Close
		if in.started.Load() {
			close(in.stop)
			<-in.done
		}
		err = in.spool.Close()
	})
	return err
}

func (in *Ingest) run() {
	defer close(in.done)
	ticker := time.NewTicker(in.cfg.RetryInterval)
	defer ticker.Stop()
	var batch []CallEvent
	for {
		select {
		case ev := <-in.queue:
			batch = in.collect(append(batch[:0], ev))
			in.deliver(batch)
		case <-ticker.C:
			in.retrySpool()
		case <-in.kick:
			in.retrySpool()
		case <-in.stop:
			for {
				select {
				case ev := <-in.queue:
					batch = in.collect(append(batch[:0], ev))
					in.deliver(batch)
				default:
					return
				}
			}
		}
	}
}

// maxBatch bounds how many queued events one spool write carries.
const maxBatch = 1024

// collect adds whatever else is already queued to batch, without waiting.
func (in *Ingest) collect(batch []CallEvent) []CallEvent {
	for len(batch) < maxBatch {
		select {
		case ev := <-in.queue:
			batch = append(batch, ev)
		default:
			return batch
		}
	}
	return batch
}

// deliver records a batch in order. Once the recorder fails, or while the
// spool already holds events (the recorder failed recently), the rest of
// the batch is spooled with one fsync, behind what is already there.
func (in *Ingest) deliver(batch []CallEvent) {
	for i, ev := range batch {
		if in.spool.Pending() > 0 {
			in.spoolEvents(batch[i:])
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), in.cfg.RecordTimeout)
		err := in.record(ctx, ev)
		cancel()
		if err != nil {
			in.cfg.Logger.Warn("calltrack: recording call failed; spooling", "provider", ev.Provider, "call_id", ev.CallID, "err", err)
			in.spoolEvents(batch[i:])
			return
		}
		in.recorded.Add(1)
	}
}

func (in *Ingest) record(ctx context.Context, ev CallEvent) error {
	return in.cfg.Recorder.RecordCall(ctx, ev)
}

func (in *Ingest) retrySpool() {
	if in.spool.Pending() == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), in.cfg.RecordTimeout)
	defer cancel()
	if err := in.Replay(ctx); err != nil {
		in.cfg.Logger.Debug("calltrack: recorder still unavailable", "pending", in.spool.Pending(), "err", err)
	}
}

func (in *Ingest) spoolEvent(ev CallEvent) { in.spoolEvents([]CallEvent{ev}) }

func (in *Ingest) spoolEvents(evs []CallEvent) {
	if err := in.spool.AppendBatch(evs); err != nil {
		// Disk full or gone: nothing else can be done; say so loudly.
		for _, ev := range evs {
			in.cfg.Logger.Error("calltrack: call event lost: spool append failed", "provider", ev.Provider, "call_id", ev.CallID, "err", err)
		}
		return
	}
	in.spooled.Add(int64(len(evs)))
}
