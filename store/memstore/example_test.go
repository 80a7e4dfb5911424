package memstore_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/store"
	"github.com/attriqs/calltrack/store/memstore"
)

func Example() {
	ctx := context.Background()
	st := memstore.New()

	// Callbacks arrive twice and out of order; the store keeps the merge.
	start := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	completed := provider.CallEvent{Provider: "twilio", CallID: "CA1", Status: provider.StatusCompleted,
		StartedAt: start, Duration: 95 * time.Second}
	ringing := provider.CallEvent{Provider: "twilio", CallID: "CA1", Status: provider.StatusRinging, From: "+14155550123"}
	for _, ev := range []provider.CallEvent{completed, ringing, ringing} {
		if _, err := st.RecordCall(ctx, ev); err != nil {
			panic(err)
		}
	}
	call, _ := st.Call(ctx, "twilio", "CA1")
	fmt.Println(call.Status, call.Duration, call.From)

	// Two identifiers of one person.
	p, _ := st.Link(ctx, journey.Identifier{Kind: journey.IDVisitor, Value: "v1"},
		journey.Identifier{Kind: journey.IDPhone, Value: "+14155550123"})
	q, _ := st.PersonOf(ctx, journey.Identifier{Kind: journey.IDPhone, Value: "+14155550123"})
	fmt.Println(p == q)

	_, err := st.Session(ctx, "nope")
	fmt.Println(errors.Is(err, store.ErrNotFound))
	// Output:
	// completed 1m35s +14155550123
	// true
	// true
}
