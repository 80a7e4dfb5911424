package classify

import (
	"bytes"
	"embed"
	"encoding/csv"
	"fmt"
	"strings"
	"sync"
	"unicode"

	"go.yaml.in/yaml/v3"
)

//go:embed data/ga4_source_categories.csv data/matomo-SearchEngines.yml data/matomo-Socials.yml data/matomo-AIAssistants.yml
var dataFiles embed.FS

// category is a GA4 source category.
type category uint8

const (
	categoryNone category = iota
	categorySearch
	categorySocial
	categoryShopping
	categoryVideo
)

// sourceLists holds every host and source list, each as a map so that a
// lookup costs the same with ten entries or ten thousand.
type sourceLists struct {
	ga4 map[string]category // GA4's list: exact source name → category

	// Search engines from Matomo's list: exact hosts, "name.{}" patterns keyed
	// by "name", and "{}.name" patterns keyed by "name".
	engineHosts  map[string]string
	engineByBase map[string]string
	engineBySub  map[string]string

	extraSocial map[string]struct{} // default mode: Matomo socials and app packages
	aiAssistant map[string]struct{}
	webmail     map[string]struct{} // default mode
}

// loadedLists parses the embedded files once, on first use; the result is
// never modified afterwards, so it is safe to share.
var loadedLists = sync.OnceValues(loadLists)

func loadLists() (*sourceLists, error) {
	l := &sourceLists{
		ga4:          make(map[string]category, 1024),
		engineHosts:  make(map[string]string, 1024),
		engineByBase: make(map[string]string, 64),
		engineBySub:  make(map[string]string, 16),
		extraSocial:  make(map[string]struct{}, 512),
		aiAssistant:  make(map[string]struct{}, 64),
		webmail:      make(map[string]struct{}, len(webmailHosts)),
	}
	if err := l.loadGA4(); err != nil {
		return nil, err
	}
	socials, err := readHostLists("data/matomo-Socials.yml")
	if err != nil {
		return nil, err
	}
	for _, hosts := range socials {
		for _, h := range hosts {
			l.extraSocial[strings.ToLower(h)] = struct{}{}
		}
	}
	for _, h := range socialAppPackages {
		l.extraSocial[h] = struct{}{}
	}
	ais, err := readHostLists("data/matomo-AIAssistants.yml")
	if err != nil {
		return nil, err
	}
	for _, hosts := range ais {
		for _, h := range hosts {
			l.aiAssistant[strings.ToLower(h)] = struct{}{}
		}
	}
	for _, h := range webmailHosts {
		l.webmail[h] = struct{}{}
	}
	if err := l.loadEngines(); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *sourceLists) loadGA4() error {
	raw, err := dataFiles.ReadFile("data/ga4_source_categories.csv")
	if err != nil {
		return err
	}
	rows, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
	if err != nil {
		return fmt.Errorf("classify: ga4_source_categories.csv: %w", err)
	}
	for i, row := range rows[1:] {
		var c category
		switch row[1] {
		case "SOURCE_CATEGORY_SEARCH":
			c = categorySearch
		case "SOURCE_CATEGORY_SOCIAL":
			c = categorySocial
		case "SOURCE_CATEGORY_SHOPPING":
			c = categoryShopping
		case "SOURCE_CATEGORY_VIDEO":
			c = categoryVideo
		default:
			return fmt.Errorf("classify: ga4_source_categories.csv line %d: unknown category %q", i+2, row[1])
		}
		l.ga4[strings.ToLower(row[0])] = c
	}
	return nil
}

// readHostLists reads Matomo's "Name: [host, …]" files.
func readHostLists(name string) (map[string][]string, error) {
	raw, err := dataFiles.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var lists map[string][]string
	if err := yaml.Unmarshal(raw, &lists); err != nil {
		return nil, fmt.Errorf("classify: %s: %w", name, err)
	}
	return lists, nil
}

// notSearchEngines are entries of Matomo's search-engine list that GA4 and
// everyone else treat as social or AI referrers; Matomo only counts them as
// search when a query parameter is present, which a referrer host cannot show.
var notSearchEngines = map[string]bool{
	"Facebook": true, "ChatGPT": true, "Perplexity": true, "Digg": true, "MySpace": true,
	"FriendFeed": true, "Mister Wong": true, "Technorati": true,
}

func (l *sourceLists) loadEngines() error {
	raw, err := dataFiles.ReadFile("data/matomo-SearchEngines.yml")
	if err != nil {
		return err
	}
	var engines map[string][]struct {
		URLs []string `yaml:"urls"`
	}
	if err := yaml.Unmarshal(raw, &engines); err != nil {
		return fmt.Errorf("classify: matomo-SearchEngines.yml: %w", err)
	}
	for name, variants := range engines {
		if notSearchEngines[name] {
			continue
		}
		source := engineSourceName(name)
		for _, v := range variants {
			for _, pattern := range v.URLs {
				l.addEnginePattern(strings.ToLower(pattern), source)
			}
		}
	}
	return nil
}

