package tracker

//go:generate go run ./internal/gen

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/net/publicsuffix"
)

// minified is js/core.js with every module of js/, minified by the
// generator (internal/gen, which alone links esbuild), with configPlaceholder
// where the configuration goes.
//
//go:embed tracker.min.js
var minified string

// chatMinified is js/lazy/chat.js, minified by the generator as a script of
// its own: the tracker loads it once tracking starts.
//
//go:embed chat.min.js
var chatMinified string

// ChatFile is the name the chat detection script is served under, next to
// tracker.js: the tracker loads it from its own directory.
const ChatFile = "tracker-chat.js"

const (
	// configPlaceholder is jsbuild.ConfigPlaceholder, which a test keeps equal.
	configPlaceholder = "__ATTRIQS_CONFIG__"

	// maxVisitorLifetime is the longest lifetime browsers keep a cookie for
	// (Chrome caps Max-Age at 400 days).
	maxVisitorLifetime = 400 * 24 * time.Hour
)

// Config configures the built script. Its zero value means the documented
// defaults; every field is inlined into the script, which therefore needs no
// second request.
type Config struct {
	// Selectors are extra CSS selectors of phone elements. Such an element is
	// treated like one marked data-attriqs-phone: its whole text is matched as
	// one piece (across block children) and its tel: href is swapped.
	Selectors []string

	// VisitorLifetime is how long the first-party visitor id lives in its
	// cookie and localStorage, renewed on every visit. Default 365 days, at
	// most 400 days (the longest a browser keeps a cookie), at least one day.
	VisitorLifetime time.Duration

	// SessionTimeout is the inactivity after which the tracker starts a new
	// session (and stops reusing the cached number). Default 30 minutes; from
	// one minute to 24 hours. Keep it equal to the backend's lease inactivity.
	SessionTimeout time.Duration

	// HideUntilSwapped hides the page (opacity 0 on the root element) on a
	// page view that has no cached number yet, until the backend answered or
	// HideTimeout passed. Off by default: measured with a number above the
	// fold (BenchmarkLayoutShift), a number written digit for digit shifts
	// nothing, a later page view swaps from the cache before the first
	// paint, and only a first view whose display changes the line's width
	// shifts the layout (cumulative shift 0.01-0.03, well under the 0.1 that
	// counts as good), while hiding delays that first view's paint by up
	// to HideTimeout. Turn it on where the number's text changes width and
	// the shift matters more than the paint.
	HideUntilSwapped bool

	// HideTimeout bounds the hiding. Default 300 ms when HideUntilSwapped is
	// on, at most 3 s; setting it without HideUntilSwapped is an error.
	HideTimeout time.Duration

	// Heartbeat is the interval of heartbeats while the page is visible until
	// the backend's heartbeat_s overrides it. Default 60 s; from 5 s to
	// SessionTimeout.
	Heartbeat time.Duration

	// RequestTimeout aborts a request to the backend that has not answered.
	// Default 5 s; from 100 ms to 30 s.
	RequestTimeout time.Duration

	// Prefix is the URL prefix of the backend endpoints (v1/visit, ...), a
	// path such as "/dni/" or an absolute http(s) URL, ending in "/". Empty:
	// the directory the script itself was loaded from.
	Prefix string

	// DisableChat leaves chat detection out: the tracker then never loads
	// ChatFile. On by default; a site without a chat widget saves the
	// second request (about 1.5 KB gzipped, cached for a year).
	DisableChat bool

	// GAMeasurementID is the GA4 web stream's measurement id ("G-XXXXXXXXXX")
	// whose session id the tracker reads, with ads consent, from the
	// stream's _ga_XXXXXXXXXX cookie. Empty: the first _ga_ cookie that holds
	// a session id, right for a site that runs one GA4 stream.
	GAMeasurementID string

	// ServerCookie says the backend answering the tracker's API keeps the
	// visitor id in an HttpOnly cookie of its own, as dni.Service does with
	// it on: served from the site's own domain, that cookie outlives
	// Safari's 7-day purge of script-written storage. The tracker's
	// requests carry the site's cookies either way (credentials
	// "same-origin"); with it, withdrawing consent also asks the backend to
	// delete its cookie (v1/forget).
	ServerCookie bool

	// CookieDomain is the domain the visitor cookies are set for (the
	// script's and, with ServerCookie, the backend's), e.g. "example.com",
	// so that www.example.com and shop.example.com share one visitor. A host
	// name: no scheme, port, path or leading dot, not a public suffix.
	// Empty: each host keeps its own.
	CookieDomain string

	// LinkDomains are other sites of the same owner (host names; each
	// covers its subdomains) whose pages run the tracker too. A click on a
	// link to one of them, from another host, adds the visitor id to the
	// link (the _attriqs query parameter), so the visitor is one across
	// the sites; see "Ids, sessions and the cached number". Not a public
	// suffix (co.uk, github.io): other owners' sites share those.
	LinkDomains []string

	// PhoneCountryCode is the country calling code ("1", "44") of the
	// national phone numbers visitors type into forms: with it, such a
	// number is hashed in E.164 (see "Forms"); without it, only numbers
	// written with + or 00 are.
	PhoneCountryCode string
}

