package googleadsapi

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/endpoints"

	"github.com/attriqs/calltrack/classify"
	"github.com/attriqs/calltrack/export"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/phone"
)

// Defaults of [Config].
const (
	// DefaultName is the sink's name when Config.Name is empty.
	DefaultName = "google-ads"
	// DefaultVersion is the Google Ads API version the sink calls; Google
	// keeps a major version for about a year, so hosts move Config.Version
	// on as versions are sunset.
	DefaultVersion = "v26"
	// DefaultBaseURL is the Google Ads API's REST endpoint.
	DefaultBaseURL = "https://googleads.googleapis.com"
	// MaxRowsPerRequest is Google's limit of conversions (or adjustments)
	// in one upload request; the sink sends one per request.
	MaxRowsPerRequest = 2000
	// MaxUserIdentifiers is Google's limit of userIdentifiers on one
	// conversion.
	MaxUserIdentifiers = 5
)

// TimeLayout is Google's "yyyy-mm-dd hh:mm:ss+|-hh:mm" for conversion,
// call and adjustment times.
const TimeLayout = "2006-01-02 15:04:05-07:00"

// Config configures a [Sink]. CustomerID, DeveloperToken,
// ConversionAction (unless ReadOnly) and credentials (TokenSource, or
// ClientID, ClientSecret and RefreshToken) are required.
type Config struct {
	// Name is the sink's name in the outbox; empty means [DefaultName]. It
	// is also the start of every order id the sink sends, so it must not
	// change while conversions may still be adjusted.
	Name string
	// CustomerID is the Google Ads account the conversions are uploaded to
	// (ten digits; dashes as the Google Ads UI shows them are removed).
	CustomerID string
	// LoginCustomerID is the manager account the credentials act through,
	// sent as the login-customer-id header; empty when they belong to
	// CustomerID itself.
	LoginCustomerID string
	// DeveloperToken is the API developer token (developer-token header).
	DeveloperToken string
	// ConversionAction is the resource name of the conversion action
	// (type "Import from clicks") every conversion and adjustment is
	// counted under: "customers/<id>/conversionActions/<id>".
	ConversionAction string
	// ReadOnly makes a sink that only reads reports ([Sink.ClickViews],
	// [Sink.ClickKeywords]): ConversionAction and CallAssets must then be
	// empty, Accepts accepts nothing and Deliver refuses every message as
	// permanent, so a reader registered as an export sink by mistake
	// uploads nothing.
	ReadOnly bool
	// TokenSource gives OAuth 2 access tokens for the
	// https://www.googleapis.com/auth/adwords scope. Leave it nil to have
	// the sink refresh them from ClientID, ClientSecret and RefreshToken.
	TokenSource oauth2.TokenSource
	// ClientID, ClientSecret and RefreshToken are an OAuth 2 client and
	// a refresh token it was granted, used when TokenSource is nil.
	ClientID, ClientSecret, RefreshToken string
	// TokenURL is where refresh tokens are exchanged; empty means Google's.
	TokenURL string
	// Version is the API version in the URL ("v26"); empty means
	// [DefaultVersion].
	Version string
	// BaseURL is the API's address; empty means [DefaultBaseURL].
	BaseURL string
	// ValidateOnly asks Google to check each upload without recording it:
	// for trying a setup. Validated messages count as delivered.
	ValidateOnly bool
	// EnhancedConversionsForLeads sends, with each conversion whose
	// visitor's consent allows sharing user data
	// (journey.AdIDs.SharesUserData), the hashed user data Google matches
	// leads on: a form's email and phone (export.Event.UserData, hashed in
	// the browser) and a call's caller number (E.164, SHA-256 hashed here),
	// each a userIdentifier. Such a conversion is uploaded even without a
	// Google click id, by its identifiers alone, as Google asks of
	// enhanced conversions for leads. Turn it on only once the account has
	// enhanced conversions for leads on and has accepted the customer data
	// terms: Google refuses the conversions otherwise.
	EnhancedConversionsForLeads bool
	// CallAssets uploads qualified calls placed from Google call assets as
	// call conversions; its zero value uploads none.
	CallAssets CallAssets
	// Location is the zone times are written in (with their offset); nil
	// means UTC.
	Location *time.Location
	// Timeout bounds one request; 0 means 30s.
	Timeout time.Duration
	// Client sends the requests (and token refreshes); nil means a client
	// with Timeout.
	Client *http.Client
	// Now is the clock used for Retry-After dates; nil means time.Now.
	Now func() time.Time
}

