package telnyx

import (
	"bytes"
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

	"github.com/attriqs/calltrack/phone"
	"github.com/attriqs/calltrack/provider"
)

// Application is the kind of Telnyx application a number is attached to.
// It decides what can keep callers reaching the business while this
// application is down (see the package documentation, "Fail-safe").
type Application string

const (
	// TeXMLApplication: Telnyx fetches TeXML from the application's voice
	// URL, and from its voice fallback URL when the voice URL fails.
	TeXMLApplication Application = "texml"
	// CallControlApplication: Telnyx parks each call, sends webhooks and
	// waits for commands (Call Control, "Voice API").
	CallControlApplication Application = "call_control"
)

// NumberClientConfig configures a NumberClient.
type NumberClientConfig struct {
	// APIKey is a v2 API key (Bearer). Required.
	APIKey string
	// ConnectionID is the Call Control or TeXML application the numbers
	// are attached to; its webhook URL receives the calls. Required.
	ConnectionID string
	// Application says what ConnectionID is: TeXMLApplication or
	// CallControlApplication. Required, because the fail-safe differs: a
	// TeXML application's voice fallback URL, which Telnyx fetches when
	// the voice URL fails, against nothing that Telnyx does by itself for
	// a Call Control application.
	Application Application
	// FailoverWebhookURL is for Call Control applications only: where
	// Telnyx sends a webhook the application's own URL did not take (its
	// webhook_event_failover_url). It must be a second deployment of this
	// application (another host or region, on the same store), since a
	// Call Control call moves only by command. Empty leaves the
	// application's failover URL as it is.
	FailoverWebhookURL string
	// BaseURL defaults to DefaultAPIBaseURL.
	BaseURL string
	// HTTPClient defaults to a client with a 30 s timeout.
	HTTPClient *http.Client
	// OrderPollInterval is the pause between reads of a pending number
	// order; default 1 s. OrderPolls bounds them; default 30.
	OrderPollInterval time.Duration
	OrderPolls        int
}

// NumberClient provisions tracking numbers through Telnyx's REST API v2.
// Webhooks are not set per number at Telnyx: a number is attached to an
// application (ConnectionID) whose webhook URL receives its calls, so
// BuyOptions.VoiceURL and StatusCallbackURL are the application's, set
// once in the portal. The fail-safe depends on the application
// (NumberClientConfig.Application): a TeXML application's voice fallback
// URL serving [FallbackDocument] (BuyOptions.FallbackURL, required), and
// on every number call forwarding on failure to BuyOptions.FallbackTo.
// A Call Control application has no static fallback: see the package
// documentation, "Fail-safe".
type NumberClient struct{ cfg NumberClientConfig }

var _ provider.Provisioner = (*NumberClient)(nil)

// NewNumberClient validates cfg, naming every missing field at once.
func NewNumberClient(cfg NumberClientConfig) (*NumberClient, error) {
	var errs []error
	if cfg.APIKey == "" {
		errs = append(errs, errors.New("field APIKey: required"))
	}
	if cfg.ConnectionID == "" {
		errs = append(errs, errors.New("field ConnectionID: required (the application whose webhook receives the calls)"))
	}
	switch cfg.Application {
	case TeXMLApplication, CallControlApplication:
	case "":
		errs = append(errs, fmt.Errorf("field Application: required: %q or %q, what ConnectionID is (it decides the fail-safe)", TeXMLApplication, CallControlApplication))
	default:
		errs = append(errs, fmt.Errorf("field Application: %q is neither %q nor %q", cfg.Application, TeXMLApplication, CallControlApplication))
	}
	if cfg.FailoverWebhookURL != "" {
		if cfg.Application != CallControlApplication {
			errs = append(errs, errors.New("field FailoverWebhookURL: only a Call Control application has a webhook failover URL (a TeXML application's fail-safe is BuyOptions.FallbackURL)"))
		} else if !provider.WebURL(cfg.FailoverWebhookURL) {
			errs = append(errs, fmt.Errorf("field FailoverWebhookURL: %q is not an absolute http(s) URL", cfg.FailoverWebhookURL))
		}
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultAPIBaseURL
	} else if u, err := url.Parse(cfg.BaseURL); err != nil || u.Scheme == "" || u.Host == "" {
		errs = append(errs, fmt.Errorf("field BaseURL: %q is not an absolute URL", cfg.BaseURL))
	}
	if cfg.OrderPollInterval < 0 || cfg.OrderPolls < 0 {
		errs = append(errs, errors.New("field OrderPollInterval, OrderPolls: must not be negative"))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %w", provider.ErrInvalidConfig, errors.Join(errs...))
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.OrderPollInterval == 0 {
		cfg.OrderPollInterval = time.Second
	}
	if cfg.OrderPolls == 0 {
		cfg.OrderPolls = 30
	}
	return &NumberClient{cfg: cfg}, nil
}

// APIError is a refusal from Telnyx's API (an answer other than 2xx),
// to a number request or a Call Control command. Its text has no
// "telnyx:" prefix: the package returns it wrapped in an error that
// says "telnyx:" already.
type APIError struct {
	Status int
	Codes  []string // errors[].code
	Detail string
}

func (e *APIError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.Status, e.Detail) }

