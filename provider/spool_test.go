package provider_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/attriqs/calltrack/provider"
)

func ev(id string) provider.CallEvent {
	return provider.CallEvent{Provider: "p", CallID: id, Status: provider.StatusRinging, Raw: []byte("raw " + id)}
}

func openSpool(t testing.TB, dir string) *provider.Spool {
	t.Helper()
	s, err := provider.OpenSpool(dir, provider.SpoolConfig{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func appendIDs(t testing.TB, s *provider.Spool, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if err := s.Append(ev(id)); err != nil {
			t.Fatal(err)
		}
	}
}

// readAll returns the ids of every unhandled event, marking them handled
// when handle is set.
func readAll(t testing.TB, s *provider.Spool, handle bool) []string {
	t.Helper()
	var ids []string
	for {
		entries, err := s.Next(3)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) == 0 {
			return ids
		}
		for _, e := range entries {
			if e.Event.CallID != "" {
				ids = append(ids, e.Event.CallID)
			}
			if !handle {
				continue
			}
			if err := s.Done(e); err != nil {
				t.Fatal(err)
			}
		}
		if !handle {
			return ids
		}
	}
}

func TestSpoolSurvivesReopenAndDeliversInOrder(t *testing.T) {
	dir := t.TempDir()
	s := openSpool(t, dir)
	appendIDs(t, s, "a", "b", "c")
	s.Close()
	s = openSpool(t, dir)
	if s.Pending() != 3 || s.Recovery().Records != 3 {
		t.Fatalf("after reopen: pending %d, recovery %+v, want 3", s.Pending(), s.Recovery())
	}
	if ids := readAll(t, s, true); fmt.Sprint(ids) != "[a b c]" {
		t.Fatalf("read %v, want [a b c]", ids)
	}
	if s.Pending() != 0 {
		t.Fatalf("after handling everything: pending %d", s.Pending())
	}
	appendIDs(t, s, "d")
	if ids := readAll(t, s, true); fmt.Sprint(ids) != "[d]" {
		t.Fatalf("read %v after handling the rest, want [d]", ids)
	}
	s.Close()
	if s = openSpool(t, dir); s.Pending() != 0 {
		t.Fatalf("handled events pending again after reopen: %d", s.Pending())
	}
}

// Where the handled records end is kept in a checkpoint beside the log:
// a restart resumes there. Without it (lost in a crash, since it is not
// fsynced) the whole log is delivered again and the recorder's merge
// absorbs the repeats.
func TestSpoolResumesAtTheCheckpointOrRedeliversWithoutIt(t *testing.T) {
	dir := t.TempDir()
	s := openSpool(t, dir)
	appendIDs(t, s, "a", "b", "c")
	entries, _ := s.Next(1)
	if err := s.Done(entries[0]); err != nil {
		t.Fatal(err)
	}
	if ids := readAll(t, s, false); fmt.Sprint(ids) != "[b c]" {
		t.Fatalf("read %v, want [b c]", ids)
	}
	s.Close()
	s = openSpool(t, dir)
	if ids := readAll(t, s, false); fmt.Sprint(ids) != "[b c]" {
		t.Fatalf("after reopen read %v, want [b c]", ids)
	}
	s.Close()
	if err := os.Remove(filepath.Join(dir, "calls.cursor")); err != nil {
		t.Fatal(err)
	}
	s = openSpool(t, dir)
	if ids := readAll(t, s, true); fmt.Sprint(ids) != "[a b c]" {
		t.Fatalf("without the checkpoint read %v, want [a b c]", ids)
	}
}

// A checkpoint from another generation of the log (its offset now inside
// other records) skips nothing.
func TestSpoolIgnoresAStaleCheckpoint(t *testing.T) {
	dir := t.TempDir()
	s := openSpool(t, dir)
	appendIDs(t, s, "a", "b")
	entries, _ := s.Next(1)
	_ = s.Done(entries[0])
	s.Close()
	stale, _ := os.ReadFile(filepath.Join(dir, "calls.cursor"))
	_ = os.Remove(filepath.Join(dir, "calls.spool"))
	s = openSpool(t, dir)
	appendIDs(t, s, "x", "y", "z")
	s.Close()
	_ = os.WriteFile(filepath.Join(dir, "calls.cursor"), stale, 0o600)
	s = openSpool(t, dir)
	if ids := readAll(t, s, false); fmt.Sprint(ids) != "[x y z]" {
		t.Fatalf("with a stale checkpoint read %v, want [x y z]", ids)
	}
}

func TestSpoolRequeueMovesAnEventBehindTheOthers(t *testing.T) {
	s := openSpool(t, t.TempDir())
	appendIDs(t, s, "a", "b")
	entries, _ := s.Next(1)
	a := entries[0]
	a.Attempts++
	if err := s.Requeue(a); err != nil {
		t.Fatal(err)
	}
	if err := s.Done(a); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range func() []provider.SpoolEntry { e, _ := s.Next(10); return e }() {
		got = append(got, fmt.Sprintf("%s/%d", e.Event.CallID, e.Attempts))
	}
	if fmt.Sprint(got) != "[b/0 a/1]" {
		t.Fatalf("after requeue: %v, want [b/0 a/1]", got)
	}
}

func TestSpoolGroupCommitKeepsEveryConcurrentAppend(t *testing.T) {
	s := openSpool(t, t.TempDir())
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Go(func() {
			if err := s.Append(ev(fmt.Sprint(i))); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if s.Pending() != 64 {
		t.Fatalf("pending %d, want 64", s.Pending())
	}
	seen := map[string]bool{}
	for _, id := range readAll(t, s, true) {
		seen[id] = true
	}
	if len(seen) != 64 {
		t.Fatalf("read %d distinct events, want 64", len(seen))
	}
}

// spoolOf writes the ids to a fresh spool in dir and returns the file's
// bytes.
func spoolOf(t *testing.T, dir string, ids ...string) []byte {
	t.Helper()
	s, err := provider.OpenSpool(dir, provider.SpoolConfig{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	appendIDs(t, s, ids...)
	s.Close()
	data, err := os.ReadFile(filepath.Join(dir, "calls.spool"))
	if err != nil {
		t.Fatal(err)
	}
	// Without the zeroed space the log grows into: records never end in 0.
	return bytes.TrimRight(data, "\x00")
}

func ids(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("e%03d", i)
	}
	return out
}

func TestSpoolRecoversFromDamage(t *testing.T) {
	all := ids(104)
	recordSize := len(spoolOf(t, t.TempDir(), all...)) / len(all)
	cases := []struct {
		name string
		harm func(data []byte) []byte
		// lost is how many records the harm may destroy.
		lost        int
		quarantined bool
	}{
		{"torn tail", func(d []byte) []byte { return d[:len(d)-5] }, 1, false},
		{"one flipped bit in the middle", func(d []byte) []byte { d[len(d)/2] ^= 0x10; return d }, 1, true},
		{"16 bytes of garbage at the start", func(d []byte) []byte {
			return append(bytes.Repeat([]byte{0x5a}, 16), d...)
		}, 0, true},
		{"a zeroed 4 KB page", func(d []byte) []byte { clear(d[4096:8192]); return d }, 4096/recordSize + 2, true},
		{"garbage at the end", func(d []byte) []byte { return append(d, []byte("not a record at all")...) }, 0, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			data := c.harm(spoolOf(t, dir, all...))
			if err := os.WriteFile(filepath.Join(dir, "calls.spool"), data, 0o600); err != nil {
				t.Fatal(err)
			}
			s := openSpool(t, dir)
			rec := s.Recovery()
			got := readAll(t, s, true)
			if len(got) < len(all)-c.lost || rec.Records != len(got) {
				t.Fatalf("kept %d of %d (recovery %+v), may lose %d", len(got), len(all), rec, c.lost)
			}
			// What is kept is intact and in order.
			j := 0
			for _, id := range got {
				for j < len(all) && all[j] != id {
					j++
				}
				if j == len(all) {
					t.Fatalf("kept events out of order or altered: %v", got)
				}
			}
			q, _ := os.ReadFile(filepath.Join(dir, "calls.quarantine"))
			if c.quarantined != (rec.Damaged > 0) || int64(len(q)) != rec.DamagedBytes+rec.TornBytes {
				t.Fatalf("recovery %+v, quarantine holds %d bytes; want damage quarantined: %v", rec, len(q), c.quarantined)
			}
			if !c.quarantined && rec.TornBytes == 0 {
				t.Fatalf("torn tail not reported: %+v", rec)
			}
		})
	}
}

// A record damaged on disk after it was written (and so after its
// webhook was answered) is quarantined when read, and reading goes on.
func TestSpoolQuarantinesDamageFoundWhileReading(t *testing.T) {
	dir := t.TempDir()
	s := openSpool(t, dir)
	appendIDs(t, s, "a", "b", "c")
	path := filepath.Join(dir, "calls.spool")
	data, _ := os.ReadFile(path)
	i := bytes.Index(data, []byte(`"call_id":"b"`))
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("X"), int64(i)); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if got := readAll(t, s, true); fmt.Sprint(got) != "[a c]" {
		t.Fatalf("read %v, want [a c] with b quarantined", got)
	}
	if q, _ := os.ReadFile(filepath.Join(dir, "calls.quarantine")); !bytes.Contains(q, []byte(`call_id":"b"`)) {
		t.Fatalf("quarantine does not hold the damaged record: %q", q)
	}
}

func TestSpoolOnAFullDiskRefusesAppendsAfterTheFirstFailure(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs /dev/full")
	}
	dir := t.TempDir()
	if err := os.Symlink("/dev/full", filepath.Join(dir, "calls.spool")); err != nil {
		t.Fatal(err)
	}
	s := openSpool(t, dir)
	err := s.Append(ev("a"))
	if err == nil || s.Broken() == nil {
		t.Fatalf("append on a full disk: %v, broken %v", err, s.Broken())
	}
	// The file's state after a failed sync is unknown: appends are
	// refused, without writing, until the log is reopened and checked.
	if err2 := s.Append(ev("b")); err2 == nil || err2.Error() != err.Error() {
		t.Fatalf("append after failure = %v, want the first failure %v", err2, err)
	}
	if err := s.Reopen(); err != nil || s.Broken() != nil {
		t.Fatalf("reopen: %v, broken %v", err, s.Broken())
	}
	if err := s.Append(ev("c")); err == nil {
		t.Fatal("append on a full disk succeeded after reopening")
	}
}

func TestOpenSpoolNeedsAUsableDir(t *testing.T) {
	if _, err := provider.OpenSpool("", provider.SpoolConfig{}); !errors.Is(err, provider.ErrInvalidConfig) {
		t.Fatalf("OpenSpool(\"\") = %v, want ErrInvalidConfig", err)
	}
	file := filepath.Join(t.TempDir(), "file")
	_ = os.WriteFile(file, nil, 0o600)
	if _, err := provider.OpenSpool(filepath.Join(file, "spool"), provider.SpoolConfig{}); err == nil {
		t.Fatal("OpenSpool under a regular file succeeded")
	}
}

// Whatever is on disk (torn writes, foreign bytes), opening and reading
// the spool must not panic and must only yield checksummed records.
// Recovery fsyncs, so each input costs milliseconds and the engine's
// default minimisation (60 s per new input) looks like a stall; fuzz with
//
//	go test -run '^$' -fuzz FuzzSpoolRecovery -fuzzminimizetime 50x ./provider/
func FuzzSpoolRecovery(f *testing.F) {
	dir := f.TempDir()
	s, _ := provider.OpenSpool(dir, provider.SpoolConfig{Logger: quiet})
	_ = s.Append(ev("a"))
	_ = s.Append(ev("b"))
	s.Close()
	valid, _ := os.ReadFile(filepath.Join(dir, "calls.spool"))
	valid = bytes.TrimRight(valid, "\x00") // without the log's preallocated space
	f.Add(valid)
	f.Add(append(valid, make([]byte, 4096)...))
	f.Add(append(valid, 0xff, 'C', 'T', 1, 0, 0))
	f.Add(append([]byte{0xff, 0xff, 0xff, 0xff}, valid...))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "calls.spool"), data, 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := provider.OpenSpool(dir, provider.SpoolConfig{Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		rec := s.Recovery()
		if got := readAll(t, s, true); len(got) > rec.Records || s.Pending() != 0 {
			t.Fatalf("read %d events, recovery %+v, pending %d", len(got), rec, s.Pending())
		}
		if rec.DamagedBytes+rec.TornBytes > int64(len(data)) {
			t.Fatalf("recovery %+v counts more bytes than the file's %d", rec, len(data))
		}
	})
}