// CallAssets configures call conversions (ConversionUploadService.
// UploadCallConversions) for calls placed from Google call assets (call
// extensions) and call ads. Such a call reaches the tracking number
// through a Google forwarding number, with no visit and no click id, so
// Google matches it on the caller's number and the call's start time.
type CallAssets struct {
	// Numbers are the tracking numbers (E.164) set as the phone number of
	// Google call assets or call ads, with call reporting on (Google
	// forwarding numbers); a qualified call to one is uploaded as a call
	// conversion unless its session came from a consented Google click
	// (then it goes as a click conversion). Show these numbers nowhere
	// else: Google finds no call that did not pass through its forwarding
	// number (CALL_NOT_FOUND). Empty: no call conversions.
	Numbers []string
	// ConversionAction is the resource name of the conversion action of
	// type UPLOAD_CALLS ("Conversions from calls" import) the calls are
	// counted under: "customers/<id>/conversionActions/<id>". Required
	// with Numbers.
	ConversionAction string
	// AdUserData is the consent basis the host declares for these callers,
	// sent as each call's consent.adUserData: there is no browser to ask,
	// so the host states that its callers agreed (a notice in the call
	// flow, its terms) to their call data going to Google for advertising.
	// Required with Numbers, and it must be "GRANTED": the sink sends no
	// caller's number without consent.
	AdUserData string
	// AdPersonalization, when set ("GRANTED" or "DENIED"), is sent as each
	// call's consent.adPersonalization.
	AdPersonalization string
}

// validate reports every problem of the call-asset settings, each named.
func (c CallAssets) validate() []error {
	var errs []error
	for _, n := range c.Numbers {
		if !phone.IsE164(n) {
			errs = append(errs, fmt.Errorf("googleadsapi: Config.CallAssets.Numbers: %q is not an E.164 number", n))
		}
	}
	if len(c.Numbers) == 0 {
		if c.ConversionAction != "" || c.AdUserData != "" || c.AdPersonalization != "" {
			errs = append(errs, errors.New("googleadsapi: Config.CallAssets is set but has no Numbers: list the tracking numbers placed on call assets"))
		}
		return errs
	}
	if !conversionAction.MatchString(c.ConversionAction) {
		errs = append(errs, fmt.Errorf("googleadsapi: Config.CallAssets.ConversionAction %q is not a resource name customers/<id>/conversionActions/<id> (of type UPLOAD_CALLS)", c.ConversionAction))
	}
	if c.AdUserData != "GRANTED" {
		errs = append(errs, fmt.Errorf("googleadsapi: Config.CallAssets.AdUserData is %q: declare GRANTED, the consent basis on which callers' numbers go to Google; without it leave CallAssets.Numbers empty", c.AdUserData))
	}
	if c.AdPersonalization != "" && c.AdPersonalization != "GRANTED" && c.AdPersonalization != "DENIED" {
		errs = append(errs, fmt.Errorf("googleadsapi: Config.CallAssets.AdPersonalization %q is not GRANTED, DENIED or empty", c.AdPersonalization))
	}
	return errs
}

