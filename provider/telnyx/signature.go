package telnyx

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"strconv"
	"time"

	"github.com/attriqs/calltrack/provider"
)

// Signature headers.
const (
	SignatureHeader = "Telnyx-Signature-Ed25519"
	TimestampHeader = "Telnyx-Timestamp"
)

// DefaultTolerance is the replay window Telnyx's SDKs use.
const DefaultTolerance = 5 * time.Minute

// ParsePublicKey reads the public key shown in the Telnyx portal: base64
// of the raw 32-byte key, or of its DER SubjectPublicKeyInfo.
func ParsePublicKey(b64 string) (ed25519.PublicKey, error) {
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("%w: public key is not base64", provider.ErrInvalidConfig)
	}
	if len(raw) == ed25519.PublicKeySize {
		return ed25519.PublicKey(raw), nil
	}
	key, err := x509.ParsePKIXPublicKey(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: public key: %v", provider.ErrInvalidConfig, err)
	}
	pub, ok := key.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: public key is not Ed25519", provider.ErrInvalidConfig)
	}
	return pub, nil
}

// Sign returns the two header values Telnyx would send for body at time
// t: the base64 Ed25519 signature of "<unix seconds>|<body>" and the
// timestamp.
func Sign(key ed25519.PrivateKey, body []byte, t time.Time) (signature, timestamp string) {
	timestamp = strconv.FormatInt(t.Unix(), 10)
	return base64.StdEncoding.EncodeToString(ed25519.Sign(key, signedMessage(timestamp, body))), timestamp
}

func signedMessage(timestamp string, body []byte) []byte {
	msg := make([]byte, 0, len(timestamp)+1+len(body))
	msg = append(msg, timestamp...)
	msg = append(msg, '|')
	return append(msg, body...)
}

// VerifySignature checks a Telnyx webhook signature. The timestamp is
// checked after the signature, so a forged request reports
// ErrBadSignature and only a genuine but old one ErrStaleTimestamp.
func VerifySignature(key ed25519.PublicKey, signature, timestamp string, body []byte, now time.Time, tolerance time.Duration) error {
	if len(key) != ed25519.PublicKeySize {
		return provider.ErrNoSecret
	}
	if signature == "" {
		return provider.ErrMissingSignature
	}
	if timestamp == "" {
		return provider.ErrMissingTimestamp
	}
	sig, err := base64.StdEncoding.DecodeString(signature)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return provider.ErrMalformedSignature
	}
	unix, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return provider.ErrMalformedSignature
	}
	if !ed25519.Verify(key, signedMessage(timestamp, body), sig) {
		return provider.ErrBadSignature
	}
	// Whole seconds, as Telnyx's SDKs compare them (|floor(now) − t| >
	// tolerance), so a request they accept at the edge is accepted here.
	secs := int64(tolerance / time.Second)
	if unix < now.Unix()-secs || unix > now.Unix()+secs {
		return provider.ErrStaleTimestamp
	}
	return nil
}