// Defaults of the zero Config.
const (
	DefaultVisitorLifetime = 365 * 24 * time.Hour
	DefaultSessionTimeout  = 30 * time.Minute
	DefaultHideTimeout     = 300 * time.Millisecond
	DefaultHeartbeat       = 60 * time.Second
	DefaultRequestTimeout  = 5 * time.Second
)

// ErrConfig is wrapped by every error of [Config.Validate].
var ErrConfig = errors.New("tracker: invalid config")

// withDefaults returns c with the zero fields filled in.
func (c Config) withDefaults() Config {
	if c.VisitorLifetime == 0 {
		c.VisitorLifetime = DefaultVisitorLifetime
	}
	if c.SessionTimeout == 0 {
		c.SessionTimeout = DefaultSessionTimeout
	}
	if c.HideUntilSwapped && c.HideTimeout == 0 {
		c.HideTimeout = DefaultHideTimeout
	}
	if c.Heartbeat == 0 {
		c.Heartbeat = DefaultHeartbeat
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	return c
}

// Validate reports every invalid field at once, each error naming its field
// and wrapping [ErrConfig].
func (c Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: %s %s", ErrConfig, field, fmt.Sprintf(format, args...)))
	}
	for i, s := range c.Selectors {
		switch {
		case strings.TrimSpace(s) == "":
			bad(fmt.Sprintf("Selectors[%d]", i), "is empty")
		case strings.ContainsAny(s, "{};<") || len(s) > 200:
			bad(fmt.Sprintf("Selectors[%d]", i), "%q is not a plain CSS selector", s)
		}
	}
	d := c.withDefaults()
	if d.VisitorLifetime < 24*time.Hour || d.VisitorLifetime > maxVisitorLifetime {
		bad("VisitorLifetime", "%v is outside 24h..%v", c.VisitorLifetime, maxVisitorLifetime)
	}
	sessionOK := d.SessionTimeout >= time.Minute && d.SessionTimeout <= 24*time.Hour
	if !sessionOK {
		bad("SessionTimeout", "%v is outside 1m..24h", c.SessionTimeout)
	}
	if !c.HideUntilSwapped && c.HideTimeout != 0 {
		bad("HideTimeout", "is set but HideUntilSwapped is off")
	} else if c.HideUntilSwapped && (d.HideTimeout < 10*time.Millisecond || d.HideTimeout > 3*time.Second) {
		bad("HideTimeout", "%v is outside 10ms..3s", c.HideTimeout)
	}
	if d.Heartbeat < 5*time.Second || sessionOK && d.Heartbeat > d.SessionTimeout {
		bad("Heartbeat", "%v is outside 5s..SessionTimeout (%v)", d.Heartbeat, d.SessionTimeout)
	}
	if d.RequestTimeout < 100*time.Millisecond || d.RequestTimeout > 30*time.Second {
		bad("RequestTimeout", "%v is outside 100ms..30s", c.RequestTimeout)
	}
	if c.Prefix != "" {
		u, err := url.Parse(c.Prefix)
		switch {
		case err != nil || !strings.HasSuffix(c.Prefix, "/") || u.RawQuery != "" || u.Fragment != "":
			bad("Prefix", "%q is not a path or URL ending in /", c.Prefix)
		case u.IsAbs() && (u.Scheme != "https" && u.Scheme != "http" || u.Host == ""):
			bad("Prefix", "%q is not an http(s) URL", c.Prefix)
		case !u.IsAbs() && !strings.HasPrefix(c.Prefix, "/"):
			bad("Prefix", "%q is not an absolute path", c.Prefix)
		}
	}
	if c.GAMeasurementID != "" && !gaMeasurementID.MatchString(c.GAMeasurementID) {
		bad("GAMeasurementID", "%q is not a GA4 measurement id (G-XXXXXXXXXX)", c.GAMeasurementID)
	}
	if c.PhoneCountryCode != "" && !countryCode.MatchString(c.PhoneCountryCode) {
		bad("PhoneCountryCode", "%q is not a country calling code (1 to 3 digits, no +)", c.PhoneCountryCode)
	}
	if c.CookieDomain != "" {
		if why := hostProblem(c.CookieDomain); why != "" {
			bad("CookieDomain", "%q %s", c.CookieDomain, why)
		} else if isPublicSuffix(c.CookieDomain) {
			bad("CookieDomain", "%q is a public suffix: browsers refuse cookies for it", c.CookieDomain)
		}
	}
	for i, h := range c.LinkDomains {
		if why := hostProblem(h); why != "" {
			bad(fmt.Sprintf("LinkDomains[%d]", i), "%q %s", h, why)
		} else if isPublicSuffix(h) {
			// Each covers its subdomains: the visitor id would go to every
			// site under it, of other owners.
			bad(fmt.Sprintf("LinkDomains[%d]", i), "%q is a public suffix: links to other owners' sites would carry the visitor id", h)
		}
	}
	return errors.Join(errs...)
}

