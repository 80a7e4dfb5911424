package signalwire_test

import (
	"net/url"
	"testing"

	"github.com/attriqs/calltrack/provider/providertest"
	"github.com/attriqs/calltrack/provider/signalwire"
)

// A hostile status callback still becomes an event stores accept.
func TestHostileWebhookIsStorable(t *testing.T) {
	p, err := signalwire.New(signalwire.Config{SigningKey: "PSK_test"})
	if err != nil {
		t.Fatal(err)
	}
	c := providertest.Call{ID: "b3877c40-da60-4998-90ad-b792e98472af", From: providertest.LongCallerID, To: "+18005551212"}
	ev, err := p.Parse(laml(c, "completed", url.Values{"CallDuration": {providertest.HugeSeconds}, "CallerName": {providertest.DirtyText}}))
	if err != nil {
		t.Fatal(err)
	}
	if err := providertest.CheckStorable(ev); err != nil {
		t.Fatal(err)
	}
	if ev.Provider != signalwire.Name || ev.From != "" || ev.Duration != 0 || ev.CallerName != "ALICE \uFFFDSMITH" {
		t.Fatalf("Parse = %+v", ev)
	}
}
