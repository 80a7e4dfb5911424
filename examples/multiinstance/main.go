// Command multiinstance runs calltrack the way it is deployed at scale:
// several app processes sharing one PostgreSQL store (store/postgres) and
// one Redis number pool (pool/redispool), behind a round-robin reverse
// proxy. It starts two copies of itself as separate processes, each a dni
// service with the fake telephony provider mounted, puts a proxy on
// loopback in front of them, sends visitors through it (a first and a
// second page view, landing on either process), has every visitor call the
// number they were shown (signed fake-provider webhooks, to either process),
// and checks that no number was leased to two live sessions and that every
// call was stitched to the session that was shown its number, whichever
// process served the visit and whichever answered the call.
//
//	go run ./examples/multiinstance                                   # local PostgreSQL and Redis
//	go run ./examples/multiinstance -postgres postgres://user@host/db -redis host:6379 -visitors 500
//	go run ./examples/multiinstance -allocator memory                 # a pool per process: see it fail
//
// Each run works in a fresh PostgreSQL schema and under a fresh Redis key
// prefix, and removes both at the end. The exit status is 1 when an
// invariant broke.
//
// With -serve it is one app process (what the run starts twice); see
// instance.go.
package main

import (
	"context"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/attriqs/calltrack/internal/cli"
)

// options is the command line.
type options struct {
	serve      bool
	dsn        string
	redisAddr  string
	instances  int
	visitors   int
	poolSize   int
	workers    int
	allocator  string
	name       string
	listen     string
	schema     string
	prefix     string
	watchStdin bool
}

// parseFlags reads and checks the command line before anything starts.
func parseFlags(args []string) (*flag.FlagSet, options, error) {
	var o options
	fs := flag.NewFlagSet("multiinstance", flag.ContinueOnError)
	fs.BoolVar(&o.serve, "serve", false, "run as one app process (the demo starts these itself)")
	fs.StringVar(&o.dsn, "postgres", envOr("CALLTRACK_POSTGRES_DSN", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"), "PostgreSQL URL")
	fs.StringVar(&o.redisAddr, "redis", envOr("CALLTRACK_REDIS_ADDR", "127.0.0.1:6379"), "Redis host:port")
	fs.IntVar(&o.instances, "instances", 2, "app processes")
	fs.IntVar(&o.visitors, "visitors", 200, "simulated visitors; each calls")
	fs.IntVar(&o.poolSize, "pool-size", 0, "numbers in the shared pool (default: one per visitor, so every number is used)")
	fs.IntVar(&o.workers, "workers", 16, "visitors in flight at once")
	fs.StringVar(&o.allocator, "allocator", "redis", `"redis": one pool shared through Redis; "memory": a pool per process, to see it fail`)
	// Instance mode.
	fs.StringVar(&o.name, "name", "A", "instance name (with -serve)")
	fs.StringVar(&o.listen, "listen", "127.0.0.1:0", "address to listen on (with -serve)")
	fs.StringVar(&o.schema, "schema", "", "PostgreSQL schema (with -serve)")
	fs.StringVar(&o.prefix, "prefix", "", "Redis key prefix (with -serve)")
	fs.BoolVar(&o.watchStdin, "watch-stdin", false, "exit when standard input closes (with -serve; the demo uses it)")
	err := cli.Parse(fs, args,
		cli.Positive("instances", &o.instances),
		cli.Positive("visitors", &o.visitors),
		cli.Positive("workers", &o.workers),
		func() error {
			if o.poolSize < 0 {
				return fmt.Errorf("-pool-size %d: must not be negative", o.poolSize)
			}
			return nil
		},
		func() error {
			if o.allocator != "redis" && o.allocator != "memory" {
				return fmt.Errorf("-allocator %q: use redis or memory", o.allocator)
			}
			return nil
		},
		func() error {
			if _, err := pgxpool.ParseConfig(o.dsn); err != nil {
				return fmt.Errorf("-postgres: %w", err)
			}
			return nil
		},
		func() error {
			if _, _, err := net.SplitHostPort(o.redisAddr); err != nil {
				return fmt.Errorf("-redis %q: want host:port", o.redisAddr)
			}
			return nil
		},
	)
	if o.poolSize == 0 {
		o.poolSize = o.visitors
	}
	return fs, o, err
}

func main() {
	fs, o, err := parseFlags(os.Args[1:])
	if err != nil {
		cli.Exit(fs, err)
	}
	// go-redis logs connection failures itself; the program says what
	// failed in its own words, so its lines go to slog at Debug.
	redis.SetLogger(redisLogger{slog.New(slog.NewTextHandler(os.Stderr, nil))})

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if o.serve {
		secret, err := hex.DecodeString(os.Getenv(SecretEnv))
		if err != nil || len(secret) == 0 || o.schema == "" || o.prefix == "" {
			fmt.Fprintln(os.Stderr, "multiinstance -serve needs -schema, -prefix and $"+SecretEnv+" (hex)")
			os.Exit(2)
		}
		if o.watchStdin {
			var cancel context.CancelFunc
			ctx, cancel = context.WithCancel(ctx)
			go func() { _, _ = io.Copy(io.Discard, os.Stdin); cancel() }()
		}
		err = serveInstance(ctx, instanceConfig{Name: o.name, Listen: o.listen, Postgres: o.dsn, Schema: o.schema,
			Redis: o.redisAddr, Prefix: o.prefix, PoolSize: o.poolSize, Secret: secret, Allocator: o.allocator}, os.Stdout, os.Stderr)
		if err != nil && ctx.Err() == nil {
			fmt.Fprintf(os.Stderr, "instance %s: %v\n", o.name, err)
			os.Exit(1)
		}
		return
	}

	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "multiinstance:", err)
		os.Exit(1)
	}
	sum, err := runDemo(ctx, demoOptions{Binary: self, Postgres: o.dsn, Redis: o.redisAddr, Instances: o.instances,
		Visitors: o.visitors, PoolSize: o.poolSize, Workers: o.workers, Allocator: o.allocator, Log: os.Stderr})
	if err != nil {
		fmt.Fprintln(os.Stderr, "multiinstance:", err)
		os.Exit(1)
	}
	writeSummary(os.Stdout, sum)
	if !sum.OK() {
		os.Exit(1)
	}
}

