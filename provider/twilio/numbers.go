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

// NumberClientConfig configures a NumberClient.
type NumberClientConfig struct {
	AccountSID string // required
	AuthToken  string // required
	// APIBase defaults to DefaultAPIBase; tests point it at httptest.
	APIBase string
	// HTTPClient defaults to a client with a 15 s timeout.
	HTTPClient *http.Client
}

// NumberClient implements provider.NumberProvisioner against Twilio's
// AvailablePhoneNumbers and IncomingPhoneNumbers resources.
type NumberClient struct {
	cfg NumberClientConfig
}

var _ provider.NumberProvisioner = (*NumberClient)(nil)

// NewNumberClient validates cfg.
func NewNumberClient(cfg NumberClientConfig) (*NumberClient, error) {
	var errs []error
	if cfg.AccountSID == "" {
		errs = append(errs, errors.New("field AccountSID: required"))
	}
	if cfg.AuthToken == "" {
		errs = append(errs, errors.New("field AuthToken: required"))
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
	path := c.accountPath() + "/AvailablePhoneNumbers/" + url.PathEscape(strings.ToUpper(country)) + "/Local.json?" + params.Encode()
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

// BuyNumber purchases number and points its voice webhook and status
// callback at opts' URLs (POST).
func (c *NumberClient) BuyNumber(ctx context.Context, number string, opts provider.BuyOptions) (provider.OwnedNumber, error) {
	form := url.Values{"PhoneNumber": {number}}
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
	var got incomingNumber
	if err := c.do(ctx, http.MethodPost, c.accountPath()+"/IncomingPhoneNumbers.json", form, &got); err != nil {
		return provider.OwnedNumber{}, err
	}
	owned := provider.OwnedNumber{ID: got.SID, Number: got.PhoneNumber}
	if t, err := time.Parse(time.RFC1123Z, got.DateCreated); err == nil {
		owned.CreatedAt = t.UTC()
	}
	return owned, nil
}

// ReleaseNumber deletes the IncomingPhoneNumber id (a PN... sid). A number
// that is already gone (404) is not an error.
func (c *NumberClient) ReleaseNumber(ctx context.Context, id string) error {
	if id == "" {
		return fmt.Errorf("%w: number id is required", provider.ErrInvalidConfig)
	}
	err := c.do(ctx, http.MethodDelete, c.accountPath()+"/IncomingPhoneNumbers/"+url.PathEscape(id)+".json", nil, nil)
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.HTTPStatus == http.StatusNotFound {
		return nil
	}
	return err
}

func (c *NumberClient) accountPath() string {
	return "/2010-04-01/Accounts/" + url.PathEscape(c.cfg.AccountSID)
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
		return fmt.Errorf("twilio: %s %s: decoding answer: %w", method, path, err)
	}
	return nil
}
