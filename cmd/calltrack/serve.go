package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/attriqs/calltrack/dni"
	"github.com/attriqs/calltrack/dni/dashboard"
	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/store"

	"github.com/attriqs/calltrack/internal/cli"
)

// serveConfig is the -config file: what the store does not keep about the
// pools, which the pools page needs (their numbers and settings).
type serveConfig struct {
	Pools []struct {
		Name           string   `json:"name"`
		Numbers        []string `json:"numbers"`
		BusinessNumber string   `json:"business_number"`
		SessionWindow  string   `json:"session_window"` // a Go duration, "30m"
		Cooldown       string   `json:"cooldown"`
	} `json:"pools"`
	Currency string `json:"currency"`
	Title    string `json:"title"`
}

// inferDays is how far back serve looks for the pools when no -config
// names them.
const inferDays = 90

func runServe(args []string, stdout, stderr io.Writer, now func() time.Time) error {
	fs := newFlagSet("serve", stderr)
	storeURL := fs.String("store", "", "the store: sqlite:PATH or postgres://... (required)")
	addr := fs.String("addr", "127.0.0.1:8090", "address to listen on; the dashboard has no login of its own, so keep it on loopback or behind an authenticating proxy")
	configFile := fs.String("config", "", `JSON file naming the pools: {"pools":[{"name":"ads","numbers":["+14155550100"],"cooldown":"1h"}],"currency":"USD"}; default: the pools and numbers in the store's last 90 days of holds`)
	readOnly := fs.Bool("read-only", false, "open the store read-only: the pages work, the outcome form fails")
	allowHosts := fs.String("allow-host", "", "on a loopback -addr, host names besides localhost and loopback addresses that requests may name (comma-separated): the name an authenticating proxy passes in Host")
	if err := cli.ParseCommand(fs, args, stderr); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, ln, closeAll, err := newServer(ctx, serveOptions{store: *storeURL, addr: *addr, config: *configFile, readOnly: *readOnly,
		allowHosts: hostList(*allowHosts), now: now}, stderr)
	if err != nil {
		return err
	}
	defer closeAll()
	fmt.Fprintf(stdout, "dashboard on http://%s/ (Ctrl-C stops)\n", ln.Addr())
	return serveUntil(ctx, srv, ln)
}

