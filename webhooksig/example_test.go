package webhooksig_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/attriqs/calltrack/webhooksig"
)

func ExampleVerify() {
	secret := []byte("whsec_shared_with_the_sender")
	body := []byte(`{"id":"webhook/call:twilio/CA1","type":"call"}`)
	sentAt := time.Date(2026, 3, 14, 15, 0, 0, 0, time.UTC)
	header := webhooksig.Sign(secret, body, sentAt) // what the sender puts in the header

	// The receiver, a minute later, with the raw body as received:
	fmt.Println(webhooksig.Verify(secret, header, body, sentAt.Add(time.Minute), 0))

	// The same request replayed an hour later:
	err := webhooksig.Verify(secret, header, body, sentAt.Add(time.Hour), 0)
	fmt.Println(errors.Is(err, webhooksig.ErrStaleTimestamp))
	// Output:
	// <nil>
	// true
}
