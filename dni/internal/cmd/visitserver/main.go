// Command visitserver serves the dni visitor API for load tests: one
// service with 1,000 tracking numbers, rate limits off, on the store named
// by -store. Its clock moves 6 s per visit, so that a load of first visits
// never exhausts the pool (each number is held 30 min and cools 60). Drive it with wrk and the Lua script next to this file:
//
//	go run ./dni/internal/cmd/visitserver -store memory &
//	wrk -t2 -c32 -d10s --latency -s dni/internal/cmd/visitserver/visit.lua http://127.0.0.1:8099/dni/v1/visit
//
// With -store bare it serves the anchor instead: a plain net/http handler
// that decodes the same JSON and encodes an answer of the same shape, with
// no classification, lease or store, for the ratio in docs/benchmarks.md.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	_ "modernc.org/sqlite"

	"github.com/attriqs/calltrack/dni"
	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/store"
	"github.com/attriqs/calltrack/store/memstore"
	"github.com/attriqs/calltrack/store/postgres"
	"github.com/attriqs/calltrack/store/sqlite"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8099", "listen address")
	kind := flag.String("store", "memory", "memory, sqlite, postgres, or bare (the net/http + JSON anchor)")
	dsn := flag.String("postgres", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "PostgreSQL URL for -store postgres")
	profile := flag.String("pprof", "", "serve net/http/pprof on this address too (e.g. 127.0.0.1:6060)")
	flag.Parse()
	if *profile != "" {
		go func() { _ = http.ListenAndServe(*profile, pprofMux()) }()
	}
	if err := run(*addr, *kind, *dsn); err != nil {
		fmt.Fprintln(os.Stderr, "visitserver:", err)
		os.Exit(1)
	}
}

func run(addr, kind, dsn string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var st store.Store
	switch kind {
	case "bare":
		fmt.Printf("visitserver: bare net/http + JSON on http://%s%sv1/visit\n", addr, dni.DefaultPrefix)
		return serve(ctx, stop, &http.Server{Addr: addr, Handler: bareHandler(), ReadHeaderTimeout: 5 * time.Second})
	case "memory":
		st = memstore.New()
	case "sqlite":
		dir, err := os.MkdirTemp("", "visitserver-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		s, err := sqlite.Open(ctx, filepath.Join(dir, "load.db"), sqlite.Config{})
		if err != nil {
			return err
		}
		defer s.Close()
		st = s
	case "postgres":
		// A schema of its own, dropped on the way out: every run starts
		// from empty tables, as the SQLite side does.
		schema := fmt.Sprintf("visitserver_%d", os.Getpid())
		admin, err := pgxpool.New(ctx, dsn)
		if err != nil {
			return err
		}
		defer admin.Close()
		if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
			return err
		}
		defer func() { _, _ = admin.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE") }()
		cfg, err := pgxpool.ParseConfig(dsn)
		if err != nil {
			return err
		}
		cfg.ConnConfig.RuntimeParams["search_path"] = schema
		p, err := pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			return err
		}
		defer p.Close()
		s := postgres.New(p, postgres.Config{})
		if err := s.Migrate(ctx); err != nil {
			return err
		}
		st = s
	default:
		return fmt.Errorf("-store %q: memory, sqlite, postgres or bare", kind)
	}
	numbers := make([]string, 1000)
	for i := range numbers {
		numbers[i] = fmt.Sprintf("+1415%07d", 2000000+i)
	}
	svc, err := dni.New(dni.Config{
		Pools:                     []dni.Pool{{PoolConfig: pool.PoolConfig{Name: "all", Numbers: numbers, BusinessNumber: "+14155550100"}}},
		VisitsPerIPPerMinute:      -1,
		VisitsPerVisitorPerMinute: -1,
	}, dni.WithStore(st), dni.WithClock(dni.SteppingClock(time.Now(), 6*time.Second)), dni.WithLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))))
	if err != nil {
		return err
	}
	defer svc.Close()
	go func() { _ = svc.Run(context.Background()) }() // hold history and visit writes behind
	fmt.Printf("visitserver: %s store on http://%s%sv1/visit\n", kind, addr, dni.DefaultPrefix)
	// Stopped by a signal (compare.sh ends with SIGTERM), the deferred
	// closes still run and the SQLite file's directory is removed.
	return serve(ctx, stop, &http.Server{Addr: addr, Handler: svc.Handler(), ReadHeaderTimeout: 5 * time.Second})
}

// serve runs srv until ctx ends; stop then lets signals kill the process again.
func serve(ctx context.Context, stop context.CancelFunc, srv *http.Server) error {
	go func() {
		<-ctx.Done()
		stop() // a second signal ends the process, should closing hang
		_ = srv.Close()
	}()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// bareHandler decodes a visit and answers an assignment of the same shape
// as the service's, from constants: the floor any handler of this API
// pays for net/http and JSON.
func bareHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+dni.DefaultPrefix+"v1/visit", func(w http.ResponseWriter, r *http.Request) {
		var req dni.VisitRequest
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<10)).Decode(&req); err != nil || req.URL == "" {
			http.Error(w, "bad visit", http.StatusBadRequest)
			return
		}
		a := dni.Assignment{VisitorID: "v1.0123456789abcdef0123456789abcdef", SessionID: "4f9d1c2e-8b7a-4e6f-9d3c-2b1a0f9e8d7c",
			Swaps:     []dni.Swap{{Target: "+14155550100", Number: "+14152000001", Display: "(415) 200-0001"}},
			ExpiresAt: time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC), HeartbeatS: 60}
		a.Source.Source, a.Source.Medium, a.Source.Campaign = "google", "cpc", "emergency"
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(a)
	})
	return mux
}

// pprofMux serves the runtime profiles, for finding what a visit costs.
func pprofMux() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	return mux
}
