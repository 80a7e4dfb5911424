// Package journey holds the domain of call attribution: sessions, calls
// linked to the sessions that caused them, people and their identifiers,
// touchpoints and conversions.
//
// # Types
//
// [Session], [Attribution], [Identifier], [Claim], [Touchpoint] and
// [Conversion] are the records every store persists (see package store);
// each has a Validate method that names every missing or invalid field. Calls
// themselves are provider.CallEvent values, merged by provider.Merge so
// that duplicate and out-of-order webhooks converge.
//
// Money is held in minor units (cents) with an ISO 4217 currency, so that
// attribution can split a conversion's value into credits that sum to it
// exactly.
package journey
