package plivo

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"sort"
	"strings"

	"github.com/attriqs/calltrack/provider"
)

// Signature headers. Plivo sends the sub-account's signature in
// X-Plivo-Signature-V3 and the main account's in X-Plivo-Signature-Ma-V3,
// each possibly a comma-separated list (one per active auth token). The
// older V2 scheme has headers of its own.
const (
	SignatureHeader     = "X-Plivo-Signature-V3"
	MainSignatureHeader = "X-Plivo-Signature-Ma-V3"
	NonceHeader         = "X-Plivo-Signature-V3-Nonce"

	SignatureV2Header     = "X-Plivo-Signature-V2"
	MainSignatureV2Header = "X-Plivo-Signature-Ma-V2"
	NonceV2Header         = "X-Plivo-Signature-V2-Nonce"
)

// Sign computes the V3 signature: base64(HMAC-SHA256(auth token,
// signedURL(method, fullURL, params) + "." + nonce)).
//
// For POST the signed URL is scheme://host/path, then "?" and the URL's
// own query parameters sorted as "k=v" joined by "&", then "." if there
// was a query, then every POST parameter as name+value, names sorted. For
// GET the POST parameters join the query instead. This is the
// construction of Plivo's Python, Node and Java SDKs.
func Sign(authToken, method, fullURL, nonce string, params url.Values) string {
	return mac(authToken, signedURL(method, fullURL, params), nonce)
}

func mac(authToken, signed, nonce string) string {
	m := hmac.New(sha256.New, []byte(authToken))
	m.Write([]byte(signed))
	m.Write([]byte{'.'})
	m.Write([]byte(nonce))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// baseURL is scheme://host/path of fullURL with the path as sent (not
// decoded), without query, fragment or ";params" of the last segment: what
// the SDKs' urlunparse((scheme, netloc, path, "", "", "")) keeps. It also
// returns the raw query.
func baseURL(fullURL string) (base, rawQuery string) {
	rest, _, _ := strings.Cut(fullURL, "#")
	rest, rawQuery, _ = strings.Cut(rest, "?")
	scheme, afterScheme, ok := strings.Cut(rest, "://")
	if !ok {
		return rest, rawQuery
	}
	host, path := afterScheme, ""
	if i := strings.IndexByte(afterScheme, '/'); i >= 0 {
		host, path = afterScheme[:i], afterScheme[i:]
	}
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		if j := strings.IndexByte(path[i:], ';'); j >= 0 {
			path = path[:i+j]
		}
	}
	return strings.ToLower(scheme) + "://" + host + path, rawQuery
}

func signedURL(method, fullURL string, params url.Values) string {
	base, rawQuery := baseURL(fullURL)
	query, _ := url.ParseQuery(rawQuery)
	if strings.EqualFold(method, "GET") {
		for k, vs := range params {
			query[k] = append(query[k], vs...)
		}
		if q := sortedQuery(query); q != "" {
			return base + "?" + q
		}
		return base
	}
	var b strings.Builder
	b.WriteString(base)
	q := sortedQuery(query)
	if len(params) > 0 || q != "" {
		b.WriteByte('?')
		b.WriteString(q)
	}
	if len(params) > 0 && q != "" {
		b.WriteByte('.')
	}
	for _, k := range sortedKeys(params) {
		for _, v := range sortedValues(params[k]) {
			b.WriteString(k)
			b.WriteString(v)
		}
	}
	return b.String()
}

// legacyGetURL is the GET construction of Plivo's Go and .NET SDKs
// (path-less URL, "/?", a trailing "&"), which their published test vector
// uses. Accepted in addition to the canonical form for GET callbacks.
func legacyGetURL(fullURL string, params url.Values) string {
	if len(params) == 0 || strings.Contains(fullURL, "?") {
		return ""
	}
	var b strings.Builder
	b.WriteString(strings.Trim(fullURL, "/"))
	b.WriteString("/?")
	for _, k := range sortedKeys(params) {
		for _, v := range params[k] {
			b.WriteString(k + "=" + v + "&")
		}
	}
	return b.String()
}

func sortedQuery(q url.Values) string {
	parts := make([]string, 0, len(q))
	for _, k := range sortedKeys(q) {
		for _, v := range sortedValues(q[k]) {
			parts = append(parts, k+"="+v)
		}
	}
	return strings.Join(parts, "&")
}

