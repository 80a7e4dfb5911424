package dni

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/attriqs/calltrack/chat"
	"github.com/attriqs/calltrack/classify"
	"github.com/attriqs/calltrack/dni/tracker"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/provider"
)

// Defaults for the zero values of Config.
const (
	DefaultPrefix       = "/dni/"
	DefaultHeartbeat    = 60 * time.Second
	DefaultMaxBodyBytes = 16 << 10
	DefaultVisitsPerIP  = 60 // per minute, burst as large
	DefaultVisitsPerID  = 20 // per visitor per minute
	DefaultStoreWait    = 750 * time.Millisecond
)

// Config is the whole configuration of a Service. The zero value of every
// field means its documented default; New validates everything at once and
// names every problem.
type Config struct {
	// Prefix is where Handler is mounted; default DefaultPrefix.
	Prefix string

	// Pools are the tracking-number pools, one per traffic route and
	// business line.
	Pools []Pool
	// Dedicated numbers are fixed to offline campaigns.
	Dedicated []pool.DedicatedNumber

	// Classify is how visits are classified into traffic sources (see
	// classify.Config). A rule's Pool outcome names a route that
	// Pool.Serves can list.
	Classify classify.Config

	// CallGrace: how long after a session lost its number it still gets the
	// number's calls; default journey.DefaultCallGrace.
	CallGrace time.Duration
	// Qualify decides which calls become conversions; empty means
	// journey.DefaultQualifyRule.
	Qualify []journey.QualifyRule
	// FormRules decide which form submissions become conversions (type
	// journey.ConversionForm), the first matching rule deciding; empty,
	// none does unless an outcome is set by hand. Forms the tracker
	// reports are claims (see Service.RecordEvents); FormRule.Verified
	// counts only those the host reports with Service.RecordForm.
	FormRules []journey.FormRule

	// AllowedOrigins may call the visitor API from a browser (CORS), e.g.
	// "https://www.example.com". The site serving the tracker from the same
	// origin needs no entry.
	AllowedOrigins []string
	// Heartbeat is the interval the tracker renews its lease at while the
	// page is visible; default DefaultHeartbeat.
	Heartbeat time.Duration
	// Tracker configures the browser script served at {Prefix}tracker.js.
	// Its session timeout defaults to the first pool's session window and
	// its heartbeat to Heartbeat.
	Tracker tracker.Config
	// MaxBodyBytes bounds visitor API request bodies; default DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// WebhookMaxBodyBytes bounds telephony webhook bodies (larger ones get
	// 413); default provider.DefaultMaxBodyBytes (64 KB), well above what
	// vendors send.
	WebhookMaxBodyBytes int64
	// APITimeout is the server-side deadline of every tracker API request
	// (visit, heartbeat, events); it must be under the tracker's
	// Tracker.RequestTimeout, so the server gives up before the browser
	// does. Default: four fifths of Tracker.RequestTimeout (4s).
	APITimeout time.Duration
	// StoreWait is how long a visit or heartbeat waits on the store before
	// answering from memory; the session and touchpoint writes not done by
	// then finish in the background (see Service.WriteBehindStats). It
	// must be under APITimeout. Default DefaultStoreWait, or half of
	// APITimeout when that is shorter.
	StoreWait time.Duration
	// VisitsPerIPPerMinute and VisitsPerVisitorPerMinute rate-limit the
	// visitor API so a bot flood cannot drain a pool; defaults
	// DefaultVisitsPerIP and DefaultVisitsPerID. A negative value disables
	// the limit.
	VisitsPerIPPerMinute      int
	VisitsPerVisitorPerMinute int
	// PublicURL is the scheme and host (and any path before Prefix) the
	// telephony providers are configured to call, e.g. "https://example.com".
	// URL-signing providers (Twilio, SignalWire, Plivo) sign that exact URL,
	// which a TLS-terminating proxy hides; empty derives it from each request.
	PublicURL string
	// TrustedProxies are the reverse proxies in front of the service, as
	// CIDRs ("10.0.0.0/8", "2001:db8::/32") or single addresses. A request
	// whose peer is one of them gets its client address (for the per-address
	// rate limit) from TrustedProxyHeader, read from the right: the first
	// address that is not a trusted proxy. From any other peer the peer is
	// the client and the header is ignored. Empty trusts no one.
	TrustedProxies []string
	// TrustedProxyHeader is the one header the trusted proxies add the
	// client's address to: "X-Forwarded-For" (the default) or "Forwarded"
	// (RFC 7239). Only that header is read; the other passes through
	// proxies as the client wrote it.
	TrustedProxyHeader string

	// ChatWebhooks are the chat platforms whose server-side webhooks are
	// served at {Prefix}v1/chat/{platform}, verified with each platform's
	// secret (see package chat).
	ChatWebhooks []chat.Webhook
	// ChatConversions make verified chat events conversions (for example
	// a lead captured in a chat).
	ChatConversions []chat.Rule

	// IdentityKey, when set, stores caller numbers as keyed hashes instead
	// of E.164; email identifiers always need it.
	IdentityKey []byte

	// VisitorKeys sign the visitor ids the service issues (HMAC-SHA256),
	// so that a client can neither make one up nor choose another's: the
	// first key signs, every key verifies. To rotate, put a new key first
	// and keep the old ones for as long as returning visitors should be
	// recognised (Tracker.VisitorLifetime). Each key is at least
	// MinVisitorKeyLen random bytes; give every instance the same keys.
	// Empty, New makes a random key for the process and logs a warning:
	// ids then survive neither a restart nor a visit to another instance,
	// and every returning visitor becomes a new one. Fine for a demo, not
	// for production.
	VisitorKeys [][]byte
	// HoldLimits bound the numbers of a pool that one client address and
	// one network hold at once; the zero value means the defaults (see
	// HoldLimits).
	HoldLimits HoldLimits

	// Forward is how every call is connected to its business line.
	Forward Forward

	// Retention, when positive, makes Run delete what ended longer ago
	// than this (store.Retention.DeleteBefore), once an hour. Zero keeps
	// everything.
	Retention time.Duration
	// Spam says which calls are spam: marked, never qualified, so never
	// exported to ad platforms, and shown apart in reports.
	Spam journey.SpamConfig
	// RejectBlocked refuses calls from Spam.Block at answer, instead of
	// forwarding them and marking them spam.
	RejectBlocked bool
}

