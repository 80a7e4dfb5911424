package classify

// clickIDKind describes one ad platform's click identifier.
type clickIDKind struct {
	param    string // query parameter, lower case
	platform string
	priority int // lower wins when a URL carries several

	// googleAutoTag marks Google Ads auto-tagging, which GA4 itself reads and
	// lets win over UTM parameters.
	googleAutoTag bool

	// adOnly marks ids that only the platform's ads add: in the default mode
	// they make an untagged visit paid traffic from source/medium.
	adOnly bool
	source string
	medium string
}

// clickIDTable lists the click ids we recognise, most specific first.
// Sources: each platform's documentation of its auto-tagging parameter.
var clickIDTable = []clickIDKind{
	{param: "gclid", platform: "Google Ads", googleAutoTag: true},
	{param: "gbraid", platform: "Google Ads", googleAutoTag: true},
	{param: "wbraid", platform: "Google Ads", googleAutoTag: true},
	{param: "dclid", platform: "Display & Video 360 / Campaign Manager 360", adOnly: true, source: "dv360", medium: "cpm"},
	{param: "msclkid", platform: "Microsoft Ads", adOnly: true, source: "bing", medium: "cpc"},
	{param: "ttclid", platform: "TikTok Ads", adOnly: true, source: "tiktok", medium: "cpc"},
	{param: "li_fat_id", platform: "LinkedIn Ads", adOnly: true, source: "linkedin", medium: "cpc"},
	{param: "twclid", platform: "X Ads", adOnly: true, source: "twitter", medium: "cpc"},
	{param: "sccid", platform: "Snapchat Ads", adOnly: true, source: "snapchat", medium: "cpc"},
	{param: "epik", platform: "Pinterest Ads", adOnly: true, source: "pinterest", medium: "cpc"},
	{param: "rdt_cid", platform: "Reddit Ads", adOnly: true, source: "reddit", medium: "cpc"},
	{param: "yclid", platform: "Yandex Direct", adOnly: true, source: "yandex", medium: "cpc"},
	{param: "qclid", platform: "Quora Ads", adOnly: true, source: "quora", medium: "cpc"},
	{param: "irclickid", platform: "Impact", adOnly: true, source: "impact", medium: "affiliate"},
	{param: "cjevent", platform: "CJ Affiliate", adOnly: true, source: "cj", medium: "affiliate"},
	{param: "gad_source", platform: "Google Ads"},
	{param: "fbclid", platform: "Meta"},
	{param: "igshid", platform: "Meta"},
	{param: "srsltid", platform: "Google Merchant Center"},
	{param: "mc_eid", platform: "Mailchimp"},
}

// clickIDKinds indexes clickIDTable by parameter name.
var clickIDKinds = func() map[string]*clickIDKind {
	m := make(map[string]*clickIDKind, len(clickIDTable))
	for i := range clickIDTable {
		clickIDTable[i].priority = i
		m[clickIDTable[i].param] = &clickIDTable[i]
	}
	return m
}()