// isPublicSuffix reports whether h is a public suffix (co.uk, github.io).
func isPublicSuffix(h string) bool {
	h = strings.ToLower(h)
	ps, _ := publicsuffix.PublicSuffix(h)
	return ps == h
}

// countryCode is a country calling code as PhoneCountryCode takes it.
var countryCode = regexp.MustCompile(`^[1-9][0-9]{0,2}$`)

// hostProblem says why h is not a host name such as "example.com"; ""
// when it is one.
func hostProblem(h string) string {
	switch {
	case strings.Contains(h, "://"):
		return "has a scheme; give the host name alone"
	case strings.ContainsAny(h, "/?#"):
		return "has a path; give the host name alone"
	case strings.Contains(h, ":"):
		return "has a port; give the host name alone"
	case strings.HasPrefix(h, "."):
		return "starts with a dot; give the host name alone"
	case net.ParseIP(h) != nil:
		return "is an IP address, not a host name"
	case !hostName.MatchString(strings.ToLower(h)):
		return "is not a host name of two or more labels (letters, digits, hyphens)"
	}
	return ""
}

// hostName is a host name of at least two labels, in lower case.
var hostName = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// gaMeasurementID is a GA4 web stream's measurement id; the tracker puts
// what follows "G-" into a regular expression, so nothing else may pass.
var gaMeasurementID = regexp.MustCompile(`^G-[A-Z0-9]{1,20}$`)

// inline is the configuration as the script reads it.
type inline struct {
	Selectors   []string `json:"sel"`
	VisitorDays float64  `json:"vd"`
	SessionMin  float64  `json:"sm"`
	HideMs      int64    `json:"hide"`
	HeartbeatS  float64  `json:"hb"`
	RequestMs   int64    `json:"rt"`
	Prefix      string   `json:"p"`
	GACookie    string   `json:"ga,omitempty"` // the _ga_<stream> cookie's suffix
	SrvCookie   bool     `json:"sc,omitempty"` // ServerCookie
	CookieDom   string   `json:"cd,omitempty"` // CookieDomain, lower case
	LinkDomains []string `json:"ld,omitempty"` // lower case
	CountryCode string   `json:"cc,omitempty"` // PhoneCountryCode
	Chat        string   `json:"ch,omitempty"` // ChatFile with its hash, relative to the script
}

// inline returns the configuration as a JSON object that is safe inside a
// script element as well as a script file: json.Marshal escapes <, >, &,
// U+2028 and U+2029, and every other non-ASCII character is escaped too, so
// the script stays ASCII like the rest of the minified output.
func (c Config) inline(chat *Script) ([]byte, error) {
	d := c.withDefaults()
	var chatSrc string
	if chat != nil {
		chatSrc = chat.Src("")
	}
	sel := d.Selectors
	if sel == nil {
		sel = []string{}
	}
	b, err := json.Marshal(inline{
		Selectors:   sel,
		VisitorDays: d.VisitorLifetime.Hours() / 24,
		SessionMin:  d.SessionTimeout.Minutes(),
		HideMs:      d.HideTimeout.Milliseconds(),
		HeartbeatS:  d.Heartbeat.Seconds(),
		RequestMs:   d.RequestTimeout.Milliseconds(),
		Prefix:      d.Prefix,
		GACookie:    strings.TrimPrefix(d.GAMeasurementID, "G-"),
		SrvCookie:   d.ServerCookie,
		CookieDom:   strings.ToLower(d.CookieDomain),
		LinkDomains: lowerAll(d.LinkDomains),
		CountryCode: d.PhoneCountryCode,
		Chat:        chatSrc,
	})
	if err != nil {
		return nil, err
	}
	return asciiJSON(b), nil
}

