// Command visitserver serves the dni visitor API for load tests: one
// service with 1,000 tracking numbers, rate limits off, on the store named
// by -store. Its clock moves 6 s per visit, so that a load of first visits
// never exhausts the pool (each number is held 30 min and cools 60). Drive it with wrk and the Lua script next to this file:
//
//	go run ./dni/internal/cmd/visitserver -store memory &
//	wrk -t2 -c32 -d10s --latency -s dni/internal/cmd/visitserver/visit.lua http://127.0.0.1:8099/dni/v1/visit
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
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
	kind := flag.String("store", "memory", "memory, sqlite or postgres")
	dsn := flag.String("postgres", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "PostgreSQL URL for -store postgres")
	flag.Parse()
	if err := run(*addr, *kind, *dsn); err != nil {
		fmt.Fprintln(os.Stderr, "visitserver:", err)
		os.Exit(1)
	}
}

func run(addr, kind, dsn string) error {
	ctx := context.Background()
	var st store.Store
	switch kind {
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
		p, err := pgxpool.New(ctx, dsn)
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
		return fmt.Errorf("-store %q: memory, sqlite or postgres", kind)
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
	srv := &http.Server{Addr: addr, Handler: svc.Handler(), ReadHeaderTimeout: 5 * time.Second}
	return srv.ListenAndServe()
}
