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
// provider/twilio's NumberClient does not cover: listing the numbers with a
// given FriendlyName, with their webhook and fail-safe URLs, so provisioning
// can tell which need re-pointing. It follows Twilio's documented
// 2010-04-01 REST API: JSON answers, HTTP basic auth with the account SID
// and auth token. Changes go through the NumberClient (ConfigureNumber),
// which also sets the fail-safe.
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
	VoiceFallbackURL     string `json:"voice_fallback_url"`
	VoiceFallbackMethod  string `json:"voice_fallback_method"`
}

// webhooksAt reports whether the number already posts both webhooks to u
// and has a fail-safe (VoiceFallbackUrl) for when u does not answer. A
// fallback set by hand in the Console is kept; the Forward twimlet to
// another line than business (the line changed) is not.
func (n ownedNumber) webhooksAt(u, business string) bool {
	return n.VoiceURL == u && strings.EqualFold(n.VoiceMethod, http.MethodPost) &&
		n.StatusCallback == u && strings.EqualFold(n.StatusCallbackMethod, http.MethodPost) &&
		n.fallsBackTo(business)
}

func (n ownedNumber) fallsBackTo(business string) bool {
	if n.VoiceFallbackURL == "" {
		return false
	}
	query, twimlet := strings.CutPrefix(n.VoiceFallbackURL, twilio.TwimletForward+"?")
	if !twimlet {
		return true
	}
	q, err := url.ParseQuery(query)
	return err == nil && q.Get("PhoneNumber") == business
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
		if err := a.get(ctx, next, &page); err != nil {
			return nil, err
		}
		out = append(out, page.Numbers...)
		next = page.NextPageURI
	}
	return out, nil
}

func (a *accountAPI) accountPath() string {
	return "/2010-04-01/Accounts/" + url.PathEscape(a.accountSID)
}

// get reads path (rooted at the API host, as next_page_uri is) into out.
func (a *accountAPI) get(ctx context.Context, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.base+path, nil)
	if err != nil {
		return err
	}
	req.SetBasicAuth(a.accountSID, a.authToken)
	req.Header.Set("Accept", "application/json")
	resp, err := a.client.Do(req)
	if err != nil {
		return fmt.Errorf("twilio: GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("twilio: GET %s: %w", path, err)
	}
	if resp.StatusCode/100 != 2 {
		apiErr := &twilio.APIError{HTTPStatus: resp.StatusCode}
		if json.Unmarshal(data, apiErr) != nil || apiErr.Message == "" {
			apiErr.Message = strings.TrimSpace(string(data))
		}
		return apiErr
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("twilio: GET %s: decoding answer: %w", path, err)
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
	FallbackTo string // the business line Twilio forwards to by itself when WebhookURL fails, E.164
	Buy        bool   // spend money: buy the missing numbers
}

// provision makes the account hold a pool of Want numbers tagged Tag, each
// posting its voice webhook and status callbacks to WebhookURL and falling
// back to FallbackTo when that fails: it finds the numbers already tagged,
// re-points those whose webhooks are elsewhere (a new tunnel URL, say) or
// that lack a fail-safe, and buys what is missing in AreaCode when Buy is
// set. It never releases numbers.
func provision(ctx context.Context, prov provider.Provisioner, api *accountAPI, o provisionOptions) (provisionPlan, error) {
	var plan provisionPlan
	owned, err := api.listByFriendlyName(ctx, o.Tag)
	if err != nil {
		return plan, fmt.Errorf("listing the pool's numbers: %w", err)
	}
	// The same options for numbers bought and re-pointed; FriendlyName
	// keeps a re-pointed number in the pool.
	numberOpts := provider.BuyOptions{VoiceURL: o.WebhookURL, StatusCallbackURL: o.WebhookURL, FriendlyName: o.Tag, FallbackTo: o.FallbackTo}
	for _, n := range owned {
		if !n.webhooksAt(o.WebhookURL, o.FallbackTo) {
			if err := prov.ConfigureNumber(ctx, n.SID, numberOpts); err != nil {
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
	available, err := prov.SearchNumbers(ctx, provider.NumberQuery{Country: o.Country, AreaCode: o.AreaCode, Limit: missing})
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
		got, err := prov.BuyNumber(ctx, a.Number, numberOpts)
		if err != nil {
			return plan, fmt.Errorf("buying %s: %w", a.Number, err)
		}
		plan.Bought = append(plan.Bought, got.Number)
		plan.Numbers = append(plan.Numbers, got.Number)
	}
	plan.Missing = o.Want - len(plan.Numbers)
	return plan, nil
}
