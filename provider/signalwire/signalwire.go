package signalwire

import (
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
}

// Provider is a Twilio-dialect provider under SignalWire's name, header
// and key.
type Provider = twilio.Provider

// New returns a SignalWire provider.
func New(cfg Config) (*Provider, error) {
	return twilio.NewCompatible(Name, []string{SignatureHeader, twilio.SignatureHeader},
		twilio.Config{AuthToken: cfg.SigningKey, DefaultRegion: cfg.DefaultRegion})
}

// Sign computes X-SignalWire-Signature; see twilio.Sign.
var Sign = twilio.Sign
