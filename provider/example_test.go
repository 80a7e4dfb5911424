package provider_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"time"

	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/provider/fake"
	"github.com/attriqs/calltrack/provider/providertest"
)

// A handler answers a simulated call with the forward instruction and
// records the call once its status callbacks have arrived.
func ExampleHandler() {
	dir, _ := os.MkdirTemp("", "calltrack-spool")
	defer os.RemoveAll(dir)

	store := providertest.NewMemoryRecorder() // a store adapter in production
	ingest, _ := provider.NewIngest(store, provider.IngestConfig{SpoolDir: dir})
	p, _ := fake.New(fake.Config{Secret: []byte("webhook-secret")})
	route := func(ctx context.Context, ev provider.CallEvent) (provider.Forward, error) {
		// Look the tracking number up in memory; never wait on storage here.
		return provider.Forward{To: "+12125550123", RingTimeout: 20 * time.Second}, nil
	}
	h, _ := provider.NewHandler(p, ingest, route, provider.HandlerConfig{Logger: slog.New(slog.DiscardHandler)})
	srv := httptest.NewServer(h)
	defer srv.Close()

	caller := &fake.Caller{Secret: []byte("webhook-secret")}
	answer, _ := caller.PlaceCall(context.Background(), srv.URL, fake.Call{
		ID: "call-1", From: "+14158675309", To: "+18005551212", Answered: true, Duration: 75 * time.Second,
	})
	ingest.Close() // waits until every event is recorded or spooled

	call, _ := store.Call("fake", "call-1")
	fmt.Println("dialled:", answer.To, "timeout:", answer.TimeoutS, "recording:", answer.Record)
	fmt.Println("recorded:", call.Status, call.Duration)
	// Output:
	// dialled: +12125550123 timeout: 20 recording: false
	// recorded: completed 1m15s
}
