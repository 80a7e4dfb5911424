package signalwire

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/provider/twilio"
)

// NumberClientConfig configures a NumberClient.
type NumberClientConfig struct {
	// Space is the project's Space name: "example" for
	// example.signalwire.com. Required unless APIBase is set.
	Space string
	// ProjectID and APIToken authenticate (HTTP Basic). Required. The
	// token needs the Numbers scope, and Voice for the fail-safe's LaML
	// Bin.
	ProjectID string
	APIToken  string
	// APIBase overrides https://{Space}.signalwire.com/api/laml; tests
	// point it at httptest.
	APIBase string
	// HTTPClient defaults to a client with a 15 s timeout.
	HTTPClient *http.Client
}

// NumberClient implements provider.Provisioner over SignalWire's
// Compatibility REST API, under /api/laml/2010-04-01/Accounts/{ProjectID}.
// Numbers are searched, bought, configured, listed and released through
// the AvailablePhoneNumbers and IncomingPhoneNumbers resources, which take
// Twilio's parameters and answer in Twilio's shapes, so those calls are
// twilio.NumberClient's over another base. The fail-safe is SignalWire's
// own: without BuyOptions.FallbackURL, VoiceFallbackUrl is the request URL
// of a LaML Bin that forwards to the business line (see the package's
// Fail-safe section), never a Twilio service.
type NumberClient struct {
	numbers *twilio.NumberClient
}

var _ provider.Provisioner = (*NumberClient)(nil)

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
	if cfg.APIBase != "" {
		if u, err := url.Parse(cfg.APIBase); err != nil || u.Scheme == "" || u.Host == "" {
			errs = append(errs, fmt.Errorf("field APIBase: %q is not an absolute URL", cfg.APIBase))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %w", provider.ErrInvalidConfig, errors.Join(errs...))
	}
	if cfg.APIBase == "" {
		cfg.APIBase = "https://" + cfg.Space + ".signalwire.com/api/laml"
	}
	numbers, err := twilio.NewNumberClient(twilio.NumberClientConfig{AccountSID: cfg.ProjectID, AuthToken: cfg.APIToken, APIBase: cfg.APIBase, HTTPClient: cfg.HTTPClient})
	if err != nil {
		return nil, err
	}
	return &NumberClient{numbers: numbers}, nil
}

// SearchNumbers lists local voice numbers for sale
// (AvailablePhoneNumbers/{country}/Local).
func (c *NumberClient) SearchNumbers(ctx context.Context, q provider.NumberQuery) ([]provider.AvailableNumber, error) {
	return c.numbers.SearchNumbers(ctx, q)
}

// BuyNumber buys number (POST IncomingPhoneNumbers) with its voice
// webhook, status callback and fail-safe set; see
// [NumberClient.ConfigureNumber].
func (c *NumberClient) BuyNumber(ctx context.Context, number string, opts provider.BuyOptions) (provider.OwnedNumber, error) {
	opts, err := c.failSafe(ctx, opts)
	if err != nil {
		return provider.OwnedNumber{}, err
	}
	return c.numbers.BuyNumber(ctx, number, opts)
}

// ConfigureNumber points the owned number id (its sid) at opts' URLs
// (POST) and sets its fail-safe, VoiceFallbackUrl (GET): opts.FallbackURL,
// or without one the forward's LaML Bin.
func (c *NumberClient) ConfigureNumber(ctx context.Context, id string, opts provider.BuyOptions) error {
	if id == "" {
		return fmt.Errorf("%w: field id: the number's sid is required", provider.ErrInvalidConfig)
	}
	opts, err := c.failSafe(ctx, opts)
	if err != nil {
		return err
	}
	return c.numbers.ConfigureNumber(ctx, id, opts)
}

// ListNumbers returns every IncomingPhoneNumber of the project, following
// next_page_uri.
func (c *NumberClient) ListNumbers(ctx context.Context) ([]provider.OwnedNumber, error) {
	return c.numbers.ListNumbers(ctx)
}

// ReleaseNumber deletes the IncomingPhoneNumber id (its sid); one already
// gone (404) is not an error. The forward's LaML Bin stays: other numbers
// forwarding to the same business line use it.
func (c *NumberClient) ReleaseNumber(ctx context.Context, id string) error {
	return c.numbers.ReleaseNumber(ctx, id)
}

// FallbackDocument renders the static cXML (TwiML's dialect) that
// forwards a caller to to, the business line: what the fail-safe's LaML
// Bin holds, and what to host when giving BuyOptions.FallbackURL.
func FallbackDocument(to string) ([]byte, error) {
	return twilio.FallbackDocument(to)
}

