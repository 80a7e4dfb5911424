package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/dni"
	"github.com/attriqs/calltrack/internal/cli/clitest"
	"github.com/attriqs/calltrack/store/memstore"
)

func TestAdminPasswordFor(t *testing.T) {
	for _, tc := range []struct {
		name     string
		ip       string
		given    string
		want     string // "made up": a new random one
		isMadeUp bool
	}{
		{name: "IPv4 loopback, no password", ip: "127.0.0.1", want: ""},
		{name: "IPv6 loopback, no password", ip: "::1", want: ""},
		{name: "loopback with one given", ip: "127.0.0.1", given: "a long enough password", want: "a long enough password"},
		{name: "every IPv4 interface", ip: "0.0.0.0", isMadeUp: true},
		{name: "every interface", ip: "::", isMadeUp: true},
		{name: "a LAN address", ip: "192.168.1.20", isMadeUp: true},
		{name: "a public address with one given", ip: "203.0.113.9", given: "a long enough password", want: "a long enough password"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, madeUp := adminPasswordFor(&net.TCPAddr{IP: net.ParseIP(tc.ip), Port: 8080}, tc.given)
			assert.Equal(t, tc.isMadeUp, madeUp)
			if !tc.isMadeUp {
				assert.Equal(t, tc.want, got)
				return
			}
			assert.GreaterOrEqual(t, len(got), minAdminPassword)
			again, _ := adminPasswordFor(&net.TCPAddr{IP: net.ParseIP(tc.ip), Port: 8080}, "")
			assert.NotEqual(t, got, again, "made up afresh each run")
		})
	}
}

func TestAdminPasswordFlags(t *testing.T) {
	clitest.BadFlags(t, map[string]string{
		"-admin-password short": "-admin-password: at least 12 characters",
	})
	t.Run("from the environment", func(t *testing.T) {
		t.Setenv("CALLTRACK_ADMIN_PASSWORD", "short")
		clitest.BadFlags(t, map[string]string{"-store memory": "CALLTRACK_ADMIN_PASSWORD: at least 12 characters"})

		t.Setenv("CALLTRACK_ADMIN_PASSWORD", "from the environment")
		_, o, err := parseFlags([]string{"-store", "memory", "-spool", t.TempDir()})
		require.NoError(t, err)
		assert.Equal(t, "from the environment", o.adminPassword)
		_, o, err = parseFlags([]string{"-store", "memory", "-spool", t.TempDir(), "-admin-password", "from the command line"})
		require.NoError(t, err)
		assert.Equal(t, "from the command line", o.adminPassword, "the flag wins")
	})
}

// startDemoWithPassword serves the demo with an admin password, as run
// does when it listens on an address other than loopback.
func startDemoWithPassword(t *testing.T, password string) *httptest.Server {
	t.Helper()
	var d *demo
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { d.ServeHTTP(w, r) }))
	base := "http://" + srv.Listener.Addr().String()
	var err error
	d, err = newDemo(base, memstore.New(), t.TempDir(), time.Now, true)
	require.NoError(t, err)
	d.adminPassword = password
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		_ = d.Close()
	})
	return srv
}

type adminRequest struct {
	method, path, body string
}

// What only the operator may use: the dashboard, a report, a demo call.
var adminRequests = []adminRequest{
	{http.MethodGet, "/dashboard", ""},
	{http.MethodGet, dni.DefaultPrefix + "reports/calls", ""},
	{http.MethodPost, "/demo/call", `{"number":"+14155550150","from":"+12125550123","talk_s":30}`},
}

func do(t *testing.T, base string, r adminRequest, setAuth func(*http.Request)) *http.Response {
	t.Helper()
	req, err := http.NewRequest(r.method, base+r.path, strings.NewReader(r.body))
	require.NoError(t, err)
	if r.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if setAuth != nil {
		setAuth(req)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res
}

// On loopback without a password, as the README's go run promises, the
// dashboard, the reports and the demo calls need no credentials.
func TestLoopbackNeedsNoAdminPassword(t *testing.T) {
	_, srv := startDemo(t)
	for _, r := range adminRequests {
		res := do(t, srv.URL, r, nil)
		assert.Equal(t, http.StatusOK, res.StatusCode, "%s %s", r.method, r.path)
		assert.Empty(t, res.Header.Get("WWW-Authenticate"))
	}
}

// With a password, those three ask for it (HTTP Basic, user admin); the
// demo site and the tracker's API stay open, as a visitor needs them.
func TestAdminPasswordGuardsDashboardReportsAndCalls(t *testing.T) {
	const password = "correct horse battery staple"
	srv := startDemoWithPassword(t, password)
	for _, r := range adminRequests {
		t.Run(r.method+" "+r.path, func(t *testing.T) {
			res := do(t, srv.URL, r, nil)
			assert.Equal(t, http.StatusUnauthorized, res.StatusCode, "no credentials")
			assert.True(t, strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Basic "), res.Header.Get("WWW-Authenticate"))
			for name, auth := range map[string][2]string{
				"wrong password":      {adminUser, password + "!"},
				"a prefix of it":      {adminUser, password[:12]},
				"wrong user":          {"root", password},
				"empty":               {"", ""},
				"password as user":    {password, adminUser},
				"user with the colon": {adminUser + ":" + password, ""},
			} {
				res := do(t, srv.URL, r, func(req *http.Request) { req.SetBasicAuth(auth[0], auth[1]) })
				assert.Equal(t, http.StatusUnauthorized, res.StatusCode, name)
			}
			res = do(t, srv.URL, r, func(req *http.Request) { req.SetBasicAuth(adminUser, password) })
			assert.Equal(t, http.StatusOK, res.StatusCode, "the admin")
		})
	}

	for _, path := range []string{"/", "/site/home", "/flyer"} {
		res := do(t, srv.URL, adminRequest{http.MethodGet, path, ""}, nil)
		assert.Equal(t, http.StatusOK, res.StatusCode, path)
	}
	visit, err := json.Marshal(dni.VisitRequest{URL: srv.URL + "/site/home"})
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, srv.URL+dni.DefaultPrefix+"v1/visit", bytes.NewReader(visit))
	require.NoError(t, err)
	req.Header.Set("User-Agent", browserUA)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode, "the tracker's API needs no password")
}
