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
// and qualifies them. Build it with New; serve Handler; call Close when done.
// All methods are safe for concurrent use.
type Service struct {
	cfg        Config
	log        *slog.Logger
	now        func() time.Time
	classifier *classify.Classifier
	catalog    *pool.Catalog
	alloc      pool.Allocator
	store      store.Store
	stitcher   *journey.Stitcher
	qualifier  *journey.Qualifier
	router     router
	displays   sync.Map // tracking number → its national format
	script     *tracker.Script
	holds      *holdWriter
	writes     *writeBehind
	limits     *limiter
	reportAuth func(http.Handler) http.Handler
	providers  []provider.Provider
	skipVerify bool
	exports    *export.Exporter

	handler   http.Handler
	ingest    *provider.Ingest // nil without providers
	metrics   metric.Registration
	closed    atomic.Bool
	closeOnce sync.Once
}

// Option changes what New wires in.
type Option func(*options)

type options struct {
	store      store.Store
	alloc      pool.Allocator
	providers  []provider.Provider
	spoolDir   string
	clock      func() time.Time
	logger     *slog.Logger
	reportAuth func(http.Handler) http.Handler
	skipVerify bool
	exports    *export.Exporter
	meters     metric.MeterProvider
}

// WithStore persists to s; the default is an in-memory store that loses
// everything on exit.
func WithStore(s store.Store) Option { return func(o *options) { o.store = s } }

// WithAllocator leases numbers from a (for example a pool/redispool
// allocator shared by several instances); it must be configured with the
// same pools, and its history hook (pool.Config.OnRecord) should call
// [Service.RecordHold] so the store keeps the hold history that audits and
// late calls read. The default is the in-process allocator, wired so.
func WithAllocator(a pool.Allocator) Option { return func(o *options) { o.alloc = a } }

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
// delivered by x.Run with retries. x must be built on the store given to
// WithStore; the host runs x.Run and closes x.
func WithExports(x *export.Exporter) Option { return func(o *options) { o.exports = x } }

// WithInsecureSkipVerify DISABLES WEBHOOK SIGNATURE VERIFICATION, so anyone
// who can reach the webhook URL can forge calls. Local development only.
func WithInsecureSkipVerify() Option { return func(o *options) { o.skipVerify = true } }

// New validates cfg and wires a Service, reporting every configuration
// problem at once. It starts no goroutines.
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

	classifier, err := classify.New(classify.Config{StrictGA4: cfg.StrictGA4, OwnDomains: cfg.OwnDomains, Rules: cfg.Routes})
	errs = append(errs, err)
	s := &Service{cfg: cfg, log: o.logger, now: o.clock, classifier: classifier, store: o.store,
		router: newRouter(cfg.Pools), reportAuth: o.reportAuth, providers: o.providers, skipVerify: o.skipVerify,
		exports: o.exports}
	s.holds = newHoldWriter(o.store, o.logger)
	s.writes = newWriteBehind(o.logger)
	poolCfg := cfg.poolConfig(s.holds.record)
	s.catalog, err = pool.NewCatalog(poolCfg)
	errs = append(errs, err)
	if err == nil {
		s.alloc = o.alloc
		if s.alloc == nil {
			if s.alloc, err = pool.New(poolCfg); err != nil {
				errs = append(errs, err)
			}
		}
	}
	s.qualifier, err = journey.NewQualifier(journey.QualifierConfig{Rules: cfg.Qualify})
	errs = append(errs, err)
	if s.script, err = tracker.Build(cfg.Tracker); err != nil {
		errs = append(errs, fmt.Errorf("dni: Tracker: %w", err))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	s.stitcher, err = journey.NewStitcher(s.catalog, holdSources{s.alloc, o.store}, o.store, journey.StitcherConfig{
		CallGrace: cfg.CallGrace, PoolSources: poolSources(cfg.Pools), Clock: s.now,
	})
	if err != nil {
		return nil, err
	}
	s.limits = newLimiter(cfg.VisitsPerIPPerMinute, cfg.VisitsPerVisitorPerMinute, s.now)
	if len(o.providers) > 0 {
		// A spool directory that cannot be used is no error here: callers
		// must still be forwarded. The ingest keeps events in memory,
		// logs it at Error and Health reports it.
		s.ingest, err = provider.NewIngest(s, provider.IngestConfig{SpoolDir: o.spoolDir, Logger: s.log,
			IsPermanent: func(err error) bool { return errors.Is(err, store.ErrInvalid) }})
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

// RecordHold writes an allocator's hold record through to the store, on a
// background writer (see WithAllocator). It never blocks on the store for
// long and never drops a record.
func (s *Service) RecordHold(h pool.HoldRecord) { s.holds.record(h) }

// Store is the store the service writes to.
func (s *Service) Store() store.Store { return s.store }

// ScriptSrc is the path to put in the site's script tag:
// <script src="{ScriptSrc}" async></script>. It carries the script's
// content hash, so browsers may cache it for good.
func (s *Service) ScriptSrc() string { return s.script.Src(s.cfg.Prefix) }

// Catalog is the validated pool configuration.
func (s *Service) Catalog() *pool.Catalog { return s.catalog }

// Run sweeps expired leases every minute until ctx ends, and starts
// delivering call events spooled by an earlier process. Leases also expire
// lazily when their numbers are needed, and delivery also starts with the
// first call to Handler.
func (s *Service) Run(ctx context.Context) error {
	if s.ingest != nil {
		s.ingest.Start()
	}
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			if _, err := s.alloc.Sweep(ctx, s.now()); err != nil {
				s.log.Warn("dni: sweep", "err", err)
			}
		}
	}
}

// Close stops background work, writes what is pending through to the
// store and spools undelivered call events. It is safe to call twice.
func (s *Service) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		if s.metrics != nil {
			err = s.metrics.Unregister()
		}
		if s.ingest != nil {
			err = errors.Join(err, s.ingest.Close())
		}
		s.holds.close()
		s.writes.close()
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
