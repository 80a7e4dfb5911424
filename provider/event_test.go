package provider_test

import (
	"testing"
	"time"

	"github.com/attriqs/calltrack/provider"
)

func TestStatusRankOrdersTheCallLife(t *testing.T) {
	life := []provider.Status{provider.StatusUnknown, provider.StatusInitiated, provider.StatusRinging, provider.StatusInProgress, provider.StatusCompleted}
	for i := 1; i < len(life); i++ {
		if life[i].Rank() <= life[i-1].Rank() {
			t.Fatalf("%q must rank above %q", life[i], life[i-1])
		}
	}
	for _, s := range []provider.Status{provider.StatusBusy, provider.StatusNoAnswer, provider.StatusFailed, provider.StatusCanceled, provider.StatusCompleted} {
		if !s.Terminal() {
			t.Fatalf("%q must be terminal", s)
		}
	}
	if provider.StatusInProgress.Terminal() {
		t.Fatal("in-progress is not terminal")
	}
}

// permutations of a call's events must all merge to the same state.
func TestMergeConvergesInAnyOrder(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	events := []provider.CallEvent{
		{Provider: "p", CallID: "c", Kind: provider.KindInbound, From: "+14158675309", To: "+18005551212", Status: provider.StatusRinging, StartedAt: t0, OccurredAt: t0},
		{Provider: "p", CallID: "c", Status: provider.StatusRinging, OccurredAt: t0.Add(time.Second)},
		{Provider: "p", CallID: "c", Status: provider.StatusInProgress, AnsweredAt: t0.Add(5 * time.Second), OccurredAt: t0.Add(5 * time.Second)},
		{Provider: "p", CallID: "c", Status: provider.StatusCompleted, EndedAt: t0.Add(65 * time.Second), Duration: 60 * time.Second, OccurredAt: t0.Add(65 * time.Second), CallerName: "ALICE"},
		{Provider: "p", CallID: "c", Status: provider.StatusCompleted, EndedAt: t0.Add(65 * time.Second), Duration: 60 * time.Second, OccurredAt: t0.Add(65 * time.Second)},
	}
	want := provider.CallEvent{}
	for _, e := range events {
		want = provider.Merge(want, e)
	}
	if want.Status != provider.StatusCompleted || want.Duration != time.Minute || want.Kind != provider.KindInbound ||
		!want.StartedAt.Equal(t0) || !want.AnsweredAt.Equal(t0.Add(5*time.Second)) || want.CallerName != "ALICE" {
		t.Fatalf("in-order merge = %+v", want)
	}
	permute(len(events), func(order []int) {
		got := provider.CallEvent{}
		for _, i := range order {
			got = provider.Merge(got, events[i])
		}
		if got.Status != want.Status || got.Duration != want.Duration || got.Kind != want.Kind ||
			!got.StartedAt.Equal(want.StartedAt) || !got.AnsweredAt.Equal(want.AnsweredAt) ||
			!got.EndedAt.Equal(want.EndedAt) || got.From != want.From || got.CallerName != want.CallerName {
			t.Fatalf("order %v merged to %+v, want %+v", order, got, want)
		}
	})
}

func TestMergeTerminalTieIsOrderIndependent(t *testing.T) {
	a := provider.CallEvent{CallID: "c", Status: provider.StatusBusy}
	b := provider.CallEvent{CallID: "c", Status: provider.StatusCompleted}
	if x, y := provider.Merge(provider.Merge(provider.CallEvent{}, a), b), provider.Merge(provider.Merge(provider.CallEvent{}, b), a); x.Status != y.Status || x.Status != provider.StatusCompleted {
		t.Fatalf("busy/completed tie resolved to %q and %q, want completed both ways", x.Status, y.Status)
	}
}

func permute(n int, visit func([]int)) {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	var rec func(k int)
	rec = func(k int) {
		if k == n {
			visit(idx)
			return
		}
		for i := k; i < n; i++ {
			idx[k], idx[i] = idx[i], idx[k]
			rec(k + 1)
			idx[k], idx[i] = idx[i], idx[k]
		}
	}
	rec(0)
}

func TestForwardValidate(t *testing.T) {
	cases := []struct {
		name    string
		f       provider.Forward
		wantErr bool
	}{
		{"minimal", provider.Forward{To: "+12125550123"}, false},
		{"missing number", provider.Forward{}, true},
		{"not E.164", provider.Forward{To: "212-555-0123"}, true},
		{"record without notice", provider.Forward{To: "+12125550123", Record: true}, true},
		{"record with notice", provider.Forward{To: "+12125550123", Record: true, RecordingNotice: "recorded"}, false},
		{"timeout too short", provider.Forward{To: "+12125550123", RingTimeout: time.Second}, true},
		{"timeout too long", provider.Forward{To: "+12125550123", RingTimeout: time.Hour}, true},
		{"whisper without url", provider.Forward{To: "+12125550123", Whisper: "hi"}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.f.Validate()
			if (err != nil) != c.wantErr {
				t.Fatalf("Validate = %v, wantErr %v", err, c.wantErr)
			}
		})
	}
}

func TestForwardCallerID(t *testing.T) {
	ev := provider.CallEvent{From: "+14158675309", To: "+18005551212"}
	if got := (provider.Forward{}).CallerID(ev); got != ev.To {
		t.Fatalf("default caller id = %q, want the tracking number", got)
	}
	if got := (provider.Forward{CallerIDPassthrough: true}).CallerID(ev); got != ev.From {
		t.Fatalf("passthrough caller id = %q, want the caller", got)
	}
	if got := (provider.Forward{CallerIDPassthrough: true}).CallerID(provider.CallEvent{To: ev.To}); got != ev.To {
		t.Fatalf("withheld caller with passthrough = %q, want the tracking number", got)
	}
}
