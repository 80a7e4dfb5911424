package classify

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const site = "https://www.example-plumbing.com/"

type want struct {
	channel        Channel
	source, medium string
	rule           string
	basis          Basis
}

type classifyCase struct {
	name     string
	url      string // relative to site when it starts with "?" or "/"
	referrer string
	strict   bool // classify in StrictGA4 mode
	want     want
	problem  string // a Problem the Source must list, "" for no check
}

func (tc classifyCase) visit() Visit {
	u := tc.url
	if strings.HasPrefix(u, "?") || strings.HasPrefix(u, "/") {
		u = strings.TrimSuffix(site, "/") + "/" + strings.TrimPrefix(u, "/")
	}
	return Visit{URL: u, Referrer: tc.referrer}
}

// defaultModeAdds marks the cases where the default mode deliberately
// departs from GA4; every other case must classify the same in both modes.
var defaultModeAdds = map[string]bool{}

var classifyCases = []classifyCase{
	// Direct
	{name: "no referrer no tags", url: "/", want: want{ChannelDirect, "(direct)", "(none)", "ga4:direct", BasisNone}},
	{name: "self-referral from landing host", url: "/services", referrer: "https://www.example-plumbing.com/about",
		want: want{ChannelDirect, "(direct)", "(none)", "ga4:direct", BasisSelfReferral}},
	{name: "self-referral from own subdomain", url: "/", referrer: "https://blog.example-plumbing.com/post",
		want: want{ChannelDirect, "(direct)", "(none)", "ga4:direct", BasisSelfReferral}},
	{name: "utm direct none", url: "?utm_source=(direct)&utm_medium=(none)", want: want{ChannelDirect, "(direct)", "(none)", "ga4:direct", BasisUTM}},

	// Cross-network
	{name: "pmax cross-network campaign", url: "?utm_source=google&utm_medium=cpc&utm_campaign=PMax_Cross-Network_Q3",
		want: want{ChannelCrossNetwork, "google", "cpc", "ga4:cross-network", BasisUTM}},

	// Paid Shopping
	{name: "shopping site with cpc", url: "?utm_source=amazon&utm_medium=cpc", want: want{ChannelPaidShopping, "amazon", "cpc", "ga4:paid-shopping", BasisUTM}},
	{name: "shopping campaign regex eshop", url: "?utm_source=newsletterx&utm_medium=paid&utm_campaign=spring-eshop",
		want: want{ChannelPaidShopping, "newsletterx", "paid", "ga4:paid-shopping", BasisUTM}},
	{name: "shopping campaign with google cpc", url: "?utm_source=google&utm_medium=cpc&utm_campaign=Google_Shopping_Brand",
		want: want{ChannelPaidShopping, "google", "cpc", "ga4:paid-shopping", BasisUTM}},

	// Paid Search
	{name: "gclid auto-tag", url: "?gclid=Cj0KCQ", referrer: "https://www.google.com/", want: want{ChannelPaidSearch, "google", "cpc", "ga4:paid-search", BasisGoogleAutoTag}},
	{name: "gclid wins over utm", url: "?utm_source=newsletter&utm_medium=email&gclid=abc",
		want: want{ChannelPaidSearch, "google", "cpc", "ga4:paid-search", BasisGoogleAutoTag}},
	{name: "gbraid auto-tag", url: "?gbraid=0AAAAA", want: want{ChannelPaidSearch, "google", "cpc", "ga4:paid-search", BasisGoogleAutoTag}},
	{name: "wbraid auto-tag", url: "?wbraid=CkAB", want: want{ChannelPaidSearch, "google", "cpc", "ga4:paid-search", BasisGoogleAutoTag}},
	{name: "utm bing ppc", url: "?utm_source=bing&utm_medium=ppc", want: want{ChannelPaidSearch, "bing", "ppc", "ga4:paid-search", BasisUTM}},
	{name: "utm case-insensitive names and values", url: "?UTM_Source=Google&Utm_Medium=CPC", want: want{ChannelPaidSearch, "google", "cpc", "ga4:paid-search", BasisUTM}},
	{name: "msclkid default mode", url: "?msclkid=5f3e", want: want{ChannelPaidSearch, "bing", "cpc", "ga4:paid-search", BasisClickID}},
	{name: "msclkid strict mode recorded only", url: "?msclkid=5f3e", strict: true, want: want{ChannelDirect, "(direct)", "(none)", "ga4:direct", BasisNone}},
	{name: "yclid default mode", url: "?yclid=123", want: want{ChannelPaidSearch, "yandex", "cpc", "ga4:paid-search", BasisClickID}},
	{name: "msclkid with utm keeps utm", url: "?utm_source=newsletter&utm_medium=email&msclkid=1",
		want: want{ChannelEmail, "newsletter", "email", "ga4:email", BasisUTM}},

	// Paid Social
	{name: "facebook paid social utm", url: "?utm_source=facebook&utm_medium=paid_social", want: want{ChannelPaidSocial, "facebook", "paid_social", "ga4:paid-social", BasisUTM}},
	{name: "ttclid default mode", url: "?ttclid=E.C.P", want: want{ChannelPaidSocial, "tiktok", "cpc", "ga4:paid-social", BasisClickID}},
	{name: "li_fat_id default mode", url: "?li_fat_id=abc-123", want: want{ChannelPaidSocial, "linkedin", "cpc", "ga4:paid-social", BasisClickID}},
	{name: "twclid default mode", url: "?twclid=2-xyz", want: want{ChannelPaidSocial, "twitter", "cpc", "ga4:paid-social", BasisClickID}},
	{name: "ScCid mixed case default mode", url: "?ScCid=snap1", want: want{ChannelPaidSocial, "snapchat", "cpc", "ga4:paid-social", BasisClickID}},
	{name: "epik default mode", url: "?epik=dj0y", want: want{ChannelPaidSocial, "pinterest", "cpc", "ga4:paid-social", BasisClickID}},
	{name: "rdt_cid default mode", url: "?rdt_cid=987", want: want{ChannelPaidSocial, "reddit", "cpc", "ga4:paid-social", BasisClickID}},
	{name: "ttclid strict leaves it to the tiktok referrer", url: "?ttclid=E.C.P", referrer: "https://www.tiktok.com/", strict: true,
		want: want{ChannelOrganicSocial, "tiktok.com", "referral", "ga4:organic-social", BasisSocial}},

	// Paid Video
	{name: "youtube cpv", url: "?utm_source=youtube&utm_medium=cpv", want: want{ChannelPaidVideo, "youtube", "cpv", "ga4:paid-video", BasisUTM}},

	// Display
	{name: "display medium", url: "?utm_source=gdn&utm_medium=display", want: want{ChannelDisplay, "gdn", "display", "ga4:display", BasisUTM}},
	{name: "cpm medium unknown source", url: "?utm_source=adroll&utm_medium=cpm", want: want{ChannelDisplay, "adroll", "cpm", "ga4:display", BasisUTM}},
	{name: "dclid default mode", url: "?dclid=CJ", want: want{ChannelDisplay, "dv360", "cpm", "ga4:display", BasisClickID}},

	// Paid Other
	{name: "paid medium unknown source", url: "?utm_source=capterra&utm_medium=ppc", want: want{ChannelPaidOther, "capterra", "ppc", "ga4:paid-other", BasisUTM}},
	{name: "retargeting medium", url: "?utm_source=criteo&utm_medium=retargeting", want: want{ChannelPaidOther, "criteo", "retargeting", "ga4:paid-other", BasisUTM}},

	// Organic Shopping
	{name: "shopping referrer", url: "/", referrer: "https://www.etsy.com/listing/1", want: want{ChannelOrganicShopping, "etsy.com", "referral", "ga4:organic-shopping", BasisReferrer}},
	{name: "shop campaign organic", url: "?utm_source=partner&utm_medium=link&utm_campaign=shop-local",
		want: want{ChannelOrganicShopping, "partner", "link", "ga4:organic-shopping", BasisUTM}},
	{name: "workshop campaign is not shopping", url: "?utm_source=partner&utm_medium=link&utm_campaign=workshop",
		want: want{ChannelReferral, "partner", "link", "ga4:referral", BasisUTM}},

	// Organic Social
	{name: "facebook link shim l.", url: "/", referrer: "https://l.facebook.com/l.php?u=https%3A%2F%2Fexample-plumbing.com",
		want: want{ChannelOrganicSocial, "l.facebook.com", "referral", "ga4:organic-social", BasisSocial}},
	{name: "facebook link shim lm.", url: "/", referrer: "https://lm.facebook.com/", want: want{ChannelOrganicSocial, "lm.facebook.com", "referral", "ga4:organic-social", BasisSocial}},
	{name: "twitter t.co", url: "/", referrer: "https://t.co/abc123", want: want{ChannelOrganicSocial, "t.co", "referral", "ga4:organic-social", BasisSocial}},
	{name: "reddit out shim", url: "/", referrer: "https://out.reddit.com/t3_xyz", want: want{ChannelOrganicSocial, "out.reddit.com", "referral", "ga4:organic-social", BasisSocial}},
	{name: "instagram shim", url: "/", referrer: "https://l.instagram.com/", want: want{ChannelOrganicSocial, "l.instagram.com", "referral", "ga4:organic-social", BasisSocial}},
	{name: "linkedin lnkd.in", url: "/", referrer: "https://lnkd.in/e3x", want: want{ChannelOrganicSocial, "lnkd.in", "referral", "ga4:organic-social", BasisSocial}},
	{name: "www facebook stripped", url: "/", referrer: "https://www.facebook.com/", want: want{ChannelOrganicSocial, "facebook.com", "referral", "ga4:organic-social", BasisSocial}},
	{name: "social medium", url: "?utm_source=mastodon-post&utm_medium=social", want: want{ChannelOrganicSocial, "mastodon-post", "social", "ga4:organic-social", BasisUTM}},
	{name: "unicode host read as punycode", url: "/", referrer: "https://BÜCHER.de/angebote",
		want: want{ChannelReferral, "xn--bcher-kva.de", "referral", "ga4:referral", BasisReferrer}},
	{name: "unicode and punycode hosts agree", url: "/", referrer: "https://xn--bcher-kva.de/",
		want: want{ChannelReferral, "xn--bcher-kva.de", "referral", "ga4:referral", BasisReferrer}},
	{name: "x.com default mode is social", url: "/", referrer: "https://x.com/someone/status/1", want: want{ChannelOrganicSocial, "x.com", "referral", "ga4:organic-social", BasisSocial}},
	{name: "x.com strict is referral", url: "/", referrer: "https://x.com/someone/status/1", strict: true, want: want{ChannelReferral, "x.com", "referral", "ga4:referral", BasisReferrer}},
	{name: "de.linkedin.com parent domain default", url: "/", referrer: "https://de.linkedin.com/",
		want: want{ChannelOrganicSocial, "de.linkedin.com", "referral", "ga4:organic-social", BasisSocial}},
	{name: "de.linkedin.com strict is referral", url: "/", referrer: "https://de.linkedin.com/", strict: true,
		want: want{ChannelReferral, "de.linkedin.com", "referral", "ga4:referral", BasisReferrer}},
	{name: "fbclid without referrer default", url: "?fbclid=IwAR2", want: want{ChannelOrganicSocial, "facebook", "social", "ga4:organic-social", BasisSocial}},
	{name: "fbclid without referrer strict", url: "?fbclid=IwAR2", strict: true, want: want{ChannelDirect, "(direct)", "(none)", "ga4:direct", BasisNone}},
	{name: "igshid without referrer default", url: "?igshid=MzRl", want: want{ChannelOrganicSocial, "instagram", "social", "ga4:organic-social", BasisSocial}},
	{name: "fbclid with facebook referrer", url: "?fbclid=IwAR2", referrer: "https://m.facebook.com/",
		want: want{ChannelOrganicSocial, "m.facebook.com", "referral", "ga4:organic-social", BasisSocial}},
	{name: "android facebook app default", url: "/", referrer: "android-app://com.facebook.katana/",
		want: want{ChannelOrganicSocial, "com.facebook.katana", "referral", "ga4:organic-social", BasisSocial}},

	// Organic Video
	{name: "youtube referrer", url: "/", referrer: "https://www.youtube.com/watch?v=1", want: want{ChannelOrganicVideo, "youtube.com", "referral", "ga4:organic-video", BasisReferrer}},
	{name: "video medium", url: "?utm_source=wistia-embed&utm_medium=video", want: want{ChannelOrganicVideo, "wistia-embed", "video", "ga4:organic-video", BasisUTM}},

	// Organic Search
	{name: "google referrer", url: "/", referrer: "https://www.google.com/", want: want{ChannelOrganicSearch, "google", "organic", "ga4:organic-search", BasisSearchEngine}},
	{name: "google country domain co.uk", url: "/", referrer: "https://www.google.co.uk/", want: want{ChannelOrganicSearch, "google", "organic", "ga4:organic-search", BasisSearchEngine}},
	{name: "google country domain com.au", url: "/", referrer: "https://www.google.com.au/search?q=plumber", want: want{ChannelOrganicSearch, "google", "organic", "ga4:organic-search", BasisSearchEngine}},
	{name: "google country domain de", url: "/", referrer: "https://google.de/", want: want{ChannelOrganicSearch, "google", "organic", "ga4:organic-search", BasisSearchEngine}},
	{name: "not google evil.com lookalike", url: "/", referrer: "https://google.evil.com/", want: want{ChannelReferral, "google.evil.com", "referral", "ga4:referral", BasisReferrer}},
	{name: "bing referrer", url: "/", referrer: "https://www.bing.com/", want: want{ChannelOrganicSearch, "bing", "organic", "ga4:organic-search", BasisSearchEngine}},
	{name: "bing country subdomain", url: "/", referrer: "https://cn.bing.com/", want: want{ChannelOrganicSearch, "bing", "organic", "ga4:organic-search", BasisSearchEngine}},
	{name: "duckduckgo referrer", url: "/", referrer: "https://duckduckgo.com/", want: want{ChannelOrganicSearch, "duckduckgo", "organic", "ga4:organic-search", BasisSearchEngine}},
	{name: "yahoo referrer", url: "/", referrer: "https://search.yahoo.com/", want: want{ChannelOrganicSearch, "yahoo", "organic", "ga4:organic-search", BasisSearchEngine}},
	{name: "ecosia referrer", url: "/", referrer: "https://www.ecosia.org/", want: want{ChannelOrganicSearch, "ecosia", "organic", "ga4:organic-search", BasisSearchEngine}},
	{name: "google app android referrer", url: "/", referrer: "android-app://com.google.android.googlequicksearchbox/https/www.google.com",
		want: want{ChannelOrganicSearch, "google", "organic", "ga4:organic-search", BasisSearchEngine}},
	{name: "organic medium", url: "?utm_source=gbp&utm_medium=organic", want: want{ChannelOrganicSearch, "gbp", "organic", "ga4:organic-search", BasisUTM}},
	{name: "gad_source alone is recorded only", url: "?gad_source=1", referrer: "https://www.google.com/",
		want: want{ChannelOrganicSearch, "google", "organic", "ga4:organic-search", BasisSearchEngine}},

	// Referral
	{name: "plain referral", url: "/", referrer: "https://www.plumbing-directory.net/biz/x", want: want{ChannelReferral, "plumbing-directory.net", "referral", "ga4:referral", BasisReferrer}},
	{name: "yelp is on GA4's social list", url: "/", referrer: "https://www.yelp.com/biz/x", want: want{ChannelOrganicSocial, "yelp.com", "referral", "ga4:organic-social", BasisSocial}},
	{name: "referral with port and userinfo", url: "/", referrer: "https://user:pw@Partner.Example.org:8443/x", want: want{ChannelReferral, "partner.example.org", "referral", "ga4:referral", BasisReferrer}},
	{name: "app medium", url: "?utm_source=partner-app&utm_medium=app", want: want{ChannelReferral, "partner-app", "app", "ga4:referral", BasisUTM}},
	{name: "chatgpt is a referral", url: "/", referrer: "https://chatgpt.com/", want: want{ChannelReferral, "chatgpt.com", "referral", "ga4:referral", BasisAIAssistant}},
	{name: "gmail strict is referral", url: "/", referrer: "https://mail.google.com/", strict: true, want: want{ChannelReferral, "mail.google.com", "referral", "ga4:referral", BasisReferrer}},
	{name: "gmail android app strict is referral", url: "/", referrer: "android-app://com.google.android.gm/", strict: true,
		want: want{ChannelReferral, "com.google.android.gm", "referral", "ga4:referral", BasisReferrer}},

	// Email
	{name: "email medium", url: "?utm_source=newsletter&utm_medium=email&utm_campaign=Spring", want: want{ChannelEmail, "newsletter", "email", "ga4:email", BasisUTM}},
	{name: "e-mail source", url: "?utm_source=e-mail&utm_medium=blast", want: want{ChannelEmail, "e-mail", "blast", "ga4:email", BasisUTM}},
	{name: "gmail webmail default", url: "/", referrer: "https://mail.google.com/mail/u/0/", want: want{ChannelEmail, "mail.google.com", "email", "ga4:email", BasisWebmail}},
	{name: "gmail android app default", url: "/", referrer: "android-app://com.google.android.gm/", want: want{ChannelEmail, "com.google.android.gm", "email", "ga4:email", BasisWebmail}},
	{name: "outlook webmail default", url: "/", referrer: "https://outlook.live.com/", want: want{ChannelEmail, "outlook.live.com", "email", "ga4:email", BasisWebmail}},
	{name: "yahoo mail regional default", url: "/", referrer: "https://us.mg5.mail.yahoo.com/", want: want{ChannelEmail, "us.mg5.mail.yahoo.com", "email", "ga4:email", BasisWebmail}},

	// Affiliates, Audio, SMS, Mobile Push
	{name: "affiliate medium", url: "?utm_source=cj&utm_medium=affiliate", want: want{ChannelAffiliates, "cj", "affiliate", "ga4:affiliates", BasisUTM}},
	{name: "irclickid default", url: "?irclickid=xyz", want: want{ChannelAffiliates, "impact", "affiliate", "ga4:affiliates", BasisClickID}},
	{name: "audio medium", url: "?utm_source=spotify-ads&utm_medium=audio", want: want{ChannelAudio, "spotify-ads", "audio", "ga4:audio", BasisUTM}},
	{name: "sms medium", url: "?utm_source=twilio&utm_medium=sms", want: want{ChannelSMS, "twilio", "sms", "ga4:sms", BasisUTM}},
	{name: "sms source", url: "?utm_source=sms&utm_medium=text", want: want{ChannelSMS, "sms", "text", "ga4:sms", BasisUTM}},
	{name: "push medium suffix", url: "?utm_source=onesignal&utm_medium=web-push", want: want{ChannelMobilePush, "onesignal", "web-push", "ga4:mobile-push", BasisUTM}},
	{name: "firebase source", url: "?utm_source=firebase&utm_medium=inapp", want: want{ChannelMobilePush, "firebase", "inapp", "ga4:mobile-push", BasisUTM}},

	// Unassigned and (not set)
	{name: "source without medium", url: "?utm_source=flyer", want: want{ChannelUnassigned, "flyer", "(not set)", "ga4:unassigned", BasisUTM}},
	{name: "medium without source", url: "?utm_medium=qr", want: want{ChannelUnassigned, "(not set)", "qr", "ga4:unassigned", BasisUTM}},
	{name: "garbage referrer", url: "/", referrer: "not a referrer at all", want: want{ChannelUnassigned, "(not set)", "(not set)", "ga4:unassigned", BasisUnreadable},
		problem: "referrer: not a URL"},
	{name: "javascript referrer", url: "/", referrer: "javascript:alert(1)", want: want{ChannelUnassigned, "(not set)", "(not set)", "ga4:unassigned", BasisUnreadable},
		problem: "referrer: not a URL"},
	{name: "referrer with bad host", url: "/", referrer: "https://<script>/", want: want{ChannelUnassigned, "(not set)", "(not set)", "ga4:unassigned", BasisUnreadable},
		problem: "referrer: unreadable host"},
	// GA4 counts a referrer it cannot parse as absent: Direct when nothing
	// else identifies the session. The Problem stays.
	{name: "garbage referrer strict is direct", url: "/", referrer: "not a referrer at all", strict: true,
		want: want{ChannelDirect, "(direct)", "(none)", "ga4:direct", BasisNone}, problem: "referrer: not a URL"},
	{name: "javascript referrer strict is direct", url: "/", referrer: "javascript:alert(1)", strict: true,
		want: want{ChannelDirect, "(direct)", "(none)", "ga4:direct", BasisNone}, problem: "referrer: not a URL"},
	{name: "file referrer strict is direct", url: "/", referrer: "file:///etc/passwd", strict: true,
		want: want{ChannelDirect, "(direct)", "(none)", "ga4:direct", BasisNone}, problem: "referrer: scheme is neither http(s) nor an app"},
	{name: "referrer with bad host strict is direct", url: "/", referrer: "https://<script>/", strict: true,
		want: want{ChannelDirect, "(direct)", "(none)", "ga4:direct", BasisNone}, problem: "referrer: unreadable host"},
	{name: "unreadable referrer with fbclid strict is direct", url: "?fbclid=IwAR2x", referrer: "javascript:void(0)", strict: true,
		want: want{ChannelDirect, "(direct)", "(none)", "ga4:direct", BasisNone}, problem: "referrer: not a URL"},
	{name: "unreadable referrer with tags follows the tags", url: "?utm_source=bing&utm_medium=cpc", referrer: "javascript:alert(1)",
		want: want{ChannelPaidSearch, "bing", "cpc", "ga4:paid-search", BasisUTM}, problem: "referrer: not a URL"},
	{name: "referrer without scheme", url: "/", referrer: "www.bing.com/search", want: want{ChannelOrganicSearch, "bing", "organic", "ga4:organic-search", BasisSearchEngine}},

	// Decoding
	{name: "plus and percent decoding", url: "?utm_source=Google+Ads&utm_medium=cpc&utm_campaign=Spring%20Sale",
		want: want{ChannelPaidOther, "google ads", "cpc", "ga4:paid-other", BasisUTM}},
	{name: "double encoded medium", url: "?utm_source=newsletter&utm_medium=e%2520mail",
		want: want{ChannelEmail, "newsletter", "e mail", "ga4:email", BasisUTM}},
	{name: "duplicate parameters first wins", url: "?utm_source=bing&utm_source=google&utm_medium=cpc",
		want: want{ChannelPaidSearch, "bing", "cpc", "ga4:paid-search", BasisUTM}},
	{name: "padded values trimmed", url: "?utm_source=%20facebook%20&utm_medium=+paid+",
		want: want{ChannelPaidSocial, "facebook", "paid", "ga4:paid-social", BasisUTM}},
}