func sortedKeys(v url.Values) []string {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func sortedValues(vs []string) []string {
	if len(vs) < 2 {
		return vs
	}
	out := append([]string(nil), vs...)
	sort.Strings(out)
	return out
}

// ValidateSignature checks a V3 signature header value (one signature or
// a comma-separated list) for a request.
func ValidateSignature(authToken, method, fullURL, nonce string, params url.Values, header string) error {
	if authToken == "" {
		return provider.ErrNoSecret
	}
	if header == "" {
		return provider.ErrMissingSignature
	}
	if nonce == "" {
		return provider.ErrMissingNonce
	}
	candidates := []string{signedURL(method, fullURL, params)}
	if strings.EqualFold(method, "GET") {
		if legacy := legacyGetURL(fullURL, params); legacy != "" {
			candidates = append(candidates, legacy)
		}
	}
	wellFormed := false
	for _, sig := range strings.Split(header, ",") {
		got, err := base64.StdEncoding.DecodeString(strings.TrimSpace(sig))
		if err != nil || len(got) != sha256.Size {
			continue
		}
		wellFormed = true
		for _, c := range candidates {
			want, _ := base64.StdEncoding.DecodeString(mac(authToken, c, nonce))
			if hmac.Equal(got, want) {
				return nil
			}
		}
	}
	if !wellFormed {
		return provider.ErrMalformedSignature
	}
	return provider.ErrBadSignature
}

// SignV2 computes the V2 signature: base64(HMAC-SHA256(auth token,
// scheme://host/path + nonce)), the URL without its query and nothing of
// the body (validate_signature in plivo-python, ComputeSignatureV2 in
// plivo-go).
func SignV2(authToken, fullURL, nonce string) string {
	base, _ := baseURL(fullURL)
	m := hmac.New(sha256.New, []byte(authToken))
	m.Write([]byte(base))
	m.Write([]byte(nonce))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// ValidateSignatureV2 checks a V2 signature header value. The SDKs compare
// the header as one signature; a comma-separated list is also accepted,
// as for V3.
func ValidateSignatureV2(authToken, fullURL, nonce, header string) error {
	switch {
	case authToken == "":
		return provider.ErrNoSecret
	case header == "":
		return provider.ErrMissingSignature
	case nonce == "":
		return provider.ErrMissingNonce
	}
	want, _ := base64.StdEncoding.DecodeString(SignV2(authToken, fullURL, nonce))
	wellFormed := false
	for _, sig := range strings.Split(header, ",") {
		got, err := base64.StdEncoding.DecodeString(strings.TrimSpace(sig))
		if err != nil || len(got) != sha256.Size {
			continue
		}
		wellFormed = true
		if hmac.Equal(got, want) {
			return nil
		}
	}
	if !wellFormed {
		return provider.ErrMalformedSignature
	}
	return provider.ErrBadSignature
}

// ValidateRequest verifies a Plivo callback by V3: the V3 header (or the
// main account's) with its nonce, over the URL and form parameters. A
// request with only V2 headers is ErrMissingSignature: V2 signs neither
// the query nor the body, so falling back to it when V3 is absent would
// let anyone who has seen one genuine request (Plivo sends both headers)
// strip V3 and forge any body. See [ValidateRequestV2].
func ValidateRequest(authToken string, r *provider.Request) error {
	header := r.Header.Get(SignatureHeader)
	if header == "" {
		header = r.Header.Get(MainSignatureHeader)
	}
	var params url.Values
	if !strings.EqualFold(r.Method, "GET") && len(r.Body) > 0 {
		var err error
		if params, err = url.ParseQuery(string(r.Body)); err != nil {
			if header == "" {
				return provider.ErrMissingSignature
			}
			return provider.ErrBadSignature
		}
	}
	return ValidateSignature(authToken, r.Method, r.URL, r.Header.Get(NonceHeader), params, header)
}

// ValidateRequestV2 verifies a Plivo callback by V2 only: the V2 header
// (or the main account's) with its nonce, over scheme://host/path. It is
// for accounts whose callbacks carry no V3 header (Config.SignatureV2);
// V2 authenticates the URL, not what is posted to it.
func ValidateRequestV2(authToken string, r *provider.Request) error {
	v2 := r.Header.Get(SignatureV2Header)
	if v2 == "" {
		v2 = r.Header.Get(MainSignatureV2Header)
	}
	return ValidateSignatureV2(authToken, r.URL, r.Header.Get(NonceV2Header), v2)
}
