// Package microsoftads is the export sink that applies qualified calls to
// Microsoft Advertising as offline conversions, server to server, with the
// host's attribution model's credit, and restates or retracts them when
// their value changes.
//
// # What is sent
//
// One request per outbox message to the Campaign Management REST API
// (version 13; Microsoft retires the SOAP API on 31 January 2027):
//
//	POST {Endpoint}/CampaignManagement/v13/OfflineConversions/Apply
//	Authorization: Bearer <OAuth access token>
//	DeveloperToken, CustomerId, CustomerAccountId: from [Config]
//
//	{"OfflineConversions": [{"MicrosoftClickId": "<msclkid>",
//	  "ConversionName": "<Config.ConversionName>",
//	  "ConversionTime": "2026-03-14T15:00:00Z", "ConversionValue": 123.45,
//	  "ConversionCurrencyCode": "EUR",
//	  "ExternalAttributionModel": "linear", "ExternalAttributionCredit": 0.5}]}
//
// ConversionTime is UTC, to the second; ConversionValue is in major units
// (the conversion's minor units through journey.FormatMinor). A conversion
// without a currency is sent without value, so the goal's default applies.
//
// # Matching
//
// By Microsoft click id only: the msclkid of the session the conversion
// was attributed to (classify.Source.ClickID with Param "msclkid"). The
// sink's [Sink.Accepts] takes nothing else.
//
// # Consent
//
// Only events whose AdIDs.Consent is true are taken: the visitor agreed
// to their conversions being reported to ad platforms. No hashed email or
// phone is sent.
//
// # External attribution
//
// With [Config].Credit set, each conversion carries the model the host
// chose (ExternalAttributionModel) and the share of the conversion it
// credits to Microsoft Ads (ExternalAttributionCredit, above 0 and at most
// 1): a linear model over Email → Microsoft Ads → call sends 0.5. The
// offline conversion goal must be set to external attribution, or
// Microsoft answers GoalNotEligibleForExternalAttribution. A conversion
// the model credits nothing to Microsoft Ads is dead-lettered with that
// reason instead of being sent (Microsoft accepts no zero credit).
//
// # Adjustments
//
// An export.Adjustment is one OfflineConversionAdjustments/Apply row:
// AdjustmentType "Restate" with AdjustmentValue and AdjustmentCurrencyCode,
// or "Retract" with neither; ConversionName, ConversionTime and
// MicrosoftClickId name the conversion as it was sent, and AdjustmentTime
// is when the outcome changed (never before the conversion). The sink
// needs [Config].ConversionTime to find that time ([SentConversionTime]
// reads it from the outbox); without it adjustments are not taken.
// Microsoft orders adjustments by AdjustmentTime, so a late retried one
// does not undo a later change.
//
// # Limits and duplicates
//
// Microsoft takes up to 1,000 conversions a request; the sink sends one
// per message, so a message's fate is its own. The same conversion
// (click id, goal and time) applied twice is ignored by Microsoft after the
// first, so a repeated delivery is harmless: the message id is not sent
// because the API has no field for it; click id and time are its key.
// Conversions must be within 90 days and after the click.
//
// # Answers and status
//
//   - 200 without PartialErrors: delivered.
//   - 200 with PartialErrors (BatchError) or a 4xx ApplicationFault
//     (OperationErrors, Errors): dead-lettered at once with every error's
//     code, symbolic code and message, for example "1234
//     OfflineConversionMicrosoftClickIdInvalid: ...", which the export
//     status report shows as the reason.
//   - Retried with backoff: 429 (after its Retry-After), CallRateExceeded
//     (117, after 60 seconds as Microsoft asks), InternalError (0),
//     OfflineConversionsApplyFailed (5612), 5xx, 408, timeouts and
//     connection errors, and errors of Config.Credit or ConversionTime
//     (but for store.ErrNotFound: a conversion gone from the store is
//     dead-lettered).
//   - AuthenticationTokenExpired (109): the token is dropped and the
//     request sent once more with a new one from [Config].TokenSource; if
//     that fails too the message is retried later.
//
// See https://learn.microsoft.com/advertising/campaign-management-service/applyofflineconversions
// and .../applyofflineconversionadjustments.
package microsoftads
