package microsoftads

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/attriqs/calltrack/export"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/store"
)

// Endpoints of the Campaign Management REST API, version 13.
const (
	ProductionEndpoint = "https://campaign.api.bingads.microsoft.com"
	SandboxEndpoint    = "https://campaign.api.sandbox.bingads.microsoft.com"

	conversionsPath = "/CampaignManagement/v13/OfflineConversions/Apply"
	adjustmentsPath = "/CampaignManagement/v13/OfflineConversionAdjustments/Apply"
)

// Errors of the Bing Ads API this sink acts on (Operation Error Codes):
// the numeric Code and the symbolic ErrorCode.
type apiCode struct {
	code     int
	symbolic string
}

var (
	codeInternalError      = apiCode{0, "InternalError"}
	codeTokenExpired       = apiCode{109, "AuthenticationTokenExpired"}
	codeCallRateExceeded   = apiCode{117, "CallRateExceeded"} // resubmit after 60 seconds
	codeOfflineApplyFailed = apiCode{5612, "OfflineConversionsApplyFailed"}
)

const callRateExceededBackoff = 60 * time.Second

// Config configures a [Sink]. TokenSource, DeveloperToken, CustomerID,
// AccountID and ConversionName are required.
type Config struct {
	// Name is the sink's name in the outbox; empty means "microsoftads".
	Name string
	// Endpoint is the Campaign Management service's base URL; empty means
	// [ProductionEndpoint].
	Endpoint string
	// TokenSource gives OAuth access tokens of a user with access to the
	// account (scope https://ads.microsoft.com/msads.manage). The sink
	// keeps a token until it expires and asks again when Microsoft answers
	// AuthenticationTokenExpired, so the source should refresh rather than
	// return the same token (oauth2.Config.TokenSource does).
	TokenSource oauth2.TokenSource
	// DeveloperToken, CustomerID (the manager account) and AccountID (the
	// ad account, sent as CustomerAccountId) go in every request's headers.
	DeveloperToken string
	CustomerID     string
	AccountID      string
	// ConversionName is the name of the offline conversion goal the
	// conversions are applied to.
	ConversionName string
	// Credit, when set, gives the attribution model and the share (0 < credit
	// ≤ 1) of each conversion the host's model credits to Microsoft Ads;
	// they are sent as ExternalAttributionModel and ExternalAttributionCredit,
	// which the goal must be set to accept (external attribution). A credit
	// of 0 dead-letters the conversion: the model says Microsoft Ads did not
	// earn it. dni.Service.CreditFor builds one.
	Credit func(ctx context.Context, ev export.Event) (model string, credit float64, err error)
	// ConversionTime returns the time a conversion was sent with (its
	// ConversionTime), which an adjustment must name, for adjustments that
	// do not carry it (export.Adjustment.ConversionAt, which the Service
	// fills). [SentConversionTime] reads it from the outbox.
	ConversionTime func(ctx context.Context, conversionID string) (time.Time, error)
	// Timeout bounds one request; 0 means 30s.
	Timeout time.Duration
	// Client sends the requests; nil means a client with Timeout.
	Client *http.Client
	// Now is the clock for Retry-After dates; nil means time.Now.
	Now func() time.Time
}

// Sink applies offline conversions and their adjustments to Microsoft
// Advertising. It implements export.Sink and export.Filter.
type Sink struct {
	cfg    Config
	tokens *tokenCache
}

var (
	_ export.Sink   = (*Sink)(nil)
	_ export.Filter = (*Sink)(nil)
)

