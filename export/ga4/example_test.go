package ga4_test

import (
	"encoding/json"
	"fmt"
	"log"
	"time"

	"github.com/attriqs/calltrack/export"
	"github.com/attriqs/calltrack/export/ga4"
	"github.com/attriqs/calltrack/journey"
)

// The event a qualified call becomes, for a visitor who gave ads consent.
func ExampleSink_Payload() {
	now := time.Date(2026, 3, 14, 15, 0, 0, 0, time.UTC)
	sink, err := ga4.New(ga4.Config{MeasurementID: "G-XXXXXXXXXX", APISecret: "from the stream's settings", EU: true,
		Now: func() time.Time { return now }})
	if err != nil {
		log.Fatal(err)
	}
	conv := journey.Conversion{ID: "call:twilio/CA1", Type: journey.ConversionCall, At: now.Add(-time.Hour),
		Value: 25000, Currency: "USD", CallProvider: "twilio", CallID: "CA1"}
	ev := export.Event{Conversion: &conv, AdIDs: journey.AdIDs{Consent: true,
		GAClientID: "1234567890.1700000000", GASessionID: "1773496800", AdUserData: "granted"}}
	fmt.Println("accepted:", sink.Accepts(ev))
	p, err := sink.Payload(export.Message{ID: export.MessageID(sink.Name(), ev), Event: ev})
	if err != nil {
		log.Fatal(err)
	}
	b, _ := json.MarshalIndent(p, "", "  ")
	fmt.Println(string(b))
	// Output:
	// accepted: true
	// {
	//   "client_id": "1234567890.1700000000",
	//   "timestamp_micros": 1773496800000000,
	//   "consent": {
	//     "ad_user_data": "GRANTED"
	//   },
	//   "events": [
	//     {
	//       "name": "generate_lead",
	//       "params": {
	//         "currency": "USD",
	//         "engagement_time_msec": 1,
	//         "session_id": "1773496800",
	//         "transaction_id": "ga4/call:twilio/CA1",
	//         "value": 250.00
	//       }
	//     }
	//   ]
	// }
}