// SearchNumbers lists numbers for sale with voice
// (GET /available_phone_numbers).
func (c *NumberClient) SearchNumbers(ctx context.Context, q provider.NumberQuery) ([]provider.AvailableNumber, error) {
	v := url.Values{}
	country := q.Country
	if country == "" {
		country = "US"
	}
	v.Set("filter[country_code]", country)
	v.Set("filter[features][]", "voice")
	if q.AreaCode != "" {
		v.Set("filter[national_destination_code]", q.AreaCode)
	}
	if q.Contains != "" {
		v.Set("filter[phone_number][contains]", q.Contains)
	}
	if q.Limit > 0 {
		v.Set("filter[limit]", strconv.Itoa(q.Limit))
	}
	var out struct {
		Data []struct {
			PhoneNumber       string `json:"phone_number"`
			RegionInformation []struct {
				RegionType string `json:"region_type"`
				RegionName string `json:"region_name"`
			} `json:"region_information"`
		} `json:"data"`
	}
	if err := c.do(ctx, http.MethodGet, "/available_phone_numbers?"+v.Encode(), nil, &out); err != nil {
		return nil, fmt.Errorf("telnyx: search numbers: %w", err)
	}
	nums := make([]provider.AvailableNumber, 0, len(out.Data))
	for _, d := range out.Data {
		n := provider.AvailableNumber{Number: phone.Normalize(d.PhoneNumber, ""), Country: country}
		for _, r := range d.RegionInformation {
			switch r.RegionType {
			case "location", "rate_center":
				if n.Locality == "" {
					n.Locality = r.RegionName
				}
			case "state":
				n.Region = r.RegionName
			case "country_code":
				n.Country = r.RegionName
			}
		}
		if n.Number != "" {
			nums = append(nums, n)
		}
	}
	return nums, nil
}

// numberOrder is the part of a number order calltrack reads.
type numberOrder struct {
	ID           string `json:"id"`
	Status       string `json:"status"` // pending, success, failure
	PhoneNumbers []struct {
		PhoneNumber string `json:"phone_number"`
		Status      string `json:"status"`
	} `json:"phone_numbers"`
}

// BuyNumber orders number on the application (POST /number_orders),
// waits for the order to leave "pending" (GET /number_orders/{id}),
// finds the bought number's id and sets its fail-safe through
// ConfigureNumber. opts.FallbackTo is required.
func (c *NumberClient) BuyNumber(ctx context.Context, number string, opts provider.BuyOptions) (provider.OwnedNumber, error) {
	if err := c.checkOptions(opts); err != nil {
		return provider.OwnedNumber{}, err
	}
	body := map[string]any{
		"phone_numbers": []map[string]string{{"phone_number": number}},
		"connection_id": c.cfg.ConnectionID,
	}
	if opts.FriendlyName != "" {
		body["customer_reference"] = opts.FriendlyName
	}
	var created struct {
		Data numberOrder `json:"data"`
	}
	if err := c.do(ctx, http.MethodPost, "/number_orders", body, &created); err != nil {
		return provider.OwnedNumber{}, fmt.Errorf("telnyx: order %s: %w", number, err)
	}
	order := created.Data
	for poll := 0; order.Status == "pending"; poll++ {
		if poll == c.cfg.OrderPolls {
			return provider.OwnedNumber{}, fmt.Errorf("telnyx: order %s for %s still pending after %d reads", order.ID, number, poll)
		}
		if err := sleep(ctx, c.cfg.OrderPollInterval); err != nil {
			return provider.OwnedNumber{}, fmt.Errorf("telnyx: order %s: %w", order.ID, err)
		}
		var got struct {
			Data numberOrder `json:"data"`
		}
		if err := c.do(ctx, http.MethodGet, "/number_orders/"+url.PathEscape(order.ID), nil, &got); err != nil {
			return provider.OwnedNumber{}, fmt.Errorf("telnyx: order %s: %w", order.ID, err)
		}
		order = got.Data
	}
	if order.Status != "success" {
		return provider.OwnedNumber{}, fmt.Errorf("telnyx: order %s for %s ended %q", order.ID, number, order.Status)
	}
	owned, err := c.findNumber(ctx, number)
	if err != nil {
		return provider.OwnedNumber{}, err
	}
	if err := c.ConfigureNumber(ctx, owned.ID, opts); err != nil {
		return owned, err
	}
	return owned, nil
}

