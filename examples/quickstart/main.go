// Command quickstart runs calltrack end to end on embedded defaults: a demo
// business site whose phone numbers swap by traffic source, simulated calls
// placed through the fake provider's signed webhooks, and a dashboard of
// calls, revenue, attribution models, a caller's journey and pool usage.
//
//	go run ./examples/quickstart                      # SQLite in ./calltrack-quickstart.db
//	go run ./examples/quickstart -store memory        # nothing kept
//	go run ./examples/quickstart -postgres postgres://…/db
//	go run ./examples/quickstart -addr 127.0.0.1:9090
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/sync/errgroup"

	"github.com/attriqs/calltrack/store"
	"github.com/attriqs/calltrack/store/memstore"
	"github.com/attriqs/calltrack/store/postgres"
	"github.com/attriqs/calltrack/store/sqlite"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	kind := flag.String("store", "sqlite", "where to keep data: sqlite or memory")
	dbPath := flag.String("db", "calltrack-quickstart.db", "SQLite file, with -store sqlite")
	dsn := flag.String("postgres", "", "PostgreSQL URL; overrides -store")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, *kind, *dbPath, *dsn); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, addr, kind, dbPath, dsn string) error {
	st, closeStore, err := openStore(ctx, kind, dbPath, dsn)
	if err != nil {
		return err
	}
	defer closeStore()

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	spool, err := os.MkdirTemp("", "calltrack-spool-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(spool)
	demo, err := newDemo(base, st, spool, time.Now)
	if err != nil {
		return err
	}
	defer demo.Close()

	srv := &http.Server{Handler: demo, ReadHeaderTimeout: 5 * time.Second}
	fmt.Printf("calltrack quickstart (%s store)\n", kind)
	fmt.Printf("  demo site:  %s/\n", base)
	fmt.Printf("  dashboard:  %s/dashboard\n", base)
	fmt.Println("Ctrl-C stops it.")

	// The server, the lease sweeper and the shutdown on Ctrl-C run side by
	// side; the first to fail, or Ctrl-C, stops them all.
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	g.Go(func() error {
		if err := demo.svc.Run(ctx); !errors.Is(err, context.Canceled) {
			return err
		}
		return nil
	})
	g.Go(func() error {
		<-ctx.Done()
		slog.Info("shutting down")
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(shutdownCtx)
	})
	return g.Wait()
}

// openStore opens the store the flags ask for and migrates it.
func openStore(ctx context.Context, kind, dbPath, dsn string) (store.Store, func(), error) {
	switch {
	case dsn != "":
		pool, err := pgxpool.New(ctx, dsn)
		if err != nil {
			return nil, nil, fmt.Errorf("postgres: %w", err)
		}
		st := postgres.New(pool)
		if err := st.Migrate(ctx); err != nil {
			pool.Close()
			return nil, nil, fmt.Errorf("postgres: %w", err)
		}
		return st, pool.Close, nil
	case kind == "memory":
		return memstore.New(), func() {}, nil
	case kind == "sqlite":
		abs, _ := filepath.Abs(dbPath)
		st, err := sqlite.Open(ctx, dbPath) // migrates
		if err != nil {
			return nil, nil, fmt.Errorf("sqlite %s: %w", abs, err)
		}
		return st, func() { _ = st.Close() }, nil
	}
	return nil, nil, fmt.Errorf("-store %q: use sqlite or memory", kind)
}