// serveUntil serves until ctx ends, then lets requests in flight finish.
func serveUntil(ctx context.Context, srv *http.Server, ln net.Listener) error {
	stopShutdown := context.AfterFunc(ctx, func() {
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
	})
	defer stopShutdown()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// serveOptions are serve's flags, and the clock the dashboard's periods
// are counted from.
type serveOptions struct {
	store, addr, config string
	readOnly            bool
	allowHosts          []string
	now                 func() time.Time
}

// newServer opens the store, builds the service and the dashboard over it
// and listens on addr. closeAll closes what it opened.
func newServer(ctx context.Context, o serveOptions, stderr io.Writer) (*http.Server, net.Listener, func(), error) {
	cfg, err := readServeConfig(o.config)
	if err != nil {
		return nil, nil, nil, err
	}
	if o.now == nil {
		o.now = time.Now
	}
	st, closeStore, err := openStore(ctx, o.store, o.readOnly)
	if err != nil {
		return nil, nil, nil, err
	}
	pools, err := servePools(ctx, cfg, st, o.now(), stderr)
	if err != nil {
		_ = closeStore()
		return nil, nil, nil, err
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	svc, err := dni.New(dni.Config{Pools: pools}, dni.WithStore(st), dni.WithLogger(logger), dni.WithClock(o.now))
	if err != nil {
		_ = closeStore()
		return nil, nil, nil, cli.FlagError("config", "%v", err)
	}
	closeAll := func() { _ = svc.Close(); _ = closeStore() }
	h, err := dashboard.New(svc, dashboard.Config{Title: cfg.Title, Currency: cfg.Currency, Logger: logger, Now: o.now})
	if err != nil {
		closeAll()
		return nil, nil, nil, cli.FlagError("config", "%v", err)
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		closeAll()
		return nil, nil, nil, cli.FlagError("addr", "%v", err)
	}
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && tcp.IP.IsLoopback() {
		h = loopbackHosts(h, o.allowHosts)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	return srv, ln, closeAll, nil
}

// readServeConfig reads the -config file at path; "" is no file.
func readServeConfig(path string) (serveConfig, error) {
	var cfg serveConfig
	if path == "" {
		return cfg, nil
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return cfg, cli.FlagError("config", "%v", err)
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return cfg, cli.FlagError("config", "%s: %v", path, err)
	}
	return cfg, nil
}

// loopbackHosts refuses requests whose Host is not a loopback address,
// localhost or one of allow. The dashboard has no login and relies on loopback: a page of
// another site that rebinds its own name to 127.0.0.1 (DNS rebinding)
// would be same-origin to it, read every caller and pass the outcome
// form's origin check; its requests name that site in Host.
func loopbackHosts(h http.Handler, allow []string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if hp, _, err := net.SplitHostPort(host); err == nil {
			host = hp
		}
		host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
		ip := net.ParseIP(host)
		ok := strings.EqualFold(host, "localhost") || ip != nil && ip.IsLoopback() ||
			slices.ContainsFunc(allow, func(a string) bool { return strings.EqualFold(a, host) })
		if !ok {
			http.Error(w, "calltrack serve answers only to localhost and loopback addresses", http.StatusMisdirectedRequest)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// hostList splits -allow-host.
func hostList(s string) []string {
	var out []string
	for _, h := range strings.Split(s, ",") {
		if h = strings.TrimSpace(h); h != "" {
			out = append(out, h)
		}
	}
	return out
}

// A pool needs a business number, but the dashboard forwards no call:
// without one given, a pool's first number stands in.
func first(numbers []string) string {
	if len(numbers) == 0 {
		return ""
	}
	return numbers[0]
}

// servePools turns the -config pools into the service's, or, without
// them, makes one pool per pool name in the store's recent holds, of the
// numbers those holds used, with the default settings.
func servePools(ctx context.Context, cfg serveConfig, st store.Store, now time.Time, stderr io.Writer) ([]dni.Pool, error) {
	var pools []dni.Pool
	if len(cfg.Pools) > 0 {
		for i, p := range cfg.Pools {
			pc := pool.PoolConfig{Name: p.Name, Numbers: p.Numbers, BusinessNumber: cmp.Or(p.BusinessNumber, first(p.Numbers))}
			for _, d := range []struct {
				field, value string
				into         *time.Duration
			}{{"session_window", p.SessionWindow, &pc.SessionWindow}, {"cooldown", p.Cooldown, &pc.Cooldown}} {
				if d.value == "" {
					continue
				}
				v, err := time.ParseDuration(d.value)
				if err != nil {
					return nil, cli.FlagError("config", "pools[%d].%s: %q is not a duration like 30m", i, d.field, d.value)
				}
				*d.into = v
			}
			// Every pool serves every route: the dashboard reads history
			// and routes no visitor.
			pools = append(pools, dni.Pool{PoolConfig: pc, Serves: []string{"pool:" + p.Name}})
		}
		return pools, nil
	}
	now = now.UTC()
	holds, err := st.HoldsBetween(ctx, now.AddDate(0, 0, -inferDays), now.Add(time.Minute))
	if err != nil {
		return nil, fmt.Errorf("reading holds for the pools: %w", err)
	}
	numbers := map[string][]string{}
	for _, h := range holds {
		if !slices.Contains(numbers[h.Pool], h.Number) {
			numbers[h.Pool] = append(numbers[h.Pool], h.Number)
		}
	}
	for name, nums := range numbers {
		slices.Sort(nums)
		pools = append(pools, dni.Pool{PoolConfig: pool.PoolConfig{Name: name, Numbers: nums, BusinessNumber: nums[0]}, Serves: []string{"pool:" + name}})
	}
	slices.SortFunc(pools, func(a, b dni.Pool) int { return cmp.Compare(a.Name, b.Name) })
	if len(pools) == 0 {
		return nil, cli.FlagError("config", "is needed: the store has no holds in the last %d days to find the pools in", inferDays)
	}
	fmt.Fprintf(stderr, "pools from the last %d days of holds (sizes are the numbers seen; -config gives the real ones):", inferDays)
	for _, p := range pools {
		fmt.Fprintf(stderr, " %s (%d)", p.Name, len(p.Numbers))
	}
	fmt.Fprintln(stderr)
	return pools, nil
}
