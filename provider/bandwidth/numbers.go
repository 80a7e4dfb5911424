package bandwidth

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/attriqs/calltrack/phone"
	"github.com/attriqs/calltrack/provider"
)

// DefaultNumbersAPIBase is the root of Bandwidth's Numbers (Dashboard) API.
const DefaultNumbersAPIBase = "https://dashboard.bandwidth.com/api"

// DefaultOrderPollInterval is how often BuyNumber reads an order that
// Bandwidth has not completed yet.
const DefaultOrderPollInterval = 2 * time.Second

// NumbersConfig configures a Numbers provisioner. Bandwidth routes a
// number's calls by its location (sip peer): the location is linked once,
// in the Dashboard, to the Voice application whose callback URLs
// calltrack sets; numbers ordered into that location ring that
// application.
type NumbersConfig struct {
	// AccountID is the Bandwidth account. Required.
	AccountID string
	// Username and Password are an API user's credentials (HTTP Basic).
	// Required.
	Username string
	Password string
	// SiteID (sub-account) and PeerID (location) receive the numbers
	// bought. Required; the location must be linked to ApplicationID.
	SiteID string
	PeerID string
	// ApplicationID is the Voice application of that location, whose
	// callback URLs and fallback BuyNumber and ConfigureNumber set.
	// Required.
	ApplicationID string
	// CallbackUsername and CallbackPassword, when set, become the
	// application's callback credentials: set them to the Provider's.
	CallbackUsername string
	CallbackPassword string
	// APIBase defaults to DefaultNumbersAPIBase; tests point it at httptest.
	APIBase string
	// HTTPClient defaults to a client with a 30 s timeout.
	HTTPClient *http.Client
	// OrderPollInterval defaults to DefaultOrderPollInterval.
	OrderPollInterval time.Duration
}

// Numbers implements provider.Provisioner against Bandwidth's Numbers API:
// availableNumbers (search), orders (buy, asynchronous), inserviceNumbers
// (list, ownership), disconnects (release) and the Voice application
// (webhooks and fail-safe).
type Numbers struct {
	cfg NumbersConfig
}

var _ provider.Provisioner = (*Numbers)(nil)

// NewNumbers validates cfg, reporting every problem at once.
func NewNumbers(cfg NumbersConfig) (*Numbers, error) {
	var errs []error
	for _, f := range []struct{ name, v string }{
		{"AccountID", cfg.AccountID}, {"Username", cfg.Username}, {"Password", cfg.Password},
		{"SiteID", cfg.SiteID}, {"PeerID", cfg.PeerID}, {"ApplicationID", cfg.ApplicationID},
	} {
		if f.v == "" {
			errs = append(errs, fmt.Errorf("field %s: required", f.name))
		} else if strings.ContainsAny(f.v, "/?#") && f.name != "Username" && f.name != "Password" {
			errs = append(errs, fmt.Errorf("field %s: %q must not contain '/', '?' or '#'", f.name, f.v))
		}
	}
	if (cfg.CallbackUsername == "") != (cfg.CallbackPassword == "") {
		errs = append(errs, errors.New("field CallbackUsername, CallbackPassword: set both or neither"))
	}
	if cfg.OrderPollInterval < 0 {
		errs = append(errs, errors.New("field OrderPollInterval: must not be negative"))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %w", provider.ErrInvalidConfig, errors.Join(errs...))
	}
	if cfg.APIBase == "" {
		cfg.APIBase = DefaultNumbersAPIBase
	}
	cfg.APIBase = strings.TrimSuffix(cfg.APIBase, "/")
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.OrderPollInterval == 0 {
		cfg.OrderPollInterval = DefaultOrderPollInterval
	}
	return &Numbers{cfg: cfg}, nil
}

// APIError is an error answer from the Numbers API.
type APIError struct {
	HTTPStatus  int
	Code        string
	Description string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("bandwidth: Numbers API error %s (HTTP %d): %s", e.Code, e.HTTPStatus, e.Description)
}

// tenDigits is a NANP number as the Numbers API writes it.
var tenDigits = regexp.MustCompile(`^[2-9][0-9]{2}[2-9][0-9]{6}$`)