// New validates cfg, naming every bad field, and returns the sink.
func New(cfg Config) (*Sink, error) {
	var errs []error
	if cfg.Endpoint == "" {
		cfg.Endpoint = ProductionEndpoint
	}
	if u, err := url.Parse(cfg.Endpoint); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		errs = append(errs, fmt.Errorf("microsoftads: Config.Endpoint %q is not an http(s) URL", cfg.Endpoint))
	}
	if cfg.TokenSource == nil {
		errs = append(errs, errors.New("microsoftads: Config.TokenSource is nil"))
	}
	for field, v := range map[string]string{"DeveloperToken": cfg.DeveloperToken, "ConversionName": cfg.ConversionName} {
		if strings.TrimSpace(v) == "" {
			errs = append(errs, fmt.Errorf("microsoftads: Config.%s is empty", field))
		}
	}
	for field, v := range map[string]string{"CustomerID": cfg.CustomerID, "AccountID": cfg.AccountID} {
		if _, err := strconv.ParseInt(v, 10, 64); err != nil {
			errs = append(errs, fmt.Errorf("microsoftads: Config.%s %q is not a numeric id", field, v))
		}
	}
	if cfg.Timeout < 0 {
		errs = append(errs, errors.New("microsoftads: Config.Timeout is negative"))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	cfg.Endpoint = strings.TrimRight(cfg.Endpoint, "/")
	if cfg.Name == "" {
		cfg.Name = "microsoftads"
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
	return &Sink{cfg: cfg, tokens: &tokenCache{src: cfg.TokenSource}}, nil
}

// Name implements export.Sink.
func (s *Sink) Name() string { return s.cfg.Name }

// Accepts takes conversions and adjustments of visitors who gave ads
// consent and came by a Microsoft Ads click (msclkid); adjustments when
// they name their conversion's time or Config.ConversionTime finds it. Calls without a conversion are not
// conversions to Microsoft.
func (s *Sink) Accepts(ev export.Event) bool {
	if !ev.AdIDs.Consent || ev.Source.ClickID.Param != "msclkid" || ev.Source.ClickID.Value == "" {
		return false
	}
	switch ev.Kind() {
	case export.KindConversion:
		return true
	case export.KindAdjustment:
		return !ev.Adjustment.ConversionAt.IsZero() || s.cfg.ConversionTime != nil
	}
	return false
}

// Deliver applies one conversion (ApplyOfflineConversions) or one
// adjustment (ApplyOfflineConversionAdjustments). See the package
// documentation for how answers are classed.
func (s *Sink) Deliver(ctx context.Context, m export.Message) error {
	if !s.Accepts(m.Event) {
		return export.Permanent(errors.New("microsoftads: not a conversion or adjustment with ads consent and an msclkid"))
	}
	var path string
	var body any
	var err error
	if m.Adjustment != nil {
		path = adjustmentsPath
		body, err = s.adjustment(ctx, m)
	} else {
		path = conversionsPath
		body, err = s.conversion(ctx, m)
	}
	if err != nil {
		return err
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return export.Permanent(fmt.Errorf("microsoftads: encode: %w", err))
	}
	return s.post(ctx, path, raw)
}

// OfflineConversion is one row of ApplyOfflineConversions, as the REST API
// names its fields.
type OfflineConversion struct {
	MicrosoftClickId          string   `json:"MicrosoftClickId"`
	ConversionName            string   `json:"ConversionName"`
	ConversionTime            string   `json:"ConversionTime"`
	ConversionValue           *float64 `json:"ConversionValue,omitempty"`
	ConversionCurrencyCode    string   `json:"ConversionCurrencyCode,omitempty"`
	ExternalAttributionCredit *float64 `json:"ExternalAttributionCredit,omitempty"`
	ExternalAttributionModel  string   `json:"ExternalAttributionModel,omitempty"`
}

// OfflineConversionAdjustment is one row of
// ApplyOfflineConversionAdjustments.
type OfflineConversionAdjustment struct {
	MicrosoftClickId       string   `json:"MicrosoftClickId"`
	ConversionName         string   `json:"ConversionName"`
	ConversionTime         string   `json:"ConversionTime"`
	AdjustmentTime         string   `json:"AdjustmentTime"`
	AdjustmentType         string   `json:"AdjustmentType"` // "Restate" or "Retract"
	AdjustmentValue        *float64 `json:"AdjustmentValue,omitempty"`
	AdjustmentCurrencyCode string   `json:"AdjustmentCurrencyCode,omitempty"`
}

// ApplyOfflineConversionsRequest is the body of OfflineConversions/Apply.
type ApplyOfflineConversionsRequest struct {
	OfflineConversions []OfflineConversion `json:"OfflineConversions"`
}

// ApplyOfflineConversionAdjustmentsRequest is the body of
// OfflineConversionAdjustments/Apply.
type ApplyOfflineConversionAdjustmentsRequest struct {
	OfflineConversionAdjustments []OfflineConversionAdjustment `json:"OfflineConversionAdjustments"`
}

// ApplyResponse is the answer of both operations: the rows that failed.
type ApplyResponse struct {
	PartialErrors []BatchError `json:"PartialErrors"`
}

// BatchError is a failed row: Index is its position in the request.
type BatchError struct {
	Index     int    `json:"Index"`
	Code      int    `json:"Code"`
	ErrorCode string `json:"ErrorCode"`
	Message   string `json:"Message"`
	Details   string `json:"Details,omitempty"`
	FieldPath string `json:"FieldPath,omitempty"`
	Type      string `json:"Type,omitempty"`
}

// OperationError is a failure of the whole request.
type OperationError struct {
	Code      int    `json:"Code"`
	ErrorCode string `json:"ErrorCode"`
	Message   string `json:"Message"`
	Details   string `json:"Details,omitempty"`
}

// ApplicationFault is the body of an error answer: ApiFaultDetail carries
// BatchErrors and OperationErrors, AdApiFaultDetail (authentication,
// throttling) carries Errors.
type ApplicationFault struct {
	Type            string           `json:"Type"`
	TrackingId      string           `json:"TrackingId,omitempty"`
	Errors          []OperationError `json:"Errors,omitempty"`
	OperationErrors []OperationError `json:"OperationErrors,omitempty"`
	BatchErrors     []BatchError     `json:"BatchErrors,omitempty"`
}

// Time formats a time as the API's dateTime: UTC, whole seconds, so the
// adjustment names the conversion exactly as it was sent.
func Time(t time.Time) string { return t.UTC().Truncate(time.Second).Format(time.RFC3339) }

func (s *Sink) conversion(ctx context.Context, m export.Message) (ApplyOfflineConversionsRequest, error) {
	c := m.Conversion
	row := OfflineConversion{
		MicrosoftClickId: m.Source.ClickID.Value,
		ConversionName:   s.cfg.ConversionName,
		ConversionTime:   Time(c.At),
	}
	if c.Currency != "" {
		v, err := major(c.Value, c.Currency)
		if err != nil {
			return ApplyOfflineConversionsRequest{}, export.Permanent(fmt.Errorf("microsoftads: conversion value: %w", err))
		}
		row.ConversionValue, row.ConversionCurrencyCode = &v, c.Currency
	}
	if s.cfg.Credit != nil {
		model, credit, err := s.cfg.Credit(ctx, m.Event)
		if errors.Is(err, store.ErrNotFound) { // erased, or never stored: no credit will come
			return ApplyOfflineConversionsRequest{}, export.Permanent(fmt.Errorf("microsoftads: attribution credit: %w", err))
		}
		if err != nil {
			return ApplyOfflineConversionsRequest{}, fmt.Errorf("microsoftads: attribution credit: %w", err)
		}
		switch {
		case math.IsNaN(credit) || credit < 0 || credit > 1:
			return ApplyOfflineConversionsRequest{}, export.Permanent(fmt.Errorf("microsoftads: ExternalAttributionCredit %v is not in (0, 1]", credit))
		case credit == 0:
			return ApplyOfflineConversionsRequest{}, export.Permanent(fmt.Errorf("microsoftads: model %q credits Microsoft Ads nothing for this conversion (ExternalAttributionCredit must be above 0)", model))
		case strings.TrimSpace(model) == "":
			return ApplyOfflineConversionsRequest{}, export.Permanent(errors.New("microsoftads: ExternalAttributionModel is empty"))
		}
		row.ExternalAttributionCredit, row.ExternalAttributionModel = &credit, model
	}
	return ApplyOfflineConversionsRequest{OfflineConversions: []OfflineConversion{row}}, nil
}

func (s *Sink) adjustment(ctx context.Context, m export.Message) (ApplyOfflineConversionAdjustmentsRequest, error) {
	a := m.Adjustment
	at, err := a.ConversionAt, error(nil)
	if at.IsZero() {
		at, err = s.cfg.ConversionTime(ctx, a.ConversionID)
	}
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return ApplyOfflineConversionAdjustmentsRequest{}, export.Permanent(fmt.Errorf("microsoftads: conversion %q was never sent: %w", a.ConversionID, err))
		}
		return ApplyOfflineConversionAdjustmentsRequest{}, fmt.Errorf("microsoftads: conversion time of %q: %w", a.ConversionID, err)
	}
	adjAt := a.At
	if adjAt.Before(at) { // Microsoft rejects an adjustment earlier than its conversion
		adjAt = at
	}
	row := OfflineConversionAdjustment{
		MicrosoftClickId: m.Source.ClickID.Value,
		ConversionName:   s.cfg.ConversionName,
		ConversionTime:   Time(at),
		AdjustmentTime:   Time(adjAt),
	}
	switch a.Type {
	case export.AdjustRestate:
		v, err := major(a.Value, a.Currency)
		if err != nil {
			return ApplyOfflineConversionAdjustmentsRequest{}, export.Permanent(fmt.Errorf("microsoftads: adjustment value: %w", err))
		}
		row.AdjustmentType, row.AdjustmentValue, row.AdjustmentCurrencyCode = "Restate", &v, a.Currency
	case export.AdjustRetract:
		row.AdjustmentType = "Retract" // value and currency must not be set
	default:
		return ApplyOfflineConversionAdjustmentsRequest{}, export.Permanent(fmt.Errorf("microsoftads: adjustment type %q is neither restate nor retract", a.Type))
	}
	return ApplyOfflineConversionAdjustmentsRequest{OfflineConversionAdjustments: []OfflineConversionAdjustment{row}}, nil
}