func (l *sourceLists) addEnginePattern(pattern, source string) {
	switch {
	case strings.ContainsRune(pattern, '/'):
		// Path-qualified entries (google.com/products) cannot be told apart by host.
	case strings.HasSuffix(pattern, ".{}"):
		l.engineByBase[strings.TrimSuffix(pattern, ".{}")] = source
	case strings.HasPrefix(pattern, "{}."):
		l.engineBySub[strings.TrimPrefix(pattern, "{}.")] = source
	case strings.Contains(pattern, "{}"):
		// No other wildcard shape is used by the list.
	default:
		if _, taken := l.engineHosts[pattern]; !taken {
			l.engineHosts[pattern] = source
		}
	}
}

// engineSourceName turns Matomo's display name into a GA4-style source:
// "Google Images" → "google", "Yahoo! Japan" → "yahoo", "DuckDuckGo" → "duckduckgo".
func engineSourceName(name string) string {
	keep := func(s string) string {
		return strings.Map(func(r rune) rune {
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				return unicode.ToLower(r)
			}
			return -1
		}, s)
	}
	if first := keep(strings.Fields(name)[0]); len(first) >= 3 {
		return first
	}
	return keep(name)
}

// searchEngine returns the source name of the search engine at host.
func (l *sourceLists) searchEngine(host string) (string, bool) {
	for _, h := range [2]string{host, strings.TrimPrefix(host, "www.")} {
		if s, ok := l.engineHosts[h]; ok {
			return s, true
		}
		// name.{}: the last label, or a two-label country suffix such as co.uk.
		if dot := strings.LastIndexByte(h, '.'); dot > 0 {
			if s, ok := l.engineByBase[h[:dot]]; ok {
				return s, true
			}
			if dot2 := strings.LastIndexByte(h[:dot], '.'); dot2 > 0 && secondLevel[h[dot2+1:dot]] && len(h)-dot == 3 {
				if s, ok := l.engineByBase[h[:dot2]]; ok {
					return s, true
				}
			}
		}
		// {}.name: any one label in front.
		if dot := strings.IndexByte(h, '.'); dot > 0 {
			if s, ok := l.engineBySub[h[dot+1:]]; ok {
				return s, true
			}
		}
		if !strings.HasPrefix(host, "www.") {
			break
		}
	}
	return "", false
}

// secondLevel are the labels used under country domains (google.co.uk,
// google.com.au, yahoo.co.jp): only these may stand between "name." and a
// two-letter country code, so google.evil.com does not pass for Google.
var secondLevel = map[string]bool{
	"co": true, "com": true, "ne": true, "net": true, "or": true, "org": true,
	"ac": true, "edu": true, "gov": true, "gob": true, "go": true,
}

// category returns the GA4 category of a source. In the default mode a
// source not on GA4's list is also looked up on the extra social list, and
// its parent domains are tried for social networks only
// (business.facebook.com → facebook.com): a parent on another list says
// nothing about its subdomains (mail.yahoo.com is not Yahoo search).
func (l *sourceLists) category(source string, extended bool) category {
	if c, ok := l.ga4[source]; ok || !extended {
		return c
	}
	for s := source; ; {
		if l.ga4[s] == categorySocial {
			return categorySocial
		}
		if _, ok := l.extraSocial[s]; ok {
			return categorySocial
		}
		dot := strings.IndexByte(s, '.')
		if dot < 0 || strings.IndexByte(s[dot+1:], '.') < 0 {
			return categoryNone // stop at the registrable domain: never match a bare "com"
		}
		s = s[dot+1:]
	}
}

func (l *sourceLists) isWebmail(host string) bool {
	if _, ok := l.webmail[host]; ok {
		return true
	}
	return strings.HasPrefix(host, "webmail.") || strings.HasSuffix(host, ".mail.yahoo.com")
}

func (l *sourceLists) isAIAssistant(host string) bool {
	_, ok := l.aiAssistant[strings.TrimPrefix(host, "www.")]
	return ok
}

// webmailHosts are web and app mail clients. GA4 reports them as referrals;
// the default mode counts them as Email, since a click from a mailbox is
// email traffic whether or not the sender tagged it.
var webmailHosts = []string{
	"mail.google.com", "inbox.google.com", "com.google.android.gm",
	"outlook.live.com", "outlook.office.com", "outlook.office365.com", "com.microsoft.office.outlook",
	"mail.yahoo.com", "mail.yahoo.co.jp", "com.yahoo.mobile.client.android.mail",
	"mail.aol.com", "mail.proton.me", "mail.protonmail.com", "ch.protonmail.android",
	"mail.zoho.com", "mail.zoho.eu", "mail.yandex.ru", "mail.yandex.com", "mail.rambler.ru",
	"e.mail.ru", "email.seznam.cz", "mail.gmx.net", "navigator.gmx.net", "web.de", "app.fastmail.com",
	"www.icloud.com", "icloud.com",
}

// socialAppPackages are Android app referrers (android-app://PACKAGE) of
// social networks, which neither GA4's nor Matomo's list covers.
var socialAppPackages = []string{
	"com.facebook.katana", "com.facebook.lite", "com.facebook.orca", "com.instagram.android",
	"com.twitter.android", "com.linkedin.android", "com.zhiliaoapp.musically", "com.ss.android.ugc.trill",
	"com.pinterest", "com.snapchat.android", "org.telegram.messenger", "com.reddit.frontpage",
}
