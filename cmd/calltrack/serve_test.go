package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/report"
)

// TestServeShowsTheStore serves the dashboard over a SQLite store and
// reads its figures: the pools come from the store's holds (their sizes
// the numbers the holds used) or from -config, and the pools page's holds,
// use, calls at risk and recommended size are pool.Audit's of the store's
// holds at that size and cooldown.
func TestServeShowsTheStore(t *testing.T) {
	storeURL, holds := holdsFixture(t)
	config := filepath.Join(t.TempDir(), "pools.json")
	if err := os.WriteFile(config, []byte(`{"pools":[{"name":"ads","numbers":["+14155550000","+14155550001","+14155550002","+14155550003","+14155550004"],"cooldown":"30m"}],"title":"Acme calls"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, config string
		size         int
		cooldown     time.Duration
		pools        []string
		title        string
	}{
		{"pools from holds", "", 4, pool.DefaultCooldown, []string{"ads", "brand"}, "calltrack"},
		{"pools from -config", config, 5, 30 * time.Minute, []string{"ads"}, "Acme calls"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := serveAt(t, serveOptions{store: storeURL, config: tc.config, readOnly: true})
			rep, err := pool.Audit(holds, pool.AuditOptions{Size: tc.size, Cooldown: tc.cooldown})
			if err != nil {
				t.Fatal(err)
			}
			rows := getCSV(t, base+"/pools?format=csv")
			var names []string
			for _, r := range rows[1:] {
				names = append(names, r[0])
			}
			if strings.Join(names, ",") != strings.Join(tc.pools, ",") {
				t.Fatalf("pools %v, want %v", names, tc.pools)
			}
			ads := map[string]string{}
			for i, h := range rows[0] {
				ads[h] = rows[1][i]
			}
			for col, want := range map[string]string{
				"Numbers":          strconv.Itoa(tc.size),
				"Holds ended":      strconv.Itoa(rep.Holds), // the live hold has no end yet
				"Used over period": fmt.Sprintf("%.0f%%", rep.Utilisation*100),
				"Calls at risk":    fmt.Sprintf("%.1f%%", rep.CallsAtRisk*100),
				"Recommended size": strconv.Itoa(rep.Recommended.Numbers),
			} {
				if ads[col] != want {
					t.Errorf("ads, %s: %q, want %q", col, ads[col], want)
				}
			}
			if rep.Holds != 40 {
				t.Errorf("the fixture's ended holds: %d, want 40", rep.Holds)
			}
			if tc.config == "" && rows[2][len(rows[2])-1] != "not enough history yet (1 holds)" {
				t.Errorf("brand: %v", rows[2])
			}
			page := getPage(t, base+"/pools")
			for _, want := range []string{"<title>Number pools · last 30 days · " + tc.title + "</title>",
				fmt.Sprintf("At the busiest hour %d visitors were given a number", rep.PeakHourlyArrivals),
				fmt.Sprintf("%d numbers stitch %s of calls", rep.Recommended.Numbers, report.FormatShare(rep.Recommended.Accuracy))} {
				if !strings.Contains(page, want) {
					t.Errorf("GET /pools lacks %q", want)
				}
			}
			overview := getPage(t, base+"/")
			if got := kpi(t, overview, "kpi-calls"); got != "0" {
				t.Errorf("calls %s: the store has none", got)
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
	srv, ln, closeAll, err := newServer(ctx, serveOptions{store: storeURL, addr: "127.0.0.1:0", readOnly: true, allowHosts: []string{"calls.example.com"}}, &errOut)
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
