// Package googleadsapi is the export sink that uploads conversions, and
// later changes to their value, to the Google Ads API server to server, so
// qualified calls count in Google Ads bidding without a file uploaded by
// hand (package export/googleads writes those files and stays).
//
// # What is sent
//
// A conversion (a qualified call, or any conversion the host records)
// whose session came from a Google click becomes one ClickConversion,
// POSTed to ConversionUploadService.UploadClickConversions:
//
//	POST {BaseURL}/{Version}/customers/{CustomerID}:uploadClickConversions
//	{"conversions": [{"gclid": "...", "conversionAction": "customers/1234567890/conversionActions/555",
//	  "conversionDateTime": "2026-03-14 10:26:53-04:00", "conversionValue": 250.00, "currencyCode": "USD",
//	  "orderId": "google-ads/call:twilio/CA…", "consent": {"adUserData": "GRANTED"},
//	  "userIdentifiers": [{"userIdentifierSource": "FIRST_PARTY", "hashedPhoneNumber": "<sha-256 hex>"}]}],
//	 "partialFailure": true, "validateOnly": false}
//
// The click id is sent in the field of its kind (gclid, gbraid or wbraid;
// exactly one). Times are written in [Config].Location with their offset
// ([TimeLayout]); values go from minor units to the currency's decimals
// (journey.FormatMinor). The order id is the message's id
// ([export.MessageID], "<sink name>/<conversion id>"): Google keeps one
// conversion per order id and conversion action, so a message delivered
// twice is counted once. partialFailure is always true, as Google
// requires for conversion uploads; [Config].ValidateOnly sets validateOnly.
// Each request carries the headers Authorization (Bearer), developer-token
// and, when set, login-customer-id.
//
// # Call conversions
//
// A qualified call to one of [Config].CallAssets.Numbers (tracking numbers
// set as the phone number of Google call assets or call ads, with call
// reporting on) becomes one CallConversion, POSTed to
// ConversionUploadService.UploadCallConversions:
//
//	POST {BaseURL}/{Version}/customers/{CustomerID}:uploadCallConversions
//	{"conversions": [{"callerId": "+14155550123", "callStartDateTime": "2026-03-14 10:20:00-04:00",
//	  "conversionAction": "customers/1234567890/conversionActions/777",
//	  "conversionDateTime": "2026-03-14 10:24:00-04:00", "conversionValue": 250.00, "currencyCode": "USD",
//	  "consent": {"adUserData": "GRANTED"}}], "partialFailure": true}
//
// Such a call reaches the tracking number through a Google forwarding
// number, without a visit or a click id; Google matches it to the call it
// put through on the caller id (E.164) and the call's start
// (journey.CallTime). The conversion time is the call's end, when it
// qualified at the latest (Google requires it after the start; a call with
// no end converts a second after its start). The conversion action is
// CallAssets.ConversionAction, of type UPLOAD_CALLS. A call whose session
// came from a consented Google click goes as a click conversion instead.
//
// There is no browser to ask these callers for consent, so the host
// declares the basis it has (a notice in the call flow, its terms) in
// CallAssets.AdUserData, which must be GRANTED (New refuses anything
// else) and is sent as the call's consent, with
// CallAssets.AdPersonalization when set. A call whose caller number is
// withheld, kept keyed (dni.Config.IdentityKey) or not E.164, or that has
// no time, cannot be matched: it is dead-lettered, before any request,
// saying which. Google finds no call that did not pass through its
// forwarding number (a caller who dialled the tracking number from
// elsewhere, or copied the forwarding number): CALL_NOT_FOUND,
// dead-lettered; so show call-asset numbers nowhere else.
//
// A call conversion carries no order id, so Google keeps one per caller,
// call start and conversion action (CALL_CONVERSION_ALREADY_EXISTS on a
// repeat), and it cannot be adjusted: ConversionAdjustment finds a
// conversion by order id or by gclid and time, and a call conversion has
// neither. A value set after the upload therefore stays with the host
// ([Sink.Accepts] takes no adjustment of a call without a consented
// session), as do values set before it (the conversion goes at the value
// it was recorded with). Package export/googleads still writes the same
// calls into a file for a hand upload.
//
// # Matching
//
// Google matches a click conversion on its click id. With
// [Config].EnhancedConversionsForLeads (enhanced conversions for leads),
// the visitor's hashed user data is added as userIdentifiers, one value
// each (UserIdentifier is a oneof), FIRST_PARTY, at most three (an
// email and two phones), within Google's five ([MaxUserIdentifiers]):
//
//	"userIdentifiers": [{"userIdentifierSource": "FIRST_PARTY", "hashedEmail": "<sha-256 hex>"},
//	  {"userIdentifierSource": "FIRST_PARTY", "hashedPhoneNumber": "<sha-256 hex>"}]
//
// hashedEmail and hashedPhoneNumber are a form's email_sha256 and
// phone_sha256 (export.Event.UserData), which the tracker hashes in the
// browser (trimmed and lower-cased email; phone in E.164); hashedEmail is
// the form's email_google_sha256 instead when it has one: Google's rules
// also remove the dots before "@" of gmail.com and googlemail.com
// addresses, which the plain hash keeps for the other platforms, so the
// tracker hashes such an address written with dots both ways. For a call,
// a hashedPhoneNumber is also the caller id as the provider reported it in
// E.164, hashed here; a
// caller number equal to the form's phone is sent once. Values are
// SHA-256 as 64 lower-case hex digits; anything else is left out, as is
// a number kept keyed (dni.Config.IdentityKey, "h:…"), withheld or not in
// E.164. A consented conversion without a Google click id
// but with user data is uploaded by its identifiers alone, as Google asks
// enhanced conversions for leads to upload every lead; Google answers
// success when it finds no click for them (debugEnabled is not set). Turn
// the setting on only after enabling enhanced conversions for leads in the
// account and accepting the customer data terms: otherwise Google refuses
// the conversion
// (CUSTOMER_NOT_ENABLED_ENHANCED_CONVERSIONS_FOR_LEADS,
// CUSTOMER_NOT_ACCEPTED_CUSTOMER_DATA_TERMS) and it is dead-lettered.
//
// # Consent
//
// [Sink.Accepts] takes only conversions and adjustments whose session had
// ads consent (journey.AdIDs.Consent) and a Google click id (or, with
// enhanced conversions for leads, user data); nothing else is queued.
// consent.adUserData is DENIED when Google Consent Mode denied
// ad_user_data, else GRANTED; adPersonalization is sent when the page set
// it. Hashed user data goes only when journey.AdIDs.SharesUserData. Calls
// to call-asset numbers go on the consent the host declares instead (see
// Call conversions).
//
// # Limits
//
// Google takes up to 2,000 conversions (and 2,000 adjustments) per
// request ([MaxRowsPerRequest]); the sink sends one per request, so each
// outbox message has its own fate, retries and status. Google imports
// conversions within the conversion action's click-through window
// (EXPIRED_EVENT after it), not before 6 hours after the click
// (TOO_RECENT_EVENT) or the action's creation
// (TOO_RECENT_CONVERSION_ACTION), and adjusts conversions at least 24 hours
// old (TOO_RECENT_CONVERSION) and at most 54 days old (CONVERSION_EXPIRED).
// API quotas answer RESOURCE_EXHAUSTED.
//
// # Adjustments
//
// An export.Adjustment becomes one ConversionAdjustment, POSTed to
// ConversionAdjustmentUploadService.UploadConversionAdjustments: RESTATEMENT
// with restatementValue {adjustedValue, currencyCode}, or RETRACTION,
// matched by the conversion's order id ([OrderID]) and conversion action,
// at adjustmentDateTime = the change's time (Adjustment.At). Google keeps
// the latest adjustment by that time, as the outbox asks of receivers.
//
// # Keywords of clicks
//
// [Sink.ClickViews] reads the click_view report of one day through
// GoogleAdsService.Search, following nextPageToken page by page (pageSize
// is not sent: Google refuses it):
//
//	POST {BaseURL}/{Version}/customers/{CustomerID}/googleAds:search
//	{"query": "SELECT click_view.gclid, click_view.keyword, click_view.keyword_info.text,
//	  click_view.keyword_info.match_type FROM click_view WHERE segments.date = '2026-03-02'",
//	 "pageToken": "..."}
//
// with the same headers and token refresh as uploads. Each row is a
// [ClickView]: the gclid, the keyword's text and match type (EXACT,
// PHRASE, BROAD) and its ad group criterion; clicks outside the Search
// channel have no keyword. [Sink.ClickKeywords] gives keyword text by
// gclid, which is what dni.Service.ApplyClickKeywords asks to fill the
// Term of sessions that came from those clicks. click_view must be
// filtered to a single day (EXPECTED_FILTER_ON_A_SINGLE_DAY) and goes back
// 90 days ([ClickViewDays], DATE_TOO_OLD): a day older than that by
// Config.Now, or not yet begun, is refused without a request. The day is
// the date of the time given, in its location, which should be the
// account's time zone. Google's refusals are [*Error]s classed as for
// uploads. Reading keywords needs no conversion action: a sink made with
// [Config].ReadOnly only reads, and uploads nothing.
//
// # Authentication
//
// [Config].TokenSource gives access tokens for the adwords scope; without
// it the sink exchanges [Config].RefreshToken at Google's token endpoint
// (golang.org/x/oauth2) and caches the token until it expires. When Google
// answers UNAUTHENTICATED the sink gets a new token and sends the request
// once more; a host TokenSource must then hand out a fresh one.
//
// # Status
//
// Deliver returns nil when Google accepted the row, and also when Google
// answers that it already has it: ORDER_ID_ALREADY_IN_USE,
// CLICK_CONVERSION_ALREADY_EXISTS or CALL_CONVERSION_ALREADY_EXISTS (an
// earlier attempt landed and its answer was lost),
// RESTATEMENT_ALREADY_EXISTS and, for a retraction,
// CONVERSION_ALREADY_RETRACTED (the same change again), and
// MORE_RECENT_RESTATEMENT_FOUND (a later change landed first and
// supersedes this one). Other row errors in partialFailureError
// dead-letter the message at once ([export.Permanent]), its reason being
// Google's: an [*Error] naming each GoogleAdsError code ("<type>: <code>",
// e.g. "conversionUploadError: EXPIRED_EVENT"), its message and the request
// id. The "too recent" rows above are retried after Google's documented
// wait (6 hours; 12 for TOO_RECENT_CALL; 24 for TOO_RECENT_CONVERSION),
// capped by the exporter's MaxDelay. Whole-request answers: 429 RESOURCE_EXHAUSTED, 408 and 5xx are
// retried, after Retry-After or the quota error's retryDelay, whichever is
// longer; UNAUTHENTICATED after the one refresh, and failures of the token
// endpoint (a revoked refresh token: invalid_grant), are retried so that
// fixed credentials let the messages through before the exporter's
// MaxAttempts; other 4xx (INVALID_ARGUMENT, PERMISSION_DENIED) are
// dead-lettered with Google's status, codes and message.
//
// Sources: Google Ads API reference, GoogleAdsService.Search
// (SearchGoogleAdsRequest, SearchGoogleAdsResponse), ClickView,
// KeywordInfo, ClickViewErrorEnum, ConversionUploadService,
// ClickConversion, CallConversion, UploadCallConversionsRequest,
// ConversionAdjustmentUploadService, ConversionAdjustment,
// RestatementValue, ConversionUploadErrorEnum,
// ConversionAdjustmentUploadErrorEnum and QuotaErrorDetails
// (developers.google.com/google-ads/api/reference/rpc, and the protos in
// googleapis/googleapis google/ads/googleads); "Best practices for partial
// failures"; "Upload enhanced conversions for leads" (normalisation and
// hashing); "Import call conversions" (consent, TOO_RECENT_CALL, Google
// forwarding numbers); the REST interface
// (developers.google.com/google-ads/api/rest).
package googleadsapi