// redisLogger routes go-redis's own log lines to slog at Debug.
type redisLogger struct{ log *slog.Logger }

func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, "redis: "+fmt.Sprintf(format, v...))
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// writeSummary prints what the run showed.
func writeSummary(w io.Writer, s Summary) {
	fmt.Fprintf(w, "%d app processes (%s) behind a round-robin proxy; PostgreSQL schema %s, Redis prefix %s\n",
		len(s.Instances), strings.Join(s.Instances, ", "), s.Schema, s.Prefix)
	fmt.Fprintf(w, "visits:   %d first page views (%s), %d second page views kept session and number: %d\n",
		s.Visits, byInstance(s.VisitsBy), s.PageViews, s.SessionKept)
	fmt.Fprintf(w, "numbers:  %d leased, %d leased to two live sessions; shared pool: %d live holds, %d reuses\n",
		s.NumbersLeased, s.DoubleLeases, s.PoolHolds, s.Reuses)
	fmt.Fprintf(w, "calls:    %d placed (%s), %d answered by another process than the visit's, %d forwarded to the business line\n",
		s.Calls, byInstance(s.CallsBy), s.CrossInstance, s.Forwarded)
	fmt.Fprintf(w, "stitched: %d of %d to their true session (%d exact)\n", s.Stitched, s.Calls, s.Exact)
	fmt.Fprintf(w, "time:     %v\n", s.Elapsed.Round(10*time.Millisecond))
	if s.OK() {
		fmt.Fprintln(w, "OK: no double lease, every call stitched to its session")
		return
	}
	fmt.Fprintln(w, "PROBLEMS:")
	for _, p := range s.Problems {
		fmt.Fprintln(w, "  "+p)
	}
}

func byInstance(m map[string]int) string {
	names := slices.Sorted(maps.Keys(m))
	parts := make([]string, len(names))
	for i, n := range names {
		label := n
		if label == "" {
			label = "?"
		}
		parts[i] = fmt.Sprintf("%s %d", label, m[n])
	}
	return strings.Join(parts, ", ")
}
