package dni

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"github.com/attriqs/calltrack/chat"
	"github.com/attriqs/calltrack/dni/tracker"
	"github.com/attriqs/calltrack/provider"
)

// Handler serves everything under Config.Prefix (mount it there):
//
//	GET  tracker.js, tracker-chat.js         the browser script (see ScriptSrc) and the chat detection it loads
//	POST v1/visit, v1/heartbeat, v1/events   the tracker's API (JSON; CORS for AllowedOrigins,
//	                                         403 for other sites' pages)
//	POST v1/forget                           deletes VisitorCookie (Tracker.ServerCookie)
//	POST webhooks/{provider}                 telephony webhooks, one path per WithProvider
//	POST v1/chat/{platform}                  chat platforms' webhooks, one per Config.ChatWebhooks
//	GET  reports/…                           reports, only behind WithReportAuth: calls,
//	                                         calls/by-source, sources, series, exports
//	POST reports/spend, reports/outcomes     spend CSV and outcomes set by hand, behind it too
//
// Webhooks are answered and their events spooled at once; Run records
// them.
func (s *Service) Handler() http.Handler { return s.handler }

func (s *Service) buildHandler() (http.Handler, error) {
	mux := http.NewServeMux()
	p := s.cfg.Prefix
	mux.Handle(p+"tracker.js", s.script.Handler())
	if chat := s.script.Chat(); chat != nil {
		mux.Handle(p+tracker.ChatFile, chat.Handler())
	}
	mux.Handle(p+"v1/visit", s.api(s.serveVisit))
	mux.Handle(p+"v1/heartbeat", s.api(s.serveHeartbeat))
	mux.Handle(p+"v1/events", s.api(s.serveEvents))
	mux.Handle(p+"v1/forget", s.api(s.serveForget))

	if s.ingest != nil {
		for _, prov := range s.providers {
			h, err := provider.NewHandler(prov, s.ingest, s.route, provider.HandlerConfig{
				Fallback: s.fallbackForward(), PublicURL: s.cfg.PublicURL, InsecureSkipVerify: s.skipVerify,
				MaxBodyBytes: s.cfg.WebhookMaxBodyBytes,
				Logger:       s.log, Clock: s.now})
			if err != nil {
				return nil, fmt.Errorf("dni: provider %q: %w", prov.Name(), err)
			}
			mux.Handle(p+"webhooks/"+prov.Name(), h)
			s.webhooks = append(s.webhooks, h)
		}
	}
	for _, wh := range s.cfg.ChatWebhooks {
		mux.Handle(p+"v1/chat/"+wh.Platform(), chat.Handler(wh, s, chat.HandlerOptions{Now: s.now, Logger: s.log}))
	}
	reports := s.reportsHandler()
	if s.reportAuth != nil {
		mux.Handle(p+"reports/", s.reportAuth(http.StripPrefix(strings.TrimSuffix(p, "/"), reports)))
	}
	return mux, nil
}

// apiError is the JSON body of every error answer of the tracker API.
type apiError struct {
	Error string `json:"error"`
}

