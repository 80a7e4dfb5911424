package report

import (
	"fmt"
	"net/url"

	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/journey/attribution"
)

// Dimension is what a sources report groups by.
type Dimension string

// The dimensions of a sources report.
const (
	// DimChannel groups by the default channel group ("Paid Search").
	DimChannel Dimension = "channel"
	// DimSourceMedium groups by "source / medium" ("google / cpc").
	DimSourceMedium Dimension = "source_medium"
	// DimCampaign groups by the tagged campaign.
	DimCampaign Dimension = "campaign"
	// DimKeyword groups by the search keyword: the source's Term, which is
	// utm_term, where ad platforms put the keyword (see the package doc).
	DimKeyword Dimension = "keyword"
	// DimLandingPage groups by the path of the session's landing page, read
	// from the touchpoint's [AttrLandingPage].
	DimLandingPage Dimension = "landing_page"
)

// Dimensions lists every dimension, coarsest first.
func Dimensions() []Dimension {
	return []Dimension{DimChannel, DimSourceMedium, DimCampaign, DimKeyword, DimLandingPage}
}

// AttrLandingPage is the touchpoint attribute holding the path of the
// landing page of the touchpoint's session ([LandingPath]).
const AttrLandingPage = "landing_page"

// ParseDimension reads a dimension by its name; empty means [DimChannel].
func ParseDimension(s string) (Dimension, error) {
	if s == "" {
		return DimChannel, nil
	}
	for _, d := range Dimensions() {
		if string(d) == s {
			return d, nil
		}
	}
	return "", fmt.Errorf("dim: %q is not one of channel, source_medium, campaign, keyword, landing_page", s)
}

// Key is the attribution key function of the dimension, so a comparison
// made with it credits the same keys [BySource] reports. An unknown
// dimension keys by channel.
func (d Dimension) Key() attribution.KeyFunc {
	switch d {
	case DimSourceMedium:
		return attribution.BySourceMedium
	case DimCampaign:
		return attribution.ByCampaign
	case DimKeyword:
		return func(t journey.Touchpoint) string { return t.Source.Term }
	case DimLandingPage:
		return func(t journey.Touchpoint) string { return t.Attrs[AttrLandingPage] }
	}
	return attribution.ByChannel
}

// key is the row a touchpoint belongs to, empty keys under
// [attribution.UnknownKey] as the models report them.
func (d Dimension) key(t journey.Touchpoint) string {
	if k := d.Key()(t); k != "" {
		return k
	}
	return attribution.UnknownKey
}

// spendKey is the row a spend row belongs to; ok is false for the
// dimensions spend is not reported by.
func (d Dimension) spendKey(s journey.Spend) (key string, ok bool) {
	var k string
	switch d {
	case DimChannel:
		k = s.Channel
	case DimSourceMedium:
		k = s.Source + " / " + s.Medium
	case DimCampaign:
		k = s.Campaign
	default:
		return "", false
	}
	if k == "" {
		k = attribution.UnknownKey
	}
	return k, true
}

// LandingPath is the path of a landing URL, without its query (which holds
// click ids and tags, one per visit) and fragment: "/pricing". A URL that
// does not parse, or has no path, is "/".
func LandingPath(landingURL string) string {
	u, err := url.Parse(landingURL)
	if err != nil || u.Path == "" {
		return "/"
	}
	return u.Path
}
