package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/attriqs/calltrack/dni"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/pool/redispool"
	"github.com/attriqs/calltrack/provider/fake"
	"github.com/attriqs/calltrack/store"
	"github.com/attriqs/calltrack/store/postgres"
)

// demoOptions configure one run of the whole set-up.
type demoOptions struct {
	Binary    string // this program, run with -serve for each instance
	Postgres  string // DSN
	Redis     string // host:port
	Instances int
	Visitors  int
	PoolSize  int    // numbers in the pool; with PoolSize == Visitors every number is used once
	Workers   int    // concurrent simulated visitors
	Allocator string // "redis", or "memory" to see a pool per process fail
	Log       io.Writer
}

// Summary is what the run showed.
type Summary struct {
	Instances     []string
	Schema        string
	Prefix        string
	Visits        int            // first page views
	PageViews     int            // second page views of the same sessions
	VisitsBy      map[string]int // first page views per instance
	SessionKept   int            // second page views that kept session and number
	NumbersLeased int            // distinct tracking numbers shown
	DoubleLeases  int            // numbers shown to more than one live session
	Reuses        uint64         // Reused outcomes the shared pool counted
	PoolHolds     int            // live holds in the shared pool at the end
	Calls         int
	CallsBy       map[string]int // inbound webhooks per instance
	CrossInstance int            // calls answered by another instance than the visit's
	Forwarded     int            // calls whose routing answer dialled the business line
	Stitched      int            // calls stitched to the session that was shown the number
	Exact         int            // of those, with confidence exact
	Problems      []string       // every broken invariant, in words
	Elapsed       time.Duration
}

// OK reports whether every invariant held.
func (s Summary) OK() bool { return len(s.Problems) == 0 }

func (s *Summary) problem(format string, args ...any) {
	if len(s.Problems) < 20 {
		s.Problems = append(s.Problems, fmt.Sprintf(format, args...))
	}
}

// visitor is one simulated visitor and what the app told them.
type visitor struct {
	url, referrer   string
	visitorID       string
	session         string
	number          string
	servedBy        string
	callID, callTo  string
	answeredBy      string
	forwardedToLine bool
}

// runDemo creates a fresh schema and key prefix, starts the instances and
// the proxy, drives visits and calls through it, checks the invariants
// and removes everything it created.
func runDemo(ctx context.Context, o demoOptions) (sum Summary, err error) {
	start := time.Now()
	sum.VisitsBy, sum.CallsBy = map[string]int{}, map[string]int{}
	var tag [6]byte
	_, _ = rand.Read(tag[:])
	sum.Schema = "calltrack_multi_" + hex.EncodeToString(tag[:])
	sum.Prefix = "calltrack-multi:" + hex.EncodeToString(tag[:])
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)

	// PostgreSQL: a schema of our own, dropped at the end.
	admin, err := pgxpool.New(ctx, o.Postgres)
	if err != nil {
		return sum, fmt.Errorf("postgres: %w", err)
	}
	defer admin.Close()
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+sum.Schema); err != nil {
		return sum, fmt.Errorf("postgres: %w", err)
	}
	defer func() {
		if _, dropErr := admin.Exec(context.Background(), "DROP SCHEMA "+sum.Schema+" CASCADE"); dropErr != nil {
			err = errors.Join(err, fmt.Errorf("dropping schema %s: %w", sum.Schema, dropErr))
		}
	}()
	// Redis: keys under our own prefix, deleted at the end.
	rdb := redis.NewClient(&redis.Options{Addr: o.Redis})
	defer rdb.Close()
	if err := rdb.Ping(ctx).Err(); err != nil {
		return sum, fmt.Errorf("redis %s: %w", o.Redis, err)
	}
	defer func() {
		if delErr := deleteKeys(context.Background(), rdb, sum.Prefix); delErr != nil {
			err = errors.Join(err, delErr)
		}
	}()

	// The app processes, logging to one writer.
	o.Log = &lockedWriter{w: o.Log}
	var backends []*url.URL
	for i := range o.Instances {
		name := string(rune('A' + i))
		u, stop, err := startInstance(ctx, o, instanceConfig{Name: name, Listen: "127.0.0.1:0", Postgres: o.Postgres,
			Schema: sum.Schema, Redis: o.Redis, Prefix: sum.Prefix, PoolSize: o.PoolSize, Allocator: o.Allocator}, secret)
		if err != nil {
			return sum, fmt.Errorf("instance %s: %w", name, err)
		}
		defer stop()
		backends = append(backends, u)
		sum.Instances = append(sum.Instances, name+" "+u.Host)
	}

	// The proxy: round robin, one request to each backend in turn.
	var next atomic.Uint64
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(backends[(next.Add(1)-1)%uint64(len(backends))])
		r.SetXForwarded()
	}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return sum, err
	}
	front := &http.Server{Handler: proxy, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = front.Serve(ln) }()
	defer front.Close()
	base := "http://" + ln.Addr().String()

	visitors := drive(ctx, o, base, secret, &sum)
	if err := ctx.Err(); err != nil {
		return sum, err
	}

	// What the shared services say.
	pg, err := openStore(ctx, o.Postgres, sum.Schema)
	if err != nil {
		return sum, err
	}
	defer pg.Close()
	st := postgres.New(pg, postgres.Config{})
	check(ctx, st, rdb, o, visitors, &sum)
	sum.Elapsed = time.Since(start)
	return sum, nil
}

