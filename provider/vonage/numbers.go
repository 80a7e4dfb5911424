package vonage

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

	"github.com/nyaruka/phonenumbers"

	"github.com/attriqs/calltrack/phone"
	"github.com/attriqs/calltrack/provider"
)

// Default API roots: the Numbers API lives on rest.nexmo.com, the
// Application API on api.nexmo.com.
const (
	DefaultRESTBase = "https://rest.nexmo.com"
	DefaultAPIBase  = "https://api.nexmo.com"
)

// APIError is an error answer from the Numbers or Application API.
type APIError struct {
	HTTPStatus int
	// Code and Label are the Numbers API's error-code and
	// error-code-label ("420", "method failed"); the Application API
	// answers with title and detail, kept in Label.
	Code  string
	Label string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("vonage: API error %s (HTTP %d): %s", e.Code, e.HTTPStatus, e.Label)
}

// NumbersConfig configures a Numbers provisioner.
type NumbersConfig struct {
	// APIKey and APISecret authenticate both APIs (HTTP Basic). Required.
	APIKey    string
	APISecret string
	// ApplicationID is the Voice application the numbers are linked to,
	// whose answer, event and fallback answer URLs BuyNumber and
	// ConfigureNumber set. Required: at Vonage a number takes calls
	// through an application, and the fail-safe lives there, shared by
	// every number linked to it (see [ErrSharedApplication]). Numbers
	// that need other webhooks or another business line need an
	// application, and a Numbers, each.
	ApplicationID string
	// RESTBase and APIBase default to DefaultRESTBase and DefaultAPIBase;
	// tests point them at a stand-in.
	RESTBase string
	APIBase  string
	// HTTPClient defaults to a client with a 15 s timeout.
	HTTPClient *http.Client
}

// Numbers implements provider.Provisioner with Vonage's Numbers API
// (/number/search, /number/buy, /number/update, /number/cancel,
// /account/numbers) and the Application API (v2), where a Vonage number's
// webhooks live. An OwnedNumber's ID is its msisdn (E.164 digits without
// "+").
//
// The webhooks and the fail-safe are the application's, so they are
// shared by every number linked to it. BuyNumber and ConfigureNumber
// therefore change them only while no other number is linked, and
// otherwise refuse with [ErrSharedApplication] rather than silently
// re-point the other numbers; [Numbers.ConfigureApplication] changes them
// for all on purpose.
type Numbers struct{ cfg NumbersConfig }

// ErrSharedApplication: BuyNumber or ConfigureNumber was asked for
// webhooks or a fail-safe other than the application's while other
// numbers are linked to the application. Writing them would change those
// numbers too (their calls, their fallback business line). The error
// names each field that differs and the other numbers. Give the number
// the application's settings, link it to an application of its own
// (another Numbers with that NumbersConfig.ApplicationID), or call
// [Numbers.ConfigureApplication] to change every number's.
var ErrSharedApplication = errors.New("vonage: the application's webhooks are shared by other numbers")

var _ provider.Provisioner = (*Numbers)(nil)

