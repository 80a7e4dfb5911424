package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeShowsTheStore serves the dashboard over a SQLite store and
// reads its pages: the pools come from the store's holds, or from
// -config.
func TestServeShowsTheStore(t *testing.T) {
	storeURL, _ := holdsFixture(t)
	config := filepath.Join(t.TempDir(), "pools.json")
	if err := os.WriteFile(config, []byte(`{"pools":[{"name":"ads","numbers":["+14155550000","+14155550001","+14155550002","+14155550003","+14155550004"],"cooldown":"30m"}],"title":"Acme calls"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, config string
		want         []string
	}{
		{"pools from holds", "", []string{"ads", "brand"}},
		{"pools from -config", config, []string{"ads", "Acme calls"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var errOut bytes.Buffer
			srv, ln, closeAll, err := newServer(ctx, storeURL, "127.0.0.1:0", tc.config, true, nil, &errOut)
			if err != nil {
				t.Fatalf("newServer: %v\n%s", err, errOut.String())
			}
			defer closeAll()
			done := make(chan error, 1)
			go func() { done <- serveUntil(ctx, srv, ln) }()
			base := "http://" + ln.Addr().String()
			for _, path := range []string{"/", "/calls", "/attribution", "/pools"} {
				resp, err := http.Get(base + path)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Errorf("GET %s: %d\n%s", path, resp.StatusCode, body)
				}
				if path == "/pools" {
					for _, w := range tc.want {
						if !strings.Contains(string(body), w) {
							t.Errorf("GET /pools lacks %q", w)
						}
					}
				}
			}
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve after cancel: %v", err)
			}
		})
	}
}

func TestServeFlagErrorsNameTheFlag(t *testing.T) {
	storeURL, _ := holdsFixture(t)
	badConfig := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(badConfig, []byte(`{"pools":[{"name":"ads","numbers":["+14155550000"],"cooldown":"soon"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		flag string
	}{
		{[]string{}, "-store"},
		{[]string{"-store", storeURL, "-addr", "nowhere"}, "-addr"},
		{[]string{"-store", storeURL, "-config", filepath.Join(t.TempDir(), "none.json")}, "-config"},
		{[]string{"-store", storeURL, "-config", badConfig}, "-config"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(append([]string{"serve"}, tc.args...), &out, &errOut)
			if err == nil || !strings.Contains(err.Error(), tc.flag) {
				t.Errorf("error %v does not name %s", err, tc.flag)
			}
		})
	}
}

// TestServeOnLoopbackRefusesOtherHosts: the dashboard has no login, and
// on loopback a page of another site that rebinds its own name to
// 127.0.0.1 would be same-origin to it; a Host other than a loopback
// address or localhost is refused.
func TestServeOnLoopbackRefusesOtherHosts(t *testing.T) {
	storeURL, _ := holdsFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var errOut bytes.Buffer
	srv, ln, closeAll, err := newServer(ctx, storeURL, "127.0.0.1:0", "", true, []string{"calls.example.com"}, &errOut)
	if err != nil {
		t.Fatalf("newServer: %v\n%s", err, errOut.String())
	}
	defer closeAll()
	done := make(chan error, 1)
	go func() { done <- serveUntil(ctx, srv, ln) }()
	_, port, _ := strings.Cut(ln.Addr().String(), ":")
	for host, want := range map[string]int{
		"127.0.0.1:" + port:        http.StatusOK,
		"localhost:" + port:        http.StatusOK,
		"[::1]:" + port:            http.StatusOK,
		"calls.example.com":        http.StatusOK, // -allow-host, for a proxy
		"evil.example:" + port:     http.StatusMisdirectedRequest,
		"127.0.0.1.nip.io:" + port: http.StatusMisdirectedRequest,
	} {
		req, err := http.NewRequest(http.MethodGet, "http://"+ln.Addr().String()+"/calls", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("Host %s: %d, want %d", host, resp.StatusCode, want)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve after cancel: %v", err)
	}
}
