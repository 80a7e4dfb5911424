package classify

import (
	"net/url"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// The landing URL and referrer are read by a small lenient scanner rather
// than net/url: classification needs only the host, the path and a handful
// of query parameters, must never fail on hostile input, and runs on every
// visit. Values are substrings of the input unless they need decoding.

// maxValueLen caps a tagged value: a 64 KB utm_campaign is an attack or a
// bug, never a campaign name.
const maxValueLen = 512

// utm fields, in the order of utmNames.
const (
	utmSource = iota
	utmMedium
	utmCampaign
	utmTerm
	utmContent
	utmID
	utmCount
)

var utmNames = [utmCount]string{"utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "utm_id"}

// landing is what classification reads from a landing URL.
type landing struct {
	host       string
	path       string
	utm        [utmCount]string
	click      *clickIDKind // the highest-priority click id found, nil if none
	clickValue string
	metaParam  string  // "fbclid" or "igshid" when present: Meta's ids, on organic links too
	params     []param // only the parameters user rules ask about
}

type param struct{ name, value string }

// scanLanding reads u. wanted lists the extra query parameters user rules
// look at (lower case); problems found are appended to *problems.
func scanLanding(u string, wanted map[string]bool, problems *[]Problem) landing {
	var l landing
	rest := strings.TrimSpace(u)
	if frag := strings.IndexByte(rest, '#'); frag >= 0 {
		rest = rest[:frag]
	}
	query := ""
	if q := strings.IndexByte(rest, '?'); q >= 0 {
		rest, query = rest[:q], rest[q+1:]
	}
	if i := strings.Index(rest, "://"); i >= 0 {
		rest = rest[i+3:]
		slash := strings.IndexByte(rest, '/')
		if slash < 0 {
			slash = len(rest)
		}
		host, ok := hostOf(rest[:slash])
		if !ok {
			*problems = append(*problems, Problem{"url", "unreadable host"})
		}
		l.host, rest = host, rest[slash:]
	} else if rest != "" && !strings.HasPrefix(rest, "/") {
		*problems = append(*problems, Problem{"url", "not an absolute URL or path"})
	}
	l.path = rest
	if l.path == "" {
		l.path = "/"
	}

	seen := [utmCount]bool{}
	for query != "" {
		var pair string
		if amp := strings.IndexByte(query, '&'); amp >= 0 {
			pair, query = query[:amp], query[amp+1:]
		} else {
			pair, query = query, ""
		}
		name, value, _ := strings.Cut(pair, "=")
		if name == "" {
			continue
		}
		name = strings.ToLower(decodeName(name))
		if i := utmIndex(name); i >= 0 {
			if !seen[i] { // duplicates: the first value wins
				seen[i] = true
				l.utm[i] = cleanValue(name, value, problems)
			}
			continue
		}
		if k := clickIDKinds[name]; k != nil {
			if (name == "fbclid" || name == "igshid") && l.metaParam == "" {
				l.metaParam = name
			}
			if l.click == nil || k.priority < l.click.priority {
				l.click, l.clickValue = k, cleanValue(name, value, problems)
			}
			continue
		}
		if wanted[name] && !hasParam(l.params, name) {
			l.params = append(l.params, param{name, cleanValue(name, value, problems)})
		}
	}
	return l
}

func utmIndex(name string) int {
	if !strings.HasPrefix(name, "utm_") {
		return -1
	}
	for i, n := range utmNames {
		if n == name {
			return i
		}
	}
	return -1
}

func hasParam(ps []param, name string) bool {
	for _, p := range ps {
		if p.name == name {
			return true
		}
	}
	return false
}

func decodeName(name string) string {
	if isEncoded(name) {
		if d, err := url.QueryUnescape(name); err == nil {
			return d
		}
	}
	return name
}

// cleanValue decodes a query value (form encoding; a second round when the
// value was encoded twice, as redirect chains do), repairs invalid UTF-8,
// drops control characters, trims space and caps the length. Each repair is
// reported as a problem naming the parameter.
func cleanValue(name, raw string, problems *[]Problem) string {
	v := raw
	if isEncoded(v) {
		d, err := url.QueryUnescape(v)
		if err != nil {
			*problems = append(*problems, Problem{"url: " + name, "invalid percent-encoding; kept as sent"})
		} else {
			v = d
			if strings.Contains(raw, "%25") && hasEscape(v) {
				if d2, err := url.QueryUnescape(v); err == nil {
					v = d2
				}
			}
		}
	}
	if !utf8.ValidString(v) {
		*problems = append(*problems, Problem{"url: " + name, "invalid UTF-8 replaced"})
		v = strings.ToValidUTF8(v, "\uFFFD")
	}
	if hasControl(v) {
		*problems = append(*problems, Problem{"url: " + name, "control characters removed"})
		v = strings.Map(func(r rune) rune {
			if isControl(r) {
				return -1
			}
			return r
		}, v)
	}
	v = strings.TrimSpace(v)
	if len(v) > maxValueLen {
		*problems = append(*problems, Problem{"url: " + name, "longer than 512 bytes; truncated"})
		cut := maxValueLen
		for cut > 0 && !utf8.RuneStart(v[cut]) {
			cut--
		}
		v = v[:cut]
	}
	return v
}

// isEncoded reports whether a query component holds '%' or '+'.
func isEncoded(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '%' || s[i] == '+' {
			return true
		}
	}
	return false
}

// hasControl reports whether valid UTF-8 s holds a C0 or C1 control
// character or DEL, reading bytes: C1 controls are encoded as 0xC2 0x80–0x9F.
func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c == 0xc2 && i+1 < len(s) && s[i+1] < 0xa0 {
			return true
		}
	}
	return false
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }

