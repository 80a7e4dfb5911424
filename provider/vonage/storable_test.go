package vonage_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/provider/providertest"
	"github.com/attriqs/calltrack/provider/vonage"
)

// A hostile completed event still becomes an event stores accept. Vonage
// sends no caller name; its JSON decoder already turns invalid UTF-8 into
// U+FFFD, and the call id is checked, not cleaned.
func TestHostileWebhookIsStorable(t *testing.T) {
	c := providertest.Call{ID: "aaaaaaaa-bbbb-cccc-dddd-0123456789ab", From: providertest.LongCallerID, To: "+18005551212"}
	for _, d := range []string{`"` + providertest.HugeSeconds + `"`, providertest.HugeSeconds, `"-4"`, `1e300`, `"abc"`} {
		ev, err := vonage.ParseWebhook(event(c, "completed", `,"duration":`+d+`,"end_time":"0000-01-01T00:00:00Z"`).Body)
		if err != nil {
			t.Fatalf("duration %s: %v", d, err)
		}
		if err := providertest.CheckStorable(ev); err != nil {
			t.Fatal(err)
		}
		if ev.From != "" || ev.Duration != 0 || !ev.EndedAt.IsZero() || ev.Status != provider.StatusCompleted {
			t.Fatalf("duration %s: ParseWebhook = %+v", d, ev)
		}
	}
	if _, err := vonage.ParseWebhook([]byte(`{"uuid":"u\u0000","status":"completed"}`)); !errors.Is(err, provider.ErrMalformedPayload) || !strings.Contains(err.Error(), "uuid") {
		t.Fatalf("a uuid with a NUL byte: %v; want ErrMalformedPayload naming uuid", err)
	}
}
