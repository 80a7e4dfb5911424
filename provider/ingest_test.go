package provider_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/provider/providertest"
)

// scripted is a recorder whose failures a test chooses per call id.
type scripted struct {
	*providertest.MemoryRecorder
	mu   sync.Mutex
	fail map[string]func() error
}

func newScripted() *scripted {
	return &scripted{MemoryRecorder: providertest.NewMemoryRecorder(), fail: map[string]func() error{}}
}

func (s *scripted) failWith(callID string, f func() error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f == nil {
		delete(s.fail, callID)
		return
	}
	s.fail[callID] = f
}

func (s *scripted) RecordCall(ctx context.Context, ev provider.CallEvent) error {
	s.mu.Lock()
	f := s.fail[ev.CallID]
	s.mu.Unlock()
	if f != nil {
		if err := f(); err != nil {
			return err
		}
	}
	return s.MemoryRecorder.RecordCall(ctx, ev)
}

func newIngest(t *testing.T, rec provider.CallRecorder, dir string) *provider.Ingest {
	t.Helper()
	in, err := provider.NewIngest(rec, provider.IngestConfig{SpoolDir: dir, Logger: quiet,
		RetryInterval: time.Millisecond, MaxRetryInterval: 5 * time.Millisecond, MaxAttempts: 3})
	if err != nil {
		t.Fatal(err)
	}
	providertest.RunIngest(t, in)
	t.Cleanup(func() { in.Close() })
	return in
}

// eventually polls cond; the deadline only bounds a broken test, it is
// not a performance claim.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never happened: %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func recorded(rec *providertest.MemoryRecorder, ids ...string) bool {
	for _, id := range ids {
		if _, ok := rec.Call("p", id); !ok {
			return false
		}
	}
	return true
}

func TestIngestDeadLettersAPoisonEventAndGoesOn(t *testing.T) {
	for name, poison := range map[string]func() error{
		"rejected": func() error { return fmt.Errorf("%w: caller id too long", provider.ErrRejected) },
		"panic":    func() error { panic("recorder bug") },
	} {
		t.Run(name, func(t *testing.T) {
			rec := newScripted()
			rec.failWith("poison", poison)
			in := newIngest(t, rec, t.TempDir())
			in.Submit(ev("before"))
			in.Submit(ev("poison"))
			for i := range 20 {
				in.Submit(ev(fmt.Sprint("after", i)))
			}
			eventually(t, "later events recorded", func() bool { return recorded(rec.MemoryRecorder, "before", "after19") })
			if n := len(rec.Calls()); n != 21 {
				t.Fatalf("recorded %d calls, want 21", n)
			}
			dl := in.DeadLetters()
			if len(dl) != 1 || dl[0].Event.CallID != "poison" || string(dl[0].Event.Raw) != "raw poison" || dl[0].Error == "" {
				t.Fatalf("dead letters %+v, want the poison event with its raw body and reason", dl)
			}
			if st := in.Stats(); st.DeadLettered != 1 || st.DeadLetters != 1 {
				t.Fatalf("stats %+v", st)
			}
			// After the fix, a replay records it and empties the list.
			rec.failWith("poison", nil)
			if n, err := in.ReplayDeadLetters(context.Background()); n != 1 || err != nil {
				t.Fatalf("replay: %d, %v", n, err)
			}
			if !recorded(rec.MemoryRecorder, "poison") || len(in.DeadLetters()) != 0 {
				t.Fatal("replayed dead letter not recorded or still listed")
			}
		})
	}
}

func TestIngestDeadLettersSurviveARestart(t *testing.T) {
	dir := t.TempDir()
	rec := newScripted()
	rec.failWith("poison", func() error { return provider.ErrRejected })
	in := newIngest(t, rec, dir)
	in.Submit(ev("poison"))
	eventually(t, "dead letter", func() bool { return len(in.DeadLetters()) == 1 })
	in.Close()
	in2 := newIngest(t, rec, dir)
	if dl := in2.DeadLetters(); len(dl) != 1 || dl[0].Event.CallID != "poison" {
		t.Fatalf("after restart: %+v", dl)
	}
}