// drive sends every visitor's first page view, a second page view and a
// call through the proxy, Workers at a time.
func drive(ctx context.Context, o demoOptions, base string, secret []byte, sum *Summary) []*visitor {
	landings := []struct{ url, ref string }{
		{"https://www.example.com/?gclid=EAIaIQobChMI", "https://www.google.com/"},
		{"https://www.example.com/", "https://www.google.com/"},
		{"https://www.example.com/offer?utm_source=newsletter&utm_medium=email", ""},
		{"https://www.example.com/", "https://www.facebook.com/"},
		{"https://www.example.com/", ""},
	}
	visitors := make([]*visitor, o.Visitors)
	for i := range visitors {
		l := landings[i%len(landings)]
		visitors[i] = &visitor{url: l.url, referrer: l.ref}
	}
	var mu sync.Mutex
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		sum.problem(format, args...)
	}
	answered := map[string]string{} // call id → instance that answered the inbound webhook
	caller := &fake.Caller{Secret: secret, HTTPClient: &http.Client{Timeout: 10 * time.Second, Transport: &recordInbound{answered: answered, mu: &mu}}}
	client := &http.Client{Timeout: 10 * time.Second}

	each := func(step func(i int, v *visitor)) {
		var wg sync.WaitGroup
		jobs := make(chan int)
		for range o.Workers {
			wg.Go(func() {
				for i := range jobs {
					step(i, visitors[i])
				}
			})
		}
		for i := range visitors {
			if ctx.Err() != nil {
				break
			}
			jobs <- i
		}
		close(jobs)
		wg.Wait()
	}

	// 1. First page views: each gets a session and a number.
	each(func(i int, v *visitor) {
		var a dni.Assignment
		by, err := postVisit(ctx, client, base, dni.VisitRequest{URL: v.url, Referrer: v.referrer}, &a)
		if err != nil {
			fail("visitor %d: first page view: %v", i, err)
			return
		}
		if len(a.Swaps) != 1 {
			fail("visitor %d: %d swaps, want 1", i, len(a.Swaps))
			return
		}
		v.visitorID, v.session, v.number, v.servedBy = a.VisitorID, a.SessionID, a.Swaps[0].Number, by
	})
	// 2. Second page views, most through the other instance: the session
	// and its number carry over.
	each(func(i int, v *visitor) {
		if v.session == "" {
			return
		}
		var a dni.Assignment
		_, err := postVisit(ctx, client, base, dni.VisitRequest{VisitorID: v.visitorID, SessionID: v.session, URL: "https://www.example.com/contact"}, &a)
		if err != nil {
			fail("visitor %d: second page view: %v", i, err)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		sum.PageViews++
		if a.SessionID == v.session && len(a.Swaps) == 1 && a.Swaps[0].Number == v.number {
			sum.SessionKept++
		} else {
			sum.problem("visitor %d: second page view got session %s number %v, want %s %s", i, a.SessionID, a.Swaps, v.session, v.number)
		}
	})
	// 3. Every visitor calls the number they were shown.
	each(func(i int, v *visitor) {
		if v.number == "" {
			return
		}
		v.callID = fmt.Sprintf("call-%04d", i)
		v.callTo = v.number
		ans, err := caller.PlaceCall(ctx, base+dni.DefaultPrefix+"webhooks/"+fake.Name, fake.Call{
			ID: v.callID, From: fmt.Sprintf("+1212555%04d", 1000+i), To: v.number, Answered: true, Duration: 90 * time.Second,
		})
		if err != nil {
			fail("visitor %d: call: %v", i, err)
			return
		}
		v.forwardedToLine = ans.To == businessLine
	})
	mu.Lock()
	defer mu.Unlock()
	for _, v := range visitors {
		v.answeredBy = answered[v.callID]
	}
	return visitors
}

