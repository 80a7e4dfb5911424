// Package report turns journeys and ad spend into the reports people act
// on: a sources report per channel, source / medium, campaign, keyword or
// landing page, with cost per call and return on ad spend under every
// attribution model, and mix-model series per day or week. Its functions
// are pure: they read what they are given (dni.Service reads the store)
// and write CSV, nothing else.
//
// # Spend files
//
// [ReadSpendCSV] reads a cost report exported from an ad platform and
// reshaped to one row per day and traffic source:
//
//	day,channel,source,medium,campaign,currency,amount
//	2026-03-02,Paid Search,google,cpc,spring_sale,USD,120.50
//	2026-03-02,Paid Social,facebook,paid,,USD,40
//
// day is YYYY-MM-DD (a UTC day); channel, source, medium and campaign are
// spelled as classification spells them (channel "Paid Search", source
// "google", medium "cpc") and any may be empty, but not all; currency is
// an ISO 4217 code; amount is in major units with at most the currency's
// minor digits ("120.50" USD, "500" JPY), never negative. A day and
// source may appear once. Every problem is reported with its line and
// column, and a file with any problem imports nothing. [WriteSpendCSV]
// writes the same format.
//
// # Sources
//
// [BySourceBetween] counts, per key of a [Dimension], the calls (with the
// missed and spam among them), qualified calls and their revenue, chats
// and forms of a period, the spend of the key, cost per call and per
// qualified call, and per attribution model the conversions and value
// credited with ROAS = credited value / spend. A chat is a conversation
// ([ChatConversations]): its opened, started and message events count
// once, and a widget opened and never written in counts as a chat. A
// conversation counts in every report whose period holds one of its
// events: a chat that runs past midnight is in the sources report of each
// day, so daily reports may sum to more than the report of the whole
// range (a [Series] counts it once, at its earliest event in its range). Spend is matched by channel, source / medium or campaign; keyword
// and landing page rows carry no spend, since cost reports are not given
// at that grain here.
//
// The keyword is the source's Term: utm_term, which ad platforms fill
// through a URL template ({keyword} in Google's ValueTrack and Microsoft
// Advertising), or, for a Google Ads click that came with its gclid alone,
// the keyword Google reports for that click in its click_view report
// (dni.Service.ApplyClickKeywords with package export/googleadsapi),
// written as its session's Term. Other click ids (msclkid, fbclid and the
// rest) are opaque and give no keyword. The landing page is the path of the session's landing URL, read from the
// touchpoint's [AttrLandingPage].
//
// # Series
//
// [BuildSeries] makes a [Series]: per day or ISO week and per channel
// (or channel and campaign) the calls, qualified calls, call revenue,
// chats, forms and spend, and per period every conversion and its value.
// [Series.WriteWide] writes the layout Robyn and Meridian read, one row
// per date and one column per channel metric; [Series.WriteLong] one row
// per date, channel and metric. Every period is present, with zeros when
// nothing happened.
package report
