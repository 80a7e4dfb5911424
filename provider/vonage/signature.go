package vonage

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"

	"github.com/attriqs/calltrack/provider"
)

// AuthorizationHeader carries "Bearer <JWT>" on signed webhooks.
const AuthorizationHeader = "Authorization"

// DefaultTolerance bounds the token's iat claim.
const DefaultTolerance = 5 * time.Minute

// Claims are the claims Vonage puts in a signed webhook's JWT.
type Claims struct {
	IssuedAt      int64  `json:"iat"`
	ID            string `json:"jti,omitempty"`
	Issuer        string `json:"iss,omitempty"`
	PayloadHash   string `json:"payload_hash,omitempty"`
	APIKey        string `json:"api_key,omitempty"`
	ApplicationID string `json:"application_id,omitempty"`
	ExpiresAt     int64  `json:"exp,omitempty"`
}

var jwtHeader = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))

// PayloadHash is the hex SHA-256 Vonage puts in payload_hash.
func PayloadHash(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

// Sign returns the JWT Vonage would send for body: HS256 over the claims
// with the account's signature secret, payload_hash set from body.
func Sign(secret []byte, body []byte, c Claims) string {
	c.PayloadHash = PayloadHash(body)
	if c.Issuer == "" {
		c.Issuer = "Vonage"
	}
	payload, _ := json.Marshal(c)
	signingInput := jwtHeader + "." + base64.RawURLEncoding.EncodeToString(payload)
	return signingInput + "." + base64.RawURLEncoding.EncodeToString(hs256(secret, signingInput))
}

func hs256(secret []byte, signingInput string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(signingInput))
	return m.Sum(nil)
}

// VerifyToken checks a JWT's HS256 signature under secret and returns its
// claims. It checks nothing time-related; VerifyRequest does.
func VerifyToken(token string, secret []byte) (Claims, error) {
	if len(secret) == 0 {
		return Claims{}, provider.ErrNoSecret
	}
	if token == "" {
		return Claims{}, provider.ErrMissingSignature
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return Claims{}, provider.ErrMalformedSignature
	}
	rawHeader, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	rawClaims, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	sig, err3 := base64.RawURLEncoding.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil {
		return Claims{}, provider.ErrMalformedSignature
	}
	var header struct {
		Alg string `json:"alg"`
	}
	if json.Unmarshal(rawHeader, &header) != nil {
		return Claims{}, provider.ErrMalformedSignature
	}
	// Only HS256: accepting the token's own choice ("none", RS256 with the
	// secret as a public key) is the classic JWT forgery.
	if header.Alg != "HS256" {
		return Claims{}, provider.ErrBadSignature
	}
	if !hmac.Equal(sig, hs256(secret, parts[0]+"."+parts[1])) {
		return Claims{}, provider.ErrBadSignature
	}
	var c Claims
	dec := json.NewDecoder(bytes.NewReader(rawClaims))
	if err := dec.Decode(&c); err != nil {
		return Claims{}, provider.ErrMalformedSignature
	}
	return c, nil
}

// VerifyRequest checks a signed webhook: the bearer token's HS256
// signature, its payload_hash against body (ErrBodyHashMismatch), and iat
// within tolerance of now (ErrStaleTimestamp).
//
// A request without a body (the answer webhook by GET, its call in the
// query) is checked as Vonage's SDKs check every webhook: signature, and
// here iat too, but no payload_hash. Vonage hashes a JSON re-encoding of
// the query for GET, in an order and escaping it does not specify, and a
// re-encoding that differs by a byte would refuse real calls.
func VerifyRequest(secret []byte, authorization string, body []byte, now time.Time, tolerance time.Duration) error {
	if authorization == "" {
		return provider.ErrMissingSignature
	}
	token, ok := strings.CutPrefix(authorization, "Bearer ")
	if !ok {
		return provider.ErrMalformedSignature
	}
	c, err := VerifyToken(strings.TrimSpace(token), secret)
	if err != nil {
		return err
	}
	if len(body) > 0 && (c.PayloadHash == "" || !hmac.Equal([]byte(strings.ToLower(c.PayloadHash)), []byte(PayloadHash(body)))) {
		return provider.ErrBodyHashMismatch
	}
	if c.IssuedAt == 0 {
		return provider.ErrMissingTimestamp
	}
	if d := now.Sub(time.Unix(c.IssuedAt, 0)); d > tolerance || d < -tolerance {
		return provider.ErrStaleTimestamp
	}
	return nil
}
