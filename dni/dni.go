package dni

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/metric"
	"golang.org/x/sync/errgroup"

	"github.com/attriqs/calltrack/classify"
	"github.com/attriqs/calltrack/dni/tracker"
	"github.com/attriqs/calltrack/export"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/store"
	"github.com/attriqs/calltrack/store/memstore"
)

// Service is call tracking for one site: it classifies visits, leases
// tracking numbers, answers and records calls, stitches them to sessions
// and qualifies them. Build it with New, which opens everything that can
// fail and starts nothing; run its background work with Run; serve
// Handler; call Close when done. All methods are safe for concurrent use.
type Service struct {
	cfg        Config
	log        *slog.Logger
	now        func() time.Time
	classifier *classify.Classifier
	catalog    *pool.Catalog
	alloc      pool.Allocator
	store      store.Store
	calls      *journey.CallPipeline
	router     router
	displays   sync.Map   // tracking number → its national format
	chatRules  sync.Mutex // orders chat rules' conversions and chat outcomes set by hand
	script     *tracker.Script
	holds      *holdWriter
	writes     *writeBehind
	visitorIDs *visitorIDs // issues and verifies signed visitor ids
	netHolds   *holdTable  // live leases per client network (Config.HoldLimits)
	limits     *limiter
	reportAuth func(http.Handler) http.Handler
	providers  []provider.Provider
	skipVerify bool
	exports    *export.Exporter
	analysis   *AnalysisSink       // nil without WithAnalysis
	spam       *journey.SpamFilter // nil marks no call
	numbers    numberDirectory     // the catalog and the numbers added at run time

	handler   http.Handler
	webhooks  []*provider.Handler
	ingest    *provider.Ingest // nil without providers
	metrics   metric.Registration
	closed    atomic.Bool
	closeOnce sync.Once

	life    sync.Mutex  // orders Run's start against Close
	running atomic.Bool // Run is doing the background work now
	stopRun context.CancelFunc
	runDone chan struct{}
}

// Option changes what New wires in.
type Option func(*options)

type options struct {
	store      store.Store
	alloc      func(pool.Config) (pool.Allocator, error)
	providers  []provider.Provider
	spoolDir   string
	clock      func() time.Time
	logger     *slog.Logger
	reportAuth func(http.Handler) http.Handler
	skipVerify bool
	exports    *export.Exporter
	analysis   *AnalysisSink
	meters     metric.MeterProvider
}

// WithStore persists to s; the default is an in-memory store that loses
// everything on exit.
func WithStore(s store.Store) Option { return func(o *options) { o.store = s } }

// WithAllocator leases numbers from the allocator newAlloc builds (for
// example a pool/redispool allocator shared by several instances). New
// calls it with the pools of Config and the history hook
// (pool.Config.OnRecord) that writes every hold through to the store,
// for the audits and late calls that read it; newAlloc must use that
// pool.Config as given. The default is the in-process allocator,
// pool.New.
func WithAllocator(newAlloc func(pool.Config) (pool.Allocator, error)) Option {
	return func(o *options) { o.alloc = newAlloc }
}

// WithProvider answers and records the webhooks of a telephony provider at
// {Prefix}webhooks/{name}. Webhooks need WithSpoolDir.
func WithProvider(p provider.Provider) Option {
	return func(o *options) { o.providers = append(o.providers, p) }
}

// WithSpoolDir keeps the write-ahead log of call events in dir: each
// webhook's event is fsynced there before the webhook is answered, and
// delivered to the store from there, also after a crash or while the
// store is down. dir must be on persistent storage. Events the store
// refuses for good are kept there too (Service.DeadLetters).
func WithSpoolDir(dir string) Option { return func(o *options) { o.spoolDir = dir } }

// WithClock replaces time.Now, for tests and simulations.
func WithClock(now func() time.Time) Option { return func(o *options) { o.clock = now } }

// SteppingClock is a clock for load tests and simulations that starts at
// start and moves step forward on every reading.
func SteppingClock(start time.Time, step time.Duration) func() time.Time {
	var n atomic.Int64
	return func() time.Time { return start.Add(time.Duration(n.Add(1)) * step) }
}

