// Package fake is a telephony provider that exists only in calltrack: a
// small, documented webhook dialect with a real signature, for tests,
// examples and traffic simulation without a vendor account.
//
// # Wire format
//
// Webhooks are JSON bodies (see [Event]) POSTed with the header
//
//	X-Fake-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
//
// This is the scheme of package webhooksig, which export/webhook signs with
// too. [Provider.Verify] checks the HMAC (any of several v1 entries may
// match) and rejects timestamps outside the tolerance (default five
// minutes); its errors match both webhooksig's sentinels and provider's.
// [Sign] produces the header for fixtures. The routing answer is a JSON
// [Answer].
//
// # Simulation
//
// [Caller] places a simulated call against a handler URL: the signed
// inbound webhook, then status callbacks (ringing, in-progress, completed
// with a duration), the way a real vendor would.
package fake
