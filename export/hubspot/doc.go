// Package hubspot is the export sink that logs calls in HubSpot CRM: the
// caller's contact is found by phone number (or created), and a call
// engagement with the call's source, campaign, duration and outcome is
// associated to it.
//
// # Requests (CRM v3 objects API)
//
//  1. POST /crm/v3/objects/contacts/search, filter groups phone EQ
//     <caller> OR mobilephone EQ <caller> (E.164).
//  2. Found: PATCH /crm/v3/objects/contacts/{id} with the properties it
//     lacks (phone, city, state, country from the caller id; nothing the
//     CRM already holds is overwritten, and no request when nothing is
//     missing). Not found: POST /crm/v3/objects/contacts; a 409 CONFLICT
//     means another writer created it first, so the sink searches again and
//     otherwise takes the id the conflict message names ("Existing ID: …").
//  3. POST /crm/v3/objects/calls with hs_timestamp (call start),
//     hs_call_title ([Title]: direction, source / medium, campaign),
//     hs_call_body (source, campaign, channel, click id, duration,
//     conversion value, tracking number, message id), hs_call_direction
//     (INBOUND/OUTBOUND), hs_call_duration (milliseconds), hs_call_status
//     (COMPLETED, BUSY, NO_ANSWER, …), hs_call_from_number,
//     hs_call_to_number, and an association to the contact
//     (HUBSPOT_DEFINED, type [CallToContact] = 194).
//
// Requests carry the private app's token as "Authorization: Bearer …".
//
// # Failures
//
// 429 is retried no sooner than its Retry-After; 5xx, 408, timeouts and
// connection errors are retried with backoff; other 4xx (401 bad token,
// 403 missing scope, 400 invalid property) dead-letter the message, since
// retrying cannot fix them. Each retry starts again at the search, so a
// contact created by an earlier attempt is found, not duplicated. HubSpot
// offers no idempotency key for object creation: set
// [Config].IdempotencyProperty to a custom call property and the sink
// searches calls by the message id before logging one, so a retry after a
// lost answer does not log the call twice.
//
// # Events
//
// The sink implements export.Filter: only events with a call from a known
// number are queued for it (a purchase without a caller, or a withheld
// number, cannot be matched to a contact).
//
// Source: HubSpot developer documentation, CRM API "Calls" and "Contacts"
// (v3 objects, search, associations).
package hubspot
