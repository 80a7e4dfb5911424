package plivo

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

// DefaultAPIBase is Plivo's REST API root.
const DefaultAPIBase = "https://api.plivo.com"

// appPrefix names the Plivo Application the Provisioner makes for each
// number, so that it only ever changes or deletes its own.
const appPrefix = "calltrack-"

// maxPage is the largest page Plivo's list and search APIs return.
const maxPage = 20

// APIError is an error answer from the Plivo REST API.
type APIError struct {
	HTTPStatus int
	Message    string `json:"error"`
}

func (e *APIError) Error() string {
	return fmt.Sprintf("plivo: API error (HTTP %d): %s", e.HTTPStatus, e.Message)
}

// NumbersConfig configures a Numbers provisioner.
type NumbersConfig struct {
	AuthID    string // required: the account (or sub-account) auth id
	AuthToken string // required
	// APIBase defaults to DefaultAPIBase; tests point it at httptest.
	APIBase string
	// HTTPClient defaults to a client with a 15 s timeout.
	HTTPClient *http.Client
}

// Numbers implements provider.Provisioner against Plivo's PhoneNumber,
// Number and Application resources. Each number it buys gets an
// Application of its own, named "calltrack-<number>", carrying
// answer_url, hangup_url and the fail-safe fallback_answer_url; owned
// numbers are identified by their digits ("14155550100").
type Numbers struct {
	cfg NumbersConfig
}

var _ provider.Provisioner = (*Numbers)(nil)

// NewNumbers validates cfg, reporting every problem at once.
func NewNumbers(cfg NumbersConfig) (*Numbers, error) {
	var errs []error
	if cfg.AuthID == "" {
		errs = append(errs, errors.New("field AuthID: required"))
	}
	if cfg.AuthToken == "" {
		errs = append(errs, errors.New("field AuthToken: required"))
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
		cfg.APIBase = DefaultAPIBase
	}
	cfg.APIBase = strings.TrimSuffix(cfg.APIBase, "/")
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	return &Numbers{cfg: cfg}, nil
}

type page struct {
	Meta struct {
		Next *string `json:"next"`
	} `json:"meta"`
}

type availableList struct {
	page
	Objects []struct {
		Number  string `json:"number"`
		Region  string `json:"region"`
		City    string `json:"city"`
		Country string `json:"country"`
	} `json:"objects"`
}

// SearchNumbers lists voice numbers for sale (GET PhoneNumber/ with
// country_iso and services=voice). AreaCode and Contains become Plivo's
// pattern, which matches numbers starting with the country code and the
// pattern, "*" standing for any digits.
func (n *Numbers) SearchNumbers(ctx context.Context, q provider.NumberQuery) ([]provider.AvailableNumber, error) {
	country := strings.ToUpper(q.Country)
	if country == "" {
		country = "US"
	}
	params := url.Values{"country_iso": {country}, "services": {"voice"}}
	switch {
	case q.AreaCode != "" && q.Contains != "":
		params.Set("pattern", q.AreaCode+"*"+q.Contains)
	case q.AreaCode != "":
		params.Set("pattern", q.AreaCode)
	case q.Contains != "":
		params.Set("pattern", "*"+q.Contains)
	}
	if q.Limit > 0 {
		params.Set("limit", strconv.Itoa(min(q.Limit, maxPage)))
	}
	var list availableList
	if err := n.do(ctx, http.MethodGet, "PhoneNumber/?"+params.Encode(), nil, &list); err != nil {
		return nil, err
	}
	out := make([]provider.AvailableNumber, 0, len(list.Objects))
	for _, o := range list.Objects {
		e164 := phone.Normalize(o.Number, "")
		if e164 == "" {
			continue
		}
		out = append(out, provider.AvailableNumber{Number: e164, Locality: o.City, Region: o.Region, Country: country})
	}
	return out, nil
}

// checkOptions reports every missing or unusable BuyOptions field. Plivo
// has no static forward of its own: the fail-safe is the Application's
// fallback_answer_url, so FallbackURL is required. VoiceURL is required
// too, as every call writes the number's own Application whole: without
// it answer_url would be blanked.
func checkOptions(opts provider.BuyOptions) error {
	err := opts.Validate(true)
	if opts.VoiceURL == "" {
		// Joined with the shared problems, so that every field is named at once.
		missing := errors.New("field VoiceURL: required (the answer_url of the number's Application)")
		if err == nil {
			return fmt.Errorf("%w: %w", provider.ErrInvalidConfig, missing)
		}
		return errors.Join(err, missing)
	}
	return err
}