func init() {
	for _, name := range []string{
		"msclkid default mode", "yclid default mode", "ttclid default mode", "li_fat_id default mode",
		"twclid default mode", "ScCid mixed case default mode", "epik default mode", "rdt_cid default mode",
		"dclid default mode", "irclickid default", "x.com default mode is social", "de.linkedin.com parent domain default",
		"fbclid without referrer default", "igshid without referrer default", "android facebook app default",
		"gmail webmail default", "gmail android app default", "outlook webmail default", "yahoo mail regional default",
		"garbage referrer", "javascript referrer", "referrer with bad host",
	} {
		defaultModeAdds[name] = true
	}
}

func TestClassify(t *testing.T) {
	classifiers := map[bool]*Classifier{}
	for _, strict := range []bool{false, true} {
		c, err := New(Config{StrictGA4: strict})
		require.NoError(t, err)
		classifiers[strict] = c
	}
	require.GreaterOrEqual(t, len(classifyCases), 60)
	for _, tc := range classifyCases {
		t.Run(tc.name, func(t *testing.T) {
			got := classifiers[tc.strict].Classify(tc.visit())
			assert.Equal(t, tc.want, want{got.Channel, got.Source, got.Medium, got.Rule, got.Basis}, "problems: %v", got.Problems)
			assert.Equal(t, got.Channel.Paid(), got.Paid)
			if tc.problem != "" {
				assert.Condition(t, func() bool {
					for _, p := range got.Problems {
						if strings.Contains(p.String(), tc.problem) {
							return true
						}
					}
					return false
				}, "problems %v, want one like %q", got.Problems, tc.problem)
			}
		})
	}
}