// national turns an E.164 NANP number (or the ten digits) into the ten
// digits the Numbers API takes.
func national(field, number string) (string, error) {
	n := strings.TrimPrefix(strings.TrimPrefix(number, "+"), "1")
	if len(number) == 10 {
		n = number
	}
	if !tenDigits.MatchString(n) {
		return "", fmt.Errorf("%w: argument %s: %q is not a North American number in E.164", provider.ErrInvalidConfig, field, number)
	}
	return n, nil
}

func e164(tn string) string {
	if tenDigits.MatchString(tn) {
		return "+1" + tn
	}
	return phone.Normalize(tn, "US")
}

type telephoneNumberDetail struct {
	City       string `xml:"City"`
	State      string `xml:"State"`
	RateCenter string `xml:"RateCenter"`
	FullNumber string `xml:"FullNumber"`
	// Older answers name the number TelephoneNumber.
	TelephoneNumber string `xml:"TelephoneNumber"`
}

type searchResult struct {
	Numbers []string                `xml:"TelephoneNumberList>TelephoneNumber"`
	Details []telephoneNumberDetail `xml:"TelephoneNumberDetailList>TelephoneNumberDetail"`
}

// vanity is what availableNumbers accepts as localVanity.
var vanity = regexp.MustCompile(`^[0-9A-Za-z]{4,7}$`)

// SearchNumbers searches Bandwidth's inventory (US and Canada) by area
// code (areaCode) and/or a pattern of 4 to 7 characters within the last
// seven digits (localVanity); Bandwidth needs at least one of them.
func (n *Numbers) SearchNumbers(ctx context.Context, q provider.NumberQuery) ([]provider.AvailableNumber, error) {
	var errs []error
	country := strings.ToUpper(q.Country)
	if country == "" {
		country = "US"
	}
	if country != "US" && country != "CA" {
		errs = append(errs, fmt.Errorf("field Country: %q: Bandwidth sells numbers in US and CA only", q.Country))
	}
	v := url.Values{"enableTNDetail": {"true"}}
	if q.AreaCode != "" {
		if len(q.AreaCode) != 3 || strings.Trim(q.AreaCode, "0123456789") != "" {
			errs = append(errs, fmt.Errorf("field AreaCode: %q is not a three-digit area code", q.AreaCode))
		}
		v.Set("areaCode", q.AreaCode)
	}
	if q.Contains != "" {
		if !vanity.MatchString(q.Contains) {
			errs = append(errs, fmt.Errorf("field Contains: %q: Bandwidth searches 4 to 7 digits or letters", q.Contains))
		}
		v.Set("localVanity", q.Contains)
	}
	if q.AreaCode == "" && q.Contains == "" {
		errs = append(errs, errors.New("field AreaCode, Contains: Bandwidth needs an area code or a pattern to search"))
	}
	if q.Limit < 0 {
		errs = append(errs, errors.New("field Limit: must not be negative"))
	} else if q.Limit > 0 {
		v.Set("quantity", fmt.Sprint(min(q.Limit, 5000)))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %w", provider.ErrInvalidConfig, errors.Join(errs...))
	}
	var res searchResult
	if _, err := n.do(ctx, http.MethodGet, n.account("availableNumbers")+"?"+v.Encode(), nil, &res); err != nil {
		return nil, err
	}
	out := make([]provider.AvailableNumber, 0, len(res.Numbers)+len(res.Details))
	for _, tn := range res.Numbers {
		out = append(out, provider.AvailableNumber{Number: e164(tn), Country: country})
	}
	for _, d := range res.Details {
		tn := d.FullNumber
		if tn == "" {
			tn = d.TelephoneNumber
		}
		out = append(out, provider.AvailableNumber{Number: e164(tn), Locality: d.City, Region: d.State, Country: country})
	}
	return out, nil
}

type orderRequest struct {
	XMLName        xml.Name `xml:"Order"`
	Name           string   `xml:"Name,omitempty"`
	SiteID         string   `xml:"SiteId"`
	PeerID         string   `xml:"PeerId"`
	PartialAllowed bool     `xml:"PartialAllowed"`
	Numbers        []string `xml:"ExistingTelephoneNumberOrderType>TelephoneNumberList>TelephoneNumber"`
}