// Forward is how calls are connected to the business (see
// provider.Forward, which New validates these settings with for every
// business line).
type Forward struct {
	// CallerIDPassthrough shows the caller's number to the business
	// instead of the tracking number dialled.
	CallerIDPassthrough bool
	// RingTimeout is how long the business line rings; zero means
	// provider.DefaultRingTimeout.
	RingTimeout time.Duration
	// Record records calls; RecordingNotice, spoken to the caller first,
	// is then required.
	Record          bool
	RecordingNotice string
	// WhisperSource speaks the call's traffic source to the business
	// before the calls are bridged ("Call from Paid Search").
	WhisperSource bool
}

// Pool is a pool of interchangeable tracking numbers for one business line
// and one kind of traffic.
type Pool struct {
	pool.PoolConfig
	// Serves lists the routes (the Pool outcome of a Routes rule) and GA4
	// channels ("Paid Search") this pool serves. A pool with an empty list
	// is the default for its business line.
	Serves []string
	// Source is credited for a call to the pool that no session explains
	// (confidence pool-only); default: the first channel in Serves.
	Source classify.Source
}

func (c Config) withDefaults() Config {
	if c.Prefix == "" {
		c.Prefix = DefaultPrefix
	}
	if c.Heartbeat == 0 {
		c.Heartbeat = DefaultHeartbeat
	}
	if c.WebhookMaxBodyBytes == 0 {
		c.WebhookMaxBodyBytes = provider.DefaultMaxBodyBytes
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.VisitsPerIPPerMinute == 0 {
		c.VisitsPerIPPerMinute = DefaultVisitsPerIP
	}
	if c.VisitsPerVisitorPerMinute == 0 {
		c.VisitsPerVisitorPerMinute = DefaultVisitsPerID
	}
	if c.CallGrace == 0 {
		c.CallGrace = journey.DefaultCallGrace
	}
	if c.Tracker.Heartbeat == 0 {
		c.Tracker.Heartbeat = c.Heartbeat
	}
	if c.APITimeout == 0 {
		rt := c.Tracker.RequestTimeout
		if rt == 0 {
			rt = tracker.DefaultRequestTimeout
		}
		c.APITimeout = rt * 4 / 5
	}
	if c.StoreWait == 0 {
		c.StoreWait = min(DefaultStoreWait, c.APITimeout/2)
	}
	if c.Tracker.SessionTimeout == 0 {
		c.Tracker.SessionTimeout = pool.DefaultSessionWindow
		if len(c.Pools) > 0 && c.Pools[0].SessionWindow != 0 {
			c.Tracker.SessionTimeout = c.Pools[0].SessionWindow
		}
	}
	return c
}

// validate reports what the packages it feeds do not check themselves.
func (c Config) validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf("dni: "+format, args...)) }
	if !strings.HasPrefix(c.Prefix, "/") || !strings.HasSuffix(c.Prefix, "/") {
		add("Prefix %q must start and end with /", c.Prefix)
	}
	if len(c.Pools) == 0 && len(c.Dedicated) == 0 {
		add("Pools: no pools and no dedicated numbers: nothing to track")
	}
	defaults := map[string]string{} // business line → its default pool
	for i, p := range c.Pools {
		if len(p.Serves) == 0 {
			if other, ok := defaults[p.BusinessNumber]; ok {
				add("Pools[%d] %q: a second default pool for business line %s (the first is %q); give one of them Serves", i, p.Name, p.BusinessNumber, other)
			}
			defaults[p.BusinessNumber] = p.Name
		}
		for j, s := range p.Serves {
			if strings.TrimSpace(s) == "" {
				add("Pools[%d] %q: Serves[%d] is empty", i, p.Name, j)
			}
		}
	}
	for i, o := range c.AllowedOrigins {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			add("AllowedOrigins[%d]: %q is not an origin like https://www.example.com", i, o)
		}
	}
	for i, p := range c.TrustedProxies {
		if _, err := parseTrustedProxy(p); err != nil {
			add("TrustedProxies[%d]: %q is not a CIDR like 10.0.0.0/8 or an address like 10.0.0.1", i, p)
		}
	}
	if _, ok := proxyHeader(c.TrustedProxyHeader); !ok {
		add("TrustedProxyHeader %q: use %q or %q", c.TrustedProxyHeader, headerXForwardedFor, headerForwarded)
	}
	for i, k := range c.VisitorKeys {
		if len(k) < MinVisitorKeyLen {
			add("VisitorKeys[%d] is %d bytes; use at least %d random bytes", i, len(k), MinVisitorKeyLen)
		}
	}
	for _, p := range c.HoldLimits.problems() {
		add("HoldLimits.%s", p)
	}
	if c.Heartbeat < 10*time.Second {
		add("Heartbeat %v is under 10s", c.Heartbeat)
	}
	if c.WebhookMaxBodyBytes < 4096 {
		add("WebhookMaxBodyBytes %d is under 4096", c.WebhookMaxBodyBytes)
	}
	if c.MaxBodyBytes < 1024 {
		add("MaxBodyBytes %d is under 1024", c.MaxBodyBytes)
	}
	rt := c.Tracker.RequestTimeout
	if rt == 0 {
		rt = tracker.DefaultRequestTimeout
	}
	if c.APITimeout <= 0 || c.APITimeout >= rt {
		add("APITimeout %v must be positive and under Tracker.RequestTimeout (%v)", c.APITimeout, rt)
	}
	if c.StoreWait <= 0 || c.StoreWait >= c.APITimeout {
		add("StoreWait %v must be positive and under APITimeout (%v)", c.StoreWait, c.APITimeout)
	}
	if c.CallGrace < 0 {
		add("CallGrace %v is negative", c.CallGrace)
	}
	if c.Retention < 0 {
		add("Retention %v is negative", c.Retention)
	} else if c.Retention > 0 && c.Retention < c.CallGrace+c.Tracker.SessionTimeout {
		add("Retention %v is shorter than CallGrace plus the session timeout (%v): calls would lose their sessions", c.Retention, c.CallGrace+c.Tracker.SessionTimeout)
	}
	// The settings every call is forwarded with, checked as a call would
	// check them (the pools check the business numbers themselves).
	f := c.forwardTo("+14155550100", "Call from paid search")
	if f.Whisper != "" {
		f.WhisperURL = "https://example.com/" // filled from each request at call time
	}
	if err := f.Validate(); err != nil {
		add("Forward: %v", err)
	}
	platforms := map[string]bool{}
	for i, wh := range c.ChatWebhooks {
		switch {
		case wh == nil:
			add("ChatWebhooks[%d] is nil", i)
		case platforms[wh.Platform()]:
			add("ChatWebhooks[%d]: a second webhook for %s", i, wh.Platform())
		default:
			platforms[wh.Platform()] = true
		}
	}
	if err := journey.ValidateFormRules(c.FormRules); err != nil {
		errs = append(errs, fmt.Errorf("dni: FormRules: %w", err))
	}
	for i, r := range c.ChatConversions {
		if r.Name == "" || len(r.Types) == 0 {
			add("ChatConversions[%d]: a rule needs a Name and at least one of Types", i)
		}
		if r.Value < 0 || len(r.Currency) != 3 {
			add("ChatConversions[%d] %q: Value must not be negative and Currency an ISO 4217 code", i, r.Name)
		}
	}
	return errors.Join(errs...)
}