// major converts minor units to the decimal amount the API takes.
func major(minor int64, currency string) (float64, error) {
	if len(currency) != 3 {
		return 0, fmt.Errorf("currency %q is not an ISO 4217 code", currency)
	}
	return strconv.ParseFloat(journey.FormatMinor(minor, currency), 64)
}

// post sends body, refreshing the access token once if Microsoft says it
// expired.
func (s *Sink) post(ctx context.Context, path string, body []byte) error {
	for attempt := 0; ; attempt++ {
		tok, err := s.tokens.token()
		if err != nil {
			return fmt.Errorf("microsoftads: access token: %w", err)
		}
		err = s.send(ctx, path, body, tok)
		var fe *FaultError
		if attempt == 0 && errors.As(err, &fe) && fe.has(codeTokenExpired) {
			s.tokens.drop(tok)
			continue
		}
		return err
	}
}

func (s *Sink) send(ctx context.Context, path string, body []byte, tok string) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.Endpoint+path, bytes.NewReader(body))
	if err != nil {
		return export.Permanent(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("DeveloperToken", s.cfg.DeveloperToken)
	req.Header.Set("CustomerId", s.cfg.CustomerID)
	req.Header.Set("CustomerAccountId", s.cfg.AccountID)
	req.Header.Set("User-Agent", "calltrack-export")
	op := "microsoftads: " + path
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("%s: read answer: %w", op, err)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		var ar ApplyResponse
		if err := json.Unmarshal(raw, &ar); err != nil {
			return fmt.Errorf("%s: answer does not decode: %w", op, err)
		}
		if len(ar.PartialErrors) == 0 {
			return nil
		}
		return faultError(op, resp.StatusCode, ApplicationFault{BatchErrors: ar.PartialErrors})
	}
	resp.Body = io.NopCloser(bytes.NewReader(raw))
	herr := export.CheckResponse(op, resp, s.cfg.Now())
	fault, ok := decodeFault(raw)
	if !ok {
		return herr
	}
	fe := faultError(op, resp.StatusCode, fault)
	var he *export.HTTPError
	if errors.As(herr, &he) {
		fe.wait = he.Wait
	}
	return fe
}