type orderResponse struct {
	ID                string   `xml:"Order>id"`
	Status            string   `xml:"OrderStatus"`
	OrderCompleteDate string   `xml:"OrderCompleteDate"`
	Completed         []string `xml:"CompletedNumbers>TelephoneNumber>FullNumber"`
	Errors            []struct {
		Code        string `xml:"Code"`
		Description string `xml:"Description"`
	} `xml:"ErrorList>Error"`
}

// BuyNumber sets the application's webhooks and fail-safe (see
// ConfigureNumber), then orders number into the configured location and
// waits for Bandwidth to complete the order (RECEIVED and PROCESSING are
// read again every OrderPollInterval; FAILED and PARTIAL are errors).
// Ordering is asynchronous at Bandwidth: if ctx ends first, the error
// names the order, which may still complete (ListNumbers then shows the
// number). The OwnedNumber's ID is the number in E.164.
func (n *Numbers) BuyNumber(ctx context.Context, number string, opts provider.BuyOptions) (provider.OwnedNumber, error) {
	tn, err := national("number", number)
	if err != nil {
		return provider.OwnedNumber{}, err
	}
	if err := n.configureApplication(ctx, opts); err != nil {
		return provider.OwnedNumber{}, err
	}
	body, err := xml.Marshal(orderRequest{Name: provider.CleanText(opts.FriendlyName, 50), SiteID: n.cfg.SiteID, PeerID: n.cfg.PeerID, Numbers: []string{tn}})
	if err != nil {
		return provider.OwnedNumber{}, err
	}
	var placed orderResponse
	if _, err := n.do(ctx, http.MethodPost, n.account("orders"), body, &placed); err != nil {
		return provider.OwnedNumber{}, err
	}
	id := placed.ID
	if id == "" {
		return provider.OwnedNumber{}, fmt.Errorf("bandwidth: the order for %s came back without an id", number)
	}
	st := placed
	for {
		switch st.Status {
		case "COMPLETE":
			owned := provider.OwnedNumber{ID: e164(tn), Number: e164(tn)}
			if t, err := time.Parse(time.RFC3339Nano, st.OrderCompleteDate); err == nil {
				owned.CreatedAt = provider.SaneTime(t.UTC())
			}
			return owned, nil
		case "FAILED", "PARTIAL":
			msgs := make([]string, 0, len(st.Errors))
			for _, e := range st.Errors {
				msgs = append(msgs, e.Code+" "+e.Description)
			}
			return provider.OwnedNumber{}, fmt.Errorf("bandwidth: order %s for %s %s: %s", id, number, st.Status, strings.Join(msgs, "; "))
		}
		t := time.NewTimer(n.cfg.OrderPollInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return provider.OwnedNumber{}, fmt.Errorf("bandwidth: order %s for %s still %s: %w", id, number, st.Status, ctx.Err())
		case <-t.C:
		}
		st = orderResponse{}
		if _, err := n.do(ctx, http.MethodGet, n.account("orders/"+url.PathEscape(id)), nil, &st); err != nil {
			return provider.OwnedNumber{}, fmt.Errorf("bandwidth: reading order %s: %w", id, err)
		}
	}
}

type credentials struct {
	UserID   string `xml:"UserId"`
	Password string `xml:"Password"`
}

type application struct {
	XMLName                     xml.Name     `xml:"Application"`
	CallInitiatedCallbackURL    string       `xml:"CallInitiatedCallbackUrl"`
	CallInitiatedMethod         string       `xml:"CallInitiatedMethod"`
	CallStatusCallbackURL       string       `xml:"CallStatusCallbackUrl"`
	CallStatusMethod            string       `xml:"CallStatusMethod"`
	CallbackCreds               *credentials `xml:"CallbackCreds,omitempty"`
	CallInitiatedFallbackURL    string       `xml:"CallInitiatedFallbackUrl"`
	CallInitiatedFallbackMethod string       `xml:"CallInitiatedFallbackMethod"`
}

