package twilio_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/provider/providertest"
	"github.com/attriqs/calltrack/provider/twilio"
)

// A hostile status callback still becomes an event stores accept: the
// 17-digit caller id is withheld, the overflowing CallDuration unknown, the
// caller name cleaned; the body is kept as received.
func TestHostileWebhookIsStorable(t *testing.T) {
	c := providertest.Call{ID: "CA42", From: providertest.LongCallerID, To: "+18005551212"}
	body := []byte(form(c, "completed", url.Values{
		"CallDuration": {providertest.HugeSeconds},
		"CallerName":   {providertest.DirtyText},
		"FromCity":     {strings.Repeat("é", 300)},
		"Timestamp":    {"Sun, 01 Mar 2026 12:00:00 +0000"},
	}).Encode())
	ev, err := twilio.ParseForm(body, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := providertest.CheckStorable(ev); err != nil {
		t.Fatal(err)
	}
	if ev.From != "" || ev.Duration != 0 || ev.CallerName != "ALICE \uFFFDSMITH" || ev.Status != provider.StatusCompleted || string(ev.Raw) != string(body) {
		t.Fatalf("ParseForm = %+v", ev)
	}
}

func TestDurationOutOfRangeIsUnknown(t *testing.T) {
	c := providertest.Call{ID: "CA42", From: "+14158675309", To: "+18005551212"}
	for _, d := range []string{"-3", providertest.HugeSeconds, "604801", "12abc", "1e3"} {
		ev, err := twilio.ParseForm([]byte(form(c, "completed", url.Values{"CallDuration": {d}}).Encode()), "")
		if err != nil || ev.Duration != 0 || ev.Status != provider.StatusCompleted {
			t.Errorf("CallDuration=%s: %+v, %v; want a completed call of unknown duration", d, ev, err)
		}
	}
}

func TestBadCallSidIsRefusedByName(t *testing.T) {
	for _, sid := range []string{"", "CA\x001", "CA\xff", strings.Repeat("C", provider.MaxCallIDLen+1)} {
		_, err := twilio.ParseForm([]byte(url.Values{"CallSid": {sid}, "CallStatus": {"ringing"}}.Encode()), "")
		if !errors.Is(err, provider.ErrMalformedPayload) || !strings.Contains(err.Error(), "CallSid") {
			t.Errorf("CallSid %q: %v; want ErrMalformedPayload naming CallSid", sid, err)
		}
	}
}
