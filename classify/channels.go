package classify

import "strings"

// facts are the lower-case inputs of GA4's channel conditions.
type facts struct {
	source, medium, campaign string
	category                 category // of source, on the source lists
}

// channelRule is one of GA4's default channel group definitions.
type channelRule struct {
	name    string // "ga4:paid-search"
	channel Channel
	match   func(f *facts) bool
}

// ga4Channels are GA4's default channel groups in GA4's evaluation order, with
// the conditions Google publishes (Analytics Help, "[GA4] Default channel
// group"); the first that matches wins.
var ga4Channels = []channelRule{
	{"ga4:direct", ChannelDirect, func(f *facts) bool {
		return f.source == "(direct)" && (f.medium == "(not set)" || f.medium == "(none)")
	}},
	{"ga4:cross-network", ChannelCrossNetwork, func(f *facts) bool {
		return strings.Contains(f.campaign, "cross-network")
	}},
	{"ga4:paid-shopping", ChannelPaidShopping, func(f *facts) bool {
		return (f.category == categoryShopping || shoppingCampaign(f.campaign)) && paidMedium(f.medium)
	}},
	{"ga4:paid-search", ChannelPaidSearch, func(f *facts) bool {
		return f.category == categorySearch && paidMedium(f.medium)
	}},
	{"ga4:paid-social", ChannelPaidSocial, func(f *facts) bool {
		return f.category == categorySocial && paidMedium(f.medium)
	}},
	{"ga4:paid-video", ChannelPaidVideo, func(f *facts) bool {
		return f.category == categoryVideo && paidMedium(f.medium)
	}},
	{"ga4:display", ChannelDisplay, func(f *facts) bool {
		return oneOf(f.medium, "display", "banner", "expandable", "interstitial", "cpm")
	}},
	{"ga4:paid-other", ChannelPaidOther, func(f *facts) bool {
		return paidMedium(f.medium)
	}},
	{"ga4:organic-shopping", ChannelOrganicShopping, func(f *facts) bool {
		return f.category == categoryShopping || shoppingCampaign(f.campaign)
	}},
	{"ga4:organic-social", ChannelOrganicSocial, func(f *facts) bool {
		return f.category == categorySocial ||
			oneOf(f.medium, "social", "social-network", "social-media", "sm", "social network", "social media")
	}},
	{"ga4:organic-video", ChannelOrganicVideo, func(f *facts) bool {
		return f.category == categoryVideo || strings.Contains(f.medium, "video")
	}},
	{"ga4:organic-search", ChannelOrganicSearch, func(f *facts) bool {
		return f.category == categorySearch || f.medium == "organic"
	}},
	{"ga4:referral", ChannelReferral, func(f *facts) bool {
		return oneOf(f.medium, "referral", "app", "link")
	}},
	{"ga4:email", ChannelEmail, func(f *facts) bool {
		return isEmailWord(f.source) || isEmailWord(f.medium)
	}},
	{"ga4:affiliates", ChannelAffiliates, func(f *facts) bool {
		return f.medium == "affiliate"
	}},
	{"ga4:audio", ChannelAudio, func(f *facts) bool {
		return f.medium == "audio"
	}},
	{"ga4:sms", ChannelSMS, func(f *facts) bool {
		return f.source == "sms" || f.medium == "sms"
	}},
	{"ga4:mobile-push", ChannelMobilePush, func(f *facts) bool {
		return strings.HasSuffix(f.medium, "push") || strings.Contains(f.medium, "mobile") ||
			strings.Contains(f.medium, "notification") || f.source == "firebase"
	}},
	{"ga4:unassigned", ChannelUnassigned, func(*facts) bool { return true }},
}

// defaultChannel applies GA4's rules to f.
func defaultChannel(f *facts) *channelRule {
	for i := range ga4Channels {
		if ga4Channels[i].match(f) {
			return &ga4Channels[i]
		}
	}
	return &ga4Channels[len(ga4Channels)-1] // not reached: Unassigned matches everything
}

// paidMedium is GA4's ^(.*cp.*|ppc|retargeting|paid.*)$.
func paidMedium(m string) bool {
	return strings.Contains(m, "cp") || m == "ppc" || m == "retargeting" || strings.HasPrefix(m, "paid")
}

// shoppingCampaign is GA4's ^(.*(([^a-df-z]|^)shop|shopping).*)$: "shopping"
// anywhere, or "shop" at the start or after a character other than a–d, f–z
// (so "eshop" and "summer-shop" count, "workshop" does not).
func shoppingCampaign(c string) bool {
	if strings.Contains(c, "shopping") {
		return true
	}
	for i := strings.Index(c, "shop"); i >= 0; {
		if i == 0 {
			return true
		}
		if p := c[i-1]; !(p >= 'a' && p <= 'd' || p >= 'f' && p <= 'z') {
			return true
		}
		next := strings.Index(c[i+1:], "shop")
		if next < 0 {
			return false
		}
		i += next + 1
	}
	return false
}

func isEmailWord(s string) bool { return oneOf(s, "email", "e-mail", "e_mail", "e mail") }

func oneOf(s string, options ...string) bool {
	for _, o := range options {
		if s == o {
			return true
		}
	}
	return false
}

// IsDefault reports whether c is one of GA4's default channel groups
// rather than a channel named by a user rule.
func (c Channel) IsDefault() bool {
	for i := range ga4Channels {
		if ga4Channels[i].channel == c {
			return true
		}
	}
	return false
}