// NewNumbers validates cfg, reporting every problem at once.
func NewNumbers(cfg NumbersConfig) (*Numbers, error) {
	var errs []error
	for _, f := range []struct{ name, v string }{{"APIKey", cfg.APIKey}, {"APISecret", cfg.APISecret}, {"ApplicationID", cfg.ApplicationID}} {
		if f.v == "" {
			errs = append(errs, fmt.Errorf("field %s: required", f.name))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %w", provider.ErrInvalidConfig, errors.Join(errs...))
	}
	if cfg.RESTBase == "" {
		cfg.RESTBase = DefaultRESTBase
	}
	if cfg.APIBase == "" {
		cfg.APIBase = DefaultAPIBase
	}
	cfg.RESTBase = strings.TrimSuffix(cfg.RESTBase, "/")
	cfg.APIBase = strings.TrimSuffix(cfg.APIBase, "/")
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	return &Numbers{cfg: cfg}, nil
}

// Vonage's search_pattern values.
const (
	patternStartsWith = "0"
	patternContains   = "1"
)

// maxPageSize is the largest page the Numbers API returns.
const maxPageSize = 100

type numberList struct {
	Count   int            `json:"count"`
	Numbers []listedNumber `json:"numbers"`
}

// listedNumber is one number of account/numbers.
type listedNumber struct {
	Country string `json:"country"`
	MSISDN  string `json:"msisdn"`
	AppID   string `json:"app_id"`
}

// SearchNumbers lists numbers for sale that take voice calls. An area
// code searches numbers starting with 1 and the area code (North
// America); Contains then filters the results, as Vonage takes one
// pattern per search.
func (n *Numbers) SearchNumbers(ctx context.Context, q provider.NumberQuery) ([]provider.AvailableNumber, error) {
	country := strings.ToUpper(q.Country)
	if country == "" {
		country = "US"
	}
	params := url.Values{"country": {country}, "features": {"VOICE"}}
	switch {
	case q.AreaCode != "":
		params.Set("pattern", "1"+q.AreaCode)
		params.Set("search_pattern", patternStartsWith)
	case q.Contains != "":
		params.Set("pattern", q.Contains)
		params.Set("search_pattern", patternContains)
	}
	if q.Limit > 0 {
		params.Set("size", strconv.Itoa(min(q.Limit, maxPageSize)))
	}
	var list numberList
	if err := n.do(ctx, http.MethodGet, n.cfg.RESTBase+"/number/search?"+params.Encode(), nil, &list); err != nil {
		return nil, err
	}
	out := make([]provider.AvailableNumber, 0, len(list.Numbers))
	for _, num := range list.Numbers {
		if q.AreaCode != "" && q.Contains != "" && !strings.Contains(num.MSISDN, q.Contains) {
			continue
		}
		out = append(out, provider.AvailableNumber{Number: "+" + num.MSISDN, Country: num.Country})
	}
	return out, nil
}

// BuyNumber sets the application's webhooks and fail-safe (so a failure
// there costs no purchase), buys number and links it to the application.
func (n *Numbers) BuyNumber(ctx context.Context, number string, opts provider.BuyOptions) (provider.OwnedNumber, error) {
	if err := checkBuyOptions(opts); err != nil {
		return provider.OwnedNumber{}, err
	}
	if !phone.IsE164(number) {
		return provider.OwnedNumber{}, fmt.Errorf("%w: number %q is not E.164", provider.ErrInvalidConfig, number)
	}
	msisdn := digits(number)
	country := countryOf(number)
	if err := n.configureApplication(ctx, opts, msisdn, false); err != nil {
		return provider.OwnedNumber{}, err
	}
	form := url.Values{"country": {country}, "msisdn": {msisdn}}
	if err := n.do(ctx, http.MethodPost, n.cfg.RESTBase+"/number/buy", form, nil); err != nil {
		return provider.OwnedNumber{}, err
	}
	owned := provider.OwnedNumber{ID: msisdn, Number: number}
	if err := n.link(ctx, country, msisdn); err != nil {
		// Bought but not linked: the caller can ConfigureNumber again or
		// release it by this id.
		return owned, fmt.Errorf("vonage: bought %s but could not link it to application %s: %w", number, n.cfg.ApplicationID, err)
	}
	return owned, nil
}

// ConfigureNumber sets the application's webhooks and fail-safe and links
// the owned number id (its msisdn) to the application. Settings that
// differ from the application's are refused with [ErrSharedApplication]
// while other numbers are linked to it.
func (n *Numbers) ConfigureNumber(ctx context.Context, id string, opts provider.BuyOptions) error {
	if err := checkBuyOptions(opts); err != nil {
		return err
	}
	country, ok, err := n.lookup(ctx, id)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: field id: number %s is not on the account", provider.ErrInvalidConfig, id)
	}
	if err := n.configureApplication(ctx, opts, id, false); err != nil {
		return err
	}
	return n.link(ctx, country, id)
}

// ConfigureApplication sets the application's voice answer_url, event_url
// and fallback_answer_url from opts for every number linked to it: the
// deliberate change that BuyNumber and ConfigureNumber refuse with
// [ErrSharedApplication]. The last call wins for all of them.
func (n *Numbers) ConfigureApplication(ctx context.Context, opts provider.BuyOptions) error {
	if err := checkBuyOptions(opts); err != nil {
		return err
	}
	return n.configureApplication(ctx, opts, "", true)
}