// The two modes must agree wherever the default mode adds nothing.
func TestModesAgreeWhereDefaultAddsNothing(t *testing.T) {
	strict, err := New(Config{StrictGA4: true})
	require.NoError(t, err)
	def, err := New(Config{})
	require.NoError(t, err)
	for _, tc := range classifyCases {
		if defaultModeAdds[tc.name] || tc.strict {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, def.Classify(tc.visit()), strict.Classify(tc.visit()))
		})
	}
	// And every listed departure really departs, or the list is stale.
	for name := range defaultModeAdds {
		for _, tc := range classifyCases {
			if tc.name == name {
				assert.NotEqual(t, def.Classify(tc.visit()).Channel, strict.Classify(tc.visit()).Channel, name)
			}
		}
	}
}

func TestClassifyKeepsTagsAndClickID(t *testing.T) {
	c, err := New(Config{})
	require.NoError(t, err)
	s := c.Classify(Visit{
		URL:      "https://example-plumbing.com/emergency?utm_source=google&utm_medium=cpc&utm_campaign=Burst+Pipes&utm_term=plumber%20near%20me&utm_content=ad-2&gclid=Cj0KCQjw&fbclid=x",
		Referrer: "https://www.google.com/",
	})
	assert.Equal(t, "Burst Pipes", s.Campaign)
	assert.Equal(t, "plumber near me", s.Term)
	assert.Equal(t, "ad-2", s.Content)
	assert.Equal(t, ClickID{Param: "gclid", Value: "Cj0KCQjw", Platform: "Google Ads"}, s.ClickID, "gclid outranks fbclid")
	assert.Equal(t, "www.google.com", s.ReferrerHost)
	assert.True(t, s.Paid)
	assert.Empty(t, s.Problems)
}