var (
	digits10         = regexp.MustCompile(`^[0-9]{10}$`)
	conversionAction = regexp.MustCompile(`^customers/[0-9]+/conversionActions/[0-9]+$`)
	version          = regexp.MustCompile(`^v[0-9]+(_[0-9]+)?$`)
	sha256Hex        = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// Sink uploads conversions and their adjustments to the Google Ads API. It
// implements export.Sink and export.Filter.
type Sink struct {
	cfg    Config
	tokens *tokens
	assets map[string]bool // Config.CallAssets.Numbers
}

var (
	_ export.Sink   = (*Sink)(nil)
	_ export.Filter = (*Sink)(nil)
)

// New validates cfg, naming every bad field, and returns the sink.
func New(cfg Config) (*Sink, error) {
	var errs []error
	cfg.CustomerID = strings.ReplaceAll(strings.TrimSpace(cfg.CustomerID), "-", "")
	cfg.LoginCustomerID = strings.ReplaceAll(strings.TrimSpace(cfg.LoginCustomerID), "-", "")
	if !digits10.MatchString(cfg.CustomerID) {
		errs = append(errs, fmt.Errorf("googleadsapi: Config.CustomerID %q is not a ten-digit Google Ads customer id", cfg.CustomerID))
	}
	if cfg.LoginCustomerID != "" && !digits10.MatchString(cfg.LoginCustomerID) {
		errs = append(errs, fmt.Errorf("googleadsapi: Config.LoginCustomerID %q is not a ten-digit Google Ads customer id", cfg.LoginCustomerID))
	}
	if strings.TrimSpace(cfg.DeveloperToken) == "" {
		errs = append(errs, errors.New("googleadsapi: Config.DeveloperToken is empty"))
	}
	switch {
	case cfg.ReadOnly && (cfg.ConversionAction != "" || len(cfg.CallAssets.Numbers) > 0):
		errs = append(errs, errors.New("googleadsapi: Config.ReadOnly is set with Config.ConversionAction or Config.CallAssets: a read-only sink uploads nothing; give one"))
	case !cfg.ReadOnly && !conversionAction.MatchString(cfg.ConversionAction):
		errs = append(errs, fmt.Errorf("googleadsapi: Config.ConversionAction %q is not a resource name customers/<id>/conversionActions/<id>", cfg.ConversionAction))
	}
	if cfg.TokenSource == nil {
		for _, f := range []struct{ name, v string }{{"ClientID", cfg.ClientID}, {"ClientSecret", cfg.ClientSecret}, {"RefreshToken", cfg.RefreshToken}} {
			if f.v == "" {
				errs = append(errs, fmt.Errorf("googleadsapi: Config.%s is empty and Config.TokenSource is nil", f.name))
			}
		}
	} else if cfg.ClientID != "" || cfg.ClientSecret != "" || cfg.RefreshToken != "" {
		errs = append(errs, errors.New("googleadsapi: Config.TokenSource and Config.ClientID/ClientSecret/RefreshToken are both set; give one"))
	}
	if cfg.Version != "" && !version.MatchString(cfg.Version) {
		errs = append(errs, fmt.Errorf("googleadsapi: Config.Version %q is not like %q", cfg.Version, DefaultVersion))
	}
	for _, f := range []struct{ name, v string }{{"BaseURL", cfg.BaseURL}, {"TokenURL", cfg.TokenURL}} {
		if f.v == "" {
			continue
		}
		if u, err := url.Parse(f.v); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, fmt.Errorf("googleadsapi: Config.%s %q is not an http(s) URL", f.name, f.v))
		}
	}
	if cfg.Timeout < 0 {
		errs = append(errs, errors.New("googleadsapi: Config.Timeout is negative"))
	}
	errs = append(errs, cfg.CallAssets.validate()...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if cfg.Name == "" {
		cfg.Name = DefaultName
	}
	if cfg.Version == "" {
		cfg.Version = DefaultVersion
	}
	cfg.BaseURL = strings.TrimRight(cmp.Or(cfg.BaseURL, DefaultBaseURL), "/")
	cfg.TokenURL = cmp.Or(cfg.TokenURL, endpoints.Google.TokenURL)
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: cfg.Timeout}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	assets := map[string]bool{}
	for _, n := range cfg.CallAssets.Numbers {
		assets[n] = true
	}
	return &Sink{cfg: cfg, tokens: newTokens(cfg), assets: assets}, nil
}

// Name implements export.Sink.
func (s *Sink) Name() string { return s.cfg.Name }

