// Package classify turns a visit (landing URL, referrer, user agent) into a
// traffic [Source]: channel, source, medium, campaign, term, content, click id
// and whether the traffic is paid. It is pure: no I/O, no clock, no state
// beyond the [Classifier] built once by [New].
//
// # Channels
//
// Channels are Google Analytics 4's default channel groups, evaluated in
// GA4's order with the conditions Google publishes: Direct, Cross-network,
// Paid Shopping, Paid Search, Paid Social, Paid Video, Display, Paid Other,
// Organic Shopping, Organic Social, Organic Video, Organic Search, Referral,
// Email, Affiliates, Audio, SMS, Mobile Push Notifications, Unassigned. The
// "source matches a list of search / social / shopping / video sites"
// conditions use GA4's own source-category list, embedded with the other
// data files (see data/README.md for their origin and licences).
//
// # Source and medium
//
// In order: Google Ads auto-tagging (gclid, gbraid, wbraid) gives google /
// cpc and wins over UTM parameters, as in GA4; otherwise utm_source and
// utm_medium (a missing one is "(not set)"); otherwise the referrer: none is
// (direct) / (none), the site's own domains are a self-referral and also
// direct, a search engine (Matomo's list, country domains included) is
// ENGINE / organic, and any other host is HOST / referral ("www." dropped).
// Android app referrers (android-app://PACKAGE) use the package as the host.
//
// Parameter names are matched without regard to case; values are decoded
// (form encoding, and a second round for values encoded twice), trimmed and
// capped at 512 bytes; the first of duplicate parameters wins. Source and
// medium are lower-cased, as GA4 compares them; campaign, term and content
// keep the case they were tagged with and are compared without regard to it.
//
// # Two modes
//
// [Config.StrictGA4] reproduces GA4. The default mode is GA4 plus what call
// tracking needs, and agrees with GA4 wherever it adds nothing:
//
//	input                                   StrictGA4                  default mode
//	msclkid, ttclid, li_fat_id, twclid,     recorded only              PLATFORM / cpc: paid traffic of the
//	ScCid, epik, rdt_cid, yclid, qclid,                                platform's channel (dclid: dv360 / cpm,
//	dclid, irclickid, cjevent, no UTMs                                 Display; irclickid, cjevent: Affiliates)
//	fbclid or igshid, no referrer, no UTMs  (direct) / (none)          facebook or instagram / social,
//	                                                                   Organic Social (never paid)
//	webmail referrer (mail.google.com,      HOST / referral, Referral  HOST / email, Email
//	android-app://com.google.android.gm…)
//	social host missing from GA4's list     HOST / referral, Referral  Organic Social (Matomo's social list,
//	(x.com, bsky.app, de.linkedin.com)                           social app packages, parent domains)
//	unreadable referrer ("not a url",       as no referrer: (direct) / (not set) / (not set),
//	"javascript:…", "https://<bad host>/")  (none), Direct             Unassigned
//
// UTM parameters always win over click ids other than Google's
// auto-tagging, in both modes.
//
// # User rules
//
// [Rule] values, from Go or from a JSON file ([LoadRules]), are tried in
// order after the default channel is known; the first whose conditions all
// hold may override the channel and names the number pool for the visit.
// Rules are filed under one of their exact, prefix or suffix conditions, so
// the cost of classifying does not grow with the number of rules that do
// not match; rules made only of "contains" and regex conditions are tried
// one by one.
//
// # Bad input
//
// Classify never fails and never panics. Unreadable parts of a visit are
// worked around and listed in [Source.Problems]. An unreadable referrer
// gives (not set) / (not set) in the default mode, which GA4's rules leave
// Unassigned, so that a visit with something unreadable is not counted as
// Direct; StrictGA4 counts it as absent, as GA4 does, and the visit is
// Direct when nothing else identifies it. Either way the Problem is listed.
// A host written in Unicode ("bücher.de", as a person types it rather than
// as a browser sends it) is read in its ASCII form ("xn--bcher-kva.de") with
// golang.org/x/net/idna, so both spellings classify alike.
package classify
