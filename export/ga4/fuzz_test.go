package ga4_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/attriqs/calltrack/export"
	"github.com/attriqs/calltrack/export/ga4"
	"github.com/attriqs/calltrack/journey"
)

// The ids come from visitors' browsers: whatever they hold, the sink
// either builds a payload that passes its own rules, or refuses the
// message permanently; it never panics.
func FuzzPayload(f *testing.F) {
	f.Add("1234567890.1700000000", "1773500000", "granted", "denied", int64(25050), "USD")
	f.Add("GA1.1.1234567890.1700000000", "s1", "", "", int64(0), "JPY")
	f.Add("0.0", "-1", "GRANTED", "maybe", int64(-5), "")
	f.Add("é.1", "00", "denied", "granted", int64(1<<62), "BHD")
	sink, err := ga4.New(ga4.Config{MeasurementID: "G-TEST123", APISecret: secret, Now: func() time.Time { return t0 }})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, clientID, sessionID, userData, personalization string, value int64, currency string) {
		ev := conversionEvent("CA1")
		ev.Conversion.Value, ev.Conversion.Currency = value, currency
		ev.AdIDs = journey.AdIDs{Consent: true, GAClientID: clientID, GASessionID: sessionID, AdUserData: userData, AdPersonalization: personalization}
		p, err := sink.Payload(export.Message{ID: "ga4/x", Event: ev})
		if err != nil {
			if !export.IsPermanent(err) {
				t.Fatalf("a refused payload must be permanent: %v", err)
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("Payload returned an invalid payload: %v", err)
		}
		if _, err := json.Marshal(p); err != nil {
			t.Fatalf("encode: %v", err)
		}
	})
}