// checkOptions checks opts before anything is sent. A TeXML application
// needs FallbackURL (its voice fallback URL, serving FallbackDocument); a
// Call Control application ignores what its webhook answers, so a
// document there could forward nobody and FallbackURL is refused rather
// than silently dropped.
func (c *NumberClient) checkOptions(opts provider.BuyOptions) error {
	err := opts.Validate(c.cfg.Application == TeXMLApplication)
	if c.cfg.Application == CallControlApplication && opts.FallbackURL != "" {
		err = errors.Join(err, fmt.Errorf("%w: field FallbackURL: a Call Control application ignores what its webhook answers, so no document at %q can forward its calls; leave FallbackURL empty (NumberClientConfig.FailoverWebhookURL names a second deployment instead, and the number's forward on failure to FallbackTo is set either way)",
			provider.ErrInvalidConfig, opts.FallbackURL))
	}
	return err
}

// ConfigureNumber sets the application's fail-safe, attaches the number
// to the application (PATCH /phone_numbers/{id}) and turns on call
// forwarding to opts.FallbackTo on failure (PATCH
// /phone_numbers/{id}/voice).
//
// The application's fail-safe: for a TeXML application its
// voice_fallback_url becomes opts.FallbackURL (PATCH
// /texml_applications/{id}, after reading the name and voice URL that
// Telnyx requires in the same request); for a Call Control application
// its webhook_event_failover_url becomes
// NumberClientConfig.FailoverWebhookURL when that is set (PATCH
// /call_control_applications/{id}). Either is one setting for every
// number on the application: the last value given wins. A setting that
// already has the value is not written again.
//
// The forward on failure is a second layer: Telnyx documents it as firing
// when a call cannot be delivered to the number's connection, not when
// an application's webhook fails.
func (c *NumberClient) ConfigureNumber(ctx context.Context, id string, opts provider.BuyOptions) error {
	if err := c.checkOptions(opts); err != nil {
		return err
	}
	if err := c.setApplicationFallback(ctx, opts); err != nil {
		return err
	}
	settings := map[string]any{"connection_id": c.cfg.ConnectionID}
	if opts.FriendlyName != "" {
		settings["customer_reference"] = opts.FriendlyName
	}
	path := "/phone_numbers/" + url.PathEscape(id)
	if err := c.do(ctx, http.MethodPatch, path, settings, nil); err != nil {
		return fmt.Errorf("telnyx: configure number %s: %w", id, err)
	}
	voice := map[string]any{"call_forwarding": map[string]any{
		"call_forwarding_enabled": true,
		"forwards_to":             opts.FallbackTo,
		"forwarding_type":         "on-failure",
	}}
	if err := c.do(ctx, http.MethodPatch, path+"/voice", voice, nil); err != nil {
		return fmt.Errorf("telnyx: set the forward on failure of number %s: %w", id, err)
	}
	return nil
}

// setApplicationFallback points the application's own fallback where
// NumberClientConfig.Application says it can go.
func (c *NumberClient) setApplicationFallback(ctx context.Context, opts provider.BuyOptions) error {
	switch c.cfg.Application {
	case TeXMLApplication:
		return c.setTeXMLFallback(ctx, opts)
	case CallControlApplication:
		if c.cfg.FailoverWebhookURL == "" {
			return nil
		}
		return c.setCallControlFailover(ctx)
	}
	return nil
}

// texmlApplication is the part of a TeXML application that an update
// must carry: friendly_name and voice_url are required by
// PATCH /texml_applications/{id}.
type texmlApplication struct {
	FriendlyName     string `json:"friendly_name"`
	VoiceURL         string `json:"voice_url"`
	VoiceFallbackURL string `json:"voice_fallback_url"`
}

func (c *NumberClient) setTeXMLFallback(ctx context.Context, opts provider.BuyOptions) error {
	path := "/texml_applications/" + url.PathEscape(c.cfg.ConnectionID)
	var got struct {
		Data texmlApplication `json:"data"`
	}
	if err := c.do(ctx, http.MethodGet, path, nil, &got); err != nil {
		return fmt.Errorf("telnyx: read TeXML application %s (NumberClientConfig.ConnectionID): %w", c.cfg.ConnectionID, err)
	}
	app := got.Data
	if app.VoiceFallbackURL == opts.FallbackURL {
		return nil
	}
	if app.VoiceURL == "" {
		app.VoiceURL = opts.VoiceURL
	}
	if app.VoiceURL == "" {
		return fmt.Errorf("%w: field VoiceURL: TeXML application %s has no voice URL and BuyOptions.VoiceURL is empty; Telnyx needs one to set the voice fallback URL", provider.ErrInvalidConfig, c.cfg.ConnectionID)
	}
	app.VoiceFallbackURL = opts.FallbackURL
	if err := c.do(ctx, http.MethodPatch, path, app, nil); err != nil {
		return fmt.Errorf("telnyx: set the voice fallback URL of TeXML application %s: %w", c.cfg.ConnectionID, err)
	}
	return nil
}

