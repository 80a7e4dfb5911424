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
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// minified is js/core.js with every module of js/, minified by the
// generator (internal/gen, which alone links esbuild), with configPlaceholder
// where the configuration goes.
//
//go:embed tracker.min.js
var minified string

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
	// HideTimeout passed. Off by default.
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

	// GAMeasurementID is the GA4 web stream's measurement id ("G-XXXXXXXXXX")
	// whose session id the tracker reads, with ads consent, from the
	// stream's _ga_XXXXXXXXXX cookie. Empty: the first _ga_ cookie that holds
	// a session id, right for a site that runs one GA4 stream.
	GAMeasurementID string
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
	return errors.Join(errs...)
}

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
}

// inline returns the configuration as a JSON object that is safe inside a
// script element as well as a script file: json.Marshal escapes <, >, &,
// U+2028 and U+2029, and every other non-ASCII character is escaped too, so
// the script stays ASCII like the rest of the minified output.
func (c Config) inline() ([]byte, error) {
	d := c.withDefaults()
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
	})
	if err != nil {
		return nil, err
	}
	return asciiJSON(b), nil
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
	min, gz []byte
	hash    string
}

// Sizes are a script's byte counts.
type Sizes struct {
	Min, Gzip int
}

// Build validates cfg and builds the script: the minified tracker (core and
// every module, minified ahead of time by go generate) with cfg put in as a
// JSON object, and its gzip variant. It takes about a millisecond.
func Build(cfg Config) (*Script, error) {
	return build(cfg, minified)
}

// build puts cfg into tmpl, a minified script holding configPlaceholder
// once.
func build(cfg Config, tmpl string) (*Script, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	before, after, ok := strings.Cut(tmpl, configPlaceholder)
	if !ok || strings.Contains(after, configPlaceholder) {
		return nil, errors.New("tracker: the minified script does not hold its config placeholder once (run go generate ./dni/tracker)")
	}
	conf, err := cfg.inline()
	if err != nil {
		return nil, err
	}
	min := make([]byte, 0, len(before)+len(conf)+len(after))
	min = append(append(append(min, before...), conf...), after...)
	return newScript(min)
}

func newScript(min []byte) (*Script, error) {
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
	return &Script{min: min, gz: gz.Bytes(), hash: hex.EncodeToString(sum[:8])}, nil
}

// Bytes returns the minified script. The caller must not modify it.
func (s *Script) Bytes() []byte { return s.min }

// Hash returns the content hash (16 hex digits of SHA-256 of the minified
// script): the strong ETag and the cache-busting v query parameter.
func (s *Script) Hash() string { return s.hash }

// Sizes returns the byte counts of the minified and gzip variants.
func (s *Script) Sizes() Sizes { return Sizes{Min: len(s.min), Gzip: len(s.gz)} }

// Src returns the URL path to put in the script tag for a handler mounted
// so that prefix+"tracker.js" reaches it: prefix + "tracker.js?v=" + Hash(),
// which the handler serves as immutable.
func (s *Script) Src(prefix string) string {
	return prefix + "tracker.js?v=" + s.hash
}