// WithLogger logs through l instead of slog.Default().
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithReportAuth guards the report endpoints: wrap is given the report
// handler and returns it behind the host's authentication. Without it the
// report endpoints answer 404: no report is public by default.
func WithReportAuth(wrap func(http.Handler) http.Handler) Option {
	return func(o *options) { o.reportAuth = wrap }
}

// WithExports sends qualified calls to CRMs, ad platforms and webhooks: the
// conversion and its deliveries are written in one store transaction and
// delivered with retries. x must be built on the store given to
// WithStore. The Service owns it from then on: Run runs it and Close
// closes it.
func WithExports(x *export.Exporter) Option { return func(o *options) { o.exports = x } }

// WithAnalysis runs a call analyzer on every recorded call (see
// AnalysisSink): its labels and transcript are stored on the call, where
// qualification rules (QualifyRule.RequireLabels) and the spam filter read
// them. Give the same sink to the exporter of WithExports; without
// WithExports the Service makes an exporter for it on the store's outbox.
func WithAnalysis(a *AnalysisSink) Option { return func(o *options) { o.analysis = a } }

// WithInsecureSkipVerify DISABLES WEBHOOK SIGNATURE VERIFICATION, so anyone
// who can reach the webhook URL can forge calls. Local development only.
func WithInsecureSkipVerify() Option { return func(o *options) { o.skipVerify = true } }