// ConfigureNumber checks that the account owns id and sets the Voice
// application's webhooks and fail-safe. Bandwidth keeps them on the
// application, not the number: every number of the location shares them,
// so the last call wins for all (see the package's Fail-safe section).
func (n *Numbers) ConfigureNumber(ctx context.Context, id string, opts provider.BuyOptions) error {
	tn, err := national("id", id)
	if err != nil {
		return err
	}
	if err := validBuyOptions(opts); err != nil {
		return err
	}
	owned, err := n.inService(ctx, tn)
	if err != nil {
		return err
	}
	if !owned {
		return fmt.Errorf("bandwidth: argument id: %s is not in service on account %s", id, n.cfg.AccountID)
	}
	return n.configureApplication(ctx, opts)
}

// validBuyOptions checks opts: Bandwidth fetches the fail-safe BXML from
// FallbackURL, so it is required, and VoiceURL too, as the application's
// callbacks are written whole on every call.
func validBuyOptions(opts provider.BuyOptions) error {
	err := opts.Validate(true)
	if opts.VoiceURL == "" {
		// Joined with the shared problems, so that every field is named at once.
		missing := errors.New("field VoiceURL: required (the application's CallInitiatedCallbackUrl)")
		if err == nil {
			return fmt.Errorf("%w: %w", provider.ErrInvalidConfig, missing)
		}
		return errors.Join(err, missing)
	}
	return err
}

// configureApplication PATCHes the Voice application: initiate and
// disconnect callbacks to the handler (POST), the callback credentials
// when configured, and CallInitiatedFallbackUrl, fetched with GET because
// static hosting refuses POST.
func (n *Numbers) configureApplication(ctx context.Context, opts provider.BuyOptions) error {
	if err := validBuyOptions(opts); err != nil {
		return err
	}
	status := opts.StatusCallbackURL
	if status == "" {
		// The handler serves both at one URL; without disconnects no call
		// would end.
		status = opts.VoiceURL
	}
	app := application{
		CallInitiatedCallbackURL: opts.VoiceURL, CallInitiatedMethod: "POST",
		CallStatusCallbackURL: status, CallStatusMethod: "POST",
		CallInitiatedFallbackURL: opts.FallbackURL, CallInitiatedFallbackMethod: "GET",
	}
	if n.cfg.CallbackUsername != "" {
		app.CallbackCreds = &credentials{UserID: n.cfg.CallbackUsername, Password: n.cfg.CallbackPassword}
	}
	body, err := xml.Marshal(app)
	if err != nil {
		return err
	}
	_, err = n.do(ctx, http.MethodPatch, n.account("applications/"+url.PathEscape(n.cfg.ApplicationID)), body, nil)
	return err
}

type tnList struct {
	Numbers []string `xml:"TelephoneNumbers>TelephoneNumber"`
	Next    string   `xml:"Links>next"`
}

// listPageSize is the page size asked of inserviceNumbers.
const listPageSize = 1000

// ListNumbers returns the account's in-service numbers, following
// Bandwidth's pages (Links/next). Bandwidth does not say when a number
// was bought there, so CreatedAt is zero.
func (n *Numbers) ListNumbers(ctx context.Context) ([]provider.OwnedNumber, error) {
	var out []provider.OwnedNumber
	page := "1"
	for range 10000 { // bound the walk if the API's links ever loop
		var res tnList
		q := url.Values{"page": {page}, "size": {fmt.Sprint(listPageSize)}}
		code, err := n.do(ctx, http.MethodGet, n.account("inserviceNumbers")+"?"+q.Encode(), nil, &res)
		if err != nil {
			return nil, err
		}
		if code == http.StatusNoContent {
			return out, nil
		}
		for _, tn := range res.Numbers {
			out = append(out, provider.OwnedNumber{ID: e164(tn), Number: e164(tn)})
		}
		page = nextPage(res.Next)
		if page == "" || len(res.Numbers) == 0 {
			return out, nil
		}
	}
	return nil, errors.New("bandwidth: inserviceNumbers pages do not end")
}

