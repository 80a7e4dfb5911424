package bandwidth

import (
	"crypto/subtle"
	"encoding/base64"
	"strings"

	"github.com/attriqs/calltrack/provider"
)

// AuthorizationHeader carries the callback credentials.
const AuthorizationHeader = "Authorization"

// BasicAuth returns the Authorization value Bandwidth sends for the
// application's callback username and password (RFC 7617).
func BasicAuth(username, password string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(username+":"+password))
}

// VerifyBasicAuth checks an Authorization header against the configured
// callback credentials in constant time.
func VerifyBasicAuth(header, username, password string) error {
	if username == "" || password == "" {
		return provider.ErrNoSecret
	}
	if header == "" {
		return provider.ErrMissingSignature
	}
	// The scheme name is case-insensitive (RFC 7235 section 2.1).
	const scheme = "Basic "
	if len(header) < len(scheme) || !strings.EqualFold(header[:len(scheme)], scheme) {
		return provider.ErrMalformedSignature
	}
	encoded := header[len(scheme):]
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(encoded))
	if err != nil {
		return provider.ErrMalformedSignature
	}
	user, pass, ok := strings.Cut(string(raw), ":")
	if !ok {
		return provider.ErrMalformedSignature
	}
	// Compare both halves before deciding, so timing does not reveal
	// which one was wrong.
	userOK := subtle.ConstantTimeCompare([]byte(user), []byte(username))
	passOK := subtle.ConstantTimeCompare([]byte(pass), []byte(password))
	if userOK&passOK != 1 {
		return provider.ErrBadSignature
	}
	return nil
}
