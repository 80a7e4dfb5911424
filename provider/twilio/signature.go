package twilio

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"sort"
	"strings"

	"github.com/attriqs/calltrack/provider"
)

// SignatureHeader carries Twilio's request signature.
const SignatureHeader = "X-Twilio-Signature"

// BodyHashParam is the query parameter Twilio adds to the URL when it
// sends a JSON body: the hex SHA-256 of the body, which is then covered by
// the URL signature instead of sorted form parameters.
const BodyHashParam = "bodySHA256"

// Sign computes X-Twilio-Signature for a request to fullURL with form
// params: base64(HMAC-SHA1(authToken, fullURL + k1 + v1 + k2 + v2 ...))
// with keys sorted bytewise and repeated keys' values sorted. Pass nil
// params for GET requests and JSON bodies (sign the URL that carries
// bodySHA256).
func Sign(authToken, fullURL string, params url.Values) string {
	m := hmac.New(sha1.New, []byte(authToken))
	m.Write([]byte(fullURL))
	writeSortedParams(m, params)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// BodySHA256 returns the hex digest Twilio puts in the bodySHA256 query
// parameter.
func BodySHA256(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

type writer interface{ Write([]byte) (int, error) }

func writeSortedParams(w writer, params url.Values) {
	if len(params) == 0 {
		return
	}
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		vs := params[k]
		if len(vs) > 1 {
			vs = append([]string(nil), vs...)
			sort.Strings(vs)
		}
		for _, v := range vs {
			w.Write([]byte(k))
			w.Write([]byte(v))
		}
	}
}

// ValidateSignature checks signature for a request to fullURL with form
// params under authToken. Twilio is inconsistent about the port in the
// signed URL (see its SDKs' validators), so the URL is tried as given,
// without an explicit port and with the scheme's default port.
func ValidateSignature(authToken, fullURL string, params url.Values, signature string) error {
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
	for _, candidate := range urlVariants(fullURL) {
		m := hmac.New(sha1.New, []byte(authToken))
		m.Write([]byte(candidate))
		writeSortedParams(m, params)
		if hmac.Equal(got, m.Sum(nil)) {
			return nil
		}
	}
	return provider.ErrBadSignature
}

// ValidateRequest verifies a webhook as Twilio sends it: a form body whose
// parameters are signed, or (when the URL carries bodySHA256) a JSON body
// whose hash is signed through the URL. headerName is normally
// SignatureHeader; Twilio-compatible vendors use their own.
func ValidateRequest(authToken string, r *provider.Request, headerName string) error {
	signature := r.Header.Get(headerName)
	if hash := queryValue(r.URL, BodyHashParam); hash != "" {
		if err := ValidateSignature(authToken, r.URL, nil, signature); err != nil {
			return err
		}
		if !hmac.Equal([]byte(strings.ToLower(hash)), []byte(BodySHA256(r.Body))) {
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
	return ValidateSignature(authToken, r.URL, params, signature)
}

func queryValue(rawURL, key string) string {
	_, query, ok := strings.Cut(rawURL, "?")
	if !ok || !strings.Contains(query, key) {
		return ""
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return ""
	}
	return q.Get(key)
}

// urlVariants returns fullURL, then the same URL with its port removed or
// with the scheme's default port added.
func urlVariants(fullURL string) []string {
	u, err := url.Parse(fullURL)
	if err != nil || u.Host == "" {
		return []string{fullURL}
	}
	host := u.Hostname()
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	alt := *u
	if u.Port() != "" {
		alt.Host = host
	} else {
		port := "80"
		if u.Scheme == "https" {
			port = "443"
		}
		alt.Host = host + ":" + port
	}
	return []string{fullURL, alt.String()}
}
