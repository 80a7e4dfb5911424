package provider_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/provider/fake"
	"github.com/attriqs/calltrack/provider/providertest"
)

// BenchmarkWebhookAnswer measures how long a vendor waits for the answer
// to an inbound-call webhook when its event is made durable first: a real
// HTTP server, keep-alive clients, the fake provider's signed webhooks,
// one unique call per request. Each answer's latency is taken by the
// client, from sending the request to reading the whole body, and the
// benchmark reports its p50 and p99 and the answers per second.
//
// The arms:
//
//   - store=up: the recorder accepts, so the spool is drained behind the
//     answers; store=down: the recorder fails and events pile up in it.
//   - conc=1: one webhook at a time; conc=200: 200 clients, each sending
//     the next webhook as soon as its answer arrives.
//   - spool=disk: the spool in b.TempDir() (set TMPDIR to choose the
//     disk; the arm is skipped if it is a memory filesystem); spool=tmpfs:
//     the same code with the spool in /dev/shm, where fsync costs nothing:
//     the in-memory answer the durable one is compared with (skipped where
//     /dev/shm is not tmpfs).
//
// The goal: spool=disk p99 at most 2x spool=tmpfs p99, and at most 20 ms,
// in every store and conc arm. Disk and tmpfs arms run next to each other;
// to compare them, run the binary several times so a noisy minute hits
// both (see docs/benchmarks.md), then:
//
//	go run golang.org/x/perf/cmd/benchstat@latest -col /spool answer.txt
func BenchmarkWebhookAnswer(b *testing.B) {
	for _, store := range []string{"up", "down"} {
		for _, conc := range []int{1, 200} {
			for _, spool := range []string{"disk", "tmpfs"} {
				name := fmt.Sprintf("store=%s/conc=%d/spool=%s", store, conc, spool)
				b.Run(name, func(b *testing.B) {
					dir := answerBenchSpoolDir(b, spool)
					benchWebhookAnswer(b, dir, store == "down", conc)
				})
			}
		}
	}
}

// answerBenchSpoolDir returns a fresh spool directory for the arm, or
// skips it when the filesystem is not what the arm stands for.
func answerBenchSpoolDir(b *testing.B, spool string) string {
	b.Helper()
	switch spool {
	case "disk":
		dir := b.TempDir()
		if fs := fsType(dir); fs == "tmpfs" || fs == "ramfs" {
			b.Skipf("%s is on %s, where fsync is free; set TMPDIR to a directory on a disk", dir, fs)
		}
		return dir
	default:
		if fsType("/dev/shm") != "tmpfs" || mountPoint("/dev/shm") != "/dev/shm" {
			b.Skip("/dev/shm is not a tmpfs mount; the in-memory baseline needs one")
		}
		dir, err := os.MkdirTemp("/dev/shm", "calltrack-bench-")
		if err != nil {
			b.Skipf("/dev/shm: %v", err)
		}
		b.Cleanup(func() { os.RemoveAll(dir) })
		return dir
	}
}

func benchWebhookAnswer(b *testing.B, spoolDir string, storeDown bool, conc int) {
	quiet := slog.New(slog.DiscardHandler)
	rec := providertest.NewMemoryRecorder()
	rec.SetDown(storeDown)
	// A down store is retried once a minute, so the benchmark measures
	// answers, not a retry loop.
	in, err := provider.NewIngest(rec, provider.IngestConfig{SpoolDir: spoolDir,
		RetryInterval: time.Minute, MaxRetryInterval: time.Minute, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	providertest.RunIngest(b, in)
	defer in.Close()
	secret := []byte("bench-secret")
	p, err := fake.New(fake.Config{Secret: secret})
	if err != nil {
		b.Fatal(err)
	}
	h, err := provider.NewHandler(p, in, func(context.Context, provider.CallEvent) (provider.Forward, error) {
		return provider.Forward{To: businessNumber, RingTimeout: 25 * time.Second}, nil
	}, provider.HandlerConfig{Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	tr := &http.Transport{MaxIdleConns: conc, MaxIdleConnsPerHost: conc, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	url := srv.URL + "/hooks/fake"

	var seq atomic.Int64 // call ids, unique across warm-up and the timed loop
	send := func() (time.Duration, error) {
		id := seq.Add(1)
		body := []byte(`{"type":"call.inbound","call_id":"bench-` + strconv.FormatInt(id, 10) +
			`","from":"` + callerNumber + `","to":"` + trackingNumber + `"}`)
		req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return 0, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(fake.SignatureHeader, fake.Sign(secret, body, time.Now()))
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		ans, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		took := time.Since(start)
		if err != nil {
			return 0, err
		}
		if resp.StatusCode != http.StatusOK || len(ans) == 0 {
			return 0, fmt.Errorf("HTTP %d: %s", resp.StatusCode, ans)
		}
		return took, nil
	}

	// Warm up: open every client's connection and run the first commits,
	// untimed.
	if err := answerBenchRun(conc, 4*conc, func(int) error { _, err := send(); return err }); err != nil {
		b.Fatal(err)
	}
	samples := make([]time.Duration, b.N)
	b.ResetTimer()
	err = answerBenchRun(conc, b.N, func(i int) error {
		d, err := send()
		samples[i] = d
		return err
	})
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	elapsed := b.Elapsed()
	srv.Close()
	tr.CloseIdleConnections()
	if err := in.Close(); err != nil {
		b.Fatal(err)
	}
	st := in.Stats()
	if st.Lost > 0 || st.InMemory > 0 {
		b.Fatalf("the spool did not take every event (lost %d, in memory %d): %v", st.Lost, st.InMemory, in.Health())
	}
	if storeDown && st.Recorded > 0 {
		b.Fatalf("store down, yet %d events recorded", st.Recorded)
	}
	slices.Sort(samples)
	b.ReportMetric(answerBenchMicros(samples, 0.50), "p50-µs")
	b.ReportMetric(answerBenchMicros(samples, 0.99), "p99-µs")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "answers/s")
}

// answerBenchRun calls do(i) for i in [0, n) from conc goroutines, each
// taking the next i as soon as its previous call returns, and returns the
// first error.
func answerBenchRun(conc, n int, do func(i int) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for range conc {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := do(i); err != nil {
					once.Do(func() { first = err })
					next.Store(int64(n)) // stop the others
					return
				}
			}
		})
	}
	wg.Wait()
	return first
}

// answerBenchMicros returns the q-quantile of sorted samples (nearest
// rank) in microseconds.
func answerBenchMicros(sorted []time.Duration, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	i = min(max(i, 0), len(sorted)-1)
	return float64(sorted[i]) / float64(time.Microsecond)
}

// fsType names the filesystem holding path, from /proc/self/mounts;
// "" where that cannot be read (outside Linux).
func fsType(path string) string {
	_, fs := mountOf(path)
	return fs
}

// mountPoint is the mount point holding path; "" where unknown.
func mountPoint(path string) string {
	mp, _ := mountOf(path)
	return mp
}

func mountOf(path string) (mountPoint, fsType string) {
	abs, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "", ""
	}
	f, err := os.Open("/proc/self/mounts")
	if err != nil {
		return "", ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 3 {
			continue
		}
		mp := fields[1]
		if abs == mp || strings.HasPrefix(abs, strings.TrimSuffix(mp, "/")+"/") {
			if len(mp) >= len(mountPoint) { // the deepest mount wins; later lines win ties
				mountPoint, fsType = mp, fields[2]
			}
		}
	}
	return mountPoint, fsType
}