// api wraps one tracker endpoint: origin, CORS, method, rate limit, size
// limit, and a deadline (Config.APITimeout) under the tracker's own. The
// request's context carries the client's address (clientOf) for the hold
// limits.
func (s *Service) api(serve func(w http.ResponseWriter, r *http.Request, body []byte) (any, int, error)) http.Handler {
	origins, clients := newOriginPolicy(s.cfg), newClientAddresses(s.cfg)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Origin")
		// A browser page on another site is refused before anything is
		// done for it; the CORS headers alone would only hide the answer
		// from it, after the visit was recorded and a number leased.
		if origin := r.Header.Get("Origin"); origin != "" {
			cors, ok := origins.allows(r, origin)
			if !ok {
				writeJSON(w, http.StatusForbidden, apiError{fmt.Sprintf("origin %q is not allowed to use this API (see AllowedOrigins)", origin)})
				return
			}
			if cors {
				w.Header().Set("Access-Control-Allow-Origin", origin)
				w.Header().Set("Access-Control-Allow-Methods", "POST")
				w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
				w.Header().Set("Access-Control-Max-Age", "86400")
			}
		}
		switch r.Method {
		case http.MethodOptions:
			w.WriteHeader(http.StatusNoContent)
			return
		case http.MethodPost:
		default:
			w.Header().Set("Allow", "POST, OPTIONS")
			writeJSON(w, http.StatusMethodNotAllowed, apiError{"use POST"})
			return
		}
		client := clients.of(r)
		if !s.limits.allowIP(client) {
			writeJSON(w, http.StatusTooManyRequests, apiError{"too many requests from this address"})
			return
		}
		if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") && !strings.HasPrefix(ct, "text/plain") {
			writeJSON(w, http.StatusUnsupportedMediaType, apiError{"send JSON (application/json or text/plain)"})
			return
		}
		body, err := readBody(w, r, s.cfg.MaxBodyBytes)
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				writeJSON(w, http.StatusRequestEntityTooLarge, apiError{fmt.Sprintf("body over %d bytes", s.cfg.MaxBodyBytes)})
				return
			}
			writeJSON(w, http.StatusBadRequest, apiError{"reading body: " + err.Error()})
			return
		}
		ctx, cancel := withDeadline(r.Context(), s.cfg.APITimeout, client)
		defer cancel()
		out, code, err := serve(w, r.WithContext(ctx), body)
		if err != nil {
			writeJSON(w, code, apiError{err.Error()})
			return
		}
		if out == nil {
			w.WriteHeader(code)
			return
		}
		writeJSON(w, code, out)
	})
}

// readBody is io.ReadAll of the body, up to limit bytes, starting from a
// buffer of the announced length (and one byte for the read that finds the
// end) instead of 512 bytes: one allocation for a visit.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	size := 512
	if n := r.ContentLength; n >= 0 && n < limit {
		size = int(n) + 1
	}
	body, b := http.MaxBytesReader(w, r.Body, limit), make([]byte, 0, size)
	for {
		n, err := body.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // grow
		}
	}
}

// decodeStrict reads exactly one JSON object with only known fields.
func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("invalid JSON: %w", err)
	}
	if dec.More() {
		return errors.New("invalid JSON: data after the object")
	}
	return nil
}

func (s *Service) serveVisit(w http.ResponseWriter, r *http.Request, body []byte) (any, int, error) {
	var req VisitRequest
	if err := decodeStrict(body, &req); err != nil {
		return nil, http.StatusBadRequest, err
	}
	if req.VisitorID == "" {
		// The script's storage is gone (Safari purges it after 7 days); the
		// server's cookie may remain.
		req.VisitorID = s.cookieVisitor(r)
	}
	if req.VisitorID != "" && !s.limits.allowVisitor(req.VisitorID) {
		return nil, http.StatusTooManyRequests, errors.New("too many visits from this visitor")
	}
	req.UserAgent = r.UserAgent()
	a, err := s.Visit(r.Context(), req)
	if err != nil {
		return nil, statusOf(err), err
	}
	if a.VisitorID != "" { // crawlers get none
		s.setVisitorCookie(w, a.VisitorID)
	}
	return a, http.StatusOK, nil
}

type heartbeatRequest struct {
	VisitorID string `json:"visitor_id"`
	SessionID string `json:"session_id"`
}

func (s *Service) serveHeartbeat(w http.ResponseWriter, r *http.Request, body []byte) (any, int, error) {
	var req heartbeatRequest
	if err := decodeStrict(body, &req); err != nil {
		return nil, http.StatusBadRequest, err
	}
	if !s.limits.allowVisitor(req.VisitorID) {
		return nil, http.StatusTooManyRequests, errors.New("too many requests from this visitor")
	}
	a, err := s.Heartbeat(r.Context(), req.VisitorID, req.SessionID)
	if err != nil {
		return nil, statusOf(err), err
	}
	s.setVisitorCookie(w, a.VisitorID)
	return a, http.StatusOK, nil
}

func (s *Service) serveEvents(_ http.ResponseWriter, r *http.Request, body []byte) (any, int, error) {
	var req EventsRequest
	if err := decodeStrict(body, &req); err != nil {
		return nil, http.StatusBadRequest, err
	}
	if !s.limits.allowVisitor(req.VisitorID) {
		return nil, http.StatusTooManyRequests, errors.New("too many requests from this visitor")
	}
	if err := s.RecordEvents(r.Context(), req); err != nil {
		return nil, statusOf(err), err
	}
	return nil, http.StatusAccepted, nil
}