func lowerAll(ss []string) []string {
	var out []string
	for _, s := range ss {
		out = append(out, strings.ToLower(s))
	}
	return out
}

// asciiJSON escapes the non-ASCII characters of b, valid JSON whose
// non-ASCII bytes are all inside strings (as json.Marshal writes it), as
// \uXXXX, with surrogate pairs beyond the BMP.
func asciiJSON(b []byte) []byte {
	i := bytes.IndexFunc(b, func(r rune) bool { return r >= utf8.RuneSelf })
	if i < 0 {
		return b
	}
	out := append(make([]byte, 0, len(b)+32), b[:i]...)
	for _, r := range string(b[i:]) {
		switch {
		case r < utf8.RuneSelf:
			out = append(out, byte(r))
		case r > 0xffff:
			r1, r2 := utf16.EncodeRune(r)
			out = fmt.Appendf(out, `\u%04x\u%04x`, r1, r2)
		default:
			out = fmt.Appendf(out, `\u%04x`, r)
		}
	}
	return out
}

// Script is a built tracker: configured, compressed and hashed once, then
// served by [Script.Handler]. It is immutable and safe for concurrent use.
type Script struct {
	name    string // the file name it is served under
	min, gz []byte
	hash    string
	chat    *Script // loaded by the tracker; nil when chat detection is off
}

// Sizes are a script's byte counts.
type Sizes struct {
	Min, Gzip int
}

// Build validates cfg and builds the script: the minified tracker (core and
// every module, minified ahead of time by go generate) with cfg put in as a
// JSON object, and its gzip variant; and, unless cfg.DisableChat, the chat
// detection script it loads ([Script.Chat]). It takes about a millisecond.
func Build(cfg Config) (*Script, error) {
	return build(cfg, minified, chatMinified)
}

// build puts cfg into tmpl, a minified script holding configPlaceholder
// once; chat is the minified chat detection script.
func build(cfg Config, tmpl, chat string) (*Script, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var chatScript *Script
	if !cfg.DisableChat {
		var err error
		if chatScript, err = newScript([]byte(chat), ChatFile); err != nil {
			return nil, err
		}
	}
	before, after, ok := strings.Cut(tmpl, configPlaceholder)
	if !ok || strings.Contains(after, configPlaceholder) {
		return nil, errors.New("tracker: the minified script does not hold its config placeholder once (run go generate ./dni/tracker)")
	}
	conf, err := cfg.inline(chatScript)
	if err != nil {
		return nil, err
	}
	min := make([]byte, 0, len(before)+len(conf)+len(after))
	min = append(append(append(min, before...), conf...), after...)
	s, err := newScript(min, "tracker.js")
	if err != nil {
		return nil, err
	}
	s.chat = chatScript
	return s, nil
}

func newScript(min []byte, name string) (*Script, error) {
	var gz bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	zw.Write(min)
	if err := zw.Close(); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(min)
	return &Script{name: name, min: min, gz: gz.Bytes(), hash: hex.EncodeToString(sum[:8])}, nil
}

// Chat returns the chat detection script the tracker loads from its own
// directory, to be served under ChatFile beside it (package dni mounts
// it); nil when Config.DisableChat.
func (s *Script) Chat() *Script { return s.chat }

// Bytes returns the minified script. The caller must not modify it.
func (s *Script) Bytes() []byte { return s.min }

// Hash returns the content hash (16 hex digits of SHA-256 of the minified
// script): the strong ETag and the cache-busting v query parameter.
func (s *Script) Hash() string { return s.hash }

// Sizes returns the byte counts of the minified and gzip variants.
func (s *Script) Sizes() Sizes { return Sizes{Min: len(s.min), Gzip: len(s.gz)} }

// Src returns the URL path to put in the script tag for a handler mounted
// so that prefix+"tracker.js" reaches it: prefix + "tracker.js?v=" + Hash(),
// which the handler serves as immutable. (For the chat script, ChatFile.)
func (s *Script) Src(prefix string) string {
	return prefix + s.name + "?v=" + s.hash
}