// Under steady traffic the log stays bounded (started again whenever
// everything in it is handled, its handled head cut off once it passes
// 16 MB) however much is written, and every event is delivered once.
// Writers keep at most a window of events in flight, as a store that
// keeps up does.
func TestSpoolStaysBoundedUnderSteadyTraffic(t *testing.T) {
	s := openSpool(t, t.TempDir())
	const writers, each, window = 4, 300, 32
	big := bytes.Repeat([]byte("r"), 32<<10)
	inFlight := make(chan struct{}, window)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				inFlight <- struct{}{}
				e := ev(fmt.Sprintf("w%d-%d", w, i))
				e.Raw = big
				if err := s.Append(e); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	seen := map[string]int{}
	var maxBytes int64
	for len(seen) < writers*each {
		entries, err := s.Next(16)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			seen[e.Event.CallID]++
			if err := s.Done(e); err != nil {
				t.Fatal(err)
			}
			<-inFlight
		}
		maxBytes = max(maxBytes, s.Bytes())
		if len(entries) == 0 {
			time.Sleep(time.Millisecond) // nothing yet: let the writers run
		}
	}
	wg.Wait()
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("%s delivered %d times", id, n)
		}
	}
	if total := int64(writers * each * len(big)); maxBytes > 20<<20 {
		t.Fatalf("the log grew to %d bytes of %d written: it is not bounded", maxBytes, total)
	}
}
