package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/attriqs/calltrack/store"
	"github.com/attriqs/calltrack/store/postgres"
	"github.com/attriqs/calltrack/store/sqlite"

	"github.com/attriqs/calltrack/internal/cli"
	"github.com/attriqs/calltrack/report"
)

// openStore opens the store a -store flag names: sqlite:PATH (an existing
// file) or a postgres:// or postgresql:// URL. Read-only stores refuse
// writes in the database itself (SQLite's mode=ro, PostgreSQL's
// default_transaction_read_only), so a report cannot change what it
// reads. The CLI never migrates a schema: the application that writes the
// store does.
func openStore(ctx context.Context, spec string, readOnly bool) (store.Store, func() error, error) {
	switch {
	case spec == "":
		return nil, nil, cli.FlagError("store", "is required: sqlite:PATH or postgres://...")
	case strings.HasPrefix(spec, "sqlite:"):
		path := strings.TrimPrefix(strings.TrimPrefix(spec, "sqlite:"), "//")
		if path == "" {
			return nil, nil, cli.FlagError("store", "sqlite: needs a file path, as in sqlite:calls.db")
		}
		if _, err := os.Stat(path); err != nil {
			return nil, nil, cli.FlagError("store", "%v", err)
		}
		q := url.Values{}
		q.Add("_pragma", "busy_timeout(5000)")
		q.Add("_pragma", "foreign_keys(1)")
		if readOnly {
			q.Set("mode", "ro")
		} else {
			q.Set("_txlock", "immediate")
		}
		db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
		if err != nil {
			return nil, nil, cli.FlagError("store", "%v", err)
		}
		if err := db.PingContext(ctx); err != nil {
			_ = db.Close()
			return nil, nil, cli.FlagError("store", "%s: %v", path, err)
		}
		st := sqlite.New(db, sqlite.Config{})
		return st, func() error { return errors.Join(st.Close(), db.Close()) }, nil
	case strings.HasPrefix(spec, "postgres://"), strings.HasPrefix(spec, "postgresql://"):
		cfg, err := pgxpool.ParseConfig(spec)
		if err != nil {
			return nil, nil, cli.FlagError("store", "%v", err) // pgx leaves the password out of its errors
		}
		if readOnly {
			cfg.ConnConfig.RuntimeParams["default_transaction_read_only"] = "on"
		}
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			return nil, nil, cli.FlagError("store", "%v", err)
		}
		pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := pool.Ping(pingCtx); err != nil {
			pool.Close()
			return nil, nil, cli.FlagError("store", "%s: %v", redact(spec), err)
		}
		st := postgres.New(pool, postgres.Config{})
		return st, st.Close, nil
	default:
		return nil, nil, cli.FlagError("store", "%q is neither sqlite:PATH nor a postgres:// URL", redact(spec))
	}
}

// redact hides a URL's password, so errors can quote the flag.
func redact(spec string) string {
	u, err := url.Parse(spec)
	if err != nil || u.User == nil {
		if err != nil {
			return "(unparsable URL)"
		}
		return spec
	}
	return u.Redacted()
}

// readFlags are the flags of a command that reads a period of a store:
// -store, opened read-only, and -from and -to, a period of 30 days by
// default.
type readFlags struct{ store, from, to *string }

func addReadFlags(fs *flag.FlagSet) readFlags {
	return readFlags{
		store: fs.String("store", "", "the store: sqlite:PATH or postgres://... (required; opened read-only)"),
		from:  fs.String("from", "", "first day (YYYY-MM-DD, UTC) or RFC 3339 time; default 30 days before -to"),
		to:    fs.String("to", "", "end, excluded (YYYY-MM-DD, UTC, or RFC 3339); default the start of tomorrow"),
	}
}

func (f readFlags) period(now time.Time) (from, to time.Time, err error) {
	return period(*f.from, *f.to, 30, now)
}

func (f readFlags) openStore(ctx context.Context) (store.Store, func() error, error) {
	return openStore(ctx, *f.store, true)
}

// period reads -from and -to: days (YYYY-MM-DD, UTC midnight) or RFC 3339
// times, -to excluded. Without -to the period ends at the start of
// tomorrow (UTC), so today counts; without -from it starts days before -to.
func period(fromFlag, toFlag string, days int, now time.Time) (from, to time.Time, err error) {
	to = report.PeriodEnd(now)
	if toFlag != "" {
		if to, err = parseTime(toFlag); err != nil {
			return from, to, cli.FlagError("to", "%v", err)
		}
	}
	from = to.AddDate(0, 0, -days)
	if fromFlag != "" {
		if from, err = parseTime(fromFlag); err != nil {
			return from, to, cli.FlagError("from", "%v", err)
		}
	}
	if !from.Before(to) {
		return from, to, cli.FlagError("from", "%s is not before -to %s", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	return from, to, nil
}

func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither YYYY-MM-DD nor an RFC 3339 time", s)
	}
	return t.UTC(), nil
}
