package telnyx_test

import (
	"testing"

	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/provider/providertest"
	"github.com/attriqs/calltrack/provider/telnyx"
)

// A hostile hangup still becomes an event stores accept: Telnyx reports
// times, not a duration, so the absurd duration is an end_time centuries
// after start_time.
func TestHostileWebhookIsStorable(t *testing.T) {
	c := providertest.Call{ID: "428c31b6-7af4-4bcb-b7f5-5013ef9657c1", From: providertest.LongCallerID, To: "+18005551212"}
	r := event(c, "call.hangup", `,"hangup_cause":"normal_clearing","end_time":"9999-12-31T23:59:59Z","caller_id_name":"ALICE\u0000 `+"\xff"+`SMITH"`)
	ev, err := telnyx.ParseEvent(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	if err := providertest.CheckStorable(ev); err != nil {
		t.Fatal(err)
	}
	if ev.From != "" || ev.Duration != 0 || ev.CallerName != "ALICE \uFFFDSMITH" || ev.Status != provider.StatusCompleted {
		t.Fatalf("ParseEvent = %+v", ev)
	}
}

// TeXML requests are Twilio's parameter set: the same rules apply.
func TestHostileTeXMLIsStorable(t *testing.T) {
	p, err := telnyx.New(telnyx.Config{PublicKey: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	body := "CallSid=v3:abc&CallStatus=completed&From=%2B49301234567890123&To=%2B18005551212&CallDuration=" + providertest.HugeSeconds + "&CallerName=ALICE%00+%FFSMITH"
	ev, err := p.Parse(&provider.Request{Body: []byte(body)})
	if err != nil {
		t.Fatal(err)
	}
	if err := providertest.CheckStorable(ev); err != nil {
		t.Fatal(err)
	}
	if ev.From != "" || ev.Duration != 0 || ev.CallerName != "ALICE \uFFFDSMITH" {
		t.Fatalf("Parse = %+v", ev)
	}
}
