package provider_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/provider/providertest"
)

const (
	callerA = "+14155550123"
	callerB = "+14155550999"
)

// callFrom is an event of caller whose raw body names them.
func callFrom(id, caller string) provider.CallEvent {
	e := ev(id)
	e.From, e.CallerName = caller, "NAME OF "+caller
	e.Raw = []byte(`From=` + strings.Replace(caller, "+", "%2B", 1) + `&CallerName=NAME+OF+` + caller[1:])
	return e
}

// dropping is the erasure that drops the events match names and rewrites
// none.
func dropping(match func(provider.CallEvent) bool) func(provider.CallEvent) (bool, *provider.CallEvent) {
	return func(e provider.CallEvent) (bool, *provider.CallEvent) { return match(e), nil }
}

// redact stands for the host's rule (dni passes journey.RedactCall): it
// keeps no number, name or body in the clear, and changes nothing the
// second time.
func redact(e provider.CallEvent) provider.CallEvent {
	if e.From != "" && !strings.HasPrefix(e.From, "k:") {
		e.From = "k:" + strings.Map(func(r rune) rune { return 'a' + (r-'0')%26 }, e.From[1:])
	}
	e.CallerName = ""
	if len(e.Raw) > 0 && !bytes.HasPrefix(e.Raw, []byte("sealed:")) {
		e.Raw = []byte("sealed:" + fmt.Sprint(len(e.Raw)))
	}
	return e
}

