// Package meta is the export sink that reports qualified calls to Meta's
// Conversions API, server to server, so campaigns on Facebook and
// Instagram bid on the calls they bring.
//
// # What is sent
//
// One POST per message to
// https://graph.facebook.com/{APIVersion}/{PixelID}/events, form fields
// data (a JSON array of one [ServerEvent]), access_token and, when set,
// test_event_code. The event is:
//
//   - event_name: Config.EventName, "Lead" by default;
//   - event_time: the conversion's time in unix seconds;
//   - event_id: the message id, "<sink>/<conversion id>" such as
//     "meta/call:twilio/CA…", the same on every attempt;
//   - action_source: "phone_call" for a call ("chat" for a chat
//     conversion a host records);
//   - user_data: fbc and fbp as the visitor's cookies hold them (or fbc
//     built from the landing page's fbclid), ph (the SHA-256 of the
//     caller's number, digits with the country code and no '+'), and with
//     Config.SendExternalID external_id (the SHA-256 of the visitor id);
//   - custom_data: value in major units ("250.00") and currency, lower
//     case.
//
// Meta takes up to [MaxBatch] (1,000) events in one request but refuses
// the whole request when one of them is invalid; the sink sends one event
// per request so a bad event is dead-lettered alone.
//
// # Matching and consent
//
// Events are matched to ad clicks and people by fbc (the click), fbp (the
// browser) and the hashed phone. The sink accepts (export.Filter) only
// conversions of visitors who gave ads consent (journey.AdIDs.Consent) and
// whose session has an fbc or an fbp: without them nothing is sent, not
// even the phone. A Service with an IdentityKey keeps callers' numbers
// keyed, so no ph is sent then. Config.LimitedDataUse marks events for
// Meta's Limited Data Use (US state privacy laws).
//
// # Deduplication
//
// Meta deduplicates on event_name and event_id. The event_id is stable
// across retries, so a delivery repeated after a lost answer is the same
// event. The browser pixel never sees a phone call, so there is normally
// nothing to dedupe against; a site that also reports something from the
// page for the same action (a Lead fired on a click-to-call tap) should
// give that its own event name (say "Contact"), or it counts twice. To
// have Meta keep one of the two, the page would need to send the same id
// as the pixel's eventID (fbq('track', 'Lead', {}, {eventID: id})), which
// it cannot know before the call is made.
//
// # Adjustments
//
// The Conversions API cannot change or withdraw an event it has. A
// retraction (a call marked lost) sends nothing. A restatement (a value
// set or changed later, a job won) sends nothing by default; with
// Config.RestateEventName (e.g. "Purchase") each restatement is sent as a
// new event of that name at the new value, event_id "meta/adjust:<conversion
// id>/v<version>" and event_time the time of the change. Each change is
// its own event to Meta: a value changed twice is reported twice.
//
// # Limits
//
// event_time may be at most 7 days ([MaxEventAge]) before the request:
// an older message is dead-lettered without a request ("Meta refuses
// events older than 7 days"). A time ahead of the sink's clock is sent as
// now.
//
// # Status
//
// A 2xx answer with events_received 1 delivers the message ([Sink.Stats]
// counts requests and events received). Errors follow the Graph API's
// error object ([APIError]: code, error_subcode, message,
// error_user_msg, fbtrace_id):
//
//   - rate limits (codes 4, 17, 32, 341, 613, 80004) and HTTP 429 are
//     retried after the answer's Retry-After, or at least 5 minutes;
//   - temporary errors (codes 1, 2, 368, is_transient, 5xx, 408) are
//     retried with the exporter's backoff;
//   - an invalid or expired access token (OAuthException 190, or 102) is
//     dead-lettered at once with "the access token is invalid or expired":
//     make a new token, then requeue the dead letters;
//   - everything else (invalid parameter 100, permissions 10 and 200-299)
//     is dead-lettered with Meta's code, message and fbtrace_id, which
//     the export status report shows as the reason;
//   - an answer of 2xx with events_received other than 1 is dead-lettered
//     with Meta's messages.
//
// Events sent with a TestEventCode appear in Events Manager's Test Events
// tab and are not used for ads.
package meta
