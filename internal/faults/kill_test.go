package faults_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/attriqs/calltrack/dni"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/provider/fake"
	"github.com/attriqs/calltrack/store"
	"github.com/attriqs/calltrack/store/sqlite"
)

var secret = []byte("fault-suite-secret")

const (
	businessLine = "+14155550000"
	callerNumber = "+12125550123"
	childEnv     = "CALLTRACK_FAULT_CHILD"
)

var trackingNumbers = []string{"+14155550101", "+14155550102", "+14155550103"}

func serviceConfig() dni.Config {
	return dni.Config{
		Pools: []dni.Pool{{PoolConfig: pool.PoolConfig{Name: "main", Numbers: trackingNumbers, BusinessNumber: businessLine}}},
		// Every call qualifies, so each call also writes a conversion and
		// duplicates would show there too.
		Qualify: []journey.QualifyRule{{Name: "any call", Value: 100, Currency: "USD"}},
	}
}

// TestMain runs the service as a child process when the kill test asks
// for one: the same binary, so the child is exactly the code under test.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		if err := serveChild(os.Getenv("FAULT_DB"), os.Getenv("FAULT_SPOOL")); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// serveChild serves webhooks on a free port, printed on stdout, until it
// is killed.
func serveChild(dbPath, spoolDir string) error {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, dbPath, sqlite.Config{})
	if err != nil {
		return err
	}
	prov, err := fake.New(fake.Config{Secret: secret})
	if err != nil {
		return err
	}
	svc, err := dni.New(serviceConfig(), dni.WithStore(st), dni.WithProvider(prov), dni.WithSpoolDir(spoolDir),
		dni.WithLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))))
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Printf("ADDR %s\n", ln.Addr())
	go func() { _ = svc.Run(context.Background()) }() // records calls until the parent kills us
	return http.Serve(ln, svc.Handler())
}

// child is one service process.
type child struct {
	cmd  *exec.Cmd
	addr string
}

func startChild(t *testing.T, dbPath, spoolDir string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1", "FAULT_DB="+dbPath, "FAULT_SPOOL="+spoolDir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("child did not start: %v", err)
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	return &child{cmd: cmd, addr: strings.TrimSpace(strings.TrimPrefix(line, "ADDR "))}
}

func (c *child) kill() {
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	_ = c.cmd.Wait()
}

// ledger is what the senders know: which webhooks were answered 2xx.
type ledger struct {
	sent, answered atomic.Int64
	mu             sync.Mutex
	inbound        map[string]bool // call id → inbound answered
	completed      map[string]bool // call id → completed status answered
}

func killCount() int {
	if n, err := strconv.Atoi(os.Getenv("CALLTRACK_FAULT_KILLS")); err == nil && n > 0 {
		return n
	}
	return 25
}