// hasEscape reports whether s still holds a %XX escape.
func hasEscape(s string) bool {
	for i := strings.IndexByte(s, '%'); i >= 0 && i+2 < len(s); {
		if isHex(s[i+1]) && isHex(s[i+2]) {
			return true
		}
		next := strings.IndexByte(s[i+1:], '%')
		if next < 0 {
			return false
		}
		i += next + 1
	}
	return false
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// referrer is what classification reads from document.referrer.
type referrer struct {
	host string // lower case, no port; an app's package name for android-app://
	app  bool   // an android-app:// or ios-app:// referrer
}

// scanReferrer reads a referrer. ok is false when there is a referrer but no
// host could be read from it.
func scanReferrer(ref string, problems *[]Problem) (r referrer, ok bool) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return r, true
	}
	scheme, rest, found := strings.Cut(ref, "://")
	if !found {
		// Some clients send a bare host; read it if it looks like one.
		if host, ok := hostOf(cutAtAny(ref, "/?#")); ok && strings.IndexByte(host, '.') > 0 {
			*problems = append(*problems, Problem{"referrer", "no scheme; read as a host"})
			return referrer{host: host}, true
		}
		*problems = append(*problems, Problem{"referrer", "not a URL"})
		return r, false
	}
	switch strings.ToLower(scheme) {
	case "http", "https":
	case "android-app", "ios-app":
		r.app = true
	default:
		*problems = append(*problems, Problem{"referrer", "scheme is neither http(s) nor an app"})
		return r, false
	}
	host, hostOK := hostOf(cutAtAny(rest, "/?#"))
	if !hostOK || host == "" {
		*problems = append(*problems, Problem{"referrer", "unreadable host"})
		return r, false
	}
	r.host = host
	return r, true
}

func cutAtAny(s, chars string) string {
	if i := strings.IndexAny(s, chars); i >= 0 {
		return s[:i]
	}
	return s
}

// hostOf extracts the lower-case host of a URL authority (dropping user
// information and port) and reports whether it is made of host characters.
func hostOf(authority string) (string, bool) {
	if at := strings.LastIndexByte(authority, '@'); at >= 0 {
		authority = authority[at+1:]
	}
	host := authority
	if strings.HasPrefix(host, "[") { // IPv6 literal
		end := strings.IndexByte(host, ']')
		if end < 0 {
			return "", false
		}
		host = host[1:end]
		for i := 0; i < len(host); i++ {
			if c := host[i]; !(isHex(c) || c == ':' || c == '.') {
				return "", false
			}
		}
		return strings.ToLower(host), host != ""
	}
	if colon := strings.LastIndexByte(host, ':'); colon >= 0 {
		host = host[:colon]
	}
	host = strings.TrimRight(host, ".")
	if host == "" || host[0] == '.' || strings.Contains(host, "..") {
		return "", false
	}
	for i := 0; i < len(host); i++ {
		c := host[i]
		if c >= utf8.RuneSelf {
			return unicodeHost(host)
		}
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_') {
			return "", false
		}
	}
	return strings.ToLower(host), true
}

// unicodeHost reads a host written in Unicode (an internationalised domain
// name as a person types it, "bücher.de") as its ASCII form
// ("xn--bcher-kva.de"), which is how browsers send it and how the lists
// name it.
func unicodeHost(host string) (string, bool) {
	if !utf8.ValidString(host) {
		return "", false
	}
	ascii, err := idna.Lookup.ToASCII(host)
	if err != nil || ascii == "" {
		return "", false
	}
	return ascii, true
}