// An event that fails on its own while others are recorded is moved
// behind them, then dead-lettered after MaxAttempts: it never holds the
// others back by more than its own retry.
func TestIngestMovesAnEventThatFailsAloneBehindTheOthers(t *testing.T) {
	rec := newScripted()
	rec.failWith("slow", func() error { return context.DeadlineExceeded })
	in := newIngest(t, rec, t.TempDir())
	in.Submit(ev("slow"))
	// Traffic goes on; each new event shows the store works.
	for i := 0; len(in.DeadLetters()) == 0; i++ {
		if i == 100 {
			t.Fatalf("no dead letter after %d later events: %+v", i, in.Stats())
		}
		id := fmt.Sprint("next", i)
		in.Submit(ev(id))
		eventually(t, id+" recorded", func() bool { return recorded(rec.MemoryRecorder, id) })
	}
	dl := in.DeadLetters()[0]
	if dl.Event.CallID != "slow" || dl.Attempts != 3 || !strings.Contains(dl.Error, "deadline") {
		t.Fatalf("dead letter %+v", dl)
	}
	if st := in.Stats(); st.Requeued != 2 {
		t.Fatalf("requeued %d times, want 2", st.Requeued)
	}
}

func TestIngestWaitsOutAStoreOutageWithoutDeadLettering(t *testing.T) {
	rec := newScripted()
	rec.SetDown(true)
	in := newIngest(t, rec, t.TempDir())
	for i := range 30 {
		in.Submit(ev(fmt.Sprint(i)))
	}
	eventually(t, "outage reported", func() bool { return len(in.Health()) == 1 })
	if h := in.Health()[0]; !strings.Contains(h, "recorder failing") {
		t.Fatalf("health %q", h)
	}
	if st := in.Stats(); st.Spooled != 30 || st.Pending != 30 || st.OldestWaiting.IsZero() {
		t.Fatalf("during the outage: %+v", st)
	}
	rec.SetDown(false)
	in.Kick()
	eventually(t, "backlog recorded", func() bool { return len(rec.Calls()) == 30 && in.Stats().Pending == 0 })
	eventually(t, "healthy again", func() bool { return len(in.Health()) == 0 })
	if n := len(in.DeadLetters()); n != 0 {
		t.Fatalf("%d events dead-lettered by an outage", n)
	}
}

func TestIngestKeepsEventsInMemoryWhenTheSpoolIsUnusable(t *testing.T) {
	parent := t.TempDir()
	blocker := filepath.Join(parent, "spool")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil { // a file where the directory should be
		t.Fatal(err)
	}
	rec := newScripted()
	in := newIngest(t, rec, blocker)
	if h := in.Health(); len(h) != 1 || !strings.Contains(h[0], "spool unusable") {
		t.Fatalf("health %q", h)
	}
	for i := range 10 {
		in.Submit(ev(fmt.Sprint(i))) // must not block or fail
	}
	eventually(t, "recorded from memory", func() bool { return len(rec.Calls()) == 10 })

	// The directory is fixed: held events move into the spool again.
	rec.SetDown(true)
	in.Submit(ev("held"))
	if err := os.Remove(blocker); err != nil {
		t.Fatal(err)
	}
	eventually(t, "spool usable again", func() bool {
		in.Kick()
		return len(in.Health()) == 1 && strings.Contains(in.Health()[0], "recorder failing")
	})
	eventually(t, "held event in the spool", func() bool { return in.Stats().InMemory == 0 && in.Stats().Pending == 1 })
	rec.SetDown(false)
	in.Kick()
	eventually(t, "held event recorded", func() bool { return recorded(rec.MemoryRecorder, "held") })
}

