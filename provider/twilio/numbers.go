package twilio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/attriqs/calltrack/provider"
)

// DefaultAPIBase is Twilio's REST API root.
const DefaultAPIBase = "https://api.twilio.com"

// APIError is an error answer from the Twilio REST API.
type APIError struct {
	HTTPStatus int
	Code       int    `json:"code"`
	Message    string `json:"message"`
	MoreInfo   string `json:"more_info"`
}

func (e *APIError) Error() string {
	return fmt.Sprintf("twilio: API error %d (HTTP %d): %s", e.Code, e.HTTPStatus, e.Message)
}

// ErrUndecodableAnswer: the API answered with success in a body that
// does not decode as the JSON asked for.
var ErrUndecodableAnswer = errors.New("answer does not decode")

// NumberClientConfig configures a NumberClient.
type NumberClientConfig struct {
	AccountSID string // required
	AuthToken  string // required
	// APIBase defaults to DefaultAPIBase; tests point it at httptest.
	APIBase string
	// HTTPClient defaults to a client with a 15 s timeout.
	HTTPClient *http.Client
}

// NumberClient implements provider.Provisioner against Twilio's
// AvailablePhoneNumbers and IncomingPhoneNumbers resources. SignalWire's
// Compatibility API serves the same resources under another base
// (provider/signalwire).
type NumberClient struct {
	cfg NumberClientConfig
}

var _ provider.Provisioner = (*NumberClient)(nil)

// NewNumberClient validates cfg.
func NewNumberClient(cfg NumberClientConfig) (*NumberClient, error) {
	var errs []error
	if cfg.AccountSID == "" {
		errs = append(errs, errors.New("field AccountSID: required"))
	}
	if cfg.AuthToken == "" {
		errs = append(errs, errors.New("field AuthToken: required"))
	}
	if cfg.APIBase != "" {
		if u, err := url.Parse(cfg.APIBase); err != nil || u.Host == "" {
			errs = append(errs, fmt.Errorf("field APIBase: %q is not an absolute URL", cfg.APIBase))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %w", provider.ErrInvalidConfig, errors.Join(errs...))
	}
	if cfg.APIBase == "" {
		cfg.APIBase = DefaultAPIBase
	}
	cfg.APIBase = strings.TrimSuffix(cfg.APIBase, "/")
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	return &NumberClient{cfg: cfg}, nil
}

type availableList struct {
	Numbers []struct {
		PhoneNumber string `json:"phone_number"`
		Locality    string `json:"locality"`
		Region      string `json:"region"`
		ISOCountry  string `json:"iso_country"`
	} `json:"available_phone_numbers"`
}

// SearchNumbers lists local numbers for sale that can take voice calls.
func (c *NumberClient) SearchNumbers(ctx context.Context, q provider.NumberQuery) ([]provider.AvailableNumber, error) {
	country := q.Country
	if country == "" {
		country = "US"
	}
	params := url.Values{"VoiceEnabled": {"true"}}
	if q.AreaCode != "" {
		params.Set("AreaCode", q.AreaCode)
	}
	if q.Contains != "" {
		params.Set("Contains", q.Contains)
	}
	if q.Limit > 0 {
		params.Set("PageSize", strconv.Itoa(q.Limit))
	}
	path := c.AccountPath() + "/AvailablePhoneNumbers/" + url.PathEscape(strings.ToUpper(country)) + "/Local.json?" + params.Encode()
	var list availableList
	if err := c.do(ctx, http.MethodGet, path, nil, &list); err != nil {
		return nil, err
	}
	out := make([]provider.AvailableNumber, 0, len(list.Numbers))
	for _, n := range list.Numbers {
		out = append(out, provider.AvailableNumber{Number: n.PhoneNumber, Locality: n.Locality, Region: n.Region, Country: n.ISOCountry})
	}
	return out, nil
}

type incomingNumber struct {
	SID         string `json:"sid"`
	PhoneNumber string `json:"phone_number"`
	DateCreated string `json:"date_created"`
}

func (n incomingNumber) owned() provider.OwnedNumber {
	owned := provider.OwnedNumber{ID: n.SID, Number: n.PhoneNumber}
	if t, err := time.Parse(time.RFC1123Z, n.DateCreated); err == nil {
		owned.CreatedAt = t.UTC()
	}
	return owned
}

// TwimletForward is Twilio Labs' static forward
// (https://www.twilio.com/labs/twimlets/forward), the fallback used when
// BuyOptions.FallbackURL is empty: Twilio serves it, so it answers when
// this application cannot.
const TwimletForward = "https://twimlets.com/forward"

// numberForm is the IncomingPhoneNumber parameters for opts: the voice
// webhook and status callback (POST) and the fail-safe, VoiceFallbackUrl,
// fetched with GET so that static hosting can serve it.
func numberForm(opts provider.BuyOptions) (url.Values, error) {
	// Without FallbackURL the Forward twimlet is the fail-safe.
	if err := opts.Validate(false); err != nil {
		return nil, err
	}
	fallback := opts.FallbackURL
	if fallback == "" {
		fallback = TwimletForward + "?PhoneNumber=" + url.QueryEscape(opts.FallbackTo)
	}
	form := url.Values{"VoiceFallbackUrl": {fallback}, "VoiceFallbackMethod": {http.MethodGet}}
	if opts.VoiceURL != "" {
		form.Set("VoiceUrl", opts.VoiceURL)
		form.Set("VoiceMethod", http.MethodPost)
	}
	if opts.StatusCallbackURL != "" {
		form.Set("StatusCallback", opts.StatusCallbackURL)
		form.Set("StatusCallbackMethod", http.MethodPost)
	}
	if opts.FriendlyName != "" {
		form.Set("FriendlyName", opts.FriendlyName)
	}
	return form, nil
}

// BuyNumber purchases number with its voice webhook, status callback and
// fail-safe set (see [NumberClient.ConfigureNumber]).
func (c *NumberClient) BuyNumber(ctx context.Context, number string, opts provider.BuyOptions) (provider.OwnedNumber, error) {
	form, err := numberForm(opts)
	if err != nil {
		return provider.OwnedNumber{}, err
	}
	form.Set("PhoneNumber", number)
	var got incomingNumber
	if err := c.do(ctx, http.MethodPost, c.AccountPath()+"/IncomingPhoneNumbers.json", form, &got); err != nil {
		return provider.OwnedNumber{}, err
	}
	return got.owned(), nil
}

// ConfigureNumber points the owned number id (a PN... sid) at opts' URLs
// (POST) and sets its fail-safe: VoiceFallbackUrl is opts.FallbackURL, or
// without one the Forward twimlet to opts.FallbackTo.
func (c *NumberClient) ConfigureNumber(ctx context.Context, id string, opts provider.BuyOptions) error {
	if id == "" {
		return fmt.Errorf("%w: field id: the number's sid is required", provider.ErrInvalidConfig)
	}
	form, err := numberForm(opts)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodPost, c.AccountPath()+"/IncomingPhoneNumbers/"+url.PathEscape(id)+".json", form, nil)
}

