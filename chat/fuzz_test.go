package chat

import (
	"errors"
	"testing"
)

// fuzzParse checks a parser on any input: no panic; an error wraps
// ErrMalformedPayload or ErrIgnoredEvent; success gives valid events of the
// platform, with session ids of our form only.
func fuzzParse(f *testing.F, wh Webhook) {
	for _, c := range platformCases {
		if c.wh.Platform() == wh.Platform() {
			for _, p := range c.payloads {
				f.Add([]byte(p.body))
			}
		}
	}
	f.Add([]byte(`null`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		evs, err := wh.Parse(body)
		if err != nil {
			if evs != nil || !errors.Is(err, ErrMalformedPayload) && !errors.Is(err, ErrIgnoredEvent) {
				t.Fatalf("Parse = %v, %v", evs, err)
			}
			return
		}
		if len(evs) == 0 {
			t.Fatal("no events and no error")
		}
		for _, ev := range evs {
			if ev.Platform != wh.Platform() {
				t.Fatalf("%+v: platform, want %s", ev, wh.Platform())
			}
			if err := ev.Validate(); err != nil {
				t.Fatalf("%+v: %v", ev, err)
			}
		}
	})
}

func FuzzParseIntercom(f *testing.F) { fuzzParse(f, IntercomWebhook{}) }
func FuzzParseCrisp(f *testing.F)    { fuzzParse(f, CrispWebhook{}) }
func FuzzParseTawk(f *testing.F)     { fuzzParse(f, TawkWebhook{}) }
func FuzzParseLiveChat(f *testing.F) { fuzzParse(f, LiveChatWebhook{}) }
func FuzzParseZendesk(f *testing.F)  { fuzzParse(f, ZendeskWebhook{SessionField: "360001234"}) }
func FuzzParseHubSpot(f *testing.F)  { fuzzParse(f, HubSpotWebhook{}) }
func FuzzParseDrift(f *testing.F)    { fuzzParse(f, DriftWebhook{}) }
