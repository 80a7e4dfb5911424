package plivo_test

import (
	"net/url"
	"testing"

	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/provider/plivo"
	"github.com/attriqs/calltrack/provider/providertest"
)

// A hostile hangup callback still becomes an event stores accept.
func TestHostileWebhookIsStorable(t *testing.T) {
	c := providertest.Call{ID: "97ceeb52-58b6-11e1-86da-77300b68f8bb", From: providertest.LongCallerID, To: "+18005551212"}
	r := form(c, "Hangup", "completed", url.Values{
		"Duration":   {providertest.HugeSeconds},
		"CallerName": {providertest.DirtyText},
		"EndTime":    {"0001-01-01 00:00:00"},
	})
	ev, err := plivo.ParseForm(r.Body, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := providertest.CheckStorable(ev); err != nil {
		t.Fatal(err)
	}
	if ev.From != "" || ev.Duration != 0 || ev.CallerName != "ALICE \uFFFDSMITH" || !ev.EndedAt.IsZero() || ev.Status != provider.StatusCompleted {
		t.Fatalf("ParseForm = %+v", ev)
	}
}
