// Command quickstart runs calltrack end to end on embedded defaults: a demo
// business site whose phone numbers swap by traffic source, simulated calls
// placed through the fake provider's signed webhooks, and the dashboard
// package (dni/dashboard) mounted at /dashboard: calls and revenue, each
// caller's journey, every attribution model, sources with spend, pools.
//
//	go run ./examples/quickstart                      # SQLite in ./calltrack-quickstart.db
//	go run ./examples/quickstart -store memory        # nothing kept
//	go run ./examples/quickstart -postgres postgres://…/db
//	go run ./examples/quickstart -postgres postgres://…/db -demo-data  # made-up spend and holds too, into an empty database
//	go run ./examples/quickstart -addr 127.0.0.1:9090
//	go run ./examples/quickstart -quiet                # no line per visit, call and conversion
//	go run ./examples/quickstart -addr :8080           # reachable from other machines: see below
//
// Listening on an address other than loopback, the dashboard, the reports
// and the demo calls ask for HTTP Basic credentials: user admin and the
// password from -admin-password or CALLTRACK_ADMIN_PASSWORD, or else one
// made up at start and printed once. On loopback they stay open, unless
// a password is given.
//
// The made-up Google Ads spend and busy day of holds that fill the sources
// and pools pages go into the quickstart's own stores (memory, its SQLite
// file) only. A PostgreSQL database may be a real one: it gets them only
// with -demo-data, and only while it has no sessions at all.
//
// The first build compiles the pure-Go SQLite driver (about a minute and a
// half on two cores) before anything is printed.
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

	"github.com/attriqs/calltrack/dni"
	"github.com/attriqs/calltrack/internal/cli"
	"github.com/attriqs/calltrack/store/memstore"
	"github.com/attriqs/calltrack/store/postgres"
	"github.com/attriqs/calltrack/store/sqlite"
)

// options is the command line.
type options struct {
	addr, kind, dbPath, dsn, spool string
	quiet, demoData                bool
	adminPassword                  string
}

// parseFlags reads and checks the command line before anything starts.
func parseFlags(args []string) (*flag.FlagSet, options, error) {
	var o options
	fs := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&o.kind, "store", "sqlite", "where to keep data: sqlite or memory")
	fs.StringVar(&o.dbPath, "db", "calltrack-quickstart.db", "SQLite file, with -store sqlite")
	fs.StringVar(&o.dsn, "postgres", "", "PostgreSQL URL; overrides -store")
	fs.StringVar(&o.spool, "spool", "calltrack-quickstart.spool", "directory of the call events' write-ahead log; keep it: events waiting there survive a restart")
	fs.BoolVar(&o.quiet, "quiet", false, "no log line per visit, call and conversion")
	fs.BoolVar(&o.demoData, "demo-data", false, "with -postgres, write the demo's made-up spend and holds, if the database has no sessions at all "+
		"(the memory store and the SQLite file always get them)")
	fs.StringVar(&o.adminPassword, "admin-password", "", "password (user "+adminUser+") of the dashboard, reports and demo calls; "+
		"default $CALLTRACK_ADMIN_PASSWORD, else none on a loopback -addr and one made up and printed on any other")
	err := cli.Parse(fs, args,
		func() error {
			if _, _, err := net.SplitHostPort(o.addr); err != nil {
				return fmt.Errorf("-addr %q: want host:port, e.g. 127.0.0.1:8080", o.addr)
			}
			return nil
		},
		func() error {
			if o.dsn != "" {
				if _, err := pgxpool.ParseConfig(o.dsn); err != nil {
					return fmt.Errorf("-postgres: %w", err)
				}
				return nil
			}
			switch o.kind {
			case "memory":
				return nil
			case "sqlite":
				return cli.WritableFile("db", &o.dbPath)()
			}
			return fmt.Errorf("-store %q: use sqlite or memory", o.kind)
		},
		cli.WritableDir("spool", &o.spool),
		func() error {
			name := "-admin-password"
			if o.adminPassword == "" {
				name, o.adminPassword = "CALLTRACK_ADMIN_PASSWORD", os.Getenv("CALLTRACK_ADMIN_PASSWORD")
			}
			if o.adminPassword != "" && len(o.adminPassword) < minAdminPassword {
				return fmt.Errorf("%s: at least %d characters", name, minAdminPassword)
			}
			return nil
		},
	)
	return fs, o, err
}

