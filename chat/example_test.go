package chat_test

import (
	"fmt"
	"net/http"
	"time"

	"github.com/attriqs/calltrack/chat"
)

// A Tawk.to chat:start webhook: verified against the secret, parsed into
// the conversation start and the visitor's first message, never its text.
func ExampleTawkWebhook() {
	wh := chat.TawkWebhook{Secret: "whsec"}
	body := []byte(`{"event":"chat:start","chatId":"c-1","time":"2026-05-01T12:00:00Z",
		"message":{"text":"Do you deliver?","type":"msg","sender":{"type":"visitor"}},
		"visitor":{"name":"V1"},"property":{"id":"p","name":"Shop"}}`)
	r := chat.Request{Method: "POST", URL: "https://example.com/dni/v1/chat/tawk", Header: http.Header{}, Body: body}
	r.Header.Set("X-Tawk-Signature", chat.SignTawk("whsec", body))

	if err := wh.Verify(r, time.Now()); err != nil {
		fmt.Println(err)
		return
	}
	evs, err := wh.Parse(body)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, ev := range evs {
		fmt.Println(ev.TouchpointID())
	}
	r.Header.Set("X-Tawk-Signature", chat.SignTawk("another secret", body))
	fmt.Println(wh.Verify(r, time.Now()))
	// Output:
	// chat:tawk/c-1/chat_started
	// chat:tawk/c-1/chat_message
	// webhooksig: signature mismatch
}
