package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/dni"
	"github.com/attriqs/calltrack/internal/logbuf"
	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/provider/twilio"
)

const (
	testSID      = "AC00000000000000000000000000000001"
	testToken    = "twilio-auth-token-for-tests"
	testPublic   = "https://calls.example.test"
	testBusiness = "+14155550100"
	testTag      = "calltrack website"
)

// market puts numbers on sale: five in area code 415, two in 650.
func market(f *fakeTwilio) {
	f.forSale = []string{"+16505550121", "+14155550111", "+14155550112", "+16505550122", "+14155550113", "+14155550114", "+14155550115"}
}

// wantFallback is the fail-safe provisioning sets: Twilio's Forward twimlet
// to the business line, fetched with GET.
var wantFallback = twilio.TwimletForward + "?PhoneNumber=" + url.QueryEscape(testBusiness)

func TestProvisionBuysWhatIsMissingAndRepointsTheRest(t *testing.T) {
	f, srv := newFakeTwilio(t, testSID, testToken)
	f.pageSize = 1 // every listed number on its own page: next_page_uri is followed
	market(f)
	hook := testPublic + webhookPath
	const handSet = "https://static.example/forward-to-business.xml" // a fail-safe set by hand in the Console
	f.own(ownedNumber{PhoneNumber: "+14155550101", FriendlyName: testTag, VoiceURL: "https://old-tunnel.example/dni/webhooks/twilio", VoiceMethod: "POST",
		StatusCallback: "https://old-tunnel.example/dni/webhooks/twilio", StatusCallbackMethod: "POST"})
	f.own(ownedNumber{PhoneNumber: "+14155550102", FriendlyName: testTag, VoiceURL: hook, VoiceMethod: "POST", StatusCallback: hook, StatusCallbackMethod: "POST",
		VoiceFallbackURL: handSet, VoiceFallbackMethod: "GET"})
	f.own(ownedNumber{PhoneNumber: "+14155550103", FriendlyName: testTag, VoiceURL: hook, VoiceMethod: "POST", StatusCallback: hook, StatusCallbackMethod: "POST"})
	f.own(ownedNumber{PhoneNumber: "+14155550199", FriendlyName: "office line", VoiceURL: "https://office.example/voice", VoiceMethod: "POST"})

	prov, err := twilio.NewNumberClient(twilio.NumberClientConfig{AccountSID: testSID, AuthToken: testToken, APIBase: srv.URL})
	require.NoError(t, err)
	api := newAccountAPI(srv.URL, testSID, testToken)
	opts := provisionOptions{Tag: testTag, Want: 5, AreaCode: "415", Country: "US", WebhookURL: hook, FallbackTo: testBusiness}

	// Without -buy nothing is bought: the plan names what could be.
	plan, err := provision(t.Context(), prov, api, opts)
	require.NoError(t, err)
	assert.Equal(t, []string{"+14155550101", "+14155550102", "+14155550103"}, plan.Numbers)
	assert.Equal(t, 2, plan.Missing)
	assert.Equal(t, []string{"+14155550111", "+14155550112"}, plan.Candidates, "local numbers in area code 415 only")
	assert.Zero(t, f.purchases)
	assert.Equal(t, []string{"+14155550101", "+14155550103"}, plan.Repointed,
		"the stale webhook and the missing fail-safe are fixed even without -buy; a fail-safe set by hand is kept")

	opts.Buy = true
	plan, err = provision(t.Context(), prov, api, opts)
	require.NoError(t, err)
	assert.Equal(t, []string{"+14155550111", "+14155550112"}, plan.Bought)
	assert.Empty(t, plan.Repointed, "already pointing at the right URL, with a fail-safe")
	assert.Zero(t, plan.Missing)
	assert.Len(t, plan.Numbers, 5)
	assert.Equal(t, 2, f.purchases)
	assert.Equal(t, 2, f.updates, "only the stale number and the one without a fail-safe were updated")

	for _, n := range f.snapshot() {
		if n.FriendlyName != testTag {
			assert.Equal(t, "https://office.example/voice", n.VoiceURL, "numbers outside the pool are left alone")
			assert.Empty(t, n.VoiceFallbackURL, "numbers outside the pool are left alone")
			continue
		}
		assert.Equal(t, hook, n.VoiceURL, n.PhoneNumber)
		assert.Equal(t, "POST", n.VoiceMethod, n.PhoneNumber)
		assert.Equal(t, hook, n.StatusCallback, n.PhoneNumber)
		assert.Equal(t, "POST", n.StatusCallbackMethod, n.PhoneNumber)
		if n.PhoneNumber == "+14155550102" {
			assert.Equal(t, handSet, n.VoiceFallbackURL, "a number already in order is not touched")
			continue
		}
		// Bought and re-pointed alike: Twilio forwards to the business
		// line by itself when the webhook fails.
		assert.Equal(t, wantFallback, n.VoiceFallbackURL, n.PhoneNumber)
		assert.Equal(t, "GET", n.VoiceFallbackMethod, n.PhoneNumber)
	}

	// A third run has nothing to do.
	before := len(f.requests)
	plan, err = provision(t.Context(), prov, api, opts)
	require.NoError(t, err)
	assert.Len(t, plan.Numbers, 5)
	assert.Empty(t, plan.Bought)
	assert.Empty(t, plan.Repointed)
	for _, r := range f.requests[before:] {
		assert.True(t, strings.HasPrefix(r, "GET "), "only reads: %s", r)
	}
}