func statusOf(err error) int {
	switch {
	case errors.Is(err, ErrInvalidID), errors.Is(err, ErrInvalidEvent):
		return http.StatusBadRequest
	}
	return http.StatusServiceUnavailable
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	// What Header.Set does, in one allocation for both values; each slice
	// is capped, so a later Add copies instead of writing over the other.
	h, vals := w.Header(), []string{"application/json", "no-store"}
	h["Content-Type"], h["Cache-Control"] = vals[0:1:1], vals[1:2:2]
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// originPolicy decides which browser origins may call the tracker API.
type originPolicy struct {
	allowed map[string]bool // Config.AllowedOrigins, normalised
	public  string          // the origin of Config.PublicURL; "" without one
}

func newOriginPolicy(cfg Config) originPolicy {
	p := originPolicy{allowed: map[string]bool{}}
	for _, o := range cfg.AllowedOrigins {
		if n, ok := normalOrigin(o); ok {
			p.allowed[n] = true
		}
	}
	if u, err := url.Parse(cfg.PublicURL); err == nil && u.Host != "" && (u.Scheme == "http" || u.Scheme == "https") {
		p.public = u.Scheme + "://" + withoutDefaultPort(u.Scheme, strings.ToLower(u.Host))
	}
	return p
}

// allows reports whether a request carrying this Origin header may be
// served, and whether it needs CORS headers: the origins in AllowedOrigins
// do; the site's own origin does not. The site's own origin is the one the
// browser says is the same (Sec-Fetch-Site: same-origin), PublicURL's, or
// the request's own scheme and Host. Behind a TLS-terminating proxy that
// last one is http://internal-host, so PublicURL (or a browser that sends
// Sec-Fetch-Site, as all current ones do) is what recognises the site.
//
// This stops other sites' pages, not other programs: a program sends
// whatever headers it likes, or none; the rate limits are for those.
func (p originPolicy) allows(r *http.Request, origin string) (cors, ok bool) {
	o, valid := normalOrigin(origin)
	switch {
	case !valid: // "null" (sandboxed frames, file: pages) and garbage
		return false, false
	case p.allowed[o]:
		return true, true
	case r.Header.Get("Sec-Fetch-Site") == "same-origin", o == p.public:
		return false, true
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return false, o == scheme+"://"+withoutDefaultPort(scheme, strings.ToLower(r.Host))
}

// normalOrigin is an origin (scheme://host[:port], as browsers send it and
// AllowedOrigins lists it) in lower case without its scheme's default port.
func normalOrigin(s string) (string, bool) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", false
	}
	return u.Scheme + "://" + withoutDefaultPort(u.Scheme, strings.ToLower(u.Host)), true
}

func withoutDefaultPort(scheme, host string) string {
	if scheme == "https" {
		return strings.TrimSuffix(host, ":443")
	}
	return strings.TrimSuffix(host, ":80")
}

// The headers a trusted proxy may add the client's address to
// (Config.TrustedProxyHeader).
const (
	headerXForwardedFor = "X-Forwarded-For"
	headerForwarded     = "Forwarded"
)

// proxyHeader is Config.TrustedProxyHeader in canonical form; empty means
// X-Forwarded-For.
func proxyHeader(name string) (string, bool) {
	switch h := http.CanonicalHeaderKey(strings.TrimSpace(name)); h {
	case "":
		return headerXForwardedFor, true
	case headerXForwardedFor, headerForwarded:
		return h, true
	}
	return "", false
}

