package signalwire

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/provider/twilio"
)

// NumberClientConfig configures a NumberClient.
type NumberClientConfig struct {
	// Space is the project's Space name: "example" for
	// example.signalwire.com. Required unless APIBase is set.
	Space string
	// ProjectID and APIToken authenticate (HTTP Basic). Required.
	ProjectID string
	APIToken  string
	// APIBase overrides https://{Space}.signalwire.com/api/laml; tests
	// point it at httptest.
	APIBase string
	// HTTPClient defaults to a client with a 15 s timeout.
	HTTPClient *http.Client
}

// NumberClient is provider.Provisioner over SignalWire's Compatibility
// REST API, which serves Twilio's AvailablePhoneNumbers and
// IncomingPhoneNumbers resources, parameters (VoiceFallbackUrl included)
// and answers under /api/laml/2010-04-01/Accounts/{ProjectID}: Twilio's
// client with another base. Without BuyOptions.FallbackURL the fail-safe
// is Twilio's Forward twimlet, a static TwiML document SignalWire fetches
// like any other; host [twilio.FallbackDocument] yourself to depend on
// neither.
type NumberClient = twilio.NumberClient

// NewNumberClient validates cfg, naming every problem at once.
func NewNumberClient(cfg NumberClientConfig) (*NumberClient, error) {
	var errs []error
	if cfg.Space == "" && cfg.APIBase == "" {
		errs = append(errs, errors.New("field Space: required (the project's Space, as in example.signalwire.com)"))
	} else if strings.ContainsAny(cfg.Space, "./:?#@ ") {
		errs = append(errs, fmt.Errorf("field Space: %q is a Space name, not a host or URL", cfg.Space))
	}
	if cfg.ProjectID == "" {
		errs = append(errs, errors.New("field ProjectID: required"))
	}
	if cfg.APIToken == "" {
		errs = append(errs, errors.New("field APIToken: required"))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %w", provider.ErrInvalidConfig, errors.Join(errs...))
	}
	base := cfg.APIBase
	if base == "" {
		base = "https://" + cfg.Space + ".signalwire.com/api/laml"
	}
	return twilio.NewNumberClient(twilio.NumberClientConfig{AccountSID: cfg.ProjectID, AuthToken: cfg.APIToken, APIBase: base, HTTPClient: cfg.HTTPClient})
}