// Accepts implements export.Filter: a conversion, or an adjustment of one,
// whose visitor consented to ads measurement and whose session came from a
// Google click (gclid, gbraid or wbraid); with
// Config.EnhancedConversionsForLeads, also a consented conversion without
// a Google click that carries user data Google may match (and adjustments
// of such conversions); and a qualified call to one of
// Config.CallAssets.Numbers, on the consent the host declared there.
// Calls that did not convert, and anything else without consent, are not
// queued.
func (s *Sink) Accepts(ev export.Event) bool {
	if s.cfg.ReadOnly {
		return false
	}
	if s.callAsset(ev) {
		return true
	}
	if !ev.AdIDs.Consent {
		return false
	}
	_, click := googleClick(ev.Source)
	switch {
	case ev.Adjustment != nil:
		return click || s.cfg.EnhancedConversionsForLeads && ev.AdIDs.SharesUserData()
	case ev.Conversion != nil:
		return click || len(s.userIdentifiers(ev)) > 0
	}
	return false
}

// googleClick returns the Google click id of a source, if it has one.
func googleClick(src classify.Source) (classify.ClickID, bool) {
	switch src.ClickID.Param {
	case "gclid", "gbraid", "wbraid":
		return src.ClickID, src.ClickID.Value != ""
	}
	return classify.ClickID{}, false
}

// callAsset reports whether ev is a qualified call to a call-asset number
// that goes as a call conversion: one whose session did not come from a
// consented Google click (that goes as a click conversion).
func (s *Sink) callAsset(ev export.Event) bool {
	if ev.Conversion == nil || ev.Call == nil || !s.assets[ev.Call.To] {
		return false
	}
	_, click := googleClick(ev.Source)
	return !(click && ev.AdIDs.Consent)
}

// Deliver uploads m: a conversion through
// ConversionUploadService.UploadClickConversions (a call to a call-asset
// number through UploadCallConversions), an adjustment through
// ConversionAdjustmentUploadService.UploadConversionAdjustments, one row
// per request. See the package documentation for how answers are treated.
func (s *Sink) Deliver(ctx context.Context, m export.Message) error {
	switch {
	case s.cfg.ReadOnly:
		return export.Permanent(fmt.Errorf("googleadsapi: message %q: the sink is read-only (Config.ReadOnly)", m.ID))
	case m.Adjustment != nil:
		return s.upload(ctx, "upload conversion adjustment", "uploadConversionAdjustments", s.adjustmentRequest(m), m.Adjustment.Type != export.AdjustRestate)
	case s.callAsset(m.Event):
		req, err := s.callRequest(m)
		if err != nil {
			return export.Permanent(err)
		}
		return s.upload(ctx, "upload call conversion", "uploadCallConversions", req, false)
	case m.Conversion != nil:
		req, err := s.clickRequest(m)
		if err != nil {
			return export.Permanent(err)
		}
		return s.upload(ctx, "upload click conversion", "uploadClickConversions", req, false)
	}
	return export.Permanent(fmt.Errorf("googleadsapi: message %q has neither a conversion nor an adjustment", m.ID))
}

