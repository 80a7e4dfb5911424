// Package googleads writes Google Ads offline conversion import files from
// the store, so calls and other conversions count in Google Ads bidding.
//
// # Click conversions
//
// A conversion whose session arrived with a Google click id (gclid, or
// gbraid/wbraid for iOS traffic) becomes a row of the click-conversion
// file, the format of Google's "conversions from clicks" upload template:
//
//	Parameters:TimeZone=America/New_York
//	Google Click ID,Conversion Name,Conversion Time,Conversion Value,Conversion Currency
//	Cj0KCQ...,Qualified call,2026-03-14 10:26:53-04:00,50.00,USD
//
// Qualified calls are included like any conversion: the click id of the
// session the call was stitched to identifies the ad click, which is the
// most precise match Google offers. When some rows carry gbraid or wbraid
// instead of a gclid, the header gains GBRAID and WBRAID columns
// ([ClickHeaderBraid]) and each row fills exactly one of the three.
//
// # Call conversions
//
// Calls placed from a Google call asset (call extension or call ad) reach a
// tracking number through a Google forwarding number and carry no click
// id. List those tracking numbers in [Config].CallAssetNumbers; their
// qualified calls become rows of the call-conversion file, which Google
// matches on the caller's number and the call's start time:
//
//	Parameters:TimeZone=America/New_York
//	Caller's Phone Number,Call Start Time,Conversion Name,Conversion Time,Conversion Value,Conversion Currency
//	+14155550123,2026-03-14 10:20:00-04:00,Qualified call,2026-03-14 10:26:53-04:00,50.00,USD
//
// # Times and values
//
// Times are written in the configured zone with their offset
// ([TimeLayout], yyyy-MM-dd HH:mm:ss±HH:mm) and the zone is also named in
// the Parameters line; the offset keeps the repeated hour of a
// daylight-saving change unambiguous. Values are converted from minor
// units with the currency's ISO 4217 exponent ([FormatValue]).
//
// # Use
//
// [Exporter.Export] returns the rows of a period (and the Google-origin
// conversions it had to skip, with why); [Exporter.WriteClicks] and
// [Exporter.WriteCalls] write the files; [Exporter] is also an
// http.Handler serving them for download (?from=&to=&kind=clicks|calls),
// for a scheduled upload in Google Ads that fetches a URL, or a person.
//
// Sources: Google Ads Help, "Import conversions from ad clicks into Google
// Ads" and "Import phone call conversions" (templates and column names);
// Google Ads API reference, ClickConversion and CallConversion (time format
// "yyyy-mm-dd hh:mm:ss+|-hh:mm").
package googleads