func TestWebhooksAtNeedsTheFailSafe(t *testing.T) {
	hook := testPublic + webhookPath
	pointed := ownedNumber{VoiceURL: hook, VoiceMethod: "POST", StatusCallback: hook, StatusCallbackMethod: "POST"}
	with := func(fallback string) ownedNumber { n := pointed; n.VoiceFallbackURL = fallback; return n }
	for name, c := range map[string]struct {
		n    ownedNumber
		want bool
	}{
		"twimlet to the business line":        {with(wantFallback), true},
		"fallback set by hand is kept":        {with("https://static.example/forward.xml"), true},
		"no fallback":                         {pointed, false},
		"twimlet to a previous business line": {with(twilio.TwimletForward + "?PhoneNumber=%2B14155550999"), false},
		"webhook elsewhere":                   {ownedNumber{VoiceURL: "https://old.example/x", VoiceMethod: "POST", StatusCallback: hook, StatusCallbackMethod: "POST", VoiceFallbackURL: wantFallback}, false},
	} {
		t.Run(name, func(t *testing.T) { assert.Equal(t, c.want, c.n.webhooksAt(hook, testBusiness)) })
	}
}

func TestProvisionNeedsTheBusinessLine(t *testing.T) {
	f, srv := newFakeTwilio(t, testSID, testToken)
	market(f)
	f.own(ownedNumber{PhoneNumber: "+14155550101", FriendlyName: testTag, VoiceURL: "https://old-tunnel.example/x", VoiceMethod: "POST"})
	prov, err := twilio.NewNumberClient(twilio.NumberClientConfig{AccountSID: testSID, AuthToken: testToken, APIBase: srv.URL})
	require.NoError(t, err)
	_, err = provision(t.Context(), prov, newAccountAPI(srv.URL, testSID, testToken),
		provisionOptions{Tag: testTag, Want: 2, AreaCode: "415", WebhookURL: testPublic + webhookPath, Buy: true})
	require.ErrorIs(t, err, provider.ErrInvalidConfig)
	assert.ErrorContains(t, err, "FallbackTo")
	assert.Zero(t, f.purchases, "nothing bought without a fail-safe")
	assert.Zero(t, f.updates, "nothing re-pointed without a fail-safe")
}

func TestProvisionReportsTwilioErrors(t *testing.T) {
	f, srv := newFakeTwilio(t, testSID, testToken)
	market(f)
	prov, err := twilio.NewNumberClient(twilio.NumberClientConfig{AccountSID: testSID, AuthToken: "wrong", APIBase: srv.URL})
	require.NoError(t, err)
	_, err = provision(t.Context(), prov, newAccountAPI(srv.URL, testSID, "wrong"),
		provisionOptions{Tag: testTag, Want: 1, AreaCode: "415", WebhookURL: testPublic + webhookPath, FallbackTo: testBusiness, Buy: true})
	var apiErr *twilio.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusUnauthorized, apiErr.HTTPStatus)
	assert.Equal(t, 20003, apiErr.Code)

	// A pool number that vanished between listing and re-pointing.
	prov, err = twilio.NewNumberClient(twilio.NumberClientConfig{AccountSID: testSID, AuthToken: testToken, APIBase: srv.URL})
	require.NoError(t, err)
	err = prov.ConfigureNumber(t.Context(), "PN404", provider.BuyOptions{VoiceURL: testPublic + webhookPath, FallbackTo: testBusiness})
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 20404, apiErr.Code)
}

