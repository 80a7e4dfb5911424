// Package bandwidth adapts Bandwidth Voice callbacks to calltrack:
// callback credentials, the initiate/answer/disconnect callbacks, and BXML
// <Transfer> answers.
//
// # Authentication, not a signature
//
// Bandwidth does not sign voice callbacks. It authenticates them with the
// username and password configured on the voice application
// (callbackUsername/callbackPassword), sent as HTTP Basic authentication
// (RFC 7617). [VerifyBasicAuth] compares both in constant time and maps
// failures onto the provider sentinels (no header: ErrMissingSignature;
// not Basic or not decodable: ErrMalformedSignature; wrong credentials:
// ErrBadSignature). Because nothing covers the body, a tampered body with
// valid credentials cannot be detected: serve these callbacks over HTTPS
// only. The conformance suite runs with Features.CredentialsOnly, which
// replaces the tamper rule by this statement. The tests use the RFC 7617
// example credentials and header.
//
// # Answers
//
// The initiate callback is answered with BXML: an optional
// <SpeakSentence> caller notice and <StartRecording/>, then <Transfer
// transferCallerId callTimeout> to a <PhoneNumber> whose
// transferAnswerUrl serves the whisper.
//
// # Why no SDK
//
// Bandwidth's Go SDK is not served by the module proxy here; the scheme
// is Basic authentication and the answer a few XML elements.
package bandwidth