// appParams are the Application fields the Provisioner sets. The
// fallback_answer_url is fetched with GET (Plivo's fallback_method takes
// GET or POST and defaults to POST): the fail-safe document sits on static
// hosting, and object stores and CDNs commonly refuse POST.
func appParams(number string, opts provider.BuyOptions) map[string]any {
	hangup := opts.StatusCallbackURL
	if hangup == "" {
		hangup = opts.VoiceURL // the Handler serves both at one URL
	}
	return map[string]any{
		"app_name":            appPrefix + number,
		"answer_url":          opts.VoiceURL,
		"answer_method":       http.MethodPost,
		"hangup_url":          hangup,
		"hangup_method":       http.MethodPost,
		"fallback_answer_url": opts.FallbackURL,
		"fallback_method":     http.MethodGet,
	}
}

// numberID is the digits Plivo's paths use for a number given as E.164 or
// digits.
func numberID(field, id string) (string, error) {
	d := strings.TrimPrefix(strings.TrimSpace(id), "+")
	if d == "" || strings.Trim(d, "0123456789") != "" {
		return "", fmt.Errorf("%w: field %s: %q is not a phone number", provider.ErrInvalidConfig, field, id)
	}
	return d, nil
}

// BuyNumber creates the number's Application (answer_url, hangup_url,
// fallback_answer_url), then buys the number with it (POST
// PhoneNumber/{number}/ with app_id). If the purchase fails the
// Application is deleted again.
func (n *Numbers) BuyNumber(ctx context.Context, number string, opts provider.BuyOptions) (provider.OwnedNumber, error) {
	d, err := numberID("number", number)
	if err != nil {
		return provider.OwnedNumber{}, err
	}
	if err := checkOptions(opts); err != nil {
		return provider.OwnedNumber{}, err
	}
	appID, err := n.createApp(ctx, d, opts)
	if err != nil {
		return provider.OwnedNumber{}, err
	}
	var bought struct {
		Numbers []struct {
			Number string `json:"number"`
			Status string `json:"status"`
		} `json:"numbers"`
		Status string `json:"status"`
	}
	if err := n.do(ctx, http.MethodPost, "PhoneNumber/"+d+"/", map[string]any{"app_id": appID}, &bought); err != nil {
		_ = n.deleteApp(context.WithoutCancel(ctx), appID) // do not leave an unused Application behind
		return provider.OwnedNumber{}, err
	}
	if opts.FriendlyName != "" {
		if err := n.do(ctx, http.MethodPost, "Number/"+d+"/", map[string]any{"alias": opts.FriendlyName}, nil); err != nil {
			return provider.OwnedNumber{}, err
		}
	}
	return provider.OwnedNumber{ID: d, Number: phone.Normalize(d, ""), CreatedAt: time.Now().UTC()}, nil
}

type ownedNumber struct {
	Number      string `json:"number"`
	AddedOn     string `json:"added_on"`
	Application string `json:"application"`
	Alias       string `json:"alias"`
}

// appIDOf reads the Application id from a number's application URI
// ("/v1/Account/MA.../Application/29986316244302815/").
func appIDOf(uri string) string {
	parts := strings.Split(strings.Trim(uri, "/"), "/")
	if len(parts) >= 2 && parts[len(parts)-2] == "Application" {
		return parts[len(parts)-1]
	}
	return ""
}

// ownApp returns the id of the number's Application when the Provisioner
// made it, "" otherwise.
func (n *Numbers) ownApp(ctx context.Context, number string, owned ownedNumber) (string, error) {
	id := appIDOf(owned.Application)
	if id == "" {
		return "", nil
	}
	var app struct {
		AppName string `json:"app_name"`
	}
	err := n.do(ctx, http.MethodGet, "Application/"+url.PathEscape(id)+"/", nil, &app)
	if isNotFound(err) {
		return "", nil
	}
	if err != nil || app.AppName != appPrefix+number {
		return "", err
	}
	return id, nil
}