// nextPage reads the page parameter from a Links/next element, written
// Link=<https://...?page=X&size=N>;rel="next";
func nextPage(link string) string {
	_, rest, ok := strings.Cut(link, "<")
	if !ok {
		return ""
	}
	raw, _, ok := strings.Cut(rest, ">")
	if !ok {
		return ""
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return ""
	}
	return u.Query().Get("page")
}

type disconnectOrder struct {
	XMLName         xml.Name `xml:"DisconnectTelephoneNumberOrder"`
	CustomerOrderID string   `xml:"CustomerOrderId,omitempty"`
	Numbers         []string `xml:"DisconnectTelephoneNumberOrderType>TelephoneNumberList>TelephoneNumber"`
}

// ReleaseNumber disconnects id from the account (a disconnect order,
// which Bandwidth completes by itself). A number no longer in service is
// already released: nil.
func (n *Numbers) ReleaseNumber(ctx context.Context, id string) error {
	tn, err := national("id", id)
	if err != nil {
		return err
	}
	owned, err := n.inService(ctx, tn)
	if err != nil || !owned {
		return err
	}
	body, err := xml.Marshal(disconnectOrder{CustomerOrderID: "calltrack release " + tn, Numbers: []string{tn}})
	if err != nil {
		return err
	}
	_, err = n.do(ctx, http.MethodPost, n.account("disconnects"), body, nil)
	return err
}

// inService reports whether the account has tn in service: 200, or 404.
func (n *Numbers) inService(ctx context.Context, tn string) (bool, error) {
	_, err := n.do(ctx, http.MethodGet, n.account("inserviceNumbers/"+tn), nil, nil)
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.HTTPStatus == http.StatusNotFound {
		return false, nil
	}
	return err == nil, err
}

func (n *Numbers) account(path string) string {
	return n.cfg.APIBase + "/accounts/" + url.PathEscape(n.cfg.AccountID) + "/" + path
}

// maxAnswerBytes bounds what is read of an API answer.
const maxAnswerBytes = 4 << 20

// do sends one request and decodes a 2xx answer's XML into out (when
// non-nil and the answer has a body); other answers are *APIError.
func (n *Numbers) do(ctx context.Context, method, u string, body []byte, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(append([]byte(xml.Header), body...))
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, err
	}
	req.SetBasicAuth(n.cfg.Username, n.cfg.Password)
	req.Header.Set("Accept", "application/xml")
	if body != nil {
		req.Header.Set("Content-Type", "application/xml; charset=utf-8")
	}
	res, err := n.cfg.HTTPClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("bandwidth: %s %s: %w", method, req.URL.Path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, maxAnswerBytes))
	if err != nil {
		return res.StatusCode, fmt.Errorf("bandwidth: %s %s: %w", method, req.URL.Path, err)
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return res.StatusCode, apiError(res.StatusCode, raw)
	}
	if out != nil && len(bytes.TrimSpace(raw)) > 0 {
		if err := xml.Unmarshal(raw, out); err != nil {
			return res.StatusCode, fmt.Errorf("bandwidth: %s %s: unreadable answer: %w", method, req.URL.Path, err)
		}
	}
	return res.StatusCode, nil
}

// apiError reads the first error code and description of an answer,
// whichever element holds them (Error/Code, ResponseStatus/ErrorCode, ...).
func apiError(status int, raw []byte) *APIError {
	e := &APIError{HTTPStatus: status}
	d := xml.NewDecoder(bytes.NewReader(raw))
	var field string
	for {
		tok, err := d.Token()
		if err != nil {
			break
		}
		switch t := tok.(type) {
		case xml.StartElement:
			field = t.Name.Local
		case xml.CharData:
			v := strings.TrimSpace(string(t))
			switch {
			case v == "":
			case (field == "Code" || field == "ErrorCode") && e.Code == "":
				e.Code = v
			case field == "Description" && e.Description == "":
				e.Description = v
			}
		case xml.EndElement:
			field = ""
		}
	}
	if e.Description == "" {
		e.Description = http.StatusText(status)
	}
	return e
}
