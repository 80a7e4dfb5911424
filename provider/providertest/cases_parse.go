package providertest

import (
	"errors"
	"testing"
	"time"

	"github.com/attriqs/calltrack/provider"
)

func (s *suite) inboundWebhookParsesToTheCall(t *testing.T) {
	ev, err := s.fx.Provider.Parse(s.signed(s.fx.Inbound(sample)))
	if err != nil {
		t.Fatalf("Parse = %v", err)
	}
	type ids struct {
		Provider, CallID, From, To string
		Kind                       provider.Kind
	}
	want := ids{Provider: s.fx.Provider.Name(), CallID: sample.ID, Kind: provider.KindInbound, From: sample.From, To: sample.To}
	got := ids{Provider: ev.Provider, CallID: ev.CallID, Kind: ev.Kind, From: ev.From, To: ev.To}
	if got != want {
		t.Fatalf("Parse = %+v, want %+v", got, want)
	}
}

func (s *suite) parsedEventKeepsTheRawPayload(t *testing.T) {
	ev, err := s.fx.Provider.Parse(s.signed(s.fx.Inbound(sample)))
	if err != nil {
		t.Fatalf("Parse = %v", err)
	}
	if len(ev.Raw) == 0 {
		t.Fatal("Raw payload not kept")
	}
}

func (s *suite) statusCallbackParsesToItsStatus(t *testing.T) {
	cases := []struct {
		status provider.Status
		talk   time.Duration
	}{
		{provider.StatusRinging, 0},
		{provider.StatusInProgress, 0},
		{provider.StatusCompleted, 93 * time.Second},
		{provider.StatusBusy, 0},
		{provider.StatusNoAnswer, 0},
	}
	for _, c := range cases {
		t.Run(string(c.status), func(t *testing.T) {
			r := s.fx.Status(sample, c.status, c.talk)
			if c.status == provider.StatusRinging && s.features.NoRingingCallback {
				if r != nil {
					t.Fatal("the fixture builds a ringing callback, but Features.NoRingingCallback says the vendor sends none")
				}
				t.Skip("the vendor sends no ringing callback (Features.NoRingingCallback)")
			}
			if r == nil && c.status == provider.StatusRinging {
				t.Fatal("the fixture builds no ringing callback; set Features.NoRingingCallback if the vendor sends none")
			}
			if r == nil {
				t.Fatalf("the fixture builds no %s callback", c.status)
			}
			ev, err := s.fx.Provider.Parse(s.signed(r))
			if err != nil {
				t.Fatalf("Parse(%s) = %v", c.status, err)
			}
			if ev.CallID != sample.ID || ev.Status != c.status || ev.Duration != c.talk {
				t.Fatalf("Parse(%s) = id %q status %q duration %s, want %q %q %s", c.status, ev.CallID, ev.Status, ev.Duration, sample.ID, c.status, c.talk)
			}
		})
	}
}

func (s *suite) malformedPayloadIsRefused(t *testing.T) {
	r := s.fx.Inbound(sample)
	r.Body = []byte("\x00{not a webhook")
	if _, err := s.fx.Provider.Parse(r); !errors.Is(err, provider.ErrMalformedPayload) {
		t.Fatalf("Parse = %v, want ErrMalformedPayload", err)
	}
}