// Request bodies, in the REST (proto3 JSON) names of the Google Ads API.
type (
	clickConversionsRequest struct {
		Conversions    []clickConversion `json:"conversions"`
		PartialFailure bool              `json:"partialFailure"`
		ValidateOnly   bool              `json:"validateOnly,omitempty"`
	}
	clickConversion struct {
		GCLID              string           `json:"gclid,omitempty"`
		GBRAID             string           `json:"gbraid,omitempty"`
		WBRAID             string           `json:"wbraid,omitempty"`
		ConversionAction   string           `json:"conversionAction"`
		ConversionDateTime string           `json:"conversionDateTime"`
		ConversionValue    json.Number      `json:"conversionValue"`
		CurrencyCode       string           `json:"currencyCode"`
		OrderID            string           `json:"orderId"`
		UserIdentifiers    []userIdentifier `json:"userIdentifiers,omitempty"`
		Consent            consent          `json:"consent"`
	}
	userIdentifier struct {
		UserIdentifierSource string `json:"userIdentifierSource,omitempty"`
		HashedEmail          string `json:"hashedEmail,omitempty"`
		HashedPhoneNumber    string `json:"hashedPhoneNumber,omitempty"`
	}
	consent struct {
		AdUserData        string `json:"adUserData,omitempty"`
		AdPersonalization string `json:"adPersonalization,omitempty"`
	}
	callConversionsRequest struct {
		Conversions    []callConversion `json:"conversions"`
		PartialFailure bool             `json:"partialFailure"`
		ValidateOnly   bool             `json:"validateOnly,omitempty"`
	}
	callConversion struct {
		CallerID           string      `json:"callerId"`
		CallStartDateTime  string      `json:"callStartDateTime"`
		ConversionAction   string      `json:"conversionAction"`
		ConversionDateTime string      `json:"conversionDateTime"`
		ConversionValue    json.Number `json:"conversionValue"`
		CurrencyCode       string      `json:"currencyCode"`
		Consent            consent     `json:"consent"`
	}
	conversionAdjustmentsRequest struct {
		ConversionAdjustments []conversionAdjustment `json:"conversionAdjustments"`
		PartialFailure        bool                   `json:"partialFailure"`
		ValidateOnly          bool                   `json:"validateOnly,omitempty"`
	}
	conversionAdjustment struct {
		OrderID            string            `json:"orderId"`
		ConversionAction   string            `json:"conversionAction"`
		AdjustmentDateTime string            `json:"adjustmentDateTime"`
		AdjustmentType     string            `json:"adjustmentType"`
		RestatementValue   *restatementValue `json:"restatementValue,omitempty"`
	}
	restatementValue struct {
		AdjustedValue json.Number `json:"adjustedValue"`
		CurrencyCode  string      `json:"currencyCode,omitempty"`
	}
)

func (s *Sink) clickRequest(m export.Message) (clickConversionsRequest, error) {
	click, ok := googleClick(m.Source)
	ids := s.userIdentifiers(m.Event)
	if !ok && len(ids) == 0 {
		return clickConversionsRequest{}, fmt.Errorf("googleadsapi: conversion %q has no gclid, gbraid or wbraid, and no user data Google may match", m.Conversion.ID)
	}
	c := m.Conversion
	row := clickConversion{
		ConversionAction:   s.cfg.ConversionAction,
		ConversionDateTime: c.At.In(s.cfg.Location).Format(TimeLayout),
		ConversionValue:    json.Number(journey.FormatMinor(c.Value, c.Currency)),
		CurrencyCode:       c.Currency,
		OrderID:            m.ID,
		Consent:            consentOf(m.AdIDs),
	}
	switch click.Param {
	case "gclid":
		row.GCLID = click.Value
	case "gbraid":
		row.GBRAID = click.Value
	case "wbraid":
		row.WBRAID = click.Value
	}
	row.UserIdentifiers = ids
	return clickConversionsRequest{Conversions: []clickConversion{row}, PartialFailure: true, ValidateOnly: s.cfg.ValidateOnly}, nil
}

// userIdentifiers are the hashed user data sent with a conversion, one
// userIdentifier each (Google's oneof): the form's email (its Google
// normalised hash when the form has one, else the plain one), the form's
// phone and the caller's number (once if they are the same), when the
// host turned enhanced conversions for leads on and the visitor's consent
// allows sharing user data. A hash that is not 64 lower-case hex digits is
// left out, as is a caller number kept keyed ("h:..."), withheld or not in
// E.164. That is three at most, within Google's [MaxUserIdentifiers].
func (s *Sink) userIdentifiers(ev export.Event) []userIdentifier {
	if !s.cfg.EnhancedConversionsForLeads || !ev.AdIDs.SharesUserData() {
		return nil
	}
	var ids []userIdentifier
	email := ev.UserData.EmailSHA256
	if sha256Hex.MatchString(ev.UserData.EmailGoogleSHA256) {
		email = ev.UserData.EmailGoogleSHA256 // the dots of a gmail address removed, as Google hashes it
	}
	if sha256Hex.MatchString(email) {
		ids = append(ids, userIdentifier{UserIdentifierSource: "FIRST_PARTY", HashedEmail: email})
	}
	var phones []string
	if sha256Hex.MatchString(ev.UserData.PhoneSHA256) {
		phones = append(phones, ev.UserData.PhoneSHA256)
	}
	if h, ok := hashedCaller(ev); ok && !slices.Contains(phones, h) {
		phones = append(phones, h)
	}
	for _, h := range phones {
		ids = append(ids, userIdentifier{UserIdentifierSource: "FIRST_PARTY", HashedPhoneNumber: h})
	}
	return ids
}

