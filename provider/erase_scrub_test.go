package provider_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/provider/providertest"
)

// forwardedFrom is a call of caller forwarded from the number fwd, whose
// raw body names both.
func forwardedFrom(id, caller, fwd string) provider.CallEvent {
	e := callFrom(id, caller)
	e.ForwardedFrom = fwd
	e.Raw = append(e.Raw, "&ForwardedFrom="+strings.Replace(fwd, "+", "%2B", 1)...)
	return e
}

// eraseA is a person's erasure as dni asks it: A's own calls are dropped;
// the calls of others forwarded from A's number keep their call but lose
// the forwarding number and the raw body.
func eraseA(keyedA string) func(provider.CallEvent) (bool, *provider.CallEvent) {
	return func(e provider.CallEvent) (bool, *provider.CallEvent) {
		if e.From == keyedA || e.From == callerA {
			return true, nil
		}
		if e.ForwardedFrom == callerA {
			e.ForwardedFrom, e.Raw = "", nil
			return false, &e
		}
		return false, nil
	}
}

// scrubbed fails unless e is the call id of B with nothing naming A.
func scrubbed(t *testing.T, where, id string, e provider.CallEvent) {
	t.Helper()
	keyedB := redact(callFrom("x", callerB)).From
	if e.CallID != id || e.From != keyedB || e.ForwardedFrom != "" || len(e.Raw) != 0 {
		t.Errorf("%s: %s kept as %+v (raw %q); want B's call without forwarded_from and raw", where, id, e, e.Raw)
	}
}

// Erase rewrites the waiting events that merely mention the person (a call
// of someone else forwarded from their number) in the spool and in the
// dead letters: they are kept, without the forwarding number and the raw
// body, and the spooled one is recorded so once the outage ends; the
// person's own calls are dropped as before. A restart finds the rewrite.
func TestIngestEraseScrubsCallsForwardedFromThePerson(t *testing.T) {
	dir := t.TempDir()
	rec := newScripted()
	rec.failWith("fwd-poison", func() error { return provider.ErrRejected })
	in := newRedactingIngest(t, rec, dir)
	providertest.RunIngest(t, in)
	t.Cleanup(func() { in.Close() })
	in.Submit(forwardedFrom("fwd-poison", callerB, callerA))
	eventually(t, "dead letter", func() bool { return len(in.DeadLetters()) == 1 })
	rec.SetDown(true)
	in.Submit(callFrom("a1", callerA))
	in.Submit(forwardedFrom("fwd-wait", callerB, callerA))
	in.Submit(callFrom("b1", callerB))
	eventually(t, "outage", func() bool { return len(in.Health()) > 0 })

	keyedA := redact(callFrom("x", callerA)).From
	n, err := in.Erase(eraseA(keyedA))
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Fatalf("Erase changed %d events, want 3 (a1 dropped, fwd-wait and the dead letter rewritten)", n)
	}
	if st := in.Stats(); st.Pending != 2 || st.DeadLetters != 1 {
		t.Fatalf("after erasure: %+v, want fwd-wait and b1 pending, the dead letter kept", st)
	}
	requireAbsent(t, dir, callerA)
	if got := fileHolding(t, dir, keyedA); got != "" {
		t.Errorf("%s still names the erased caller by their keyed number", got)
	}
	scrubbed(t, "dead letter", "fwd-poison", in.DeadLetters()[0].Event)

	rec.SetDown(false)
	in.Kick()
	eventually(t, "fwd-wait and b1 recorded", func() bool { return recorded(rec.MemoryRecorder, "fwd-wait", "b1") })
	c, _ := rec.Call("p", "fwd-wait")
	scrubbed(t, "recorded", "fwd-wait", c)
	if recorded(rec.MemoryRecorder, "a1") {
		t.Error("the erased caller's own call was recorded")
	}

	// A replay records the dead letter as rewritten.
	rec.failWith("fwd-poison", nil)
	if n, err := in.ReplayDeadLetters(t.Context()); n != 1 || err != nil {
		t.Fatalf("replay: %d, %v", n, err)
	}
	c, _ = rec.Call("p", "fwd-poison")
	scrubbed(t, "replayed", "fwd-poison", c)
	in.Close()
	requireAbsent(t, dir, callerA)
}

