// Package providertest is the conformance suite every provider adapter
// passes, and an in-memory [MemoryRecorder] that implements the
// provider.CallRecorder contract for tests.
//
// # Using the suite
//
// An adapter's test is one call to [Run] with a [Fixture] and [Features]:
//
//	func TestConformance(t *testing.T) {
//		p, err := twilio.New(twilio.Config{AuthToken: token})
//		if err != nil {
//			t.Fatal(err)
//		}
//		providertest.Run(t, providertest.Fixture{
//			Provider:         p,
//			Now:              now,
//			Inbound:          inboundWebhook, // the vendor's sample webhooks, unsigned
//			Status:           statusCallback,
//			Sign:             signer(token), // how to sign a request for p
//			SignWrongSecret:  signer("not-the-token"),
//			SignatureHeaders: []string{twilio.SignatureHeader},
//			ParseForward:     readDial, // reads a rendered answer back
//		}, providertest.Features{})
//	}
//
// The fixture holds the adapter configured with a known secret and clock,
// functions that build the vendor's sample webhooks in their real shape,
// and signers with the right and a wrong secret. [Features] gates the
// rules that only apply to some vendors: a signed timestamp and its
// tolerance, a scheme that signs nothing (Basic auth), no ringing
// callback.
//
// Each case is a subtest named after the rule it enforces, such as
// "tampered request is refused" or "duplicate and out-of-order callbacks
// converge on one call"; a case that Features rule out is skipped with the
// reason. The handler cases serve the adapter through a real
// [provider.Handler] and [provider.Ingest] over HTTP into a
// [MemoryRecorder].
package providertest
