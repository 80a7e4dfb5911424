package twilio

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/attriqs/calltrack/provider"
)

// SignatureHeader carries Twilio's request signature.
const SignatureHeader = "X-Twilio-Signature"

// BodyHashParam is the query parameter Twilio adds to the URL when it
// sends a JSON body: the hex SHA-256 of the body, which is then covered by
// the URL signature instead of sorted form parameters.
const BodyHashParam = "bodySHA256"

// ValueOrder says how a vendor's SDK writes the values of a repeated form
// parameter into the signed string.
type ValueOrder uint8

const (
	// SortedUnique: each distinct value once, sorted, as Twilio's SDKs do
	// (twilio-python sorted(set(values)), twilio-node new Set(...).sort()).
	SortedUnique ValueOrder = iota
	// AsSent: every value in the order sent, as SignalWire's compatibility
	// SDK does (its toFormUrlEncodedParam maps the array as it is).
	AsSent
)

// Sign computes X-Twilio-Signature for a request to fullURL with form
// params: base64(HMAC-SHA1(authToken, fullURL + k1 + v1 + k2 + v2 ...))
// with keys sorted bytewise and a repeated key's distinct values sorted.
// Pass nil params for GET requests and JSON bodies (sign the URL that
// carries bodySHA256).
func Sign(authToken, fullURL string, params url.Values) string {
	return base64.StdEncoding.EncodeToString(mac(authToken, fullURL, params, SortedUnique))
}

// SignAsSent is Sign with repeated values in the order sent (AsSent).
func SignAsSent(authToken, fullURL string, params url.Values) string {
	return base64.StdEncoding.EncodeToString(mac(authToken, fullURL, params, AsSent))
}

// BodySHA256 returns the hex digest Twilio puts in the bodySHA256 query
// parameter.
func BodySHA256(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

func mac(authToken, fullURL string, params url.Values, order ValueOrder) []byte {
	m := hmac.New(sha1.New, []byte(authToken))
	m.Write([]byte(fullURL))
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		vs := params[k]
		if order == SortedUnique && len(vs) > 1 {
			vs = slices.Compact(slices.Sorted(slices.Values(vs)))
		}
		for _, v := range vs {
			m.Write([]byte(k))
			m.Write([]byte(v))
		}
	}
	return m.Sum(nil)
}

// ValidateSignature checks signature for a request to fullURL with form
// params under authToken, as Twilio's SDKs do (see [ValidateRequest]).
func ValidateSignature(authToken, fullURL string, params url.Values, signature string) error {
	return validateSignature(authToken, urlVariants(fullURL, true), params, signature, SortedUnique)
}

func validateSignature(authToken string, candidates []string, params url.Values, signature string, order ValueOrder) error {
	if authToken == "" {
		return provider.ErrNoSecret
	}
	if signature == "" {
		return provider.ErrMissingSignature
	}
	got, err := base64.StdEncoding.DecodeString(signature)
	if err != nil || len(got) != sha1.Size {
		return provider.ErrMalformedSignature
	}
	for _, candidate := range candidates {
		if hmac.Equal(got, mac(authToken, candidate, params, order)) {
			return nil
		}
	}
	return provider.ErrBadSignature
}

// ValidateRequest verifies a webhook as Twilio's current SDKs do
// (twilio-python RequestValidator.validate, twilio-node validateRequest
// and validateRequestWithBody): a form body whose parameters are signed,
// or, when the URL carries bodySHA256, a JSON body whose hash must equal
// that parameter and whose URL alone is signed. The URL is tried without
// its port and with the scheme's default port (Twilio signs either), each
// also as twilio-node normalises it (the query's quotes, spaces and
// non-ASCII percent-encoded, as new URL() does) and with the query
// re-encoded by Node's legacy querystring. headerName is normally
// SignatureHeader; Twilio-compatible vendors use their own.
func ValidateRequest(authToken string, r *provider.Request, headerName string) error {
	return validateRequest(authToken, r, r.Header.Get(headerName), urlVariants(r.URL, true), SortedUnique)
}

// ValidateCompatRequest verifies a webhook as SignalWire's compatibility
// SDK (compatibility-api-js lib/webhooks/webhooks.js) does: the URL
// without its port and with the default port, never re-encoded, and a
// repeated parameter's values in the order sent.
func ValidateCompatRequest(authToken string, r *provider.Request, signature string) error {
	return validateRequest(authToken, r, signature, urlVariants(r.URL, false), AsSent)
}