// New validates cfg and wires a Service, reporting every configuration
// problem at once, each naming its field: every setting that would fail
// when a call arrives fails here. It opens the spool of call events and
// starts no goroutines (see Run).
func New(cfg Config, opts ...Option) (*Service, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	cfg = cfg.withDefaults()
	errs := []error{cfg.validate()}
	if o.clock == nil {
		o.clock = time.Now
	}
	if o.logger == nil {
		o.logger = slog.Default()
	}
	if o.store == nil {
		o.store = memstore.New()
	}
	if len(o.providers) > 0 && o.spoolDir == "" {
		errs = append(errs, errors.New("dni: WithProvider needs WithSpoolDir, so no call is lost while the store is down"))
	}
	seen := map[string]bool{}
	for _, p := range o.providers {
		if seen[p.Name()] {
			errs = append(errs, fmt.Errorf("dni: provider %q given twice", p.Name()))
		}
		seen[p.Name()] = true
	}

	classifier, err := classify.New(cfg.Classify)
	if err != nil {
		errs = append(errs, fmt.Errorf("dni: Classify: %w", err))
	}
	s := &Service{cfg: cfg, log: o.logger, now: o.clock, classifier: classifier, store: o.store,
		router: newRouter(cfg.Pools), reportAuth: o.reportAuth, providers: o.providers, skipVerify: o.skipVerify,
		exports: o.exports}
	s.holds = newHoldWriter(o.store, o.logger)
	s.writes = newWriteBehind(o.logger)
	s.writes.holds, s.holds.batching = s.holds, s.writes.batching
	poolCfg := cfg.poolConfig(s.holds.record)
	s.catalog, err = pool.NewCatalog(poolCfg)
	errs = append(errs, err)
	// The allocator may write to Redis: build it only for a configuration
	// that is otherwise valid.
	if err == nil && errors.Join(errs...) == nil {
		newAlloc := o.alloc
		if newAlloc == nil {
			newAlloc = func(c pool.Config) (pool.Allocator, error) { return pool.New(c) }
		}
		if s.alloc, err = newAlloc(poolCfg); err != nil {
			errs = append(errs, fmt.Errorf("dni: allocator: %w", err))
		} else if s.alloc == nil {
			errs = append(errs, errors.New("dni: allocator: WithAllocator's function returned no allocator"))
		}
	}
	qualifier, err := journey.NewQualifier(journey.QualifierConfig{Rules: cfg.Qualify, History: o.store})
	if err != nil {
		errs = append(errs, fmt.Errorf("dni: Qualify: %w", err))
	}
	if s.spam, err = journey.NewSpamFilter(cfg.Spam, cfg.IdentityKey, o.store); err != nil {
		errs = append(errs, fmt.Errorf("dni: Spam: %w", err))
	}
	errs = append(errs, s.wireAnalysis(o))
	if s.script, err = tracker.Build(cfg.Tracker); err != nil {
		errs = append(errs, fmt.Errorf("dni: Tracker: %w", err))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	s.numbers = numberDirectory{s.catalog, s.alloc}
	stitcher, err := journey.NewStitcher(s.numbers, holdSources{s.alloc, o.store}, o.store, journey.StitcherConfig{
		CallGrace: cfg.CallGrace, PoolSources: poolSources(cfg.Pools), Clock: s.now,
	})
	if err != nil {
		return nil, err
	}
	// No Outcomes: the store's PutCallRecord applies a hand-set outcome
	// inside its transaction and SetOutcome applies the new one, so a read
	// here would be one more per call event, and overridden.
	s.calls = &journey.CallPipeline{Stitcher: stitcher, Qualifier: qualifier, IdentityKey: cfg.IdentityKey, Spam: s.spam,
		PoolOf: func(number string) string {
			info, _ := s.numbers.Number(number)
			return info.Pool
		}}
	s.limits = newLimiter(cfg.VisitsPerIPPerMinute, cfg.VisitsPerVisitorPerMinute, s.now)
	s.visitorIDs, s.netHolds = newVisitorIDs(cfg.VisitorKeys), newHoldTable(cfg.HoldLimits, s.catalog)
	if s.visitorIDs.generated {
		s.log.Warn("dni: Config.VisitorKeys is empty: visitor ids are signed with a key made for this process, " +
			"so after a restart, or on another instance, returning visitors become new ones; set VisitorKeys in production")
	}
	if len(o.providers) > 0 {
		// A spool directory that cannot be used is no error here: callers
		// must still be forwarded. The ingest keeps events in memory,
		// logs it at Error and Health reports it.
		s.ingest, err = provider.NewIngest(s, provider.IngestConfig{SpoolDir: o.spoolDir, Logger: s.log,
			IsPermanent: func(err error) bool { return errors.Is(err, store.ErrInvalid) || errors.Is(err, store.ErrConflict) },
			Redact:      s.redact})
		if err != nil {
			return nil, err
		}
	}
	if s.handler, err = s.buildHandler(); err == nil {
		s.metrics, err = s.registerMetrics(o.meters)
	}
	if err != nil {
		if s.ingest != nil {
			s.ingest.Close()
		}
		return nil, err
	}
	return s, nil
}

// wireAnalysis gives the analysis sink to the Service and makes sure an
// exporter delivers its messages.
func (s *Service) wireAnalysis(o options) error {
	if o.analysis == nil {
		return nil
	}
	if o.analysis.analyzer == nil {
		return errors.New("dni: WithAnalysis: the sink has no analyzer")
	}
	s.analysis = o.analysis
	o.analysis.bind(s)
	if s.exports != nil {
		if !s.exports.HasSink(AnalysisSinkName) {
			return errors.New("dni: WithAnalysis: the exporter of WithExports must deliver to the analysis sink (give it to export.New)")
		}
		return nil
	}
	outbox, ok := s.store.(store.Outbox)
	if !ok {
		return errors.New("dni: WithAnalysis: the store keeps no outbox (store.Outbox) to queue analyses in")
	}
	x, err := export.New(outbox, export.Config{Logger: s.log, Now: s.now}, o.analysis)
	if err != nil {
		return fmt.Errorf("dni: WithAnalysis: %w", err)
	}
	s.exports = x
	return nil
}

// Store is the store the service writes to.
func (s *Service) Store() store.Store { return s.store }

// ScriptSrc is the path to put in the site's script tag:
// <script src="{ScriptSrc}" async></script>. It carries the script's
// content hash, so browsers may cache it for good.
func (s *Service) ScriptSrc() string { return s.script.Src(s.cfg.Prefix) }

// Catalog is the validated pool configuration.
func (s *Service) Catalog() *pool.Catalog { return s.catalog }

// ErrClosed is returned by Run after Close.
var ErrClosed = errors.New("dni: service closed")

// Run does the Service's background work until ctx ends or Close is
// called, each task under one errgroup: delivering call events from the
// spool to the store (also those an earlier process spooled), writing
// hold history and the visits' writes that outlived their request,
// sweeping expired leases every minute, deleting data past
// Config.Retention every hour, and delivering exports (WithExports).
// Webhooks are answered and spooled without Run, but nothing is recorded
// until it runs (Health says so). Run returns nil after Close, ctx's error
// when ctx ends, the first task's error if one fails (the others are
// stopped), and an error if the Service is closed or Run was called
// before: it may be called once.
func (s *Service) Run(ctx context.Context) error {
	s.life.Lock()
	switch {
	case s.closed.Load():
		s.life.Unlock()
		return ErrClosed
	case s.runDone != nil:
		s.life.Unlock()
		return errors.New("dni: Run may be called only once")
	}
	s.running.Store(true)
	defer s.running.Store(false)
	ctx, s.stopRun = context.WithCancel(ctx)
	s.runDone = make(chan struct{})
	done := s.runDone
	s.life.Unlock()
	defer close(done)

	g, gctx := errgroup.WithContext(ctx)
	if s.ingest != nil {
		g.Go(func() error { return s.ingest.Run(gctx) })
	}
	g.Go(func() error { return s.holds.run(gctx) })
	g.Go(func() error { return s.writes.run(gctx) })
	if r, ok := s.store.(store.Runner); ok {
		g.Go(func() error { return r.Run(gctx) })
	}
	g.Go(func() error { return s.every(gctx, time.Minute, s.sweep) })
	if s.cfg.Retention > 0 {
		// At start too: a process restarted more often than hourly must
		// still keep the retention policy.
		g.Go(func() error { return s.every(gctx, time.Hour, s.retain) })
	}
	if s.exports != nil {
		g.Go(func() error { return s.exports.Run(gctx) })
	}
	err := g.Wait()
	if s.closed.Load() && (err == nil || errors.Is(err, context.Canceled)) {
		return nil
	}
	return err
}

// every runs task at once and then every interval until ctx ends; a
// task's failure is logged and tried again at the next tick.
func (s *Service) every(ctx context.Context, interval time.Duration, task func(context.Context) error) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := task(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("dni: background task failed; retrying at the next tick", "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// sweep ends leases whose sessions went quiet. Leases also expire lazily
// when their numbers are needed; sweeping keeps the pool statistics true.
func (s *Service) sweep(ctx context.Context) error {
	_, err := s.alloc.Sweep(ctx, s.now())
	return err
}

// retain deletes what ended before Config.Retention.
func (s *Service) retain(ctx context.Context) error {
	n, err := s.store.DeleteBefore(ctx, s.now().Add(-s.cfg.Retention))
	if err == nil && n > 0 {
		s.log.Info("dni: retention deleted old records", "records", n, "retention", s.cfg.Retention)
	}
	return err
}

// Close stops Run and waits for it: call events are delivered one last
// time (what is left stays in the spool for the next process), pending
// hold history and visit writes go to the store, calls being connected by
// command are seen through, and the exporter is closed. It is safe to call
// twice, and without Run.
func (s *Service) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.life.Lock()
		s.closed.Store(true)
		stop, done := s.stopRun, s.runDone
		s.life.Unlock()
		if s.metrics != nil {
			err = s.metrics.Unregister()
		}
		for _, h := range s.webhooks {
			h.Wait()
		}
		// Run's tasks stop first; each part then finishes its own work
		// (the ingest's last delivery pass, the queued writes).
		if stop != nil {
			stop()
			<-done
		}
		if s.ingest != nil {
			err = errors.Join(err, s.ingest.Close())
		}
		s.holds.close()
		s.writes.close()
		if s.exports != nil {
			err = errors.Join(err, s.exports.Close())
		}
	})
	return err
}

// holdSources answers "who held this number" from the allocator's recent
// memory and the store's full history together: the allocator knows holds
// not yet written through, the store knows holds older than the allocator
// keeps.
type holdSources struct {
	alloc pool.Allocator
	store store.Leases
}

func (h holdSources) HoldersAt(ctx context.Context, number string, at time.Time, grace time.Duration) ([]pool.Holder, error) {
	recent, err := h.alloc.HoldersAt(ctx, number, at, grace)
	if err != nil {
		return nil, err
	}
	stored, err := h.store.HoldersAt(ctx, number, at, grace)
	if err != nil {
		return nil, err
	}
	type key struct {
		session string
		from    time.Time
	}
	seen := make(map[key]bool, len(recent))
	for _, r := range recent {
		seen[key{r.SessionID, r.From.Truncate(time.Microsecond)}] = true
	}
	for _, st := range stored {
		if !seen[key{st.SessionID, st.From.Truncate(time.Microsecond)}] {
			recent = append(recent, st)
		}
	}
	return recent, nil
}