func TestIngestOnAFullDiskStillDeliversAndCountsWhatItCannotKeep(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs /dev/full")
	}
	dir := t.TempDir()
	if err := os.Symlink("/dev/full", filepath.Join(dir, "calls.spool")); err != nil {
		t.Fatal(err)
	}
	rec := newScripted()
	rec.SetDown(true)
	in, err := provider.NewIngest(rec, provider.IngestConfig{SpoolDir: dir, Logger: quiet, MemoryQueue: 5,
		RetryInterval: time.Millisecond, MaxRetryInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	providertest.RunIngest(t, in)
	defer in.Close()
	for i := range 8 {
		in.Submit(ev(fmt.Sprint(i)))
	}
	if st := in.Stats(); st.InMemory != 5 || st.Lost != 3 {
		t.Fatalf("stats %+v, want 5 in memory and 3 lost", st)
	}
	rec.SetDown(false)
	in.Kick()
	eventually(t, "memory delivered", func() bool { return len(rec.Calls()) == 5 })
}

func TestIngestCloseLeavesUndeliveredEventsForTheNextProcess(t *testing.T) {
	dir := t.TempDir()
	rec := newScripted()
	rec.SetDown(true)
	in := newIngest(t, rec, dir)
	for i := range 5 {
		in.Submit(ev(fmt.Sprint(i)))
	}
	if err := in.Close(); err != nil {
		t.Fatal(err)
	}
	rec.SetDown(false)
	newIngest(t, rec, dir)
	eventually(t, "delivered by the next process", func() bool { return len(rec.Calls()) == 5 })
}

func TestNewIngestNamesEveryProblem(t *testing.T) {
	_, err := provider.NewIngest(nil, provider.IngestConfig{MaxAttempts: -1})
	if !errors.Is(err, provider.ErrInvalidConfig) {
		t.Fatalf("err = %v", err)
	}
	for _, field := range []string{"Recorder", "SpoolDir", "MaxAttempts"} {
		if !strings.Contains(err.Error(), field) {
			t.Errorf("error does not name %s: %v", field, err)
		}
	}
}

// Close delivers for at most RecordTimeout more, then leaves the rest of
// a long backlog in the spool for the next process instead of holding
// shutdown until the store has caught up.
func TestIngestCloseDoesNotWaitForALongBacklog(t *testing.T) {
	dir := t.TempDir()
	rec := newScripted()
	for i := range 2000 {
		rec.failWith(fmt.Sprint(i), func() error { time.Sleep(2 * time.Millisecond); return nil })
	}
	rec.SetDown(true)
	in, err := provider.NewIngest(rec, provider.IngestConfig{SpoolDir: dir, Logger: quiet,
		RetryInterval: time.Millisecond, MaxRetryInterval: time.Millisecond, RecordTimeout: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	providertest.RunIngest(t, in)
	for i := range 2000 {
		in.Submit(ev(fmt.Sprint(i)))
	}
	rec.SetDown(false)
	if err := in.Close(); err != nil {
		t.Fatal(err)
	}
	// Recording all 2,000 takes 4 s; Close's last pass may take 20 ms.
	if n := len(rec.Calls()); n == 2000 {
		t.Fatal("Close waited for the whole backlog")
	}
	newIngest(t, rec, dir)
	eventually(t, "the rest delivered by the next process", func() bool { return len(rec.Calls()) == 2000 })
}

// Handlers still running while the service shuts down submit during and
// after Close: every event they were answered for is in the spool for the
// next process.
func TestIngestSubmitDuringAndAfterCloseLosesNothing(t *testing.T) {
	dir := t.TempDir()
	rec := newScripted()
	rec.SetDown(true) // nothing is delivered: every event must be in the spool
	in, err := provider.NewIngest(rec, provider.IngestConfig{SpoolDir: dir, Logger: quiet,
		RetryInterval: time.Hour, RecordTimeout: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	providertest.RunIngest(t, in)
	in.Submit(ev("first"))
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() { in.Submit(ev(fmt.Sprint("late", i))) })
	}
	if err := in.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if st := in.Stats(); st.Lost != 0 || st.Spooled != 41 {
		t.Fatalf("stats %+v, want 41 spooled and none lost", st)
	}
	rec.SetDown(false)
	newIngest(t, rec, dir)
	eventually(t, "every event delivered by the next process", func() bool { return len(rec.Calls()) == 41 })
}

// A refused event whose dead letter cannot be written stays in the spool
// (and holds the others back) rather than vanish; once the file can be
// written it is kept there and the rest goes on.
func TestIngestKeepsARefusedEventWhenItsDeadLetterCannotBeWritten(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "calls.dead"), 0o700); err != nil { // a directory where the file should be
		t.Fatal(err)
	}
	rec := newScripted()
	rec.failWith("poison", func() error { return provider.ErrRejected })
	in := newIngest(t, rec, dir)
	in.Submit(ev("poison"))
	in.Submit(ev("after"))
	eventually(t, "health says why", func() bool {
		h := in.Health()
		return len(h) == 1 && strings.Contains(h[0], "dead-letter file unwritable")
	})
	if st := in.Stats(); st.Pending != 2 || st.DeadLettered != 0 || recorded(rec.MemoryRecorder, "after") {
		t.Fatalf("stats %+v: the refused event must wait in the spool, the next behind it", st)
	}
	if err := os.Remove(filepath.Join(dir, "calls.dead")); err != nil {
		t.Fatal(err)
	}
	in.Kick()
	eventually(t, "the rest delivered", func() bool { return recorded(rec.MemoryRecorder, "after") })
	if dl := in.DeadLetters(); len(dl) != 1 || dl[0].Event.CallID != "poison" {
		t.Fatalf("dead letters %+v", dl)
	}
}

// A host whose Run ended with its context (Ctrl-C) then calls Close:
// Close still makes the last delivery pass.
func TestIngestCloseDeliversAfterRunEndedWithItsContext(t *testing.T) {
	rec := newScripted()
	in, err := provider.NewIngest(rec, provider.IngestConfig{SpoolDir: t.TempDir(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := in.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
	in.Submit(ev("late"))
	if err := in.Close(); err != nil {
		t.Fatal(err)
	}
	if n := len(rec.Calls()); n != 1 {
		t.Fatalf("recorded %d events, want the one submitted after Run ended", n)
	}
}
