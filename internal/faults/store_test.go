//go:build linux

package faults_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/attriqs/calltrack/dni"
	"github.com/attriqs/calltrack/provider/fake"
	"github.com/attriqs/calltrack/store/postgres"
)

const (
	// storeSenders post calls at once, each one call (an inbound webhook,
	// then its completed status) every storeSendEvery: 16 calls, 32
	// webhooks a second. Recording one event takes several PostgreSQL
	// transactions (about 60 events a second on two cores under -race),
	// so a faster stream would build a backlog the recorder cannot catch
	// up with inside the test's bounds, whatever the faults.
	storeSenders   = 4
	storeSendEvery = 250 * time.Millisecond

	// storeDrainLimit bounds the wait for the backlog after the last
	// fault: the ingest's backoff reaches its 30 s cap during a long
	// outage, and the backlog itself takes some seconds to record.
	storeDrainLimit = 90 * time.Second
)

// TestStoreDownHungAndRestarted runs a dni.Service on a real PostgreSQL
// store through five phases while senders keep posting signed calls of
// the fake provider: (1) store up; (2) store down; (3) store back; (4)
// store hung; (5) store restarted. Every webhook must be answered 200,
// every inbound one with the forward, in every phase and without waiting
// on the store; once the store is back and the backlog delivered, every
// answered event must be in the store exactly once (calls and conversions
// counted per call key), with no dead letter and a healthy service.
//
// The store is a throwaway PostgreSQL server the test owns (initdb into
// t.TempDir(), its own port; run as the postgres OS user when the test
// runs as root), so every fault is the real thing rather than a proxy's
// imitation of it:
//
//   - down: the postmaster gets SIGQUIT (what pg_ctl stop -m immediate
//     sends): every connection dies, new ones are refused, and the next
//     start runs crash recovery;
//   - hung: the postmaster and each of its children get SIGSTOP, then
//     SIGCONT: sockets stay open and connects are accepted by the kernel,
//     but nothing answers, so every store call runs into its deadline,
//     and statements already sent run once the server thaws;
//   - restarted: SIGINT (pg_ctl restart -m fast): sessions are terminated
//     with 57P01, the server checkpoints, exits and is started again.
//
// Without PostgreSQL binaries the test is skipped, or fails when
// CALLTRACK_REQUIRE_SERVICES=1. It takes about 25 seconds, most of
// them the phases themselves.
func TestStoreDownHungAndRestarted(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a PostgreSQL server through outages for about 25 seconds")
	}
	pg := newPGServer(t)
	ctx := context.Background()

	pgPool, err := pgxpool.New(ctx, pg.DSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pgPool.Close)
	st := postgres.New(pgPool, postgres.Config{})
	t.Cleanup(func() { _ = st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	prov, err := fake.New(fake.Config{Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	svc, err := dni.New(serviceConfig(), dni.WithStore(st), dni.WithProvider(prov), dni.WithSpoolDir(t.TempDir()),
		dni.WithMeterProvider(mp), dni.WithLogger(slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(runService(t, svc))
	srv := httptest.NewServer(svc.Handler())
	t.Cleanup(srv.Close)
	url := srv.URL + dni.DefaultPrefix + "webhooks/fake"

	l := &ledger{inbound: map[string]bool{}, completed: map[string]bool{}}
	var cur atomic.Pointer[storePhase]
	var phases []*storePhase
	begin := func(name string) {
		p := &storePhase{name: name, start: time.Now()}
		phases = append(phases, p)
		cur.Store(p)
	}
	end := func() {
		p := cur.Load()
		p.took = time.Since(p.start)
		m := collectMetrics(t, reader)
		p.recorded, p.backlog = m["calltrack.ingest.recorded"], m["calltrack.ingest.backlog"]
	}
	recorderFailing := func() bool {
		for _, r := range svc.Health(ctx).Reasons {
			if strings.Contains(r, "recorder failing") {
				return true
			}
		}
		return false
	}

	begin("up")
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: storeSenders}}
	stop := make(chan struct{})
	var senders sync.WaitGroup
	var next atomic.Int64
	for range storeSenders {
		senders.Go(func() { sendPaced(url, client, l, &cur, &next, stop) })
	}
	stopSenders := sync.OnceFunc(func() {
		close(stop)
		senders.Wait()
	})
	t.Cleanup(stopSenders) // when a phase fails the test

	time.Sleep(3 * time.Second)
	end()

	begin("down")
	pg.stop(syscall.SIGQUIT)
	time.Sleep(4 * time.Second)
	pg.start() // crash recovery; the store is down until it accepts connections
	end()

	// Back until the ingest has found the store again and caught up.
	begin("back")
	for deadline := time.Now().Add(40 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if since := time.Since(cur.Load().start); since >= 3*time.Second && (!recorderFailing() || time.Now().After(deadline)) {
			break
		}
	}
	end()

	// Longer than the ingest's 5 s RecordTimeout, so attempts time out.
	begin("hung")
	pg.hang()
	time.Sleep(7 * time.Second)
	pg.resume()
	end()

	begin("restart")
	pg.stop(syscall.SIGINT)
	pg.start()
	time.Sleep(3 * time.Second)
	end()

	stopSenders()

	// Delivery: the backlog empties once the ingest's backoff next expires.
	drainStart := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	var lost []string
	var m map[string]int64
	for {
		m = collectMetrics(t, reader)
		if m["calltrack.ingest.backlog"] == 0 && m["calltrack.ingest.in_memory"] == 0 && !recorderFailing() {
			if lost = lostEvents(t, st, l); len(lost) == 0 {
				break
			}
		}
		if time.Since(drainStart) > storeDrainLimit {
			lost = lostEvents(t, st, l)
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	drained := time.Since(drainStart)

	for _, p := range phases {
		p.report(t)
	}
	calls, dupCalls, convs, dupConvs := duplicates(t, st)
	dead := svc.DeadLetters()
	health := svc.Health(ctx)
	t.Logf("after %v of delivery: %d webhooks sent, %d answered; %d events recorded, %d recorder errors, %d dead letters, %d lost by the ingest; "+
		"%d calls stored (%d duplicated), %d conversions (%d duplicated); %d answered events missing from the store; health %v",
		drained.Round(100*time.Millisecond), l.sent.Load(), l.answered.Load(), m["calltrack.ingest.recorded"], m["calltrack.store.errors"],
		len(dead), m["calltrack.ingest.lost"], calls, dupCalls, convs, dupConvs, len(lost), health.Reasons)

	for _, p := range phases {
		p.check(t)
	}
	if len(lost) > 0 {
		t.Errorf("%d answered events missing from the store %v after the store came back (backlog %d): %v",
			len(lost), drained.Round(time.Second), m["calltrack.ingest.backlog"], lost[:min(len(lost), 20)])
	}
	if dupCalls+dupConvs > 0 {
		t.Errorf("duplicates: %d calls, %d conversions", dupCalls, dupConvs)
	}
	for _, d := range dead[:min(len(dead), 10)] {
		t.Errorf("dead letter caused by the outage: %s %s: %s", d.Event.Key(), d.Event.Kind, d.Error)
	}
	if n := m["calltrack.ingest.lost"]; n > 0 {
		t.Errorf("the ingest lost %d events", n)
	}
	if health.Degraded() {
		t.Errorf("still degraded once delivered: %v", health.Reasons)
	}
	if m["calltrack.store.errors"] == 0 {
		t.Error("the recorder never failed: the store faults did not reach it, so the test tested nothing")
	}
}

// storePhase is what the senders saw during one phase: each request is
// counted in the phase it began in.
type storePhase struct {
	name   string
	start  time.Time
	took   time.Duration
	sent   atomic.Int64
	ok     atomic.Int64 // answered 200, inbound ones with the forward
	mu     sync.Mutex
	lat    []time.Duration
	failed []string

	recorded, backlog int64 // at the phase's end
}

func (p *storePhase) observe(d time.Duration, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lat = append(p.lat, d)
	if err != nil {
		p.failed = append(p.failed, err.Error())
	} else {
		p.ok.Add(1)
	}
}

// latency returns the slowest answer and the 99th percentile.
func (p *storePhase) latency() (slowest, p99 time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.lat) == 0 {
		return 0, 0
	}
	s := slices.Clone(p.lat)
	slices.Sort(s)
	return s[len(s)-1], s[int(math.Ceil(0.99*float64(len(s))))-1]
}

func (p *storePhase) report(t *testing.T) {
	t.Helper()
	slowest, p99 := p.latency()
	t.Logf("store %-7s %5.1fs: %5d webhooks sent, %5d answered 200 with the forward, %d failed; %5d events recorded so far (backlog %d); answer latency max %v, p99 %v",
		p.name, p.took.Seconds(), p.sent.Load(), p.ok.Load(), len(p.failed), p.recorded, p.backlog,
		slowest.Round(10*time.Microsecond), p99.Round(10*time.Microsecond))
}

// check asserts what each phase must hold. The answer latency is logged,
// not asserted: that an answer never waits on the store is checked without
// a clock by dni's TestAWebhookIsAnsweredWhileTheStoreHangs.
func (p *storePhase) check(t *testing.T) {
	t.Helper()
	if n := len(p.failed); n > 0 {
		t.Errorf("store %s: %d webhooks not answered 200 with the forward, first: %v", p.name, n, p.failed[:min(n, 5)])
	}
	if p.ok.Load() == 0 {
		t.Errorf("store %s: no webhook answered", p.name)
	}
}

// sendPaced posts one call every storeSendEvery until stop: the inbound
// webhook, whose answer must forward to the business line, then, once it
// is answered, the completed status. A failed webhook is counted against
// its phase and the sender goes on.
func sendPaced(url string, client *http.Client, l *ledger, cur *atomic.Pointer[storePhase], next *atomic.Int64, stop <-chan struct{}) {
	caller := &fake.Caller{Secret: secret, HTTPClient: client}
	tick := time.NewTicker(storeSendEvery)
	defer tick.Stop()
	post := func(ev fake.Event, marks map[string]bool) bool {
		p := cur.Load()
		p.sent.Add(1)
		l.sent.Add(1)
		began := time.Now()
		body, err := caller.Post(context.Background(), url, ev)
		took := time.Since(began)
		if err == nil {
			l.answered.Add(1)
			l.mu.Lock()
			marks[ev.CallID] = true
			l.mu.Unlock()
		}
		if err == nil && ev.Type == fake.EventInbound {
			var ans fake.Answer
			if jerr := json.Unmarshal(body, &ans); jerr != nil || ans.Action != "forward" || ans.To != businessLine {
				err = fmt.Errorf("%s: answered 200 without the forward to %s: %s", ev.CallID, businessLine, body)
			}
		}
		if err != nil {
			err = fmt.Errorf("%s %s: %w", ev.CallID, ev.Type, err)
		}
		p.observe(took, err)
		return err == nil
	}
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		n := next.Add(1)
		id, to := fmt.Sprintf("PG%06d", n), trackingNumbers[n%int64(len(trackingNumbers))]
		if !post(fake.Event{Type: fake.EventInbound, CallID: id, From: callerNumber, To: to, OccurredAt: time.Now()}, l.inbound) {
			continue
		}
		post(fake.Event{Type: fake.EventStatus, CallID: id, From: callerNumber, To: to,
			Status: "completed", DurationS: 61, OccurredAt: time.Now()}, l.completed)
	}
}

// collectMetrics reads the service's counters and gauges that carry no
// attributes.
func collectMetrics(t *testing.T, reader *sdkmetric.ManualReader) map[string]int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					got[m.Name] += p.Value
				}
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					if p.Attributes.Len() == 0 {
						got[m.Name] = p.Value
					}
				}
			}
		}
	}
	return got
}

// testLog sends the service's warnings (an outage beginning and ending)
// to the test's log.
type testLog struct{ t *testing.T }

func (w testLog) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
