package fake_test

import (
	"testing"

	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/provider/fake"
	"github.com/attriqs/calltrack/provider/providertest"
)

// A hostile status event still becomes an event stores accept; the fake
// dialect has no caller name.
func TestHostileWebhookIsStorable(t *testing.T) {
	for _, d := range []string{providertest.HugeSeconds, "-5", "1e300", `"12"`, "null"} {
		body := []byte(`{"type":"call.status","call_id":"c1","from":"` + providertest.LongCallerID + `","to":"+18005551212","status":"completed","duration_s":` + d + `}`)
		ev, err := fake.ParseEvent(body)
		if err != nil {
			t.Fatalf("duration_s %s: %v", d, err)
		}
		if err := providertest.CheckStorable(ev); err != nil {
			t.Fatal(err)
		}
		want := 0
		if d == `"12"` {
			want = 12
		}
		if ev.From != "" || ev.Duration.Seconds() != float64(want) || ev.Status != provider.StatusCompleted {
			t.Fatalf("duration_s %s: ParseEvent = %+v", d, ev)
		}
	}
	if _, err := fake.ParseEvent(request(fake.Event{Type: fake.EventInbound, CallID: "c\x01"}).Body); err == nil {
		t.Fatal("a call id with a control character was accepted")
	}
}
