// Package ga4 is the export sink that sends qualified calls (and the
// chats and forms whose conversions are exported) to a Google Analytics 4
// web stream, server to server, through the Measurement Protocol.
//
// # What is sent
//
// One POST per conversion to
//
//	https://www.google-analytics.com/mp/collect?measurement_id=G-…&api_secret=…
//
// ([EUBaseURL] with Config.EU, so the data is collected in the EU), with
// the body ([Payload])
//
//	{"client_id": "<GA client id>", "timestamp_micros": <the conversion's time>,
//	 "consent": {"ad_user_data": "GRANTED|DENIED", "ad_personalization": "GRANTED|DENIED"},
//	 "events": [{"name": "generate_lead", "params": {"value": 250.00, "currency": "USD",
//	   "transaction_id": "<message id>", "session_id": "<GA session id>", "engagement_time_msec": 1}}]}
//
// The event is Config.EventName, by default generate_lead, GA4's
// recommended event for a lead. value is in major units, a JSON number
// written exactly from the minor units. transaction_id is the outbox
// message id, the same on every attempt (ids over 100 characters are sent
// as their SHA-256). engagement_time_msec is 1: GA needs a positive one
// to show the event in Realtime and tie it to the session, and an offline
// conversion has no engagement of its own.
//
// Delivery is at least once: a request whose answer was lost is sent
// again, and GA keeps both (it drops repeated transaction ids of purchase
// events only). The repeat has the same transaction_id and timestamp, so
// a report counting distinct transaction_id counts the lead once.
//
// # Matching
//
// GA ties the event to the visitor by client_id, the GA client id the
// tracker read from the _ga cookie ("1234567890.1700000000"; a whole
// cookie value "GA1.1.1234567890.1700000000" is cut to that), and to their
// session by session_id, the id from the stream's _ga_<id> cookie, sent
// when the tracker read one (a positive number, as a string). The session
// is what carries the campaign, so the lead is credited to the ad that
// brought the visit.
//
// # Consent
//
// [Sink.Accepts] takes only events of visitors who gave ads consent
// (journey.AdIDs.Consent) and whose client id the tracker read: nothing
// else is queued for GA4. When the site uses Consent Mode, its signals go
// with the event as consent.ad_user_data and consent.ad_personalization;
// a denied ad_personalization also sets non_personalized_ads (deprecated
// by Google in favour of the consent field, still read). Without Consent
// Mode no consent object is sent and GA applies the consent of the
// client's online events.
//
// # Limits
//
// The Measurement Protocol answers 2xx to every request it receives, even
// a malformed one it then drops, so the sink checks each payload itself
// ([Payload.Validate]) against the documented rules before sending: at
// most 25 events of at most 25 parameters; event and parameter names of
// letters, digits and underscores, starting with a letter, at most 40
// characters, not reserved (session_start, first_visit, …; the prefixes
// _, firebase_, ga_, google_, gtag.); string values of at most 100
// characters; a client id of two positive numbers joined by a period; a
// body under 130 kB. Config.EventName and Config.AdjustmentEventName are
// checked by [New]. Events are backdated at most 72 hours ([MaxAge]):
// a message delivered later than that after its conversion is not sent.
// A timestamp ahead of the sink's clock is sent as now.
//
// Config.Debug posts to the validation server (/debug/mp/collect)
// instead, which records nothing and answers validationMessages; any
// message dead-letters the delivery with the server's reasons. Neither
// server checks the api_secret or the measurement id: a wrong one is
// accepted and the events are lost. Check a new configuration in GA's
// Realtime report.
//
// # Adjustments
//
// GA4 cannot change or withdraw an event it has: there is no restatement
// and no retraction. A retraction is therefore not sent (Accepts is
// false). A restatement is sent only when Config.AdjustmentEventName is
// set, as an event of that name with the new value and currency and
// original_transaction_id naming the first event's transaction_id. It is
// off by default because GA adds it to the first event rather than
// replacing it: a report summing value over both counts the lead twice.
// Use a name of its own that is not marked as a key event, and read it as
// "the value of lead X is now Y".
//
// # Status
//
// Delivered means GA answered 2xx, which says only that it received the
// request. Dead-lettered, each with its reason in the outbox:
//   - a payload breaking the rules above: a [*ValidationError] naming each
//     field at fault and its validation code (VALUE_OUT_OF_BOUNDS,
//     NAME_RESERVED, …), or the validation server's messages in debug
//     mode;
//   - an event older than 72 hours when delivered (errors.Is [ErrTooOld]),
//     after retries or an outage;
//   - a 4xx answer other than 408 and 429.
//
// 429 (honouring Retry-After), 408, 5xx, timeouts and connection errors
// are retried with backoff. The api_secret never appears in an error.
package ga4
