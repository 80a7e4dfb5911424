package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/provider/twilio"
)

// accountAPI is the part of Twilio's IncomingPhoneNumbers resource that
// provider/twilio's NumberClient does not cover: listing the account's
// numbers and updating a number's webhooks. It follows Twilio's documented
// 2010-04-01 REST API: form-encoded POSTs, JSON answers, HTTP basic auth
// with the account SID and auth token.
type accountAPI struct {
	base       string // e.g. https://api.twilio.com
	accountSID string
	authToken  string
	client     *http.Client
}

func newAccountAPI(base, accountSID, authToken string) *accountAPI {
	if base == "" {
		base = twilio.DefaultAPIBase
	}
	return &accountAPI{base: strings.TrimSuffix(base, "/"), accountSID: accountSID, authToken: authToken,
		client: &http.Client{Timeout: 15 * time.Second}}
}

// ownedNumber is an IncomingPhoneNumber as Twilio returns it.
type ownedNumber struct {
	SID                  string `json:"sid"`
	PhoneNumber          string `json:"phone_number"`
	FriendlyName         string `json:"friendly_name"`
	VoiceURL             string `json:"voice_url"`
	VoiceMethod          string `json:"voice_method"`
	StatusCallback       string `json:"status_callback"`
	StatusCallbackMethod string `json:"status_callback_method"`
}

// webhooksAt reports whether the number already posts both webhooks to u.
func (n ownedNumber) webhooksAt(u string) bool {
	return n.VoiceURL == u && strings.EqualFold(n.VoiceMethod, http.MethodPost) &&
		n.StatusCallback == u && strings.EqualFold(n.StatusCallbackMethod, http.MethodPost)
}

type ownedPage struct {
	Numbers     []ownedNumber `json:"incoming_phone_numbers"`
	NextPageURI string        `json:"next_page_uri"`
}

// listByFriendlyName reads every IncomingPhoneNumber whose FriendlyName is
// name, following next_page_uri.
func (a *accountAPI) listByFriendlyName(ctx context.Context, name string) ([]ownedNumber, error) {
	q := url.Values{"FriendlyName": {name}, "PageSize": {"1000"}}
	next := a.accountPath() + "/IncomingPhoneNumbers.json?" + q.Encode()
	var out []ownedNumber
	for pages := 0; next != ""; pages++ {
		if pages == 100 {
			return nil, errors.New("twilio: IncomingPhoneNumbers: more than 100 pages")
		}
		var page ownedPage
		if err := a.do(ctx, http.MethodGet, next, nil, &page); err != nil {
			return nil, err
		}
		out = append(out, page.Numbers...)
		next = page.NextPageURI
	}
	return out, nil
}

// pointWebhooks sets the number's voice URL and status callback URL, both
// POSTed, and returns the number as Twilio now has it.
func (a *accountAPI) pointWebhooks(ctx context.Context, sid, webhookURL string) (ownedNumber, error) {
	form := url.Values{
		"VoiceUrl": {webhookURL}, "VoiceMethod": {http.MethodPost},
		"StatusCallback": {webhookURL}, "StatusCallbackMethod": {http.MethodPost},
	}
	var got ownedNumber
	err := a.do(ctx, http.MethodPost, a.accountPath()+"/IncomingPhoneNumbers/"+url.PathEscape(sid)+".json", form, &got)
	return got, err
}

func (a *accountAPI) accountPath() string {
	return "/2010-04-01/Accounts/" + url.PathEscape(a.accountSID)
}

func (a *accountAPI) do(ctx context.Context, method, path string, form url.Values, out any) error {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, body)
	if err != nil {
		return err
	}
	req.SetBasicAuth(a.accountSID, a.authToken)
	req.Header.Set("Accept", "application/json")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return fmt.Errorf("twilio: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("twilio: %s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		apiErr := &twilio.APIError{HTTPStatus: resp.StatusCode}
		if json.Unmarshal(data, apiErr) != nil || apiErr.Message == "" {
			apiErr.Message = strings.TrimSpace(string(data))
		}
		return apiErr
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("twilio: %s %s: decoding answer: %w", method, path, err)
	}
	return nil
}

// provisionPlan is what provisioning found and did.
type provisionPlan struct {
	Numbers   []string // the pool, E.164
	Bought    []string
	Repointed []string
	// Missing is how many numbers the pool still lacks (when buying is off
	// or the area code ran out); Candidates are numbers that could fill it.
	Missing    int
	Candidates []string
}

// provisionOptions say what the pool should be.
type provisionOptions struct {
	Tag        string // FriendlyName that marks the pool's numbers
	Want       int    // pool size
	AreaCode   string
	Country    string
	WebhookURL string // where Twilio posts the voice webhook and status callbacks
	Buy        bool   // spend money: buy the missing numbers
}

// provision makes the account hold a pool of Want numbers tagged Tag, each
// posting its voice webhook and status callbacks to WebhookURL: it finds
// the numbers already tagged, re-points those whose webhooks are elsewhere
// (a new tunnel URL, say), and buys what is missing in AreaCode when Buy
// is set. It never releases numbers.
func provision(ctx context.Context, buyer provider.NumberProvisioner, api *accountAPI, o provisionOptions) (provisionPlan, error) {
	var plan provisionPlan
	owned, err := api.listByFriendlyName(ctx, o.Tag)
	if err != nil {
		return plan, fmt.Errorf("listing the pool's numbers: %w", err)
	}
	for _, n := range owned {
		if !n.webhooksAt(o.WebhookURL) {
			if _, err := api.pointWebhooks(ctx, n.SID, o.WebhookURL); err != nil {
				return plan, fmt.Errorf("pointing %s at %s: %w", n.PhoneNumber, o.WebhookURL, err)
			}
			plan.Repointed = append(plan.Repointed, n.PhoneNumber)
		}
		plan.Numbers = append(plan.Numbers, n.PhoneNumber)
	}
	missing := o.Want - len(plan.Numbers)
	if missing <= 0 {
		return plan, nil
	}
	available, err := buyer.SearchNumbers(ctx, provider.NumberQuery{Country: o.Country, AreaCode: o.AreaCode, Limit: missing})
	if err != nil {
		return plan, fmt.Errorf("searching numbers in area code %s: %w", o.AreaCode, err)
	}
	if !o.Buy {
		plan.Missing = missing
		for _, a := range available {
			plan.Candidates = append(plan.Candidates, a.Number)
		}
		return plan, nil
	}
	for _, a := range available[:min(missing, len(available))] {
		got, err := buyer.BuyNumber(ctx, a.Number, provider.BuyOptions{VoiceURL: o.WebhookURL, StatusCallbackURL: o.WebhookURL, FriendlyName: o.Tag})
		if err != nil {
			return plan, fmt.Errorf("buying %s: %w", a.Number, err)
		}
		plan.Bought = append(plan.Bought, got.Number)
		plan.Numbers = append(plan.Numbers, got.Number)
	}
	plan.Missing = o.Want - len(plan.Numbers)
	return plan, nil
}