func main() {
	fs, o, err := parseFlags(os.Args[1:])
	if err != nil {
		cli.Exit(fs, err)
	}
	level := slog.LevelInfo // a line per visit, call and conversion (see activity.go)
	if o.quiet {
		level = slog.LevelWarn
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	st, pg, closeStore, err := openStore(ctx, o.kind, o.dbPath, o.dsn)
	if err != nil {
		return err
	}
	defer closeStore()
	seed, why, err := seedDemo(ctx, o, pg)
	if err != nil {
		return err
	}
	if seed {
		slog.Info("demo data: writing made-up Google Ads spend and a busy day of holds on pool "+demoConfig().Pools[0].Name, "why", why)
	} else {
		slog.Info("demo data: none written", "why", why)
	}

	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	m, err := newMetrics()
	if err != nil {
		return err
	}
	defer m.provider.Shutdown(context.Background())
	demo, err := newDemo(base, newActivityLog(st, slog.Default()), o.spool, time.Now, seed, dni.WithMeterProvider(m.provider))
	if err != nil {
		return err
	}
	defer demo.Close()
	demo.mux.Handle("GET /metrics", localOnly(m.handler))
	password, madeUp := adminPasswordFor(ln.Addr(), o.adminPassword)
	demo.adminPassword = password

	srv := &http.Server{Handler: demo, ReadHeaderTimeout: 5 * time.Second}
	fmt.Printf("calltrack quickstart (%s store)\n", o.kind)
	fmt.Printf("  demo site:  %s/\n", base)
	fmt.Printf("  dashboard:  %s/dashboard\n", base)
	fmt.Printf("  health:     %s/healthz/ready  metrics: %s/metrics\n", base, base)
	switch {
	case madeUp:
		fmt.Printf("  admin:      user %s, password %s (made up for this run; -admin-password or CALLTRACK_ADMIN_PASSWORD sets one)\n", adminUser, password)
	case password != "":
		fmt.Printf("  admin:      user %s and the password given\n", adminUser)
	}
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

// openStore opens the store the flags ask for and migrates it; pg is the
// PostgreSQL pool under it, nil for the other stores.
func openStore(ctx context.Context, kind, dbPath, dsn string) (st outboxStore, pg *pgxpool.Pool, closeStore func(), err error) {
	switch {
	case dsn != "":
		pool, err := pgxpool.New(ctx, dsn)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("postgres: %w", err)
		}
		st := postgres.New(pool, postgres.Config{})
		if err := st.Migrate(ctx); err != nil {
			pool.Close()
			return nil, nil, nil, fmt.Errorf("postgres: %w", err)
		}
		return st, pool, pool.Close, nil
	case kind == "memory":
		return memstore.New(), nil, func() {}, nil
	case kind == "sqlite":
		abs, _ := filepath.Abs(dbPath)
		st, err := sqlite.Open(ctx, dbPath, sqlite.Config{}) // migrates
		if err != nil {
			return nil, nil, nil, fmt.Errorf("sqlite %s: %w", abs, err)
		}
		return st, nil, func() { _ = st.Close() }, nil
	}
	return nil, nil, nil, fmt.Errorf("-store %q: use sqlite or memory", kind)
}

// seedDemo decides whether the demo's made-up spend and holds go into the
// store, and says why. The memory store and the SQLite file are the
// quickstart's own; a PostgreSQL database may hold a business's real data,
// which made-up spend and holds would mix with unseen, so it gets them
// only when -demo-data asks and it has no sessions at all (pg is its pool).
func seedDemo(ctx context.Context, o options, pg *pgxpool.Pool) (seed bool, why string, err error) {
	switch {
	case o.dsn == "":
		return true, "the quickstart's own " + o.kind + " store", nil
	case !o.demoData:
		return false, "a PostgreSQL database may hold real data; -demo-data writes it into one with no sessions", nil
	}
	var sessions bool
	if err := pg.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM sessions)").Scan(&sessions); err != nil {
		return false, "", fmt.Errorf("postgres: looking for sessions: %w", err)
	}
	if sessions {
		return false, "-demo-data, but the PostgreSQL database has sessions: made-up data would mix with them", nil
	}
	return true, "-demo-data and a PostgreSQL database with no sessions", nil
}
