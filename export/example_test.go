package export_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/attriqs/calltrack/export"
	"github.com/attriqs/calltrack/export/webhook"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/store/memstore"
)

// Example wires an exporter with a signed webhook sink. A qualified call is
// recorded (the conversion and its delivery in one store write) and Run
// delivers it in the background.
func Example() {
	secret := []byte("shared-with-the-receiver")
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := webhook.VerifySignature(secret, r.Header.Get(webhook.SignatureHeader), body, time.Now(), 0); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		fmt.Println("received", r.Header.Get(webhook.IdempotencyHeader))
	}))
	defer receiver.Close()

	st := memstore.New() // or sqlite.Open / postgres.New: any store.Outbox
	hook, err := webhook.New(webhook.Config{URL: receiver.URL, Secret: secret})
	if err != nil {
		panic(err)
	}
	x, err := export.New(st, export.Config{Poll: 10 * time.Millisecond}, hook)
	if err != nil {
		panic(err)
	}
	go x.Run(context.Background())
	defer x.Close()

	conv := journey.Conversion{ID: "call:twilio/CA42", Type: journey.ConversionCall, At: time.Now(),
		Value: 5000, Currency: "USD", CallProvider: "twilio", CallID: "CA42"}
	if err := x.Record(context.Background(), export.Event{Conversion: &conv}); err != nil {
		panic(err)
	}
	for {
		status, _ := x.Status(context.Background(), conv.ID)
		if status[0].State == "delivered" {
			fmt.Println(status[0].Sink, status[0].State, "after", status[0].Attempts, "attempt")
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Output:
	// received webhook/call:twilio/CA42
	// webhook delivered after 1 attempt
}
