// Package testenv finds the outside services that integration tests need
// (PostgreSQL, Redis, Chromium) at their usual local addresses or at the
// address an environment variable names.
//
// A test asks for a service; when it is absent the test is skipped with a
// message saying how to provide it, unless CALLTRACK_REQUIRE_SERVICES=1 (as
// CI sets), in which case the test fails instead: a green CI run always means
// the service was really exercised.
package testenv

import (
	"net"
	"net/url"
	"os"
	"os/exec"
	"time"
)

// TB is the part of testing.TB this package uses.
type TB interface {
	Helper()
	Skipf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// Required reports whether missing services must fail tests rather than skip them.
func Required() bool { return os.Getenv("CALLTRACK_REQUIRE_SERVICES") == "1" }

// PostgresDSN returns the DSN of a reachable PostgreSQL server:
// $CALLTRACK_POSTGRES_DSN, or the local default database "test".
func PostgresDSN(t TB) string {
	t.Helper()
	dsn := os.Getenv("CALLTRACK_POSTGRES_DSN")
	if dsn == "" {
		dsn = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	u, err := url.Parse(dsn)
	if err != nil || u.Host == "" {
		t.Fatalf("testenv: CALLTRACK_POSTGRES_DSN is not a URL with a host: %q", dsn)
		return ""
	}
	requireTCP(t, "PostgreSQL", u.Host, "CALLTRACK_POSTGRES_DSN")
	return dsn
}

// RedisAddr returns the host:port of a reachable Redis server:
// $CALLTRACK_REDIS_ADDR, or 127.0.0.1:6379.
func RedisAddr(t TB) string {
	t.Helper()
	addr := os.Getenv("CALLTRACK_REDIS_ADDR")
	if addr == "" {
		addr = "127.0.0.1:6379"
	}
	requireTCP(t, "Redis", addr, "CALLTRACK_REDIS_ADDR")
	return addr
}

// ChromiumPath returns the path of a Chromium or Chrome binary:
// $CALLTRACK_CHROMIUM, or the first of the usual names found on PATH.
func ChromiumPath(t TB) string {
	t.Helper()
	if p := os.Getenv("CALLTRACK_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	missing(t, "Chromium", "install chromium or set CALLTRACK_CHROMIUM")
	return ""
}

func requireTCP(t TB, service, addr, envVar string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		missing(t, service, "nothing answers at "+addr+" ("+err.Error()+"); start it or set "+envVar)
		return
	}
	_ = conn.Close()
}

func missing(t TB, service, how string) {
	t.Helper()
	if Required() {
		t.Fatalf("testenv: %s is required (CALLTRACK_REQUIRE_SERVICES=1) but unavailable: %s", service, how)
		return
	}
	t.Skipf("testenv: %s unavailable, skipping: %s", service, how)
}
