package signalwire

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"net/http"

	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/provider/twilio"
)

// Name is the provider name in CallEvents.
const Name = "signalwire"

// SignatureHeader is SignalWire's own signature header.
const SignatureHeader = "X-SignalWire-Signature"

// Config configures a Provider.
type Config struct {
	// SigningKey is the project's Signing Key. Required.
	SigningKey string
	// DefaultRegion reads numbers without a country code; see twilio.Config.
	DefaultRegion string
	// HTTPClient fetches recordings; see twilio.Config.
	HTTPClient *http.Client
}

// Provider is a Twilio-dialect provider under SignalWire's name, header,
// key and verification.
type Provider = twilio.Provider

// New returns a SignalWire provider.
func New(cfg Config) (*Provider, error) {
	key := cfg.SigningKey
	return twilio.NewCompatible(twilio.Compatible{
		Name:    Name,
		Headers: []string{SignatureHeader, twilio.SignatureHeader},
		Verify:  func(r *provider.Request) error { return Verify(key, r) },
		// SignalWire documents answering-machine detection for calls it
		// places, not on cXML <Number>.
		NoVoicemailDetection: true,
	}, twilio.Config{AuthToken: cfg.SigningKey, DefaultRegion: cfg.DefaultRegion, HTTPClient: cfg.HTTPClient})
}

// Verify checks a webhook as SignalWire's SDKs do: the signature is
// X-SignalWire-Signature, or X-Twilio-Signature when that is absent. It
// is accepted when it is hex(HMAC-SHA1(signing key, URL + raw body)),
// SignalWire's own scheme (the RELAY SDK's WebAPI.validateRequest), and
// otherwise checked as the compatibility SDK does (see
// [twilio.ValidateCompatRequest]).
func Verify(signingKey string, r *provider.Request) error {
	if signingKey == "" {
		return provider.ErrNoSecret
	}
	sig := r.Header.Get(SignatureHeader)
	if sig == "" {
		sig = r.Header.Get(twilio.SignatureHeader)
	}
	if sig == "" {
		return provider.ErrMissingSignature
	}
	got, err := hex.DecodeString(sig)
	own := err == nil && len(got) == sha1.Size
	if own && hmac.Equal(got, signBody(signingKey, r.URL, r.Body)) {
		return nil
	}
	err = twilio.ValidateCompatRequest(signingKey, r, sig)
	if own && errors.Is(err, provider.ErrMalformedSignature) {
		// A well-formed signature of SignalWire's own scheme that does not
		// match.
		return provider.ErrBadSignature
	}
	return err
}

// SignBody computes SignalWire's own signature for a request to fullURL
// with body: hex(HMAC-SHA1(signingKey, fullURL + body)).
func SignBody(signingKey, fullURL string, body []byte) string {
	return hex.EncodeToString(signBody(signingKey, fullURL, body))
}

func signBody(signingKey, fullURL string, body []byte) []byte {
	m := hmac.New(sha1.New, []byte(signingKey))
	m.Write([]byte(fullURL))
	m.Write(body)
	return m.Sum(nil)
}

// Sign computes the compatibility signature for form params, a repeated
// parameter's values in the order sent; see twilio.SignAsSent.
var Sign = twilio.SignAsSent
