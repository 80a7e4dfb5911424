// Package plivo adapts Plivo Voice to calltrack: X-Plivo-Signature-V3
// verification, the answer_url and hangup_url callbacks, and Plivo XML
// <Dial> answers.
//
// # Signature
//
// base64(HMAC-SHA256(auth token, signed URL + "." + nonce)), the nonce
// coming in X-Plivo-Signature-V3-Nonce. For POST callbacks the signed URL
// is the URL without its query, "?", the query parameters sorted as
// "k=v&k=v", a "." when there was a query, then every POST parameter as
// name+value with names sorted (the construction of Plivo's Python, Node
// and Java SDKs; see [Sign]). The header may hold several comma-separated
// signatures (one per active auth token); any match passes. The main
// account's X-Plivo-Signature-Ma-V3 is accepted when the sub-account
// header is absent.
//
// Plivo's SDKs do not agree on GET callbacks: the Go and .NET SDKs' test
// vector signs "https://answer.url/?CallUUID=...&Duration=300&" while the
// Python and Java code would sign it without the "/" and trailing "&". GET
// verification accepts both forms, and the tests use that published
// vector. Handlers only take POST, Plivo's default.
//
// # Why not plivo-go
//
// github.com/plivo/plivo-go is not served by the module proxy here, and
// its V3 code disagrees with Plivo's other SDKs on POST parameters (it
// signs "url.params" without the "?"), so the algorithm is implemented
// from the Python/Java construction.
//
// # Answers
//
// Plivo XML takes numbers as international digits without "+"; the
// whisper is Dial's confirmSound URL, played to the business side before
// bridging; recording is <Record startOnDialAnswer="true"> after a <Speak>
// caller notice.
package plivo