// decodeFault reads an ApplicationFault, bare (as the REST SDKs decode
// it) or wrapped in {"ApplicationFault": ...} (as the migration guide
// shows it).
func decodeFault(raw []byte) (ApplicationFault, bool) {
	var wrapped struct {
		ApplicationFault *ApplicationFault `json:"ApplicationFault"`
	}
	if json.Unmarshal(raw, &wrapped) == nil && wrapped.ApplicationFault != nil {
		return *wrapped.ApplicationFault, true
	}
	var f ApplicationFault
	if json.Unmarshal(raw, &f) != nil {
		return f, false
	}
	return f, len(f.Errors)+len(f.OperationErrors)+len(f.BatchErrors) > 0
}

// FaultError is Microsoft's refusal of a request or of its row: the HTTP
// status and every error's code and message.
type FaultError struct {
	Op         string
	StatusCode int
	Fault      ApplicationFault
	wait       time.Duration
}

func faultError(op string, status int, f ApplicationFault) *FaultError {
	return &FaultError{Op: op, StatusCode: status, Fault: f}
}

func (e *FaultError) codes() []OperationError {
	out := append([]OperationError(nil), e.Fault.Errors...)
	out = append(out, e.Fault.OperationErrors...)
	for _, b := range e.Fault.BatchErrors {
		out = append(out, OperationError{Code: b.Code, ErrorCode: b.ErrorCode, Message: b.Message, Details: b.Details})
	}
	return out
}