// BinPrefix begins the name of every LaML Bin the NumberClient makes; the
// business line's digits follow ("calltrack-fallback-12125550123").
const BinPrefix = "calltrack-fallback-"

// failSafe returns opts with FallbackURL set: opts' own, or the request
// URL of the LaML Bin forwarding to opts.FallbackTo. Unusable options are
// refused before any request.
func (c *NumberClient) failSafe(ctx context.Context, opts provider.BuyOptions) (provider.BuyOptions, error) {
	if err := opts.Validate(false); err != nil {
		return opts, err
	}
	if opts.FallbackURL != "" {
		return opts, nil
	}
	doc, err := FallbackDocument(opts.FallbackTo)
	if err != nil {
		return opts, fmt.Errorf("%w: field FallbackTo: %w", provider.ErrInvalidConfig, err)
	}
	u, err := c.fallbackBin(ctx, BinPrefix+strings.TrimPrefix(opts.FallbackTo, "+"), string(doc))
	if err != nil {
		return opts, err
	}
	opts.FallbackURL = u
	return opts, nil
}

// ErrUnexpectedAnswer: the Compatibility API answered with success but
// not in the documented shape (a LaML Bin without a usable request_url,
// JSON that does not decode).
var ErrUnexpectedAnswer = errors.New("signalwire: unexpected API answer")

// lamlBin is a LaML (cXML) Bin as the LamlBins resource answers it.
type lamlBin struct {
	SID        string `json:"sid"`
	Name       string `json:"name"`
	Contents   string `json:"contents"`
	RequestURL string `json:"request_url"`
}

// maxBinPages bounds the search for a bin against an API that never stops
// paging.
const maxBinPages = 100

// fallbackBin finds the bin called name (GET LamlBins?Name=, which
// matches substrings, so the name is compared whole), sets its contents
// to doc when they differ (POST LamlBins/{sid}), or creates it (POST
// LamlBins), and returns its request URL. Bins are shared by every
// number forwarding to one business line, and a bin whose contents are
// doc already is left as it is, so configuring again writes nothing.
func (c *NumberClient) fallbackBin(ctx context.Context, name, doc string) (string, error) {
	bins := c.numbers.AccountPath() + "/LamlBins"
	next := bins + "?" + url.Values{"Name": {name}}.Encode()
	var found *lamlBin
	for range maxBinPages {
		var page struct {
			Bins []lamlBin `json:"laml_bins"`
			Meta struct {
				NextPageURL string `json:"next_page_url"`
			} `json:"meta"`
		}
		if err := c.do(ctx, http.MethodGet, next, nil, &page); err != nil {
			return "", fmt.Errorf("signalwire: fail-safe: finding LaML Bin %q: %w", name, err)
		}
		for i := range page.Bins {
			if page.Bins[i].Name == name {
				found = &page.Bins[i]
				break
			}
		}
		if found != nil || page.Meta.NextPageURL == "" || len(page.Bins) == 0 {
			break
		}
		next = page.Meta.NextPageURL
	}
	bin := found
	switch {
	case found == nil:
		bin = &lamlBin{}
		if err := c.do(ctx, http.MethodPost, bins, url.Values{"Name": {name}, "Contents": {doc}}, bin); err != nil {
			return "", fmt.Errorf("signalwire: fail-safe: creating LaML Bin %q: %w", name, err)
		}
	case found.Contents != doc:
		bin = &lamlBin{}
		if err := c.do(ctx, http.MethodPost, bins+"/"+url.PathEscape(found.SID), url.Values{"Contents": {doc}}, bin); err != nil {
			return "", fmt.Errorf("signalwire: fail-safe: updating LaML Bin %q (%s): %w", name, found.SID, err)
		}
		if bin.RequestURL == "" {
			bin.RequestURL = found.RequestURL
		}
	}
	if !provider.WebURL(bin.RequestURL) {
		return "", fmt.Errorf("%w: fail-safe: LaML Bin %q: field request_url: %q is not an absolute http(s) URL", ErrUnexpectedAnswer, name, bin.RequestURL)
	}
	return bin.RequestURL, nil
}

// do sends one Compatibility API request through the twilio client (see
// [twilio.NumberClient.Do]): path is under APIBase, or a next_page_url.
// An error answer is a *twilio.APIError, the shape SignalWire copies; a
// success that does not decode is ErrUnexpectedAnswer.
func (c *NumberClient) do(ctx context.Context, method, path string, form url.Values, out any) error {
	err := c.numbers.Do(ctx, method, path, form, out)
	if errors.Is(err, twilio.ErrUndecodableAnswer) {
		return fmt.Errorf("%w: %w", ErrUnexpectedAnswer, err)
	}
	return err
}
