package bandwidth_test

import (
	"testing"

	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/provider/bandwidth"
	"github.com/attriqs/calltrack/provider/providertest"
)

// A hostile disconnect still becomes an event stores accept: Bandwidth
// reports times, not a duration, so the absurd duration is an endTime
// centuries after answerTime; it sends no caller name.
func TestHostileWebhookIsStorable(t *testing.T) {
	c := providertest.Call{ID: "c-15ac29a2-1331029c-2cb0-4a07-b215-b22865662d85", From: providertest.LongCallerID, To: "+18005551212"}
	r := callback(c, "disconnect", `,"cause":"hangup","answerTime":"2026-03-01T12:00:05.000Z","endTime":"9999-12-31T23:59:59.000Z","diversion":{"origTo":"+4930123456789012"}`)
	ev, err := bandwidth.ParseCallback(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	if err := providertest.CheckStorable(ev); err != nil {
		t.Fatal(err)
	}
	if ev.From != "" || ev.ForwardedFrom != "" || ev.Duration != 0 || ev.Status != provider.StatusCompleted {
		t.Fatalf("ParseCallback = %+v", ev)
	}
}
