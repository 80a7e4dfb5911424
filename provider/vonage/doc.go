// Package vonage adapts the Vonage Voice API to calltrack: signed-webhook
// verification, the answer and event webhooks, and NCCO connect answers.
//
// # Signature
//
// With signed webhooks enabled, Vonage sends "Authorization: Bearer
// <JWT>", HS256 over claims that include iat, jti, iss "Vonage",
// api_key, application_id and payload_hash, the hex SHA-256 of the body.
// [VerifyRequest] checks the HS256 signature with the account's signature
// secret (only HS256 is accepted, whatever the token's header claims),
// then payload_hash against the body (provider.ErrBodyHashMismatch), then
// iat against the injected clock (provider.ErrStaleTimestamp). [Sign]
// produces tokens for fixtures. The tests check [VerifyToken] against the
// token and secret published in the tests of Vonage's Python JWT package
// (vonage_jwt, verify_signature tests).
//
// # Configuration at Vonage
//
// Set the application's answer URL and event URL to the handler with HTTP
// POST (the answer webhook defaults to GET at Vonage). The whisper NCCO is
// fetched from the connect endpoint's onAnswer URL, which the handler
// serves for GET as well.
//
// # Why no SDK
//
// Vonage's Go SDK (vonage-go-sdk) is not served by the module proxy here;
// the scheme needs only crypto/hmac and crypto/sha256.
package vonage
