package export_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/attriqs/calltrack/export"
	"github.com/attriqs/calltrack/export/webhook"
	"github.com/attriqs/calltrack/store"
	"github.com/attriqs/calltrack/store/sqlite"
)

// The restart test runs the exporter in child processes (this test binary
// re-executed with helperEnv set), so that one can be killed with SIGKILL
// in the middle of a delivery, as a crash or an OOM kill would.
const (
	helperEnv     = "CALLTRACK_EXPORT_HELPER" // "first" or "second"
	helperDBEnv   = "CALLTRACK_EXPORT_HELPER_DB"
	helperURLEnv  = "CALLTRACK_EXPORT_HELPER_URL"
	restartEvents = 10
)

var restartSecret = []byte("restart-secret")

// TestExportHelperProcess is the child's body; it does nothing in a normal
// test run.
func TestExportHelperProcess(t *testing.T) {
	mode := os.Getenv(helperEnv)
	if mode == "" {
		t.Skip("helper process for TestNoConversionLostWhenKilledMidDelivery")
	}
	ctx := context.Background()
	st, err := sqlite.Open(ctx, os.Getenv(helperDBEnv), sqlite.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sink, err := webhook.New(webhook.Config{URL: os.Getenv(helperURLEnv), Secret: restartSecret, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	// A short lease, so the messages the killed process held come back
	// quickly; Batch 4 leaves messages it never claimed as well.
	x, err := export.New(st, export.Config{Lease: 6 * time.Second, Timeout: 5 * time.Second, Batch: 4, Concurrency: 4,
		Poll: 50 * time.Millisecond, BaseDelay: 100 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)}, sink)
	if err != nil {
		t.Fatal(err)
	}
	runErr := make(chan error, 1)
	switch mode {
	case "first":
		for i := range restartEvents {
			if err := x.Record(ctx, qualifiedCall(fmt.Sprintf("CA%02d", i))); err != nil {
				t.Fatal(err)
			}
		}
		fmt.Println("ENQUEUED") // committed: the parent may kill us from now on
		_ = x.Run(ctx)          // the receiver blocks; the parent kills us
	case "second":
		go func() { runErr <- x.Run(ctx) }()
		for {
			pending, err := st.OutboxByState(ctx, store.OutboxPending, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(pending) == 0 {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err := x.Close(); err != nil {
			t.Fatal(err)
		}
		if err := <-runErr; err != nil {
			t.Fatal(err)
		}
		fmt.Println("DONE")
	}
}

func TestNoConversionLostWhenKilledMidDelivery(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two processes")
	}
	db := filepath.Join(t.TempDir(), "calltrack.db")

	var mu sync.Mutex
	phase := 1
	seen := map[string]int{} // idempotency key -> requests received
	inflight := make(chan string, 100)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := webhook.VerifySignature(restartSecret, r.Header.Get(webhook.SignatureHeader), body, time.Now(), 0); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		key := r.Header.Get(webhook.IdempotencyHeader)
		mu.Lock()
		seen[key]++
		p := phase
		mu.Unlock()
		if p == 1 {
			inflight <- key
			select { // hang until the sender dies (or the test ends)
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	defer close(release)

	child := func(mode string) (*exec.Cmd, *bufio.Scanner) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestExportHelperProcess$", "-test.v")
		cmd.Env = append(os.Environ(), helperEnv+"="+mode, helperDBEnv+"="+db, helperURLEnv+"="+srv.URL)
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		return cmd, bufio.NewScanner(out)
	}
	waitLine := func(sc *bufio.Scanner, want string) {
		t.Helper()
		var lines []string
		for sc.Scan() {
			if sc.Text() == want {
				return
			}
			lines = append(lines, sc.Text())
		}
		t.Fatalf("child ended without printing %s:\n%s", want, strings.Join(lines, "\n"))
	}

	// First process: record the conversions, start delivering, die.
	first, out := child("first")
	waitLine(out, "ENQUEUED")
	var held []string
	timeout := time.After(30 * time.Second)
	for len(held) < 4 { // the first batch is on the wire
		select {
		case k := <-inflight:
			held = append(held, k)
		case <-timeout:
			_ = first.Process.Kill()
			t.Fatalf("the first process delivered only %d messages", len(held))
		}
	}
	require.NoError(t, first.Process.Signal(syscall.SIGKILL))
	err := first.Wait()
	require.Error(t, err, "the first process was killed")

	// What the crash left: every conversion committed, none delivered, the
	// in-flight ones claimed.
	st, err := sqlite.Open(t.Context(), db, sqlite.Config{})
	require.NoError(t, err)
	pending, err := st.OutboxByState(t.Context(), store.OutboxPending, 0)
	require.NoError(t, err)
	require.Len(t, pending, restartEvents, "nothing was delivered before the kill")
	claimed := 0
	for _, m := range pending {
		claimed += m.Attempts
	}
	require.Equal(t, len(held), claimed, "exactly the in-flight messages were claimed")
	require.NoError(t, st.Close())

	// Second process over the same file: delivers everything, including
	// the messages the dead process held once their lease ran out.
	mu.Lock()
	phase = 2
	mu.Unlock()
	second, out := child("second")
	stuck := time.AfterFunc(90*time.Second, func() { _ = second.Process.Kill() }) // fail, not hang
	defer stuck.Stop()
	waitLine(out, "DONE")
	require.NoError(t, second.Wait())

	st, err = sqlite.Open(t.Context(), db, sqlite.Config{})
	require.NoError(t, err)
	defer st.Close()
	convs, err := st.ConversionsBetween(t.Context(), t0.Add(-time.Hour), t0.Add(time.Hour))
	require.NoError(t, err)
	require.Len(t, convs, restartEvents)
	mu.Lock()
	defer mu.Unlock()
	for _, c := range convs {
		ms, err := st.OutboxOfConversion(t.Context(), c.ID)
		require.NoError(t, err)
		require.Len(t, ms, 1)
		require.Equal(t, store.OutboxDelivered, ms[0].State, "%s: %s", ms[0].ID, ms[0].LastError)
		require.GreaterOrEqual(t, seen[ms[0].ID], 1, "%s reached the receiver", ms[0].ID)
	}
	for _, k := range held {
		require.GreaterOrEqual(t, seen[k], 2, "%s was in flight at the kill and sent again: at least once, not exactly once", k)
	}
	require.Len(t, seen, restartEvents)
}