// hashedCaller is the SHA-256 hex of the caller's E.164 number. A number
// kept keyed ("h:...") or withheld is never sent.
func hashedCaller(ev export.Event) (string, bool) {
	if ev.Call == nil {
		return "", false
	}
	from := strings.TrimSpace(ev.Call.From)
	if journey.IsKeyed(from) || !phone.IsE164(from) {
		return "", false
	}
	sum := sha256.Sum256([]byte(from))
	return hex.EncodeToString(sum[:]), true
}

// callRequest is the call conversion of a qualified call to a call-asset
// number: the caller id in E.164 and the call's start, which Google
// matches to the call its forwarding number put through; the conversion
// time, which Google requires after the call's start (the call's end,
// when the call qualified at the latest, else a second after its start);
// the value; and the consent the host declared (Config.CallAssets).
func (s *Sink) callRequest(m export.Message) (callConversionsRequest, error) {
	c, call := m.Conversion, m.Call
	from := strings.TrimSpace(call.From)
	switch {
	case from == "":
		return callConversionsRequest{}, fmt.Errorf("googleadsapi: call-asset call %q has no caller number (withheld): Google matches call conversions on it", c.ID)
	case journey.IsKeyed(from):
		return callConversionsRequest{}, fmt.Errorf("googleadsapi: call-asset call %q keeps its caller number keyed (dni.Config.IdentityKey): Google matches call conversions on the number in E.164", c.ID)
	case !phone.IsE164(from):
		return callConversionsRequest{}, fmt.Errorf("googleadsapi: call-asset call %q: caller number %q is not E.164", c.ID, from)
	}
	start, err := journey.CallTime(*call)
	if err != nil {
		return callConversionsRequest{}, fmt.Errorf("googleadsapi: call-asset call %q: %w", c.ID, err)
	}
	at := c.At
	if call.EndedAt.After(at) {
		at = call.EndedAt
	}
	if !at.After(start) {
		at = start.Add(time.Second)
	}
	row := callConversion{
		CallerID:           from,
		CallStartDateTime:  start.In(s.cfg.Location).Format(TimeLayout),
		ConversionAction:   s.cfg.CallAssets.ConversionAction,
		ConversionDateTime: at.In(s.cfg.Location).Format(TimeLayout),
		ConversionValue:    json.Number(journey.FormatMinor(c.Value, c.Currency)),
		CurrencyCode:       c.Currency,
		Consent:            consent{AdUserData: s.cfg.CallAssets.AdUserData, AdPersonalization: s.cfg.CallAssets.AdPersonalization},
	}
	return callConversionsRequest{Conversions: []callConversion{row}, PartialFailure: true, ValidateOnly: s.cfg.ValidateOnly}, nil
}

// consentOf maps the session's consent to Google's: the visitor consented
// (the sink sends nothing otherwise), so user data is GRANTED unless
// Consent Mode denied it; personalization is sent only when the page set
// it.
func consentOf(a journey.AdIDs) consent {
	c := consent{AdUserData: "GRANTED"}
	if a.AdUserData == "denied" {
		c.AdUserData = "DENIED"
	}
	switch a.AdPersonalization {
	case "granted":
		c.AdPersonalization = "GRANTED"
	case "denied":
		c.AdPersonalization = "DENIED"
	}
	return c
}

