package faults_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/attriqs/calltrack/dni"
	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/provider/fake"
	"github.com/attriqs/calltrack/store/memstore"
)

var quiet = slog.New(slog.DiscardHandler)

// spoolWithOffsets writes n events and returns the log's bytes and each
// record's byte range.
func spoolWithOffsets(t *testing.T, dir string, n int) ([]byte, [][2]int) {
	t.Helper()
	s, err := provider.OpenSpool(dir, provider.SpoolConfig{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ranges := make([][2]int, n)
	for i := range n {
		start := s.Bytes()
		if err := s.Append(provider.CallEvent{Provider: "p", CallID: fmt.Sprintf("e%04d", i), Raw: []byte(strings.Repeat("r", i%97))}); err != nil {
			t.Fatal(err)
		}
		ranges[i] = [2]int{int(start), int(s.Bytes())}
	}
	s.Close()
	data, err := os.ReadFile(filepath.Join(dir, "calls.spool"))
	if err != nil {
		t.Fatal(err)
	}
	// Without the zeroed space the log grows into: records never end in 0.
	return bytes.TrimRight(data, "\x00"), ranges
}

// TestSpoolDamageKeepsEveryUndamagedRecord damages the spool at random
// (bit flips, zeroed 4 KB pages, a garbage prefix, truncation) and checks
// that every record whose bytes were untouched is kept, in order, and that
// the damaged bytes are in the quarantine file.
func TestSpoolDamageKeepsEveryUndamagedRecord(t *testing.T) {
	const records, trials = 200, 60
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 2))
	var written, kept, damaged, lostUndamaged int
	kinds := map[string]int{}
	original, ranges := spoolWithOffsets(t, t.TempDir(), records)
	for trial := range trials {
		dir := t.TempDir()
		data := append([]byte(nil), original...)
		touched := make([]bool, len(data)) // bytes altered in place
		var prefix int
		kind := []string{"bit flips", "zeroed page", "garbage prefix", "truncation"}[trial%4]
		kinds[kind]++
		switch kind {
		case "bit flips":
			for range 1 + rng.IntN(5) {
				i := rng.IntN(len(data))
				data[i] ^= 1 << rng.IntN(8)
				touched[i] = true
			}
		case "zeroed page":
			page := rng.IntN(len(data)/4096 + 1)
			for i := page * 4096; i < min((page+1)*4096, len(data)); i++ {
				if data[i] != 0 {
					touched[i] = true
				}
				data[i] = 0
			}
		case "garbage prefix":
			prefix = 1 + rng.IntN(64)
			garbage := make([]byte, prefix)
			for i := range garbage {
				garbage[i] = byte(rng.IntN(256))
			}
			data = append(garbage, data...)
		case "truncation":
			cut := rng.IntN(len(data))
			for i := cut; i < len(touched); i++ {
				touched[i] = true
			}
			data = data[:cut]
		}
		if err := os.WriteFile(filepath.Join(dir, "calls.spool"), data, 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := provider.OpenSpool(dir, provider.SpoolConfig{Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for {
			entries, err := s.Next(64)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) == 0 {
				break
			}
			for _, e := range entries {
				got[e.Event.CallID] = true
				if err := s.Done(e); err != nil {
					t.Fatal(err)
				}
			}
		}
		rec := s.Recovery()
		s.Close()
		for i, r := range ranges {
			written++
			intact := true
			for b := r[0]; b < r[1]; b++ {
				intact = intact && !touched[b]
			}
			id := fmt.Sprintf("e%04d", i)
			switch {
			case got[id]:
				kept++
			case intact:
				lostUndamaged++
				t.Errorf("trial %d (%s): undamaged record %s lost; recovery %+v", trial, kind, id, rec)
			default:
				damaged++
			}
		}
		q, _ := os.ReadFile(filepath.Join(dir, "calls.quarantine"))
		if int64(len(q)) != rec.DamagedBytes+rec.TornBytes {
			t.Errorf("trial %d (%s): quarantine holds %d bytes, recovery says %d damaged and %d torn", trial, kind, len(q), rec.DamagedBytes, rec.TornBytes)
		}
	}
	t.Logf("spool damage, %d trials %v: %d records checked, %d kept, %d in damaged bytes (quarantined or torn), %d undamaged lost",
		trials, kinds, written, kept, damaged, lostUndamaged)
}

// TestUnusableSpoolStillForwardsEveryCaller runs calls through a service
// whose spool directory cannot be used, in two ways: a path that cannot
// be a directory, and a log on a full disk (/dev/full, every write fails).
func TestUnusableSpoolStillForwardsEveryCaller(t *testing.T) {
	cases := map[string]func(t *testing.T) string{
		"not a directory": func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "spool")
			if err := os.WriteFile(p, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			return p
		},
		"disk full": func(t *testing.T) string {
			if runtime.GOOS != "linux" {
				t.Skip("needs /dev/full")
			}
			dir := t.TempDir()
			if err := os.Symlink("/dev/full", filepath.Join(dir, "calls.spool")); err != nil {
				t.Fatal(err)
			}
			return dir
		},
	}
	for name, spoolDir := range cases {
		t.Run(name, func(t *testing.T) {
			const calls = 50
			st := memstore.New()
			prov, err := fake.New(fake.Config{Secret: secret})
			if err != nil {
				t.Fatal(err)
			}
			svc, err := dni.New(serviceConfig(), dni.WithStore(st), dni.WithProvider(prov), dni.WithSpoolDir(spoolDir(t)), dni.WithLogger(quiet))
			if err != nil {
				t.Fatal(err)
			}
			defer runService(t, svc)()
			srv := httptest.NewServer(svc.Handler())
			defer srv.Close()
			caller := &fake.Caller{Secret: secret}
			forwarded := 0
			for i := range calls {
				ans, err := caller.PlaceCall(context.Background(), srv.URL+dni.DefaultPrefix+"webhooks/fake",
					fake.Call{ID: fmt.Sprint("CA", i), From: callerNumber, To: trackingNumbers[i%len(trackingNumbers)], Answered: true, Duration: time.Minute})
				if err == nil && ans.To == businessLine {
					forwarded++
				}
			}
			h := svc.Health(context.Background())
			if !h.Degraded() || !strings.Contains(strings.Join(h.Reasons, " "), "spool unusable") {
				t.Errorf("health %+v does not say the spool is unusable", h)
			}
			var recorded int
			deadline := time.Now().Add(60 * time.Second)
			for time.Now().Before(deadline) {
				cs, err := st.CallsBetween(context.Background(), time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
				if recorded = len(cs); err == nil && recorded == calls {
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
			t.Logf("spool %s: %d calls placed, %d forwarded, %d recorded from memory; health: %s", name, calls, forwarded, recorded, h.Reasons[0])
			if forwarded != calls || recorded != calls {
				t.Fatalf("forwarded %d and recorded %d of %d calls", forwarded, recorded, calls)
			}
		})
	}
}