// ConfigureNumber sets an owned number's webhooks and fail-safe: it
// updates the number's own Application, or creates one and attaches it
// (POST Number/{number}/ with app_id) when the number has another or none.
func (n *Numbers) ConfigureNumber(ctx context.Context, id string, opts provider.BuyOptions) error {
	d, err := numberID("id", id)
	if err != nil {
		return err
	}
	if err := checkOptions(opts); err != nil {
		return err
	}
	var owned ownedNumber
	if err := n.do(ctx, http.MethodGet, "Number/"+d+"/", nil, &owned); err != nil {
		return err
	}
	appID, err := n.ownApp(ctx, d, owned)
	if err != nil {
		return err
	}
	if appID != "" {
		if err := n.do(ctx, http.MethodPost, "Application/"+url.PathEscape(appID)+"/", appParams(d, opts), nil); err != nil {
			return err
		}
	} else if appID, err = n.createApp(ctx, d, opts); err != nil {
		return err
	}
	update := map[string]any{"app_id": appID}
	if opts.FriendlyName != "" {
		update["alias"] = opts.FriendlyName
	}
	return n.do(ctx, http.MethodPost, "Number/"+d+"/", update, nil)
}

// ListNumbers pages through Number/ (20 a page, Plivo's maximum).
func (n *Numbers) ListNumbers(ctx context.Context) ([]provider.OwnedNumber, error) {
	var out []provider.OwnedNumber
	for offset := 0; ; offset += maxPage {
		var list struct {
			page
			Objects []ownedNumber `json:"objects"`
		}
		path := "Number/?" + url.Values{"limit": {strconv.Itoa(maxPage)}, "offset": {strconv.Itoa(offset)}}.Encode()
		if err := n.do(ctx, http.MethodGet, path, nil, &list); err != nil {
			return nil, err
		}
		for _, o := range list.Objects {
			on := provider.OwnedNumber{ID: o.Number, Number: phone.Normalize(o.Number, "")}
			if t, err := time.Parse(time.DateOnly, o.AddedOn); err == nil {
				on.CreatedAt = t
			}
			out = append(out, on)
		}
		if list.Meta.Next == nil || *list.Meta.Next == "" || len(list.Objects) == 0 {
			return out, nil
		}
	}
}

// ReleaseNumber gives the number back (DELETE Number/{number}/) and
// deletes the Application the Provisioner made for it. A number already
// gone returns nil.
func (n *Numbers) ReleaseNumber(ctx context.Context, id string) error {
	d, err := numberID("id", id)
	if err != nil {
		return err
	}
	var owned ownedNumber
	err = n.do(ctx, http.MethodGet, "Number/"+d+"/", nil, &owned)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	appID, err := n.ownApp(ctx, d, owned)
	if err != nil {
		return err
	}
	if err := n.do(ctx, http.MethodDelete, "Number/"+d+"/", nil, nil); err != nil && !isNotFound(err) {
		return err
	}
	if appID != "" {
		return n.deleteApp(ctx, appID)
	}
	return nil
}

func (n *Numbers) createApp(ctx context.Context, number string, opts provider.BuyOptions) (string, error) {
	var created struct {
		AppID string `json:"app_id"`
	}
	if err := n.do(ctx, http.MethodPost, "Application/", appParams(number, opts), &created); err != nil {
		return "", err
	}
	if created.AppID == "" {
		return "", errors.New("plivo: POST Application/: the answer has no app_id")
	}
	return created.AppID, nil
}

func (n *Numbers) deleteApp(ctx context.Context, appID string) error {
	if err := n.do(ctx, http.MethodDelete, "Application/"+url.PathEscape(appID)+"/", nil, nil); err != nil && !isNotFound(err) {
		return err
	}
	return nil
}

func isNotFound(err error) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && apiErr.HTTPStatus == http.StatusNotFound
}

// do sends one API request (JSON body, as Plivo's SDKs do) with Basic
// auth auth_id:auth_token and decodes the JSON answer into out.
func (n *Numbers) do(ctx context.Context, method, path string, body map[string]any, out any) error {
	endpoint := n.cfg.APIBase + "/v1/Account/" + url.PathEscape(n.cfg.AuthID) + "/" + path
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, endpoint, rd)
	if err != nil {
		return fmt.Errorf("plivo: %s %s: %w", method, path, err)
	}
	req.SetBasicAuth(n.cfg.AuthID, n.cfg.AuthToken)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := n.cfg.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("plivo: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("plivo: %s %s: %w", method, path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		apiErr := &APIError{HTTPStatus: resp.StatusCode}
		if json.Unmarshal(data, apiErr) != nil || apiErr.Message == "" {
			apiErr.Message = strings.TrimSpace(string(data))
		}
		return apiErr
	}
	if out == nil || len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("plivo: %s %s: decoding answer: %w", method, path, err)
	}
	return nil
}
