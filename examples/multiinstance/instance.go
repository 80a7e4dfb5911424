package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/attriqs/calltrack/dni"
	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/pool/redispool"
	"github.com/attriqs/calltrack/provider/fake"
	"github.com/attriqs/calltrack/store/postgres"
)

// InstanceHeader names the instance that served a response.
const InstanceHeader = "X-Calltrack-Instance"

// SecretEnv carries the fake provider's signing secret to the instances,
// so it never shows in a process listing.
const SecretEnv = "CALLTRACK_FAKE_SECRET"

const (
	poolName     = "website"
	businessLine = "+14155550100"
)

// poolConfig is the pool every instance serves: they must agree on it.
func poolConfig(size int) pool.Config {
	numbers := make([]string, size)
	for i := range numbers {
		numbers[i] = fmt.Sprintf("+1415%03d%04d", 200+i/10_000, i%10_000)
	}
	return pool.Config{Pools: []pool.PoolConfig{{Name: poolName, Numbers: numbers, BusinessNumber: businessLine}}}
}

// instanceConfig is what one app process needs: the shared services and
// the names that make this run's data its own.
type instanceConfig struct {
	Name     string
	Listen   string
	Postgres string // DSN
	Schema   string // PostgreSQL schema holding this run's tables
	Redis    string // host:port
	Prefix   string // Redis key prefix of this run's pool
	PoolSize int
	Secret   []byte
	// Allocator is "redis" (the shared pool) or "memory": each process
	// its own in-process pool, which is what goes wrong without Redis.
	Allocator string
}

// visitorKey is the key the instances sign visitor ids with, derived from
// the secret they already share; a real deployment gives every instance
// the same random key from its secret store.
func visitorKey(secret []byte) []byte {
	k := sha256.Sum256(append([]byte("calltrack visitor ids\x00"), secret...))
	return k[:]
}

// serveInstance is one app process: dni on PostgreSQL and Redis, the fake
// provider mounted. It prints "listening http://ADDR" once it accepts
// connections and serves until ctx ends.
func serveInstance(ctx context.Context, cfg instanceConfig, stdout io.Writer, logw io.Writer) error {
	log := slog.New(slog.NewTextHandler(logw, &slog.HandlerOptions{Level: slog.LevelWarn})).With("instance", cfg.Name)

	pgCfg, err := pgxpool.ParseConfig(cfg.Postgres)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	pgCfg.ConnConfig.RuntimeParams["search_path"] = cfg.Schema
	pgCfg.ConnConfig.RuntimeParams["application_name"] = "calltrack-" + cfg.Name
	pg, err := pgxpool.NewWithConfig(ctx, pgCfg)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	defer pg.Close()
	st := postgres.New(pg, postgres.Config{})
	if err := st.Migrate(ctx); err != nil { // every instance may migrate at start-up; one does the work
		return fmt.Errorf("postgres: %w", err)
	}

	var opts []dni.Option
	if cfg.Allocator != "memory" {
		rdb := redis.NewClient(&redis.Options{Addr: cfg.Redis})
		defer rdb.Close()
		// The Service hands the allocator its pools and the hook that
		// writes every hold to the store, so audits see every instance's.
		opts = append(opts, dni.WithAllocator(func(pc pool.Config) (pool.Allocator, error) {
			return redispool.New(ctx, rdb, redispool.Config{Config: pc, Prefix: cfg.Prefix})
		}))
	}

	prov, err := fake.New(fake.Config{Secret: cfg.Secret})
	if err != nil {
		return err
	}
	spool, err := os.MkdirTemp("", "calltrack-spool-"+cfg.Name+"-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(spool)

	dcfg := dni.Config{
		Pools: []dni.Pool{{PoolConfig: poolConfig(cfg.PoolSize).Pools[0]}},
		// Every simulated visitor comes through the proxy from one loopback
		// address; a real deployment keeps the per-address limit and lists
		// its proxies in TrustedProxies.
		VisitsPerIPPerMinute: -1,
		// Every instance must verify the visitor ids the others issued.
		VisitorKeys: [][]byte{visitorKey(cfg.Secret)},
	}
	opts = append(opts, dni.WithStore(st), dni.WithProvider(prov), dni.WithSpoolDir(spool), dni.WithLogger(log))
	svc, err := dni.New(dcfg, opts...)
	if err != nil {
		return err
	}
	handler := svc.Handler()
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(InstanceHeader, cfg.Name)
		handler.ServeHTTP(w, r)
	})}

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	ran := make(chan error, 1)
	go func() { ran <- svc.Run(ctx) }()
	defer func() { _ = svc.Close(); <-ran }()

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "listening http://%s\n", ln.Addr())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