// lockedWriter lets several processes' output share one writer.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// recordInbound notes which instance answered each inbound-call webhook.
type recordInbound struct {
	mu       *sync.Mutex
	answered map[string]string
}

func (r *recordInbound) RoundTrip(req *http.Request) (*http.Response, error) {
	var ev fake.Event
	if req.GetBody != nil {
		if body, err := req.GetBody(); err == nil {
			_ = json.NewDecoder(body).Decode(&ev)
		}
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err == nil && ev.Type == fake.EventInbound {
		r.mu.Lock()
		r.answered[ev.CallID] = resp.Header.Get(InstanceHeader)
		r.mu.Unlock()
	}
	return resp, err
}

func postVisit(ctx context.Context, client *http.Client, base string, req dni.VisitRequest, out *dni.Assignment) (string, error) {
	data, err := json.Marshal(req)
	if err != nil {
		return "", err
	}
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, base+dni.DefaultPrefix+"v1/visit", bytes.NewReader(data))
	if err != nil {
		return "", err
	}
	r.Header.Set("Content-Type", "application/json")
	// A browser's User-Agent: Go's own is classified as a crawler.
	r.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36")
	resp, err := client.Do(r)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(body))
	}
	return resp.Header.Get(InstanceHeader), json.Unmarshal(body, out)
}

// check compares what the visitors saw with the shared store and pool:
// no number held by two live sessions, every call stitched to its session.
func check(ctx context.Context, st store.Store, rdb *redis.Client, o demoOptions, visitors []*visitor, sum *Summary) {
	shownTo := map[string][]string{}
	for _, v := range visitors {
		if v.session == "" {
			continue
		}
		sum.Visits++
		sum.VisitsBy[v.servedBy]++
		shownTo[v.number] = append(shownTo[v.number], v.session)
	}
	sum.NumbersLeased = len(shownTo)
	for number, sessions := range shownTo {
		if distinct := slices.Compact(slices.Sorted(slices.Values(sessions))); len(distinct) > 1 {
			sum.DoubleLeases++
			sum.problem("%s shown to %d live sessions: %s", number, len(sessions), strings.Join(sessions, ", "))
		}
	}

	// The pool as the instances share it.
	if o.Allocator == "memory" {
		checkCalls(ctx, st, visitors, sum)
		return
	}
	alloc, err := redispool.New(ctx, rdb, redispool.Config{Config: poolConfig(o.PoolSize), Prefix: sum.Prefix})
	if err != nil {
		sum.problem("reading the shared pool: %v", err)
		return
	}
	stats, err := alloc.Stats(ctx, poolName, time.Now())
	if err != nil {
		sum.problem("pool stats: %v", err)
		return
	}
	sum.Reuses, sum.PoolHolds = stats.Reuses, stats.Holds
	if stats.Reuses != 0 || stats.Holds != stats.Leased {
		sum.problem("shared pool: %d reuses, %d holds on %d numbers", stats.Reuses, stats.Holds, stats.Leased)
	}
	for number, sessions := range shownTo {
		holders, err := alloc.HoldersAt(ctx, number, time.Now(), journey.DefaultCallGrace)
		if err != nil {
			sum.problem("holders of %s: %v", number, err)
			continue
		}
		if len(holders) != 1 || holders[0].SessionID != sessions[0] {
			sum.problem("holders of %s: %+v, want session %s alone", number, holders, sessions[0])
		}
	}
	checkCalls(ctx, st, visitors, sum)
}