// callControlApplication is the part of a Call Control application that
// an update must carry: application_name and webhook_event_url are
// required by PATCH /call_control_applications/{id}.
type callControlApplication struct {
	ApplicationName         string `json:"application_name"`
	WebhookEventURL         string `json:"webhook_event_url"`
	WebhookEventFailoverURL string `json:"webhook_event_failover_url"`
}

func (c *NumberClient) setCallControlFailover(ctx context.Context) error {
	path := "/call_control_applications/" + url.PathEscape(c.cfg.ConnectionID)
	var got struct {
		Data callControlApplication `json:"data"`
	}
	if err := c.do(ctx, http.MethodGet, path, nil, &got); err != nil {
		return fmt.Errorf("telnyx: read Call Control application %s (NumberClientConfig.ConnectionID): %w", c.cfg.ConnectionID, err)
	}
	app := got.Data
	if app.WebhookEventFailoverURL == c.cfg.FailoverWebhookURL {
		return nil
	}
	app.WebhookEventFailoverURL = c.cfg.FailoverWebhookURL
	if err := c.do(ctx, http.MethodPatch, path, app, nil); err != nil {
		return fmt.Errorf("telnyx: set the webhook failover URL of Call Control application %s: %w", c.cfg.ConnectionID, err)
	}
	return nil
}

type ownedNumber struct {
	ID          string    `json:"id"`
	PhoneNumber string    `json:"phone_number"`
	CreatedAt   time.Time `json:"created_at"`
}

func (n ownedNumber) owned() provider.OwnedNumber {
	return provider.OwnedNumber{ID: n.ID, Number: phone.Normalize(n.PhoneNumber, ""), CreatedAt: n.CreatedAt}
}

type numberPage struct {
	Data []ownedNumber `json:"data"`
	Meta struct {
		TotalPages int `json:"total_pages"`
		PageNumber int `json:"page_number"`
	} `json:"meta"`
}

func (c *NumberClient) findNumber(ctx context.Context, number string) (provider.OwnedNumber, error) {
	var page numberPage
	q := url.Values{"filter[phone_number]": {number}}
	if err := c.do(ctx, http.MethodGet, "/phone_numbers?"+q.Encode(), nil, &page); err != nil {
		return provider.OwnedNumber{}, fmt.Errorf("telnyx: find bought number %s: %w", number, err)
	}
	for _, n := range page.Data {
		if n.PhoneNumber == number {
			return n.owned(), nil
		}
	}
	return provider.OwnedNumber{}, fmt.Errorf("telnyx: bought number %s is not listed on the account", number)
}

// listPageSize is the page size ListNumbers asks for (Telnyx's maximum).
const listPageSize = 250

// ListNumbers returns every number on the account, page by page
// (GET /phone_numbers, page[number], page[size]; meta.total_pages).
func (c *NumberClient) ListNumbers(ctx context.Context) ([]provider.OwnedNumber, error) {
	var all []provider.OwnedNumber
	for n := 1; ; n++ {
		q := url.Values{"page[number]": {strconv.Itoa(n)}, "page[size]": {strconv.Itoa(listPageSize)}}
		var page numberPage
		if err := c.do(ctx, http.MethodGet, "/phone_numbers?"+q.Encode(), nil, &page); err != nil {
			return nil, fmt.Errorf("telnyx: list numbers (page %d): %w", n, err)
		}
		for _, num := range page.Data {
			all = append(all, num.owned())
		}
		if n >= page.Meta.TotalPages || len(page.Data) == 0 {
			return all, nil
		}
	}
}

// ReleaseNumber deletes the number (DELETE /phone_numbers/{id}); a number
// already gone (404) is released.
func (c *NumberClient) ReleaseNumber(ctx context.Context, id string) error {
	err := c.do(ctx, http.MethodDelete, "/phone_numbers/"+url.PathEscape(id), nil, nil)
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound {
		return nil
	}
	if err != nil {
		return fmt.Errorf("telnyx: release number %s: %w", id, err)
	}
	return nil
}

func (c *NumberClient) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.cfg.BaseURL, "/")+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.cfg.APIKey)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		codes, text := apiErrors(data)
		return &APIError{Status: resp.StatusCode, Codes: codes, Detail: text}
	}
	if out == nil || len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%w: %v", provider.ErrMalformedPayload, err)
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