// parseTrustedProxy reads one entry of Config.TrustedProxies: a CIDR or a
// single address. IPv4 in IPv6 ("::ffff:10.0.0.1") is read as IPv4, as
// addresses are compared.
func parseTrustedProxy(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	if a.Zone() != "" {
		return netip.Prefix{}, errors.New("an address with a zone")
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// clientAddresses finds the address of the client behind a request, the
// key of the per-address rate limit.
type clientAddresses struct {
	trusted []netip.Prefix // Config.TrustedProxies
	header  string         // Config.TrustedProxyHeader, canonical
}

func newClientAddresses(cfg Config) clientAddresses {
	c := clientAddresses{}
	c.header, _ = proxyHeader(cfg.TrustedProxyHeader)
	for _, s := range cfg.TrustedProxies {
		if p, err := parseTrustedProxy(s); err == nil {
			c.trusted = append(c.trusted, p)
		}
	}
	return c
}

func (c clientAddresses) isTrusted(a netip.Addr) bool {
	for _, p := range c.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// of is the client address of r. When the peer is not a trusted proxy it
// is the client, whatever the headers say. When it is, the proxy header
// (every instance, in order) is read from the right, the end each proxy
// appends to, and the first address that is not a trusted proxy is the
// client: everything left of it was written by the client or by proxies
// not ours, so it could be anything. An entry that is not an address (an
// RFC 7239 "unknown" or obfuscated identifier, garbage) ends the walk as
// well: nothing further left can be trusted, so the last trusted hop,
// which wrote it, stands for the client. So does the leftmost entry when
// every entry is a trusted proxy.
func (c clientAddresses) of(r *http.Request) string {
	peer, ok := parseNode(r.RemoteAddr)
	if !ok {
		return r.RemoteAddr // not IP (a Unix socket): one address for all
	}
	if !c.isTrusted(peer) {
		return peer.String()
	}
	client := peer
	values := r.Header.Values(c.header)
	for i := len(values) - 1; i >= 0; i-- {
		entries := splitQuoted(values[i], ',')
		for j := len(entries) - 1; j >= 0; j-- {
			entry := strings.TrimSpace(entries[j])
			if entry == "" {
				continue // empty list elements are allowed (RFC 9110, 5.6.1)
			}
			var a netip.Addr
			if c.header == headerForwarded {
				a, ok = forwardedFor(entry)
			} else {
				a, ok = parseNode(entry)
			}
			if !ok {
				return client.String()
			}
			if !c.isTrusted(a) {
				return a.String()
			}
			client = a
		}
	}
	return client.String()
}

// parseNode reads an address as X-Forwarded-For entries and RemoteAddr
// carry it: "192.0.2.1", "2001:db8::1", or either with a port
// ("192.0.2.1:4711", "[2001:db8::1]:4711"), brackets optional without
// one. The zone is dropped and IPv4 in IPv6 read as IPv4; the unspecified
// address is no address.
func parseNode(s string) (netip.Addr, bool) {
	var a netip.Addr
	if ap, err := netip.ParseAddrPort(s); err == nil {
		a = ap.Addr()
	} else {
		if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
			s = s[1 : len(s)-1]
		}
		if a, err = netip.ParseAddr(s); err != nil {
			return netip.Addr{}, false
		}
	}
	a = a.WithZone("").Unmap()
	return a, !a.IsUnspecified()
}

// forwardedFor is the address in the for= parameter of one element of an
// RFC 7239 Forwarded header (for=192.0.2.60;proto=http, for="[2001:db8::17]:4711").
// An element without one, or whose node is "unknown" or an obfuscated
// identifier ("_hidden"), has none.
func forwardedFor(element string) (netip.Addr, bool) {
	var node string
	found := false
	for _, pair := range splitQuoted(element, ';') {
		name, value, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(name), "for") {
			continue
		}
		if found {
			return netip.Addr{}, false // a parameter may appear once per element
		}
		node, found = strings.TrimSpace(value), true
	}
	if strings.HasPrefix(node, `"`) {
		if len(node) < 2 || !strings.HasSuffix(node, `"`) {
			return netip.Addr{}, false
		}
		node = unescapeQuoted(node[1 : len(node)-1])
	}
	// node = nodename [":" node-port]; nodename = IPv4address / "[" IPv6address "]"
	// / "unknown" / obfnode; a port may itself be obfuscated ("_abc").
	if rest, ok := strings.CutPrefix(node, "["); ok {
		host, port, ok := strings.Cut(rest, "]")
		if !ok || (port != "" && !strings.HasPrefix(port, ":")) {
			return netip.Addr{}, false
		}
		node = host
	} else if strings.Count(node, ":") == 1 {
		node, _, _ = strings.Cut(node, ":")
	}
	return parseNode(node)
}

// splitQuoted splits s at sep outside quoted strings.
func splitQuoted(s string, sep byte) []string {
	var parts []string
	start, quoted := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case quoted && c == '\\':
			i++ // the escaped character
		case c == '"':
			quoted = !quoted
		case c == sep && !quoted:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

// unescapeQuoted undoes the quoted-pairs (\x) of a quoted string's content.
func unescapeQuoted(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