func TestLoadConfigNamesEveryProblem(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	_, err := loadConfig([]string{"-pool-size", "0", "-buy"}, env(map[string]string{"PUBLIC_URL": "https://x.example/app"}))
	require.Error(t, err)
	for _, want := range []string{"TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "PUBLIC_URL", "-business", "-pool-size", "-buy needs -area-code"} {
		assert.ErrorContains(t, err, want)
	}

	cfg, err := loadConfig([]string{"-area-code", "415"}, env(map[string]string{
		"TWILIO_ACCOUNT_SID": testSID, "TWILIO_AUTH_TOKEN": testToken, "PUBLIC_URL": "https://abc.ngrok.app/", "BUSINESS_NUMBER": "+1 (415) 555-0100",
	}))
	require.NoError(t, err)
	assert.Equal(t, "https://abc.ngrok.app/dni/webhooks/twilio", cfg.webhookURL())
	assert.Equal(t, testBusiness, cfg.Business)
	assert.False(t, cfg.Buy, "buying is never the default")
}

// TestEndToEnd runs the command against the stand-in Twilio: it provisions
// the pool, serves, shows a visitor from an ad a tracking number, answers
// Twilio's signed voice webhook with a <Dial> to the business line, takes
// the status callback, and files the call under the visitor's session.
func TestEndToEnd(t *testing.T) {
	f, api := newFakeTwilio(t, testSID, testToken)
	market(f)
	f.own(ownedNumber{PhoneNumber: "+14155550101", FriendlyName: testTag, VoiceURL: "https://old-tunnel.example/x", VoiceMethod: "GET"})
	dir := t.TempDir()
	env := map[string]string{"TWILIO_ACCOUNT_SID": testSID, "TWILIO_AUTH_TOKEN": testToken, "PUBLIC_URL": testPublic,
		"TWILIO_API_BASE": api.URL, "REPORT_TOKEN": "let-me-see"}
	cfg, err := loadConfig([]string{"-business", testBusiness, "-area-code", "415", "-pool-size", "3", "-buy",
		"-db", filepath.Join(dir, "calls.db"), "-spool", filepath.Join(dir, "spool")}, func(k string) string { return env[k] })
	require.NoError(t, err)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	base := "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(t.Context())
	var out logbuf.Buffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, ln, &out) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			assert.NoError(t, err, "run stops cleanly")
		case <-time.After(10 * time.Second):
			t.Error("run did not stop")
		}
	})

	page := waitFor(t, func() (string, bool) {
		resp, err := http.Get(base + "/")
		if err != nil {
			return "", false
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body), resp.StatusCode == http.StatusOK
	})
	assert.Contains(t, page, "(415) 555-0100")
	assert.Contains(t, page, `src="/dni/tracker.js?v=`)
	assert.Contains(t, out.String(), "3 numbers (2 bought now, 1 re-pointed")

	var pool []string
	for _, n := range f.snapshot() {
		assert.Equal(t, testPublic+"/dni/webhooks/twilio", n.VoiceURL)
		assert.Equal(t, testPublic+"/dni/webhooks/twilio", n.StatusCallback)
		assert.Equal(t, "POST", n.VoiceMethod)
		assert.Equal(t, wantFallback, n.VoiceFallbackURL, "%s forwards to the business line when this server is down", n.PhoneNumber)
		assert.Equal(t, "GET", n.VoiceFallbackMethod)
		pool = append(pool, n.PhoneNumber)
	}
	require.Len(t, pool, 3)

	// A visitor arrives from a Google ad and is shown a tracking number.
	var a dni.Assignment
	postJSON(t, base+"/dni/v1/visit", dni.VisitRequest{URL: testPublic + "/?gclid=EAIaIQobChMI", Referrer: "https://www.google.com/"}, &a)
	require.Len(t, a.Swaps, 1, "%+v", a)
	tracking := a.Swaps[0].Number
	assert.Contains(t, pool, tracking)
	assert.Equal(t, testBusiness, a.Swaps[0].Target)
	assert.Equal(t, "Paid Search", string(a.Source.Channel))

	// The visitor calls it: Twilio posts the voice webhook, signed over the
	// public URL, and this server answers where to forward the call.
	hook := base + webhookPath
	voice := url.Values{
		"AccountSid": {testSID}, "ApiVersion": {"2010-04-01"}, "CallSid": {"CA0123456789abcdef0123456789abcdef"},
		"CallStatus": {"ringing"}, "Direction": {"inbound"}, "From": {"+14155559876"}, "Caller": {"+14155559876"},
		"To": {tracking}, "Called": {tracking}, "FromCity": {"SAN FRANCISCO"}, "FromState": {"CA"}, "FromCountry": {"US"},
	}
	resp, body := postForm(t, hook, voice, twilio.Sign(testToken, testPublic+webhookPath, voice))
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	assert.Equal(t, twilio.ContentType, resp.Header.Get("Content-Type"))
	to, _, err := twilio.ParseDial([]byte(body))
	require.NoError(t, err, body)
	assert.Equal(t, testBusiness, to, "the call is forwarded to the business line")

	// A forged webhook is refused.
	forged, _ := postForm(t, hook, voice, twilio.Sign("not-the-token", testPublic+webhookPath, voice))
	assert.Equal(t, http.StatusForbidden, forged.StatusCode)
	wrongURL, _ := postForm(t, hook, voice, twilio.Sign(testToken, base+webhookPath, voice))
	assert.Equal(t, http.StatusForbidden, wrongURL.StatusCode, "Twilio signs the public URL, not ours")

	// The call ends; Twilio posts the status callback. Its Timestamp (whole
	// seconds) is the first time the call carries: Twilio's voice webhook
	// has none.
	status := url.Values{}
	for k, v := range voice {
		status[k] = v
	}
	status.Set("CallStatus", "completed")
	status.Set("CallDuration", "95")
	status.Set("Timestamp", time.Now().Add(100*time.Second).UTC().Format(time.RFC1123Z))
	status.Set("CallbackSource", "call-progress-events")
	status.Set("SequenceNumber", "0")
	resp, body = postForm(t, hook, status, twilio.Sign(testToken, testPublic+webhookPath, status))
	require.Equal(t, http.StatusOK, resp.StatusCode, body)

	// The call is filed under the visitor's session.
	unauth, err := http.Get(base + "/dni/reports/calls")
	require.NoError(t, err)
	unauth.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, unauth.StatusCode)
	report := waitFor(t, func() (dni.CallReport, bool) {
		req, _ := http.NewRequest(http.MethodGet, base+"/dni/reports/calls", nil)
		req.Header.Set("Authorization", "Bearer let-me-see")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return dni.CallReport{}, false
		}
		defer resp.Body.Close()
		var calls []dni.CallReport
		if json.NewDecoder(resp.Body).Decode(&calls) != nil || len(calls) != 1 {
			return dni.CallReport{}, false
		}
		c := calls[0]
		return c, c.Attribution != nil && c.Call.Status == "completed"
	})
	assert.Equal(t, "CA0123456789abcdef0123456789abcdef", report.Call.CallID)
	assert.Equal(t, a.SessionID, report.Attribution.SessionID, "stitched to the visit that showed the number")
	assert.Equal(t, "exact", string(report.Attribution.Confidence))
	assert.Equal(t, "Paid Search", string(report.Attribution.Source.Channel))
	assert.Equal(t, 95, report.TalkSeconds)
}

func postJSON(t *testing.T, u string, in, out any) {
	t.Helper()
	data, err := json.Marshal(in)
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, u, bytes.NewReader(data))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	// Go's own User-Agent is classified as a crawler, which gets no number.
	req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	require.NoError(t, json.Unmarshal(body, out))
}

func postForm(t *testing.T, u string, form url.Values, signature string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(twilio.SignatureHeader, signature)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// waitFor polls check until it reports done, for up to 15 seconds.
func waitFor[T any](t *testing.T, check func() (T, bool)) T {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		v, ok := check()
		if ok {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met in 15s; last value %+v", v)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