// forwardTo is the Forward of a call to business, whisper spoken when
// WhisperSource is on.
func (c Config) forwardTo(business, whisper string) provider.Forward {
	f := provider.Forward{To: business, CallerIDPassthrough: c.Forward.CallerIDPassthrough,
		RingTimeout: c.Forward.RingTimeout, Record: c.Forward.Record, RecordingNotice: c.Forward.RecordingNotice}
	if c.Forward.WhisperSource {
		f.Whisper = whisper
	}
	return f
}

func (c Config) poolConfig(onRecord func(pool.HoldRecord)) pool.Config {
	pc := pool.Config{Dedicated: c.Dedicated, OnRecord: onRecord}
	for _, p := range c.Pools {
		pc.Pools = append(pc.Pools, p.PoolConfig)
	}
	return pc
}

// router picks, for each business line, the pool serving a classified visit.
type router struct {
	lines []line
}

type line struct {
	business string
	byServe  map[string]string // route or channel → pool
	fallback string            // the line's default pool; may be empty
}

func newRouter(pools []Pool) router {
	var r router
	for _, p := range pools {
		i := slices.IndexFunc(r.lines, func(l line) bool { return l.business == p.BusinessNumber })
		if i < 0 {
			r.lines = append(r.lines, line{business: p.BusinessNumber, byServe: map[string]string{}})
			i = len(r.lines) - 1
		}
		l := &r.lines[i]
		if len(p.Serves) == 0 {
			l.fallback = p.Name
		}
		for _, s := range p.Serves {
			if _, taken := l.byServe[s]; !taken {
				l.byServe[s] = p.Name
			}
		}
	}
	return r
}

