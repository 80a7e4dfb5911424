package providertest

import (
	"context"
	"errors"
	"sync"

	"github.com/attriqs/calltrack/provider"
)

// ErrStoreDown is what a MemoryRecorder returns while it is down.
var ErrStoreDown = errors.New("providertest: store is down")

// MemoryRecorder is an in-memory provider.CallRecorder that honours the
// contract: an idempotent upsert per (provider, call id) merged with
// provider.Merge. SetDown simulates a store outage.
type MemoryRecorder struct {
	mu     sync.Mutex
	calls  map[string]provider.CallEvent
	writes int
	down   bool
}

// NewMemoryRecorder returns an empty recorder that is up.
func NewMemoryRecorder() *MemoryRecorder {
	return &MemoryRecorder{calls: make(map[string]provider.CallEvent)}
}

// RecordCall upserts ev, or fails with ErrStoreDown while down.
func (m *MemoryRecorder) RecordCall(ctx context.Context, ev provider.CallEvent) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down {
		return ErrStoreDown
	}
	m.writes++
	m.calls[ev.Key()] = provider.Merge(m.calls[ev.Key()], ev)
	return nil
}

// SetDown switches the simulated outage on or off.
func (m *MemoryRecorder) SetDown(down bool) {
	m.mu.Lock()
	m.down = down
	m.mu.Unlock()
}

// Call returns the recorded state of one call.
func (m *MemoryRecorder) Call(providerName, callID string) (provider.CallEvent, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ev, ok := m.calls[providerName+"/"+callID]
	return ev, ok
}

// Calls returns a copy of every recorded call by key.
func (m *MemoryRecorder) Calls() map[string]provider.CallEvent {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]provider.CallEvent, len(m.calls))
	for k, v := range m.calls {
		out[k] = v
	}
	return out
}

// Writes counts successful RecordCall invocations.
func (m *MemoryRecorder) Writes() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.writes
}