// ListNumbers returns every number on the account, page by page.
func (n *Numbers) ListNumbers(ctx context.Context) ([]provider.OwnedNumber, error) {
	var out []provider.OwnedNumber
	err := n.eachNumber(ctx, url.Values{}, func(num listedNumber) {
		out = append(out, provider.OwnedNumber{ID: num.MSISDN, Number: "+" + num.MSISDN})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// eachNumber calls fn with every number GET account/numbers lists for
// params, page by page (params' size and index are set here), until a
// page is short or the count Vonage gives has been seen.
func (n *Numbers) eachNumber(ctx context.Context, params url.Values, fn func(listedNumber)) error {
	params.Set("size", strconv.Itoa(maxPageSize))
	seen := 0
	for index := 1; ; index++ {
		params.Set("index", strconv.Itoa(index))
		var page numberList
		if err := n.do(ctx, http.MethodGet, n.cfg.RESTBase+"/account/numbers?"+params.Encode(), nil, &page); err != nil {
			return err
		}
		for _, num := range page.Numbers {
			fn(num)
		}
		seen += len(page.Numbers)
		if len(page.Numbers) < maxPageSize || seen >= page.Count {
			return nil
		}
	}
}

// ReleaseNumber cancels the number id (its msisdn). A number the account
// no longer owns is not an error.
func (n *Numbers) ReleaseNumber(ctx context.Context, id string) error {
	if id == "" {
		return fmt.Errorf("%w: number id is required", provider.ErrInvalidConfig)
	}
	country, ok, err := n.lookup(ctx, id)
	if err != nil || !ok {
		return err
	}
	return n.do(ctx, http.MethodPost, n.cfg.RESTBase+"/number/cancel", url.Values{"country": {country}, "msisdn": {id}}, nil)
}

// lookup finds an owned msisdn's country, which every Numbers API write
// needs.
func (n *Numbers) lookup(ctx context.Context, msisdn string) (country string, ok bool, err error) {
	params := url.Values{"pattern": {msisdn}, "search_pattern": {patternStartsWith}}
	var list numberList
	if err := n.do(ctx, http.MethodGet, n.cfg.RESTBase+"/account/numbers?"+params.Encode(), nil, &list); err != nil {
		return "", false, err
	}
	for _, num := range list.Numbers {
		if num.MSISDN == msisdn {
			return num.Country, true, nil
		}
	}
	return "", false, nil
}

// link points the number's voice calls at the application.
func (n *Numbers) link(ctx context.Context, country, msisdn string) error {
	form := url.Values{"country": {country}, "msisdn": {msisdn}, "app_id": {n.cfg.ApplicationID}}
	return n.do(ctx, http.MethodPost, n.cfg.RESTBase+"/number/update", form, nil)
}

// webhook is an Application API webhook setting.
type appWebhook struct {
	Address    string `json:"address"`
	HTTPMethod string `json:"http_method"`
}

// configureApplication sets the application's voice answer_url and
// event_url (POST) and fallback_answer_url (GET, what static hosting
// serves). The Application API's update replaces the application, so the
// application is read first and written back whole, changing only those;
// an application that has them already is not written. Unless all is
// set, a change is refused while a number other than self is linked to
// the application (checked, not locked: a number linked by someone else
// between the check and the write is not seen).
func (n *Numbers) configureApplication(ctx context.Context, opts provider.BuyOptions, self string, all bool) error {
	appURL := n.cfg.APIBase + "/v2/applications/" + url.PathEscape(n.cfg.ApplicationID)
	var app map[string]any
	if err := n.do(ctx, http.MethodGet, appURL, nil, &app); err != nil {
		return err
	}
	caps, _ := app["capabilities"].(map[string]any)
	if caps == nil {
		caps = map[string]any{}
		app["capabilities"] = caps
	}
	voice, _ := caps["voice"].(map[string]any)
	if voice == nil {
		voice = map[string]any{}
		caps["voice"] = voice
	}
	hooks, _ := voice["webhooks"].(map[string]any)
	if hooks == nil {
		hooks = map[string]any{}
		voice["webhooks"] = hooks
	}
	var diffs []error
	for _, w := range wantedHooks(opts) {
		cur, _ := hooks[w.name].(map[string]any)
		addr, _ := cur["address"].(string)
		method, _ := cur["http_method"].(string)
		if addr == w.hook.Address && method == w.hook.HTTPMethod {
			continue
		}
		now := "not set"
		if addr != "" {
			now = strings.TrimSpace(method + " " + addr)
		}
		diffs = append(diffs, fmt.Errorf("field %s: the application's %s is %s, not %s %s", w.field, w.name, now, w.hook.HTTPMethod, w.hook.Address))
		hooks[w.name] = w.hook
	}
	if len(diffs) == 0 {
		return nil
	}
	if !all {
		others, err := n.linkedNumbers(ctx, self)
		if err != nil {
			return err
		}
		if len(others) > 0 {
			shown := others[:min(len(others), 5)]
			more := ""
			if len(others) > len(shown) {
				more = fmt.Sprintf(" and %d more", len(others)-len(shown))
			}
			return fmt.Errorf("%w: application %s answers %d other numbers (%s%s), whose calls and fail-safe would change too; give this number the application's settings, link it to an application of its own (NumbersConfig.ApplicationID), or change every number's with Numbers.ConfigureApplication: %w",
				ErrSharedApplication, n.cfg.ApplicationID, len(others), strings.Join(shown, ", "), more, errors.Join(diffs...))
		}
	}
	delete(app, "_links")
	return n.do(ctx, http.MethodPut, appURL, app, nil)
}

// wantedHook is one application webhook opts asks for, and the
// BuyOptions field it comes from.
type wantedHook struct {
	name, field string
	hook        appWebhook
}

// wantedHooks lists the application webhooks opts sets: answer_url when
// VoiceURL is given, event_url (StatusCallbackURL, else VoiceURL) and
// fallback_answer_url.
func wantedHooks(opts provider.BuyOptions) []wantedHook {
	var out []wantedHook
	if opts.VoiceURL != "" {
		out = append(out, wantedHook{"answer_url", "VoiceURL", appWebhook{opts.VoiceURL, http.MethodPost}})
	}
	if opts.StatusCallbackURL != "" {
		out = append(out, wantedHook{"event_url", "StatusCallbackURL", appWebhook{opts.StatusCallbackURL, http.MethodPost}})
	} else if opts.VoiceURL != "" {
		out = append(out, wantedHook{"event_url", "VoiceURL", appWebhook{opts.VoiceURL, http.MethodPost}})
	}
	return append(out, wantedHook{"fallback_answer_url", "FallbackURL", appWebhook{opts.FallbackURL, http.MethodGet}})
}

// linkedNumbers lists the msisdns linked to the application, self left
// out (GET account/numbers?application_id=, page by page).
func (n *Numbers) linkedNumbers(ctx context.Context, self string) ([]string, error) {
	var out []string
	err := n.eachNumber(ctx, url.Values{"application_id": {n.cfg.ApplicationID}}, func(num listedNumber) {
		if num.MSISDN != self && (num.AppID == "" || num.AppID == n.cfg.ApplicationID) {
			out = append(out, "+"+num.MSISDN)
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// checkBuyOptions requires the fail-safe: the business line, and the URL
// of the static NCCO (FallbackDocument) Vonage fetches when the answer
// URL fails.
func checkBuyOptions(opts provider.BuyOptions) error {
	return opts.Validate(true)
}

// countryOf is the ISO country of an E.164 number ("US" for +1 numbers
// libphonenumber cannot place).
func countryOf(e164 string) string {
	if num, err := phonenumbers.Parse(e164, ""); err == nil {
		if r := phonenumbers.GetRegionCodeForNumber(num); r != "" && r != "ZZ" {
			return r
		}
	}
	return "US"
}

// FallbackDocument renders the static NCCO to host at the fallback
// answer URL (BuyOptions.FallbackURL): connect the caller to to, the
// business line, ringing DefaultRingTimeout. It names no caller id, as
// one document serves every tracking number; Vonage then presents its
// default.
func FallbackDocument(to string) ([]byte, error) {
	if !phone.IsE164(to) {
		return nil, fmt.Errorf("%w: field To: %q is not an E.164 number", provider.ErrInvalidForward, to)
	}
	return json.Marshal([]Action{{
		Action: "connect", Timeout: int(provider.DefaultRingTimeout / time.Second),
		Endpoint: []Endpoint{{Type: "phone", Number: digits(to)}},
	}})
}

// do sends a request with Basic auth: form as a form body, a map or
// struct as JSON. A Numbers API answer whose error-code is not 200 is an
// APIError even when the HTTP status is 200.
func (n *Numbers) do(ctx context.Context, method, u string, body any, out any) error {
	var rd io.Reader
	contentType := ""
	switch b := body.(type) {
	case nil:
	case url.Values:
		rd, contentType = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	default:
		data, err := json.Marshal(b)
		if err != nil {
			return err
		}
		rd, contentType = strings.NewReader(string(data)), "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return err
	}
	req.SetBasicAuth(n.cfg.APIKey, n.cfg.APISecret)
	req.Header.Set("Accept", "application/json")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	path := req.URL.Path
	resp, err := n.cfg.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("vonage: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("vonage: %s %s: %w", method, path, err)
	}
	var status struct {
		Code   json.RawMessage `json:"error-code"`
		Label  string          `json:"error-code-label"`
		Title  string          `json:"title"`
		Detail string          `json:"detail"`
	}
	_ = json.Unmarshal(data, &status) // not every answer is an object
	code := strings.Trim(string(status.Code), `"`)
	if resp.StatusCode/100 != 2 || code != "" && code != "200" {
		e := &APIError{HTTPStatus: resp.StatusCode, Code: code, Label: strings.TrimSpace(status.Label + " " + status.Title + " " + status.Detail)}
		if e.Code == "" {
			e.Code = strconv.Itoa(resp.StatusCode)
		}
		if e.Label == "" {
			e.Label = strings.TrimSpace(string(data))
		}
		return e
	}
	if out == nil || len(data) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("vonage: %s %s: decoding answer: %w", method, path, err)
	}
	return nil
}
