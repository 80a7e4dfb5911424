package providertest

import (
	"context"
	"errors"
	"testing"

	"github.com/attriqs/calltrack/provider"
)

// RunIngest runs in's delivery (Ingest.Run) for the rest of the test, as a
// host's Run would, and stops it at the end of the test, reporting an
// unexpected error from Run. A test may Close in before Run has begun:
// Close then delivers itself, and Run's refusal is expected.
func RunIngest(t testing.TB, in *provider.Ingest) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, provider.ErrIngestClosed) {
			t.Errorf("providertest: ingest Run: %v", err)
		}
	})
}
