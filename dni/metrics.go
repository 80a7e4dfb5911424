package dni

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/attriqs/calltrack/provider"
)

// WithMeterProvider reports the service's metrics through mp. The default
// is OpenTelemetry's global provider, a no-op unless the host installs
// one (for example with a Prometheus exporter, as the quickstart does).
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(o *options) { o.meters = mp }
}

// meterName is the instrumentation scope of every instrument.
const meterName = "github.com/attriqs/calltrack/dni"

// registerMetrics creates the service's instruments, all observed from
// the counters the parts already keep, in one callback per collection:
// nothing is counted twice and nothing costs a thing between scrapes.
func (s *Service) registerMetrics(mp metric.MeterProvider) (metric.Registration, error) {
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	m := mp.Meter(meterName)
	var errs []error
	gauge := func(name, unit, desc string) metric.Int64ObservableGauge {
		g, err := m.Int64ObservableGauge(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return g
	}
	counter := func(name, unit, desc string) metric.Int64ObservableCounter {
		c, err := m.Int64ObservableCounter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return c
	}
	backlog := gauge("calltrack.ingest.backlog", "{event}", "Call events durable in the spool and not yet recorded in the store.")
	inMemory := gauge("calltrack.ingest.in_memory", "{event}", "Call events held only in memory because the spool directory is unusable.")
	deadLetters := gauge("calltrack.ingest.dead_letters", "{event}", "Call events the store refused for good, waiting to be replayed after a fix.")
	spoolBytes := gauge("calltrack.spool.size", "By", "Size of the spool's write-ahead log.")
	degraded := gauge("calltrack.degraded", "1", "1 while Service.Health reports the service degraded, else 0.")
	leased := gauge("calltrack.pool.leased", "{number}", "Tracking numbers held by a live lease, per pool.")
	size := gauge("calltrack.pool.size", "{number}", "Leasable tracking numbers, per pool.")
	lag, err := m.Float64ObservableGauge("calltrack.ingest.replay_lag", metric.WithUnit("s"),
		metric.WithDescription("Age of the oldest call event waiting for a failing store; 0 when none waits."))
	errs = append(errs, err)
	utilisation, err := m.Float64ObservableGauge("calltrack.pool.utilization", metric.WithUnit("1"),
		metric.WithDescription("Share of a pool's numbers held by a live lease."))
	errs = append(errs, err)
	spooled := counter("calltrack.ingest.spooled", "{event}", "Call events made durable before their webhook was answered.")
	recorded := counter("calltrack.ingest.recorded", "{event}", "Call events recorded in the store.")
	deadLettered := counter("calltrack.ingest.dead_lettered", "{event}", "Call events the store refused for good.")
	lost := counter("calltrack.ingest.lost", "{event}", "Call events kept nowhere: spool unusable and memory queue full.")
	storeErrors := counter("calltrack.store.errors", "{error}", "Failed attempts to record a call event, of any class.")
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	return m.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		if h := s.Health(ctx); h.Degraded() {
			o.ObserveInt64(degraded, 1)
		} else {
			o.ObserveInt64(degraded, 0)
		}
		var st provider.IngestStats
		if s.ingest != nil {
			st = s.ingest.Stats()
		}
		o.ObserveInt64(backlog, int64(st.Pending))
		o.ObserveInt64(inMemory, int64(st.InMemory))
		o.ObserveInt64(deadLetters, int64(st.DeadLetters))
		o.ObserveInt64(spoolBytes, st.SpoolBytes)
		if st.OldestWaiting.IsZero() {
			o.ObserveFloat64(lag, 0)
		} else {
			o.ObserveFloat64(lag, s.now().Sub(st.OldestWaiting).Seconds())
		}
		o.ObserveInt64(spooled, st.Spooled)
		o.ObserveInt64(recorded, st.Recorded)
		o.ObserveInt64(deadLettered, st.DeadLettered)
		o.ObserveInt64(lost, st.Lost)
		o.ObserveInt64(storeErrors, st.RecorderErrors)

		ctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		now := s.now()
		for _, name := range s.catalog.PoolNames() {
			ps, err := s.alloc.Stats(ctx, name, now)
			if err != nil {
				continue // a shared allocator that is down: no figure beats a wrong one
			}
			attrs := metric.WithAttributes(attribute.String("pool", name))
			o.ObserveInt64(leased, int64(ps.Leased), attrs)
			o.ObserveInt64(size, int64(ps.Size), attrs)
			if ps.Size > 0 {
				o.ObserveFloat64(utilisation, float64(ps.Leased)/float64(ps.Size), attrs)
			}
		}
		return nil
	}, backlog, inMemory, deadLetters, spoolBytes, degraded, leased, size, lag, utilisation,
		spooled, recorded, deadLettered, lost, storeErrors)
}