// TestKillNineWhileWebhooksArrive kills the service with SIGKILL at random
// moments while four senders post calls (an inbound webhook, then its
// completed status), restarts it on the same database and spool, and
// checks that every webhook that was answered is in the store once.
func TestKillNineWhileWebhooksArrive(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process per kill")
	}
	dir := t.TempDir()
	dbPath, spoolDir := filepath.Join(dir, "calls.db"), filepath.Join(dir, "spool")
	kills := killCount()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	l := &ledger{inbound: map[string]bool{}, completed: map[string]bool{}}
	var next atomic.Int64
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

	for round := range kills {
		c := startChild(t, dbPath, spoolDir)
		url := "http://" + c.addr + dni.DefaultPrefix + "webhooks/fake"
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() { sendCalls(url, client, l, &next, stop) })
		}
		// A random moment: before the first webhook, mid-burst, or later.
		time.Sleep(time.Duration(rng.IntN(30_000)) * time.Microsecond)
		c.kill()
		close(stop)
		wg.Wait()
		_ = round
	}

	// A last process delivers what the spool holds.
	c := startChild(t, dbPath, spoolDir)
	defer c.kill()
	st, err := sqlite.Open(context.Background(), dbPath, sqlite.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	l.mu.Lock()
	defer l.mu.Unlock()
	var lost []string
	deadline := time.Now().Add(2 * time.Minute)
	for {
		lost = lostEvents(t, st, l)
		if len(lost) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	calls, dupCalls, convs, dupConvs := duplicates(t, st)
	t.Logf("kill -9 ×%d: %d webhooks sent, %d answered; %d calls recorded (%d duplicated), %d conversions (%d duplicated); %d answered events lost",
		kills, l.sent.Load(), l.answered.Load(), calls, dupCalls, convs, dupConvs, len(lost))
	if len(lost) > 0 {
		t.Fatalf("answered events lost: %v", lost)
	}
	if dupCalls+dupConvs > 0 {
		t.Fatalf("duplicates: %d calls, %d conversions", dupCalls, dupConvs)
	}
	if l.answered.Load() == 0 {
		t.Fatal("no webhook was answered: the test tested nothing")
	}
}

// sendCalls posts calls until stop: each an inbound webhook and, once it
// is answered, the completed status.
func sendCalls(url string, client *http.Client, l *ledger, next *atomic.Int64, stop <-chan struct{}) {
	caller := &fake.Caller{Secret: secret, HTTPClient: client}
	ctx := context.Background()
	for {
		select {
		case <-stop:
			return
		default:
		}
		id := fmt.Sprintf("CA%06d", next.Add(1))
		to := trackingNumbers[len(id)%len(trackingNumbers)]
		l.sent.Add(1)
		if _, err := caller.Post(ctx, url, fake.Event{Type: fake.EventInbound, CallID: id, From: callerNumber, To: to, OccurredAt: time.Now()}); err != nil {
			return // the process is gone; this round is over
		}
		l.answered.Add(1)
		l.mu.Lock()
		l.inbound[id] = true
		l.mu.Unlock()
		l.sent.Add(1)
		if _, err := caller.Post(ctx, url, fake.Event{Type: fake.EventStatus, CallID: id, From: callerNumber, To: to,
			Status: "completed", DurationS: 61, OccurredAt: time.Now()}); err != nil {
			return
		}
		l.answered.Add(1)
		l.mu.Lock()
		l.completed[id] = true
		l.mu.Unlock()
	}
}

// lostEvents lists the answered webhooks the store does not reflect.
func lostEvents(t *testing.T, st store.Store, l *ledger) []string {
	t.Helper()
	var lost []string
	for id := range l.inbound {
		call, err := st.Call(context.Background(), fake.Name, id)
		switch {
		case err != nil:
			lost = append(lost, id+" inbound")
		case l.completed[id] && (call.Status != provider.StatusCompleted || call.Duration != 61*time.Second):
			lost = append(lost, id+" completed")
		}
	}
	return lost
}

// duplicates counts the stored calls and conversions and how many of
// them repeat a call already counted.
func duplicates(t *testing.T, st store.Store) (calls, dupCalls, convs, dupConvs int) {
	t.Helper()
	ctx := context.Background()
	from, to := time.Now().Add(-24*time.Hour), time.Now().Add(24*time.Hour)
	cs, err := st.CallsBetween(ctx, from, to)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, c := range cs {
		if seen[c.Key()] {
			dupCalls++
		}
		seen[c.Key()] = true
	}
	conv, err := st.ConversionsBetween(ctx, from, to)
	if err != nil {
		t.Fatal(err)
	}
	seen = map[string]bool{}
	for _, c := range conv {
		k := c.CallProvider + "/" + c.CallID
		if seen[k] {
			dupConvs++
		}
		seen[k] = true
	}
	return len(cs), dupCalls, len(conv), dupConvs
}

// runService runs svc as a host does and returns the function that closes
// it and waits for Run to return.
func runService(t *testing.T, svc *dni.Service) (stop func()) {
	t.Helper()
	ran := make(chan error, 1)
	go func() { ran <- svc.Run(context.Background()) }()
	return func() {
		if err := svc.Close(); err != nil {
			t.Logf("closing the service: %v", err)
		}
		if err := <-ran; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
}