type incomingList struct {
	Numbers     []incomingNumber `json:"incoming_phone_numbers"`
	NextPageURI string           `json:"next_page_uri"`
}

// maxPages bounds ListNumbers against an API that never stops paging.
const maxPages = 1000

// ListNumbers returns every IncomingPhoneNumber on the account, following
// next_page_uri.
func (c *NumberClient) ListNumbers(ctx context.Context) ([]provider.OwnedNumber, error) {
	var out []provider.OwnedNumber
	path := c.AccountPath() + "/IncomingPhoneNumbers.json?PageSize=1000"
	for range maxPages {
		var page incomingList
		if err := c.do(ctx, http.MethodGet, path, nil, &page); err != nil {
			return nil, err
		}
		for _, n := range page.Numbers {
			out = append(out, n.owned())
		}
		if page.NextPageURI == "" {
			return out, nil
		}
		path = c.relative(page.NextPageURI)
	}
	return nil, fmt.Errorf("twilio: listing numbers: more than %d pages", maxPages)
}

// relative turns a next_page_uri (rooted at the API host, e.g.
// "/2010-04-01/Accounts/...", or at SignalWire's "/api/laml/...") into a
// path under APIBase. A full URL on APIBase's host (as a meta
// next_page_url is) is taken as its path; one on another host is left
// as it is, which no request can follow.
func (c *NumberClient) relative(uri string) string {
	base, err := url.Parse(c.cfg.APIBase)
	if err != nil {
		return uri
	}
	if u, err := url.Parse(uri); err == nil && u.IsAbs() && u.Scheme == base.Scheme && u.Host == base.Host {
		uri = u.RequestURI()
	}
	if base.Path != "" && strings.HasPrefix(uri, base.Path+"/") {
		return strings.TrimPrefix(uri, base.Path)
	}
	return uri
}

// ReleaseNumber deletes the IncomingPhoneNumber id (a PN... sid). A number
// that is already gone (404) is not an error.
func (c *NumberClient) ReleaseNumber(ctx context.Context, id string) error {
	if id == "" {
		return fmt.Errorf("%w: number id is required", provider.ErrInvalidConfig)
	}
	err := c.do(ctx, http.MethodDelete, c.AccountPath()+"/IncomingPhoneNumbers/"+url.PathEscape(id)+".json", nil, nil)
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.HTTPStatus == http.StatusNotFound {
		return nil
	}
	return err
}

// AccountPath is the account's root under APIBase,
// "/2010-04-01/Accounts/{AccountSID}".
func (c *NumberClient) AccountPath() string {
	return "/2010-04-01/Accounts/" + url.PathEscape(c.cfg.AccountSID)
}

// Do sends one request to the account's REST API, as the NumberClient's
// own calls do: Basic auth, form (when not nil) form-encoded, the JSON
// answer decoded into out (when not nil). path is under APIBase
// (AccountPath()+"/..."), or rooted at the API host or a full URL on it
// (as a next_page_uri or next_page_url is). An error answer is an
// *APIError; a success that does not decode wraps ErrUndecodableAnswer.
// It reaches resources NumberClient does not cover, such as SignalWire's
// LamlBins.
func (c *NumberClient) Do(ctx context.Context, method, path string, form url.Values, out any) error {
	return c.do(ctx, method, c.relative(path), form, out)
}

func (c *NumberClient) do(ctx context.Context, method, path string, form url.Values, out any) error {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, c.cfg.APIBase+path, body)
	if err != nil {
		return err
	}
	req.SetBasicAuth(c.cfg.AccountSID, c.cfg.AuthToken)
	req.Header.Set("Accept", "application/json")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("twilio: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("twilio: %s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		apiErr := &APIError{HTTPStatus: resp.StatusCode}
		if json.Unmarshal(data, apiErr) != nil || apiErr.Message == "" {
			apiErr.Message = strings.TrimSpace(string(data))
		}
		return apiErr
	}
	if out == nil || len(data) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("twilio: %s %s: %w: %w", method, path, ErrUndecodableAnswer, err)
	}
	return nil
}