// OrderID is the order id a conversion was uploaded with, by which its
// adjustments find it: the id of the message that carried it,
// "<sink name>/<conversion id>" ([export.MessageID]).
func OrderID(sinkName, conversionID string) string {
	return export.MessageID(sinkName, export.Event{Conversion: &journey.Conversion{ID: conversionID}})
}

func (s *Sink) adjustmentRequest(m export.Message) conversionAdjustmentsRequest {
	a := m.Adjustment
	at := a.At
	if at.IsZero() {
		at = m.CreatedAt
	}
	row := conversionAdjustment{
		OrderID:            OrderID(s.cfg.Name, a.ConversionID),
		ConversionAction:   s.cfg.ConversionAction,
		AdjustmentDateTime: at.In(s.cfg.Location).Format(TimeLayout),
		AdjustmentType:     "RETRACTION",
	}
	if a.Type == export.AdjustRestate {
		row.AdjustmentType = "RESTATEMENT"
		row.RestatementValue = &restatementValue{AdjustedValue: json.Number(journey.FormatMinor(a.Value, a.Currency)), CurrencyCode: a.Currency}
	}
	return conversionAdjustmentsRequest{ConversionAdjustments: []conversionAdjustment{row}, PartialFailure: true, ValidateOnly: s.cfg.ValidateOnly}
}

// upload posts body to customers/{id}:{method} ([Sink.call]: the access
// token refreshed once if Google answers UNAUTHENTICATED) and reads the
// row's result from the answer.
func (s *Sink) upload(ctx context.Context, op, method string, body any, retraction bool) error {
	b, err := json.Marshal(body)
	if err != nil {
		return export.Permanent(fmt.Errorf("googleadsapi: %s: encode: %w", op, err))
	}
	endpoint := fmt.Sprintf("%s/%s/customers/%s:%s", s.cfg.BaseURL, s.cfg.Version, s.cfg.CustomerID, method)
	raw, err := s.call(ctx, op, endpoint, b)
	if err != nil {
		return err
	}
	return rowResult(op, raw, retraction)
}

// call posts body to endpoint with the API's headers, getting a new
// access token once if Google answers UNAUTHENTICATED, and returns the
// body of a 2xx answer; any other answer is an [*Error]. Each try is
// bounded by Config.Timeout.
func (s *Sink) call(ctx context.Context, op, endpoint string, body []byte) ([]byte, error) {
	rejected := ""
	for try := 0; ; try++ {
		raw, tok, err := s.try(ctx, op, endpoint, body, rejected)
		var ae *Error
		if try == 0 && errors.As(err, &ae) && ae.StatusCode == http.StatusUnauthorized {
			rejected = tok
			continue
		}
		return raw, err
	}
}

// try sends one request with an access token other than rejected, and
// returns the answer and the token it used.
func (s *Sink) try(ctx context.Context, op, endpoint string, body []byte, rejected string) (raw []byte, token string, err error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	token, err = s.tokens.token(ctx, rejected)
	if err != nil {
		return nil, "", fmt.Errorf("googleadsapi: %s: access token: %w", op, err)
	}
	req, err := s.request(ctx, endpoint, token, body)
	if err != nil {
		return nil, token, fmt.Errorf("googleadsapi: %s: %w", op, err)
	}
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		return nil, token, fmt.Errorf("googleadsapi: %s: %w", op, err)
	}
	defer resp.Body.Close()
	raw, err = io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return nil, token, fmt.Errorf("googleadsapi: %s: read answer: %w", op, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, token, requestError(op, resp, raw, s.cfg.Now())
	}
	return raw, token, nil
}

// request is a POST of body to the API with the headers every call
// carries: the access token, the developer token and the manager account.
func (s *Sink) request(ctx context.Context, endpoint, token string, body []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("developer-token", s.cfg.DeveloperToken)
	if s.cfg.LoginCustomerID != "" {
		req.Header.Set("login-customer-id", s.cfg.LoginCustomerID)
	}
	return req, nil
}
