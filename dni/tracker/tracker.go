package tracker

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/evanw/esbuild/pkg/api"
)

//go:embed js/*.js
var sources embed.FS

const (
	coreFile      = "core.js"
	configMarker  = "__ATTRIQS_CONFIG__"
	modulesMarker = "/*@modules@*/"

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
	return errors.Join(errs...)
}

// inline is the configuration as the script reads it.
type inline struct {
	Selectors   []string `json:"sel"`
	VisitorDays float64  `json:"vd"`
	SessionMin  float64  `json:"sm"`
	HideMs      int64    `json:"hide"`
	HeartbeatS  float64  `json:"hb"`
	RequestMs   int64    `json:"rt"`
	Prefix      string   `json:"p"`
}

func (c Config) inline() ([]byte, error) {
	d := c.withDefaults()
	sel := d.Selectors
	if sel == nil {
		sel = []string{}
	}
	return json.Marshal(inline{
		Selectors:   sel,
		VisitorDays: d.VisitorLifetime.Hours() / 24,
		SessionMin:  d.SessionTimeout.Minutes(),
		HideMs:      d.HideTimeout.Milliseconds(),
		HeartbeatS:  d.Heartbeat.Seconds(),
		RequestMs:   d.RequestTimeout.Milliseconds(),
		Prefix:      d.Prefix,
	})
}

// module is a further source file compiled into the script, inside the
// core's scope (see "Adding a module" in the package documentation).
type module struct {
	Name   string
	Source string
}

// modules returns the embedded modules: every js/*.js file but the core, in
// name order.
func modules() ([]module, error) {
	names, err := fs.Glob(sources, "js/*.js")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var ms []module
	for _, n := range names {
		if path.Base(n) == coreFile {
			continue
		}
		b, err := sources.ReadFile(n)
		if err != nil {
			return nil, err
		}
		ms = append(ms, module{Name: path.Base(n), Source: string(b)})
	}
	return ms, nil
}

// Script is a built tracker: minified, compressed and hashed once, then
// served by [Script.Handler]. It is immutable and safe for concurrent use.
type Script struct {
	min, gz, br []byte
	hash        string
}

// Sizes are a script's byte counts.
type Sizes struct {
	Min, Gzip, Brotli int
}

// Build validates cfg and builds the script: the core with cfg inlined and
// every embedded module, minified with esbuild, gzip and brotli variants
// precomputed.
func Build(cfg Config) (*Script, error) {
	ms, err := modules()
	if err != nil {
		return nil, err
	}
	return build(cfg, ms...)
}

func build(cfg Config, extra ...module) (*Script, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	// Each module alone first, so that a syntax error names its file.
	for _, m := range extra {
		if _, err := minify(m.Source, m.Name); err != nil {
			return nil, err
		}
	}
	src, err := source(cfg, extra...)
	if err != nil {
		return nil, err
	}
	min, err := minify(src, "tracker.js")
	if err != nil {
		return nil, err
	}
	return newScript(min)
}

// minify runs esbuild's transform: whitespace, identifiers and syntax
// minified, ASCII output, lowered to ES2017.
func minify(src, name string) ([]byte, error) {
	res := api.Transform(src, api.TransformOptions{
		Loader:            api.LoaderJS,
		Target:            api.ES2017,
		MinifyWhitespace:  true,
		MinifyIdentifiers: true,
		MinifySyntax:      true,
		LegalComments:     api.LegalCommentsNone,
		Charset:           api.CharsetASCII,
		Sourcefile:        name,
	})
	if len(res.Errors) > 0 {
		msgs := api.FormatMessages(res.Errors, api.FormatMessagesOptions{Kind: api.ErrorMessage})
		return nil, fmt.Errorf("tracker: minify %s: %s", name, strings.Join(msgs, "\n"))
	}
	return bytes.TrimSpace(res.Code), nil
}

// source assembles the unminified script.
func source(cfg Config, extra ...module) (string, error) {
	core, err := sources.ReadFile("js/" + coreFile)
	if err != nil {
		return "", err
	}
	conf, err := cfg.inline()
	if err != nil {
		return "", err
	}
	var mods strings.Builder
	for _, m := range extra {
		fmt.Fprintf(&mods, "\n// module %s\n%s\n", m.Name, m.Source)
	}
	s := string(core)
	if strings.Count(s, configMarker) != 1 || strings.Count(s, modulesMarker) != 1 {
		return "", errors.New("tracker: core.js lacks its config or modules marker")
	}
	s = strings.Replace(s, configMarker, string(conf), 1)
	return strings.Replace(s, modulesMarker, mods.String(), 1), nil
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
	var br bytes.Buffer
	bw := brotli.NewWriterLevel(&br, brotli.BestCompression)
	bw.Write(min)
	if err := bw.Close(); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(min)
	return &Script{min: min, gz: gz.Bytes(), br: br.Bytes(), hash: hex.EncodeToString(sum[:8])}, nil
}

// Bytes returns the minified script. The caller must not modify it.
func (s *Script) Bytes() []byte { return s.min }

// Hash returns the content hash (16 hex digits of SHA-256 of the minified
// script): the strong ETag and the cache-busting v query parameter.
func (s *Script) Hash() string { return s.hash }

// Sizes returns the byte counts of the minified, gzip and brotli variants.
func (s *Script) Sizes() Sizes { return Sizes{Min: len(s.min), Gzip: len(s.gz), Brotli: len(s.br)} }

// Src returns the URL path to put in the script tag for a handler mounted
// so that prefix+"tracker.js" reaches it: prefix + "tracker.js?v=" + Hash(),
// which the handler serves as immutable.
func (s *Script) Src(prefix string) string {
	return prefix + "tracker.js?v=" + s.hash
}