// pools returns the pool of each business line for src: the pool serving
// its route, else its channel, else the line's default. Lines with none of
// these show their own number.
func (r router) pools(src classify.Source) []string {
	out := make([]string, 0, len(r.lines))
	for _, l := range r.lines {
		name, ok := l.byServe[src.Pool]
		if !ok || src.Pool == "" {
			name, ok = l.byServe[string(src.Channel)]
		}
		if !ok {
			name = l.fallback
		}
		if name != "" {
			out = append(out, name)
		}
	}
	return out
}

// poolSources is what stitching credits for calls no session explains.
func poolSources(pools []Pool) map[string]classify.Source {
	m := make(map[string]classify.Source, len(pools))
	for _, p := range pools {
		src := p.Source
		if src.Channel == "" {
			src.Channel = classify.ChannelUnassigned
			for _, s := range p.Serves {
				if ch := classify.Channel(s); ch.IsDefault() && ch != classify.ChannelUnassigned {
					src.Channel = ch
					break
				}
			}
			if src.Source == "" {
				src.Source, src.Medium = "(pool "+p.Name+")", "(not set)"
			}
			src.Paid = src.Channel.Paid()
			src.Basis, src.Rule = "pool", "pool:"+p.Name
		}
		m[p.Name] = src
	}
	return m
}
