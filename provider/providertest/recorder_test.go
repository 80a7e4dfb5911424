package providertest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/provider/providertest"
)

func TestMemoryRecorderHonoursTheContract(t *testing.T) {
	ctx := context.Background()
	m := providertest.NewMemoryRecorder()
	done := provider.CallEvent{Provider: "p", CallID: "c", Status: provider.StatusCompleted}
	late := provider.CallEvent{Provider: "p", CallID: "c", Status: provider.StatusRinging, From: "+14158675309"}
	other := provider.CallEvent{Provider: "q", CallID: "c", Status: provider.StatusRinging}
	for _, ev := range []provider.CallEvent{done, late, done, other} {
		if err := m.RecordCall(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := m.Call("p", "c"); got.Status != provider.StatusCompleted || got.From != "+14158675309" {
		t.Fatalf("merged call = %+v", got)
	}
	if len(m.Calls()) != 2 || m.Writes() != 4 {
		t.Fatalf("calls %d writes %d, want 2 calls (same id, two providers) and 4 writes", len(m.Calls()), m.Writes())
	}
	m.SetDown(true)
	if err := m.RecordCall(ctx, done); !errors.Is(err, providertest.ErrStoreDown) || m.Writes() != 4 {
		t.Fatalf("down: err %v writes %d", err, m.Writes())
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	m.SetDown(false)
	if err := m.RecordCall(cancelled, done); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled context: %v", err)
	}
}