// The dead-letter file is rewritten with the scrubbed event: the next
// process lists it so.
func TestIngestEraseScrubsDeadLettersOnDisk(t *testing.T) {
	dir := t.TempDir()
	rec := newScripted()
	rec.failWith("fwd-poison", func() error { return provider.ErrRejected })
	in := newRedactingIngest(t, rec, dir)
	providertest.RunIngest(t, in)
	in.Submit(forwardedFrom("fwd-poison", callerB, callerA))
	eventually(t, "dead letter", func() bool { return len(in.DeadLetters()) == 1 })
	id := in.DeadLetters()[0].ID
	if err := in.Close(); err != nil {
		t.Fatal(err)
	}
	keyedA := redact(callFrom("x", callerA)).From
	if n, err := in.Erase(eraseA(keyedA)); n != 1 || err != nil {
		t.Fatalf("erase after close: %d, %v", n, err)
	}
	requireAbsent(t, dir, callerA)
	in2 := newRedactingIngest(t, rec, dir)
	defer in2.Close()
	dl := in2.DeadLetters()
	if len(dl) != 1 || dl[0].ID != id {
		t.Fatalf("the next process finds %+v, want the letter %s", dl, id)
	}
	scrubbed(t, "dead letter after restart", "fwd-poison", dl[0].Event)
}

// Events held in memory while the spool is unusable are rewritten too, and
// recorded so once it works.
func TestIngestEraseScrubsEventsHeldInMemory(t *testing.T) {
	blocker := filepath.Join(t.TempDir(), "spool")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil { // a file where the directory should be
		t.Fatal(err)
	}
	rec := newScripted()
	in := newRedactingIngest(t, rec, blocker)
	defer in.Close()
	in.Submit(callFrom("a1", callerA))
	in.Submit(forwardedFrom("fwd", callerB, callerA))
	in.Submit(callFrom("b1", callerB))
	if st := in.Stats(); st.InMemory != 3 {
		t.Fatalf("in memory: %+v", st)
	}
	keyedA := redact(callFrom("x", callerA)).From
	if n, err := in.Erase(eraseA(keyedA)); n != 2 {
		t.Fatalf("erase changed %d, want 2 (err %v)", n, err)
	}
	if st := in.Stats(); st.InMemory != 2 {
		t.Fatalf("in memory after erasure: %+v", st)
	}
	providertest.RunIngest(t, in) // the spool still fails: delivered from memory
	eventually(t, "fwd and b1 recorded", func() bool { return recorded(rec.MemoryRecorder, "fwd", "b1") })
	c, _ := rec.Call("p", "fwd")
	scrubbed(t, "recorded", "fwd", c)
	if recorded(rec.MemoryRecorder, "a1") {
		t.Error("the erased caller's own call was recorded")
	}
}

// Spool.Erase writes the rewrite in place of the event, in order; the
// others are kept as they were and the dropped are gone, also after
// reopening.
func TestSpoolEraseRewritesInPlace(t *testing.T) {
	dir := t.TempDir()
	s := openSpool(t, dir)
	events := []provider.CallEvent{
		callFrom("0", callerB), forwardedFrom("1", callerB, callerA), callFrom("2", callerA), callFrom("3", callerB),
	}
	for _, e := range events {
		if err := s.Append(e); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.Erase(eraseA(""))
	if err != nil || n != 2 {
		t.Fatalf("erase: %d, %v; want 2 (1 rewritten, 2 dropped)", n, err)
	}
	if p := s.Pending(); p != 3 {
		t.Fatalf("pending %d, want 3", p)
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
	want := []provider.CallEvent{events[0], events[1], events[3]}
	want[1].ForwardedFrom, want[1].Raw = "", nil
	if len(rest) != len(want) {
		t.Fatalf("after erasure and reopening: %d events, want 3", len(rest))
	}
	for i, e := range rest {
		if got, want := fmt.Sprintf("%+v", e.Event), fmt.Sprintf("%+v", want[i]); got != want {
			t.Errorf("event %d after erasure:\n got %s\nwant %s", i, got, want)
		}
	}
}