// checkCalls waits for every call to be recorded and stitched, and
// compares the session it was stitched to with the caller's.
func checkCalls(ctx context.Context, st store.Store, visitors []*visitor, sum *Summary) {

	// Calls: recorded asynchronously after the answer; wait for them.
	deadline := time.Now().Add(30 * time.Second)
	for _, v := range visitors {
		if v.callID == "" {
			continue
		}
		sum.Calls++
		sum.CallsBy[v.answeredBy]++
		if v.answeredBy != v.servedBy {
			sum.CrossInstance++
		}
		if v.forwardedToLine {
			sum.Forwarded++
		} else {
			sum.problem("call %s was not forwarded to the business line", v.callID)
		}
		for {
			a, err := st.Attribution(ctx, fake.Name, v.callID)
			call, callErr := st.Call(ctx, fake.Name, v.callID)
			done := err == nil && callErr == nil && call.Status.Terminal()
			if done || time.Now().After(deadline) || ctx.Err() != nil {
				switch {
				case !done:
					sum.problem("call %s: not recorded and stitched in time (%v, %v)", v.callID, err, callErr)
				case a.SessionID != v.session:
					sum.problem("call %s to %s: stitched to session %q (%s), want %s", v.callID, v.callTo, a.SessionID, a.Confidence, v.session)
				default:
					sum.Stitched++
					if a.Confidence == journey.ConfidenceExact {
						sum.Exact++
					}
				}
				break
			}
			time.Sleep(25 * time.Millisecond)
		}
	}
}

// startInstance runs the binary in instance mode and waits for its address.
func startInstance(ctx context.Context, o demoOptions, cfg instanceConfig, secret []byte) (*url.URL, func(), error) {
	cmd := exec.CommandContext(ctx, o.Binary, "-serve", "-watch-stdin", "-name", cfg.Name, "-listen", cfg.Listen,
		"-postgres", cfg.Postgres, "-schema", cfg.Schema, "-redis", cfg.Redis, "-prefix", cfg.Prefix, "-pool-size", fmt.Sprint(cfg.PoolSize), "-allocator", cfg.Allocator)
	cmd.Env = append(os.Environ(), SecretEnv+"="+hex.EncodeToString(secret))
	cmd.Stderr = o.Log
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) } // shut down cleanly
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	// The instance exits when this pipe closes, so it never outlives us.
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	stop := func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = stdin.Close()
		_ = cmd.Wait()
	}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if addr, ok := strings.CutPrefix(sc.Text(), "listening "); ok {
				lines <- addr
			}
		}
		close(lines)
	}()
	select {
	case addr, ok := <-lines:
		if !ok {
			stop()
			return nil, nil, errors.New("exited before listening (its log is above)")
		}
		u, err := url.Parse(addr)
		if err != nil {
			stop()
			return nil, nil, err
		}
		return u, stop, nil
	case <-time.After(30 * time.Second):
		stop()
		return nil, nil, errors.New("not listening after 30s")
	case <-ctx.Done():
		stop()
		return nil, nil, ctx.Err()
	}
}

func openStore(ctx context.Context, dsn, schema string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	return pgxpool.NewWithConfig(ctx, cfg)
}

// deleteKeys removes every key of the run's pool.
func deleteKeys(ctx context.Context, rdb *redis.Client, prefix string) error {
	iter := rdb.Scan(ctx, 0, "{"+prefix+":*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		return fmt.Errorf("redis: listing keys: %w", err)
	}
	if len(keys) > 0 {
		return rdb.Del(ctx, keys...).Err()
	}
	return nil
}