func TestOwnDomains(t *testing.T) {
	c, err := New(Config{OwnDomains: []string{"example-plumbing.com", "Booking.Example-Plumbing.NET"}})
	require.NoError(t, err)
	for _, ref := range []string{"https://example-plumbing.com/", "https://shop.example-plumbing.com/", "https://booking.example-plumbing.net/x"} {
		s := c.Classify(Visit{URL: "https://landing.example-plumbing.org/", Referrer: ref})
		assert.Equal(t, BasisSelfReferral, s.Basis, ref)
		assert.Equal(t, ChannelDirect, s.Channel, ref)
	}
	s := c.Classify(Visit{URL: "https://example-plumbing.com/", Referrer: "https://notexample-plumbing.com/"})
	assert.Equal(t, ChannelReferral, s.Channel, "a domain that merely ends with the same letters is not ours")

	_, err = New(Config{OwnDomains: []string{"example.com", "not a domain", ""}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `OwnDomains[1]: "not a domain"`)
	assert.Contains(t, err.Error(), `OwnDomains[2]`)
}

func TestCrawlers(t *testing.T) {
	for ua, want := range map[string]bool{
		"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)":                                          true,
		"Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)":                                           true,
		"Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; AdsBot-Google; +http://www.google.com/adsbot.html)": true,
		"facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)":                                         true,
		"Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)":                                                  true,
		"curl/8.5.0": true,
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36":            false,
		"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile Safari": false,
		"Mozilla/5.0 (Linux; Android 13; CUBOT X30 Build/TP1A) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36":                 false,
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36":              false,
		"": false,
	} {
		assert.Equal(t, want, IsCrawler(ua), ua)
	}
	c, err := New(Config{})
	require.NoError(t, err)
	assert.True(t, c.Classify(Visit{URL: site, UserAgent: "Googlebot/2.1"}).Crawler)
}

// Paid is true for the channels GA4 defines as bought traffic: its Paid
// channels, Cross-network, Display and Audio (ads on audio platforms).
func TestChannelPaid(t *testing.T) {
	paid := map[Channel]bool{
		ChannelCrossNetwork: true, ChannelPaidShopping: true, ChannelPaidSearch: true, ChannelPaidSocial: true,
		ChannelPaidVideo: true, ChannelDisplay: true, ChannelPaidOther: true, ChannelAudio: true,
	}
	for _, r := range ga4Channels {
		assert.Equal(t, paid[r.channel], r.channel.Paid(), r.channel)
	}
	assert.True(t, Channel("Paid Podcasts").Paid(), "a user channel named Paid ...")
	assert.False(t, Channel("Google Business Profile").Paid())
	assert.False(t, Channel("Audio Ads").Paid(), "only GA4's Audio, by its exact name")
}

func TestChannelIsDefault(t *testing.T) {
	assert.True(t, ChannelPaidSearch.IsDefault())
	assert.True(t, ChannelUnassigned.IsDefault())
	assert.False(t, Channel("Google Business Profile").IsDefault())
	assert.False(t, Channel("paid search").IsDefault(), "names are compared exactly")
}