// has matches the symbolic code, or the numeric one when an error has no
// symbolic code.
func (e *FaultError) has(want apiCode) bool {
	for _, c := range e.codes() {
		if c.ErrorCode == want.symbolic || (c.ErrorCode == "" && c.Code == want.code) {
			return true
		}
	}
	return false
}

func (e *FaultError) Error() string {
	var parts []string
	for _, c := range e.codes() {
		p := fmt.Sprintf("%d %s: %s", c.Code, c.ErrorCode, c.Message)
		if c.Details != "" {
			p += " (" + c.Details + ")"
		}
		parts = append(parts, p)
	}
	msg := fmt.Sprintf("%s: HTTP %d: %s", e.Op, e.StatusCode, strings.Join(parts, "; "))
	if e.Fault.TrackingId != "" {
		msg += " [tracking id " + e.Fault.TrackingId + "]"
	}
	return msg
}

// Permanent: the request or its row is wrong, unless Microsoft failed on
// its side (internal error, apply failed), throttled, the token expired
// (refreshed on the next attempt), or the answer was a 5xx, 408 or 429.
func (e *FaultError) Permanent() bool {
	if e.StatusCode >= 500 || e.StatusCode == http.StatusTooManyRequests || e.StatusCode == http.StatusRequestTimeout {
		return false
	}
	for _, code := range []apiCode{codeInternalError, codeTokenExpired, codeCallRateExceeded, codeOfflineApplyFailed} {
		if e.has(code) {
			return false
		}
	}
	return true
}

// RetryAfter is the answer's Retry-After, or the 60 seconds Microsoft asks
// for after CallRateExceeded.
func (e *FaultError) RetryAfter() time.Duration {
	if e.wait > 0 {
		return e.wait
	}
	if e.has(codeCallRateExceeded) {
		return callRateExceededBackoff
	}
	return 0
}

// tokenCache keeps the access token until it expires or Microsoft rejects
// it as expired.
type tokenCache struct {
	mu  sync.Mutex
	src oauth2.TokenSource
	tok *oauth2.Token
}

func (c *tokenCache) token() (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tok.Valid() {
		return c.tok.AccessToken, nil
	}
	tok, err := c.src.Token()
	if err != nil {
		return "", err
	}
	if tok.AccessToken == "" {
		return "", errors.New("token source gave an empty access token")
	}
	c.tok = tok
	return tok.AccessToken, nil
}

// drop forgets access if it is still the cached token, so the next call
// asks the source again.
func (c *tokenCache) drop(access string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tok != nil && c.tok.AccessToken == access {
		c.tok = nil
	}
}

// Outbox reads recorded messages; *export.Exporter implements it.
type Outbox interface {
	Message(ctx context.Context, id string) (store.OutboxMessage, error)
}

// SentConversionTime returns a Config.ConversionTime that reads the
// conversion message the sink named sinkName was given from the outbox:
// the adjustment then names the conversion exactly as it was sent. The
// outbox is called through a function because the exporter is built
// after its sinks.
func SentConversionTime(outbox func() Outbox, sinkName string) func(context.Context, string) (time.Time, error) {
	return func(ctx context.Context, conversionID string) (time.Time, error) {
		o := outbox()
		if o == nil {
			return time.Time{}, errors.New("no outbox to read the conversion from")
		}
		m, err := o.Message(ctx, export.MessageID(sinkName, export.Event{Conversion: &journey.Conversion{ID: conversionID}}))
		if err != nil {
			return time.Time{}, err
		}
		var ev export.Event
		if err := json.Unmarshal(m.Payload, &ev); err != nil || ev.Conversion == nil {
			return time.Time{}, fmt.Errorf("conversion message %q does not decode", m.ID)
		}
		return ev.Conversion.At, nil
	}
}