func validateRequest(authToken string, r *provider.Request, signature string, candidates []string, order ValueOrder) error {
	if hash, ok := bodyHash(r.URL); ok {
		if err := validateSignature(authToken, candidates, nil, signature, order); err != nil {
			return err
		}
		if !hmac.Equal([]byte(hash), []byte(BodySHA256(r.Body))) {
			return provider.ErrBodyHashMismatch
		}
		return nil
	}
	var params url.Values
	if r.Method != "GET" && len(r.Body) > 0 {
		var err error
		if params, err = url.ParseQuery(string(r.Body)); err != nil {
			// A body that is not a form cannot have been signed as one.
			if signature == "" {
				return provider.ErrMissingSignature
			}
			return provider.ErrBadSignature
		}
	}
	return validateSignature(authToken, candidates, params, signature, order)
}

// bodyHash returns the bodySHA256 query value, compared byte for byte as
// the SDKs do.
func bodyHash(rawURL string) (string, bool) {
	_, query, ok := strings.Cut(rawURL, "?")
	if !ok || !strings.Contains(query, BodyHashParam) {
		return "", false
	}
	q, err := url.ParseQuery(query)
	if err != nil || q.Get(BodyHashParam) == "" {
		return "", false
	}
	return q.Get(BodyHashParam), true
}

// urlVariants returns the URLs the SDKs try: without the port and with the
// scheme's default port (an explicit non-default port is kept), and with
// node, also those URLs with the query normalised by WHATWG URL parsing
// and re-encoded by Node's legacy querystring. The URL as given comes
// first.
func urlVariants(fullURL string, node bool) []string {
	out := []string{fullURL}
	add := func(s string) {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	u, err := url.Parse(fullURL)
	if err != nil || u.Host == "" {
		return out
	}
	ported := []string{withoutPort(u), withPort(u)}
	for _, s := range ported {
		add(s)
	}
	if !node {
		return out
	}
	for _, s := range ported {
		norm := normaliseQuery(s)
		add(norm)
		add(legacyQuery(norm))
	}
	return out
}

func withoutPort(u *url.URL) string {
	v := *u
	v.Host = hostOnly(u)
	return v.String()
}

func withPort(u *url.URL) string {
	if u.Port() != "" {
		return u.String()
	}
	port := "80"
	if u.Scheme == "https" {
		port = "443"
	}
	v := *u
	v.Host = hostOnly(u) + ":" + port
	return v.String()
}

func hostOnly(u *url.URL) string {
	host := u.Hostname()
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return host
}

// normaliseQuery percent-encodes the query bytes WHATWG URL parsing
// encodes in a special scheme's query (C0 controls, space, ", #, <, >, '
// and non-ASCII), as twilio-node's new URL() does before it signs.
func normaliseQuery(s string) string {
	base, query, ok := strings.Cut(s, "?")
	if !ok {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(query); i++ {
		c := query[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"#<>'`, c) >= 0 {
			b.WriteString("%" + strings.ToUpper(hex.EncodeToString([]byte{c})))
			continue
		}
		b.WriteByte(c)
	}
	return base + "?" + b.String()
}

// legacyQuery re-encodes the query as Node's querystring.stringify(parse(q))
// does (twilio-node withLegacyQuerystring): '+' and %XX decoded, repeated
// keys grouped at their first place, each byte outside A-Z a-z 0-9 - _ . !
// ~ * ' ( ) percent-encoded.
func legacyQuery(s string) string {
	base, query, ok := strings.Cut(s, "?")
	if !ok || query == "" {
		return s
	}
	var keys []string
	values := map[string][]string{}
	for _, pair := range strings.Split(query, "&") {
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		k, v = nodeUnescape(k), nodeUnescape(v)
		if _, seen := values[k]; !seen {
			keys = append(keys, k)
		}
		values[k] = append(values[k], v)
	}
	var parts []string
	for _, k := range keys {
		for _, v := range values[k] {
			parts = append(parts, nodeEscape(k)+"="+nodeEscape(v))
		}
	}
	return base + "?" + strings.Join(parts, "&")
}

// nodeUnescape decodes '+' and well-formed %XX, leaving malformed escapes
// as they are (querystring.unescape's fallback).
func nodeUnescape(s string) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '+':
			b = append(b, ' ')
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			d, _ := hex.DecodeString(s[i+1 : i+3])
			b = append(b, d[0])
			i += 2
		default:
			b = append(b, c)
		}
	}
	if !utf8.Valid(b) {
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	return string(b)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func nodeEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_.!~*'()", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteString("%" + strings.ToUpper(hex.EncodeToString([]byte{c})))
	}
	return b.String()
}