func newRedactingIngest(t *testing.T, rec provider.CallRecorder, dir string) *provider.Ingest {
	t.Helper()
	in, err := provider.NewIngest(rec, provider.IngestConfig{SpoolDir: dir, Logger: quiet, Redact: redact,
		RetryInterval: time.Millisecond, MaxRetryInterval: 5 * time.Millisecond, MaxAttempts: 3})
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// requireAbsent fails when any file under dir holds the number in any
// spelling: the spool, its checkpoint, dead letters, quarantine.
func requireAbsent(t *testing.T, dir string, numbers ...string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, n := range numbers {
			for _, spelling := range []string{n, n[1:], n[2:], "%2B" + n[1:]} {
				if bytes.Contains(b, []byte(spelling)) {
					t.Errorf("%s holds %q", filepath.Base(path), spelling)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// With Redact set, nothing the ingest writes (spool, dead letters) or
// hands the recorder holds the caller in the clear; events spooled before
// Redact was set are redacted when they are delivered.
func TestIngestRedactsEveryEventBeforeKeepingIt(t *testing.T) {
	dir := t.TempDir()
	// Spooled by an earlier process that did not redact.
	s := openSpool(t, dir)
	if err := s.Append(callFrom("legacy", callerA)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	rec := newScripted()
	rec.failWith("poison", func() error { return provider.ErrRejected })
	in := newRedactingIngest(t, rec, dir)
	providertest.RunIngest(t, in)
	t.Cleanup(func() { in.Close() })
	for _, id := range []string{"a1", "poison", "a2"} {
		in.Submit(callFrom(id, callerA))
	}
	eventually(t, "recorded", func() bool { return recorded(rec.MemoryRecorder, "legacy", "a1", "a2") })
	eventually(t, "dead letter", func() bool { return len(in.DeadLetters()) == 1 })
	for id, c := range rec.Calls() {
		if c.From == callerA || c.CallerName != "" || bytes.Contains(c.Raw, []byte("14155550123")) {
			t.Errorf("the recorder was handed %s unredacted: %+v", id, c)
		}
	}
	if l := in.DeadLetters()[0]; l.Event.From == callerA || l.Event.CallerName != "" || !bytes.HasPrefix(l.Event.Raw, []byte("sealed:")) {
		t.Errorf("dead letter kept unredacted: %+v", l.Event)
	}
	// The earlier process's record is still in the log's handled head
	// (the log is emptied only once it has grown); an Erase of nothing
	// rewrites the log without it.
	if _, err := in.Erase(dropping(func(provider.CallEvent) bool { return false })); err != nil {
		t.Fatal(err)
	}
	requireAbsent(t, dir, callerA)
}

// Erase removes a caller's waiting events and dead letters; the others are
// delivered, and the erased ones never are.
func TestIngestEraseRemovesWaitingEventsAndDeadLetters(t *testing.T) {
	dir := t.TempDir()
	rec := newScripted()
	rec.failWith("a-poison", func() error { return provider.ErrRejected })
	in := newRedactingIngest(t, rec, dir)
	providertest.RunIngest(t, in)
	t.Cleanup(func() { in.Close() })
	in.Submit(callFrom("a-poison", callerA))
	in.Submit(callFrom("b-before", callerB))
	eventually(t, "dead letter and b", func() bool {
		return len(in.DeadLetters()) == 1 && recorded(rec.MemoryRecorder, "b-before")
	})
	rec.SetDown(true)
	for _, e := range []provider.CallEvent{callFrom("a1", callerA), callFrom("b1", callerB), callFrom("a2", callerA)} {
		in.Submit(e)
	}
	eventually(t, "outage", func() bool { return len(in.Health()) > 0 })

	keyedA := redact(callFrom("x", callerA)).From
	n, err := in.Erase(dropping(func(e provider.CallEvent) bool { return e.From == keyedA }))
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Fatalf("erased %d events, want 3 (two waiting, one dead letter)", n)
	}
	if st := in.Stats(); st.Pending != 1 || st.DeadLetters != 0 {
		t.Fatalf("after erasure: %+v", st)
	}
	requireAbsent(t, dir, callerA)
	if got := fileHolding(t, dir, keyedA); got != "" {
		t.Errorf("%s still names the erased caller by their keyed number", got)
	}
	rec.SetDown(false)
	in.Kick()
	eventually(t, "b1 recorded", func() bool { return recorded(rec.MemoryRecorder, "b1") })
	in.Close()
	for _, id := range []string{"a1", "a2", "a-poison"} {
		if recorded(rec.MemoryRecorder, id) {
			t.Errorf("erased event %s was recorded", id)
		}
	}
	// A restart finds neither.
	in2 := newRedactingIngest(t, rec, dir)
	defer in2.Close()
	if st := in2.Stats(); st.Pending != 0 || st.DeadLetters != 0 {
		t.Fatalf("after restart: %+v", st)
	}
}

// fileHolding returns the name of a file under dir holding s, or "".
func fileHolding(t *testing.T, dir, s string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err == nil && bytes.Contains(b, []byte(s)) {
			return e.Name()
		}
	}
	return ""
}

// Events held in memory while the spool is unusable are erased too.
func TestIngestEraseRemovesEventsHeldInMemory(t *testing.T) {
	blocker := filepath.Join(t.TempDir(), "spool")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil { // a file where the directory should be
		t.Fatal(err)
	}
	rec := newScripted()
	rec.SetDown(true)
	in := newRedactingIngest(t, rec, blocker)
	defer in.Close()
	in.Submit(callFrom("a1", callerA))
	in.Submit(callFrom("b1", callerB))
	if st := in.Stats(); st.InMemory != 2 {
		t.Fatalf("in memory: %+v", st)
	}
	keyedA := redact(callFrom("x", callerA)).From
	n, err := in.Erase(dropping(func(e provider.CallEvent) bool { return e.From == keyedA }))
	if n != 1 {
		t.Fatalf("erased %d, want 1 (err %v)", n, err)
	}
	if st := in.Stats(); st.InMemory != 1 {
		t.Fatalf("in memory after erasure: %+v", st)
	}
}

// After Close, Erase still cleans the spool the next process will read.
func TestIngestEraseAfterClose(t *testing.T) {
	dir := t.TempDir()
	rec := newScripted()
	rec.SetDown(true)
	in := newRedactingIngest(t, rec, dir)
	in.Submit(callFrom("a1", callerA))
	in.Submit(callFrom("b1", callerB))
	if err := in.Close(); err != nil {
		t.Fatal(err)
	}
	keyedA := redact(callFrom("x", callerA)).From
	if n, err := in.Erase(dropping(func(e provider.CallEvent) bool { return e.From == keyedA })); n != 1 || err != nil {
		t.Fatalf("erase after close: %d, %v", n, err)
	}
	in.Submit(callFrom("b2", callerB)) // a late webhook still lands in the spool
	rec.SetDown(false)
	in2 := newRedactingIngest(t, rec, dir)
	providertest.RunIngest(t, in2)
	defer in2.Close()
	eventually(t, "b1 and b2 recorded", func() bool { return recorded(rec.MemoryRecorder, "b1", "b2") })
	if recorded(rec.MemoryRecorder, "a1") {
		t.Fatal("the erased event was delivered by the next process")
	}
}

// Erase runs while webhooks arrive and delivery goes on: once it returns,
// no erased caller's event is recorded any more.
func TestIngestEraseStopsDeliveryOfTheErasedInFlight(t *testing.T) {
	rec := newScripted()
	in := newRedactingIngest(t, rec, t.TempDir())
	providertest.RunIngest(t, in)
	t.Cleanup(func() { in.Close() })
	keyedA := redact(callFrom("x", callerA)).From
	countA := func() int {
		n := 0
		for _, c := range rec.Calls() {
			if c.From == keyedA {
				n++
			}
		}
		return n
	}
	var callersA, callersB sync.WaitGroup
	stopB := make(chan struct{})
	for w := range 4 {
		callersA.Add(1)
		go func() {
			defer callersA.Done()
			for i := range 200 {
				in.Submit(callFrom(fmt.Sprintf("a-%d-%d", w, i), callerA))
			}
		}()
		callersB.Add(1)
		go func() { // the others call on, before, during and after the erasure
			defer callersB.Done()
			for i := 0; ; i++ {
				select {
				case <-stopB:
					return
				default:
					in.Submit(callFrom(fmt.Sprintf("b-%d-%d", w, i), callerB))
				}
			}
		}()
	}
	callersA.Wait()
	if _, err := in.Erase(dropping(func(e provider.CallEvent) bool { return e.From == keyedA })); err != nil {
		t.Fatal(err)
	}
	before := countA()
	close(stopB)
	callersB.Wait()
	for i := range 50 {
		in.Submit(callFrom(fmt.Sprint("b-after-", i), callerB))
	}
	eventually(t, "later events recorded", func() bool { return recorded(rec.MemoryRecorder, "b-after-49") && in.Stats().Pending == 0 })
	if after := countA(); after != before {
		t.Fatalf("%d events of the erased caller were recorded after Erase returned", after-before)
	}
}

func TestSpoolEraseKeepsTheOthersInOrderAndDropsTheHandledHead(t *testing.T) {
	dir := t.TempDir()
	s := openSpool(t, dir)
	for i := range 6 {
		caller := callerB
		if i%2 == 0 {
			caller = callerA
		}
		if err := s.Append(callFrom(fmt.Sprint(i), caller)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Next(2) // 0 (A) and 1 (B), handled
	if err != nil || len(got) != 2 {
		t.Fatalf("next: %v, %v", got, err)
	}
	if err := s.Done(got[1]); err != nil {
		t.Fatal(err)
	}
	n, err := s.Erase(dropping(func(e provider.CallEvent) bool { return e.From == callerA }))
	if err != nil || n != 2 { // 2 and 4; 0 was handled and goes with the head
		t.Fatalf("erase: %d, %v", n, err)
	}
	if p := s.Pending(); p != 2 {
		t.Fatalf("pending %d, want 2", p)
	}
	if err := s.Append(callFrom("6", callerB)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	requireAbsent(t, dir, callerA)
	s = openSpool(t, dir)
	defer s.Close()
	rest, err := s.Next(10)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range rest {
		ids = append(ids, e.Event.CallID)
	}
	if strings.Join(ids, ",") != "3,5,6" {
		t.Fatalf("after erasure and reopening: %v, want 3,5,6", ids)
	}
}

// A dead-letter rewrite that fails leaves the letters where they were, in
// the file and in memory: the erasure reports the error, and a retry
// finds and removes them (before, memory forgot them first, so the retry
// reported success and the next process replayed the person's call).
func TestIngestEraseOfDeadLettersSurvivesAFailedRewrite(t *testing.T) {
	dir := t.TempDir()
	rec := newScripted()
	rec.failWith("poison", func() error { return provider.ErrRejected })
	in := newIngest(t, rec, dir)
	in.Submit(ev("poison"))
	eventually(t, "dead letter", func() bool { return len(in.DeadLetters()) == 1 })

	blocker := filepath.Join(dir, "calls.dead.tmp")
	if err := os.Mkdir(blocker, 0o700); err != nil { // the rewrite's temporary file cannot be made
		t.Fatal(err)
	}
	isPoison := func(e provider.CallEvent) bool { return e.CallID == "poison" }
	if _, err := in.Erase(dropping(isPoison)); err == nil {
		t.Fatal("Erase reported success although the dead letters could not be rewritten")
	}
	if n := len(in.DeadLetters()); n != 1 {
		t.Fatalf("after a failed rewrite %d dead letters are listed, want the 1 still in the file", n)
	}
	if err := os.Remove(blocker); err != nil {
		t.Fatal(err)
	}
	if n, err := in.Erase(dropping(isPoison)); err != nil || n != 1 {
		t.Fatalf("retried Erase = %d, %v; want 1, nil", n, err)
	}
	in.Close()
	if dl := newIngest(t, rec, dir).DeadLetters(); len(dl) != 0 {
		t.Fatalf("the next process finds %d dead letters of the erased caller", len(dl))
	}
}
