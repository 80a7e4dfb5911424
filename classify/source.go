package classify

import (
	"strings"
	"time"
)

// Visit is what the tracker knows about a page view that starts a session.
type Visit struct {
	URL       string    // landing page URL, with its query string
	Referrer  string    // document.referrer, possibly empty
	UserAgent string    // the browser's User-Agent header
	Time      time.Time // when the visit happened; informational
}

// Channel is a default channel group, named as GA4 names it, or a channel
// named by a user rule.
type Channel string

// GA4's default channel groups, in the order GA4 evaluates them.
const (
	ChannelDirect          Channel = "Direct"
	ChannelCrossNetwork    Channel = "Cross-network"
	ChannelPaidShopping    Channel = "Paid Shopping"
	ChannelPaidSearch      Channel = "Paid Search"
	ChannelPaidSocial      Channel = "Paid Social"
	ChannelPaidVideo       Channel = "Paid Video"
	ChannelDisplay         Channel = "Display"
	ChannelPaidOther       Channel = "Paid Other"
	ChannelOrganicShopping Channel = "Organic Shopping"
	ChannelOrganicSocial   Channel = "Organic Social"
	ChannelOrganicVideo    Channel = "Organic Video"
	ChannelOrganicSearch   Channel = "Organic Search"
	ChannelReferral        Channel = "Referral"
	ChannelEmail           Channel = "Email"
	ChannelAffiliates      Channel = "Affiliates"
	ChannelAudio           Channel = "Audio"
	ChannelSMS             Channel = "SMS"
	ChannelMobilePush      Channel = "Mobile Push Notifications"
	ChannelUnassigned      Channel = "Unassigned"
)

// Paid reports whether traffic of this channel is bought: the paid default
// channels, Cross-network, Display and Audio (in GA4, ads on audio
// platforms). Channels named by user rules are organic unless their name
// starts with "Paid ".
func (c Channel) Paid() bool {
	switch c {
	case ChannelCrossNetwork, ChannelPaidShopping, ChannelPaidSearch, ChannelPaidSocial,
		ChannelPaidVideo, ChannelDisplay, ChannelPaidOther, ChannelAudio:
		return true
	}
	return strings.HasPrefix(string(c), "Paid ")
}

// Basis says where a Source's source and medium came from.
type Basis string

const (
	BasisUTM           Basis = "utm"            // utm_source / utm_medium on the landing URL
	BasisGoogleAutoTag Basis = "google-autotag" // gclid, gbraid or wbraid: google / cpc, winning over UTMs as in GA4
	BasisClickID       Basis = "click-id"       // default mode: an ad platform's click id without UTMs
	BasisSearchEngine  Basis = "referrer-search"
	BasisSocial        Basis = "social" // a referrer on a social list, or fbclid/igshid with no referrer
	BasisWebmail       Basis = "referrer-webmail"
	BasisAIAssistant   Basis = "referrer-ai-assistant"
	BasisReferrer      Basis = "referrer"
	BasisSelfReferral  Basis = "self-referral" // the site's own domain: not a referral
	BasisNone          Basis = "none"          // no referrer, no tags: direct
	BasisUnreadable    Basis = "unreadable"    // default mode: a referrer we could not read (StrictGA4 reads it as none)
)

// ClickID is an ad platform's click identifier found on the landing URL.
type ClickID struct {
	Param    string `json:"param"` // the query parameter, e.g. "gclid"
	Value    string `json:"value"`
	Platform string `json:"platform"` // e.g. "Google Ads", "Microsoft Ads"
}

// Problem is something wrong with a visit's input that classification worked
// around. Problems never fail a classification; they explain it.
type Problem struct {
	Field  string `json:"field"` // "url", "referrer", or "url: utm_source" for one parameter
	Reason string `json:"reason"`
}

func (p Problem) String() string { return p.Field + ": " + p.Reason }

// Source is the traffic source of a visit.
type Source struct {
	Channel  Channel `json:"channel"`
	Source   string  `json:"source"`             // lower case: "google", "facebook.com", "(direct)"
	Medium   string  `json:"medium"`             // lower case: "cpc", "organic", "referral", "(none)"
	Campaign string  `json:"campaign,omitempty"` // as tagged, trimmed
	Term     string  `json:"term,omitempty"`
	Content  string  `json:"content,omitempty"`
	ClickID  ClickID `json:"click_id,omitzero"` // the most specific click id found; zero if none
	Paid     bool    `json:"paid"`

	ReferrerHost string `json:"referrer_host,omitempty"` // lower case, without port; empty when none
	Basis        Basis  `json:"basis"`                   // where Source and Medium came from
	Rule         string `json:"rule"`                    // the user rule that matched ("user:2:gbp"), else GA4's channel rule ("ga4:paid-search")
	Pool         string `json:"pool,omitempty"`          // the number pool a user rule asked for; empty for the default
	Crawler      bool   `json:"crawler,omitempty"`       // the user agent is a known crawler: show it the real numbers

	Problems []Problem `json:"problems,omitempty"` // what was wrong with the input, if anything
}
