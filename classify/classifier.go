package classify

import (
	"errors"
	"fmt"
	"strings"
)

// Config configures a Classifier. The zero value is the default mode: GA4's
// channel rules plus the additions call tracking needs.
type Config struct {
	// StrictGA4 reproduces GA4's own classification exactly: only Google's
	// auto-tagging ids act, webmail referrers are referrals, and only GA4's
	// source lists decide the search, social, shopping and video conditions.
	StrictGA4 bool

	// OwnDomains are the site's domains. A referrer on one of them, or on a
	// subdomain, is a self-referral and not a traffic source. The landing
	// URL's host always counts as the site's own.
	OwnDomains []string

	// Rules are tried in order after the default channel is known; the first
	// that matches may override the channel and names the number pool.
	Rules []Rule
}

// Classifier turns visits into traffic sources. It is immutable once built
// and safe for concurrent use.
type Classifier struct {
	strict     bool
	ownDomains []string
	lists      *sourceLists
	rules      *ruleSet
}

// New validates cfg, reporting every problem at once, and builds a Classifier.
func New(cfg Config) (*Classifier, error) {
	lists, err := loadedLists()
	if err != nil {
		return nil, err
	}
	var errs []error
	own := make([]string, 0, len(cfg.OwnDomains))
	for i, d := range cfg.OwnDomains {
		host, ok := hostOf(strings.TrimSpace(d))
		if !ok || strings.IndexByte(host, '.') < 0 {
			errs = append(errs, fmt.Errorf("classify: OwnDomains[%d]: %q is not a domain name", i, d))
			continue
		}
		own = append(own, host)
	}
	compiled, err := compileRules(cfg.Rules)
	if err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &Classifier{strict: cfg.StrictGA4, ownDomains: own, lists: lists, rules: newRuleSet(compiled)}, nil
}

// Classify returns the traffic source of v. It never fails: input it cannot
// read yields the most honest answer (Direct when there is nothing to go on;
// Unassigned when the referrer was unreadable, or Direct as in GA4 in
// StrictGA4 mode) with the reasons listed in Source.Problems.
func (c *Classifier) Classify(v Visit) Source {
	var s Source
	land := scanLanding(v.URL, c.rules.params, &s.Problems)
	ref, refOK := scanReferrer(v.Referrer, &s.Problems)
	s.ReferrerHost = ref.host
	s.Campaign, s.Term, s.Content = land.utm[utmCampaign], land.utm[utmTerm], land.utm[utmContent]
	if land.click != nil {
		s.ClickID = ClickID{Param: land.click.param, Value: land.clickValue, Platform: land.click.platform}
	}
	s.Crawler = IsCrawler(v.UserAgent)

	tagged := land.utm[utmSource] != "" || land.utm[utmMedium] != ""
	switch {
	case land.click != nil && land.click.googleAutoTag:
		// GA4 lets auto-tagging win over manual tags.
		s.Source, s.Medium, s.Basis = "google", "cpc", BasisGoogleAutoTag
	case tagged:
		s.Source = orNotSet(strings.ToLower(land.utm[utmSource]))
		s.Medium = orNotSet(strings.ToLower(land.utm[utmMedium]))
		s.Basis = BasisUTM
	case !c.strict && land.click != nil && land.click.adOnly:
		s.Source, s.Medium, s.Basis = land.click.source, land.click.medium, BasisClickID
	case !refOK && !c.strict:
		s.Source, s.Medium, s.Basis = "(not set)", "(not set)", BasisUnreadable
	default:
		// In StrictGA4 mode an unreadable referrer counts as none, as in
		// GA4: scanReferrer returned no host, and the Problem stays.
		c.fromReferrer(&s, ref, land)
	}

	f := facts{source: s.Source, medium: s.Medium, campaign: strings.ToLower(s.Campaign)}
	f.category = c.lists.category(f.source, !c.strict)
	def := defaultChannel(&f)
	s.Channel, s.Rule = def.channel, def.name

	if r := c.rules.first(c.valueOf(&s, &land)); r != nil {
		s.Rule = r.label
		if r.rule.Channel != "" {
			s.Channel = r.rule.Channel
		}
		s.Pool = r.rule.Pool
	}
	s.Paid = s.Channel.Paid()
	return s
}

// fromReferrer sets source and medium for a visit without tags.
func (c *Classifier) fromReferrer(s *Source, ref referrer, land landing) {
	host := ref.host
	switch {
	case host == "":
		if !c.strict && land.metaParam != "" {
			// Meta adds fbclid and igshid to organic links too: social, never paid.
			s.Source, s.Medium, s.Basis = metaSource(land.metaParam), "social", BasisSocial
			return
		}
		s.Source, s.Medium, s.Basis = "(direct)", "(none)", BasisNone
	case c.isOwn(host, land.host):
		s.Source, s.Medium, s.Basis = "(direct)", "(none)", BasisSelfReferral
	case !c.strict && c.lists.isWebmail(host):
		s.Source, s.Medium, s.Basis = sourceHost(host), "email", BasisWebmail
	default:
		if engine, ok := c.lists.searchEngine(host); ok {
			s.Source, s.Medium, s.Basis = engine, "organic", BasisSearchEngine
			return
		}
		s.Source, s.Medium, s.Basis = sourceHost(host), "referral", BasisReferrer
		switch {
		case c.lists.category(s.Source, !c.strict) == categorySocial:
			s.Basis = BasisSocial
		case c.lists.isAIAssistant(host):
			s.Basis = BasisAIAssistant
		}
	}
}

// sourceHost names a referring host as a source, without "www.".
func sourceHost(host string) string {
	if s := strings.TrimPrefix(host, "www."); s != "" {
		return s
	}
	return host
}

func metaSource(param string) string {
	if param == "igshid" {
		return "instagram"
	}
	return "facebook"
}

// isOwn reports whether a referrer host is the site itself: the landing
// host or a subdomain of it ("www." aside), or one of the own domains.
func (c *Classifier) isOwn(host, landingHost string) bool {
	if landingHost != "" && isSameOrSubdomain(strings.TrimPrefix(host, "www."), strings.TrimPrefix(landingHost, "www.")) {
		return true
	}
	for _, d := range c.ownDomains {
		if isSameOrSubdomain(host, d) {
			return true
		}
	}
	return false
}

func isSameOrSubdomain(host, domain string) bool {
	return host == domain || strings.HasSuffix(host, domain) && host[len(host)-len(domain)-1] == '.'
}

func orNotSet(s string) string {
	if s == "" {
		return "(not set)"
	}
	return s
}

// valueOf returns what user rule conditions see for this visit.
func (c *Classifier) valueOf(s *Source, land *landing) fieldValue {
	return func(f Field, param string) string {
		switch f {
		case FieldSource:
			return s.Source
		case FieldMedium:
			return s.Medium
		case FieldCampaign:
			return s.Campaign
		case FieldTerm:
			return s.Term
		case FieldContent:
			return s.Content
		case FieldChannel:
			return string(s.Channel)
		case FieldReferrerHost:
			return s.ReferrerHost
		case FieldLandingPath:
			return land.path
		case FieldClickPlatform:
			return s.ClickID.Platform
		case FieldQuery:
			for _, p := range land.params {
				if p.name == param {
					return p.value
				}
			}
		}
		return ""
	}
}
