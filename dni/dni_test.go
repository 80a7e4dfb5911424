package dni

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/mock/gomock"

	"github.com/attriqs/calltrack/chat"
	"github.com/attriqs/calltrack/classify"
	"github.com/attriqs/calltrack/dni/tracker"
	"github.com/attriqs/calltrack/export"
	"github.com/attriqs/calltrack/export/webhook"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/journey/attribution"
	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/pool/poolmock"
	"github.com/attriqs/calltrack/provider/fake"
	"github.com/attriqs/calltrack/store/memstore"
)

const (
	mainLine    = "+14155550000"
	serviceLine = "+14155550001"
	caller      = "+12125550123"
	printNumber = "+14155550150"
)

var secret = []byte("fake-secret")

const browserUA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

// testClock is a settable clock shared by the service and the fake caller.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func testConfig() Config {
	return Config{
		Pools: []Pool{
			{PoolConfig: pool.PoolConfig{Name: "paid-search", Numbers: []string{"+14155550101", "+14155550102"}, BusinessNumber: mainLine},
				Serves: []string{string(classify.ChannelPaidSearch)}},
			{PoolConfig: pool.PoolConfig{Name: "main", Numbers: []string{"+14155550111", "+14155550112"}, BusinessNumber: mainLine}},
			{PoolConfig: pool.PoolConfig{Name: "service", Numbers: []string{"+14155550121", "+14155550122"}, BusinessNumber: serviceLine}},
		},
		Dedicated: []pool.DedicatedNumber{{Number: printNumber, BusinessNumber: mainLine, Campaign: "Spring flyer", Source: "flyer", Medium: "print", Channel: "Offline"}},
		Qualify:   []journey.QualifyRule{{Name: "booked job", Value: 25000, Currency: "USD"}},
	}
}

type harness struct {
	svc    *Service
	srv    *httptest.Server
	clock  *testClock
	caller *fake.Caller
}

func newHarness(t *testing.T, cfg Config, opts ...Option) *harness {
	t.Helper()
	clock := &testClock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
	prov, err := fake.New(fake.Config{Secret: secret, Clock: clock.now})
	require.NoError(t, err)
	opts = append([]Option{WithStore(memstore.New()), WithProvider(prov), WithSpoolDir(t.TempDir()), WithClock(clock.now)}, opts...)
	svc, err := New(cfg, opts...)
	require.NoError(t, err)
	srv := httptest.NewServer(svc.Handler())
	ran := make(chan error, 1)
	go func() { ran <- svc.Run(context.Background()) }()
	waitFor(t, "Run started", svc.running.Load)
	t.Cleanup(func() {
		srv.Close()
		require.NoError(t, svc.Close())
		require.NoError(t, <-ran, "Run returns nil after Close")
	})
	return &harness{svc: svc, srv: srv, clock: clock, caller: &fake.Caller{Secret: secret, Clock: clock.now}}
}

func (h *harness) post(t *testing.T, path string, body any, header ...string) (*http.Response, []byte) {
	t.Helper()
	b, err := json.Marshal(body)
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, h.srv.URL+DefaultPrefix+path, bytes.NewReader(b))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	req.Header.Set("User-Agent", browserUA)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	var out bytes.Buffer
	_, _ = out.ReadFrom(res.Body)
	return res, out.Bytes()
}

func (h *harness) visit(t *testing.T, req VisitRequest) Assignment {
	t.Helper()
	res, body := h.post(t, "v1/visit", req)
	require.Equal(t, http.StatusOK, res.StatusCode, string(body))
	var a Assignment
	require.NoError(t, json.Unmarshal(body, &a))
	return a
}

// tawkChat is a visit from a Facebook post whose visitor starts Tawk
// conversation conv, as the tracker reports it; hook posts Tawk's signed
// webhook of that start (signed with secret; the same body each time, a
// retry) and returns the answer's status.
func (h *harness) tawkChat(t *testing.T, conv string) (a Assignment, hook func(secret string) int) {
	t.Helper()
	a = h.visit(t, VisitRequest{URL: "https://example-plumbing.com/?utm_source=facebook&utm_medium=social"})
	res, body := h.post(t, "v1/events", EventsRequest{VisitorID: a.VisitorID, SessionID: a.SessionID,
		Events: []Event{{Type: EventChatStarted, Platform: "tawk", ConversationID: conv, At: h.clock.now()}}})
	require.Equal(t, http.StatusAccepted, res.StatusCode, string(body))
	payload := []byte(`{"event":"chat:start","chatId":"` + conv + `","time":"` + h.clock.now().Format(time.RFC3339) + `",
		"message":{"text":"Do you fix boilers?","type":"msg","sender":{"type":"visitor"}},"visitor":{"name":"V"},"property":{"id":"p","name":"Shop"}}`)
	return a, func(secret string) int {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, h.srv.URL+DefaultPrefix+"v1/chat/tawk", bytes.NewReader(payload))
		require.NoError(t, err)
		req.Header.Set("X-Tawk-Signature", chat.SignTawk(secret, payload))
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		return res.StatusCode
	}
}

func TestVisitSwapsEveryLineAndKeepsTheSession(t *testing.T) {
	h := newHarness(t, testConfig())
	a := h.visit(t, VisitRequest{URL: "https://example-plumbing.com/?utm_source=google&utm_medium=cpc&gclid=x", Referrer: "https://www.google.com/"})
	assert.Equal(t, classify.ChannelPaidSearch, a.Source.Channel)
	assert.NotEmpty(t, a.VisitorID)
	assert.NotEmpty(t, a.SessionID)
	require.Len(t, a.Swaps, 2, "one tracking number per business line")
	assert.Equal(t, mainLine, a.Swaps[0].Target)
	assert.Contains(t, []string{"+14155550101", "+14155550102"}, a.Swaps[0].Number, "paid search pool serves paid search")
	assert.Equal(t, serviceLine, a.Swaps[1].Target)
	assert.Equal(t, "(415) 555-01"+a.Swaps[0].Number[10:], a.Swaps[0].Display)
	assert.Equal(t, 60, a.HeartbeatS)

	h.clock.add(5 * time.Minute)
	again := h.visit(t, VisitRequest{VisitorID: a.VisitorID, SessionID: a.SessionID, URL: "https://example-plumbing.com/contact"})
	assert.Equal(t, a.SessionID, again.SessionID, "a live session continues")
	assert.Equal(t, a.Swaps, again.Swaps, "and keeps its numbers")
	assert.Equal(t, classify.ChannelPaidSearch, again.Source.Channel, "and the source of its landing")

	h.clock.add(31 * time.Minute)
	later := h.visit(t, VisitRequest{VisitorID: a.VisitorID, SessionID: a.SessionID, URL: "https://example-plumbing.com/"})
	assert.NotEqual(t, a.SessionID, later.SessionID, "after 30 quiet minutes a new session starts")
	assert.Equal(t, a.VisitorID, later.VisitorID)
	assert.Equal(t, classify.ChannelDirect, later.Source.Channel)
}

func TestCrawlerSeesTheRealNumbers(t *testing.T) {
	h := newHarness(t, testConfig())
	res, body := h.post(t, "v1/visit", VisitRequest{URL: "https://example-plumbing.com/"}, "User-Agent", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)")
	require.Equal(t, http.StatusOK, res.StatusCode)
	var a Assignment
	require.NoError(t, json.Unmarshal(body, &a))
	assert.Empty(t, a.Swaps)
	assert.Empty(t, a.SessionID)
	st, err := h.svc.alloc.Stats(context.Background(), "main", h.clock.now())
	require.NoError(t, err)
	assert.Zero(t, st.Leased, "no number was leased")
}

func TestCallIsStitchedQualifiedAndJoinsTheJourney(t *testing.T) {
	h := newHarness(t, testConfig())
	ctx := context.Background()
	a := h.visit(t, VisitRequest{URL: "https://example-plumbing.com/?gclid=x"})
	tracking := a.Swaps[0].Number

	h.clock.add(10 * time.Minute)
	ans, err := h.caller.PlaceCall(ctx, h.srv.URL+DefaultPrefix+"webhooks/fake", fake.Call{ID: "CA1", From: caller, To: tracking, Answered: true, Duration: 3 * time.Minute})
	require.NoError(t, err)
	assert.Equal(t, mainLine, ans.To, "the caller is forwarded to the real line")
	require.NoError(t, h.svc.Close(), "drains the ingest")

	attr, err := h.svc.store.Attribution(ctx, "fake", "CA1")
	require.NoError(t, err)
	assert.Equal(t, journey.ConfidenceExact, attr.Confidence)
	assert.Equal(t, a.SessionID, attr.SessionID)
	assert.Equal(t, classify.ChannelPaidSearch, attr.Source.Channel)

	phone, err := journey.PhoneID(caller, nil)
	require.NoError(t, err)
	tps, convs, err := h.svc.Journey(ctx, phone, h.clock.now().Add(-time.Hour), h.clock.now().Add(time.Hour))
	require.NoError(t, err)
	require.Len(t, tps, 2, "the session and the call, in one journey")
	assert.Equal(t, journey.TouchSession, tps[0].Kind)
	assert.Equal(t, journey.TouchCall, tps[1].Kind)
	require.Len(t, convs, 1)
	assert.Equal(t, int64(25000), convs[0].Value)
	assert.Equal(t, journey.ConversionCall, convs[0].Type)
}

func TestDedicatedNumberCall(t *testing.T) {
	h := newHarness(t, testConfig())
	ctx := context.Background()
	_, err := h.caller.PlaceCall(ctx, h.srv.URL+DefaultPrefix+"webhooks/fake", fake.Call{ID: "CA2", From: caller, To: printNumber, Answered: true, Duration: 30 * time.Second})
	require.NoError(t, err)
	require.NoError(t, h.svc.Close())
	attr, err := h.svc.store.Attribution(ctx, "fake", "CA2")
	require.NoError(t, err)
	assert.Equal(t, journey.ConfidenceDedicated, attr.Confidence)
	assert.Equal(t, "Spring flyer", attr.Source.Campaign)
	convs, err := h.svc.store.ConversionsBetween(ctx, h.clock.now().Add(-time.Hour), h.clock.now().Add(time.Hour))
	require.NoError(t, err)
	assert.Empty(t, convs, "30 s is under the minimum of the only rule: not a conversion")
}

func TestVisitorAPIRejectsBadInput(t *testing.T) {
	h := newHarness(t, testConfig())
	cases := []struct {
		name string
		body string
		ct   string
		code int
		want string
	}{
		{"unknown field", `{"url":"https://x.example/","colour":"red"}`, "application/json", 400, `unknown field "colour"`},
		{"not json", `url=x`, "text/plain", 400, "invalid JSON"},
		{"two objects", `{"url":"a"}{"url":"b"}`, "application/json", 400, "data after the object"},
		{"bad visitor id", `{"url":"https://x.example/","visitor_id":"<script>"}`, "application/json", 400, "visitor_id: dni: invalid id"},
		{"form encoding", `{"url":"x"}`, "application/x-www-form-urlencoded", 415, "send JSON"},
		{"too large", `{"url":"` + strings.Repeat("a", DefaultMaxBodyBytes) + `"}`, "application/json", 413, "body over"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, h.srv.URL+DefaultPrefix+"v1/visit", strings.NewReader(tc.body))
			require.NoError(t, err)
			req.Header.Set("Content-Type", tc.ct)
			req.Header.Set("User-Agent", browserUA)
			res, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer res.Body.Close()
			var e apiError
			require.NoError(t, json.NewDecoder(res.Body).Decode(&e))
			assert.Equal(t, tc.code, res.StatusCode)
			assert.Contains(t, e.Error, tc.want)
		})
	}
	res, err := http.Get(h.srv.URL + DefaultPrefix + "v1/visit")
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, res.StatusCode)
}

func TestRateLimitPerAddress(t *testing.T) {
	cfg := testConfig()
	cfg.VisitsPerIPPerMinute = 5
	h := newHarness(t, cfg)
	codes := map[int]int{}
	for range 8 {
		res, _ := h.post(t, "v1/visit", VisitRequest{URL: "https://example-plumbing.com/"})
		codes[res.StatusCode]++
	}
	assert.Equal(t, map[int]int{200: 5, 429: 3}, codes)
	h.clock.add(time.Minute)
	res, _ := h.post(t, "v1/visit", VisitRequest{URL: "https://example-plumbing.com/"})
	assert.Equal(t, http.StatusOK, res.StatusCode, "the bucket refills")
}

func TestCORSOnlyForAllowedOrigins(t *testing.T) {
	cfg := testConfig()
	cfg.AllowedOrigins = []string{"https://www.example-plumbing.com"}
	h := newHarness(t, cfg)
	res, _ := h.post(t, "v1/visit", VisitRequest{URL: "https://www.example-plumbing.com/"}, "Origin", "https://www.example-plumbing.com")
	assert.Equal(t, "https://www.example-plumbing.com", res.Header.Get("Access-Control-Allow-Origin"))
	res, _ = h.post(t, "v1/visit", VisitRequest{URL: "https://www.example-plumbing.com/"}, "Origin", "https://evil.example")
	assert.Empty(t, res.Header.Get("Access-Control-Allow-Origin"))
}

func TestEventsJoinTheSession(t *testing.T) {
	h := newHarness(t, testConfig())
	a := h.visit(t, VisitRequest{URL: "https://example-plumbing.com/?utm_source=newsletter&utm_medium=email"})
	events := EventsRequest{VisitorID: a.VisitorID, SessionID: a.SessionID, Events: []Event{
		{Type: EventChatStarted, Platform: "intercom", ConversationID: "c1", ContactID: "u9", At: h.clock.now()},
		{Type: EventForm, Name: "quote", At: h.clock.now()},
	}}
	for range 2 { // resending a batch changes nothing
		res, body := h.post(t, "v1/events", events)
		require.Equal(t, http.StatusAccepted, res.StatusCode, string(body))
	}
	// The chat's contact is the browser's claim, linked to no one: the
	// journey is the visitor's.
	contact, err := journey.ChatContactID("intercom", "u9")
	require.NoError(t, err)
	claims, err := h.svc.Store().ClaimsOf(context.Background(), contact)
	require.NoError(t, err)
	require.Len(t, claims, 1)
	assert.Equal(t, a.SessionID, claims[0].SessionID)
	tps, _, err := h.svc.Journey(context.Background(), journey.Identifier{Kind: journey.IDVisitor, Value: a.VisitorID},
		h.clock.now().Add(-time.Hour), h.clock.now().Add(time.Hour))
	require.NoError(t, err)
	kinds := []journey.TouchKind{}
	for _, tp := range tps {
		kinds = append(kinds, tp.Kind)
		assert.Equal(t, classify.ChannelEmail, tp.Source.Channel, "events carry their session's source")
	}
	assert.ElementsMatch(t, []journey.TouchKind{journey.TouchSession, journey.TouchChat, journey.TouchForm}, kinds)

	res, body := h.post(t, "v1/events", EventsRequest{VisitorID: a.VisitorID, SessionID: a.SessionID, Events: []Event{{Type: "telepathy"}}})
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
	assert.Contains(t, string(body), `events[0]: dni: invalid event: type \"telepathy\"`)
}

func TestNewNamesEveryProblem(t *testing.T) {
	cfg := Config{
		Prefix: "dni",
		Pools: []Pool{
			{PoolConfig: pool.PoolConfig{Name: "a", Numbers: []string{"+14155550101"}, BusinessNumber: mainLine}},
			{PoolConfig: pool.PoolConfig{Name: "b", Numbers: []string{"555-0102"}, BusinessNumber: mainLine}},
		},
		AllowedOrigins:      []string{"example.com"},
		Classify:            classify.Config{Rules: []classify.Rule{{Name: "no conditions", Pool: "a"}}},
		WebhookMaxBodyBytes: 100,
	}
	prov, err := fake.New(fake.Config{Secret: secret})
	require.NoError(t, err)
	_, err = New(cfg, WithProvider(prov))
	require.Error(t, err)
	for _, want := range []string{
		`Prefix "dni" must start and end with /`,
		`a second default pool for business line +14155550000`,
		`AllowedOrigins[0]: "example.com"`,
		`rules[0] "no conditions".when`,
		`555-0102`,
		`WithProvider needs WithSpoolDir`,
		`WebhookMaxBodyBytes 100 is under 4096`,
	} {
		assert.Contains(t, err.Error(), want)
	}
}

func TestTrackerScriptIsServed(t *testing.T) {
	h := newHarness(t, testConfig())
	src := h.svc.ScriptSrc()
	assert.True(t, strings.HasPrefix(src, DefaultPrefix+"tracker.js?v="), src)
	res, err := http.Get(h.srv.URL + src)
	require.NoError(t, err)
	defer res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, res.Header.Get("Cache-Control"), "immutable")
	assert.Contains(t, res.Header.Get("Content-Type"), "javascript")

	// The chat detection the tracker loads, beside it.
	res, err = http.Get(h.srv.URL + DefaultPrefix + tracker.ChatFile)
	require.NoError(t, err)
	defer res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, res.Header.Get("Content-Type"), "javascript")
}

func TestAttributeComparesModels(t *testing.T) {
	h := newHarness(t, testConfig())
	ctx := context.Background()
	// Two visits of one visitor, from email then paid search, then a call.
	first := h.visit(t, VisitRequest{URL: "https://example-plumbing.com/?utm_source=newsletter&utm_medium=email"})
	h.clock.add(2 * time.Hour)
	second := h.visit(t, VisitRequest{VisitorID: first.VisitorID, URL: "https://example-plumbing.com/?gclid=x"})
	h.clock.add(5 * time.Minute)
	_, err := h.caller.PlaceCall(ctx, h.srv.URL+DefaultPrefix+"webhooks/fake", fake.Call{ID: "CA3", From: caller, To: second.Swaps[0].Number, Answered: true, Duration: 2 * time.Minute})
	require.NoError(t, err)
	require.NoError(t, h.svc.Close())

	cmp, err := h.svc.Attribute(ctx, h.clock.now().Add(-24*time.Hour), h.clock.now().Add(time.Hour), attribution.Options{})
	require.NoError(t, err)
	require.Len(t, cmp.Results, len(attribution.DefaultModels()))
	assert.Equal(t, "first_touch", cmp.Results[0].Model)
	assert.Equal(t, int64(25000), cmp.Value(string(classify.ChannelEmail), 0), "first touch: the email visit")
	assert.Equal(t, int64(25000), cmp.Value(string(classify.ChannelPaidSearch), 1), "last touch: the call from paid search")
	for _, r := range cmp.Results {
		assert.Equal(t, int64(25000), r.Value, "%s credits the whole value", r.Model)
	}
}

func TestAuditReadsTheStoredHistory(t *testing.T) {
	h := newHarness(t, testConfig())
	ctx := context.Background()
	for range 3 {
		h.visit(t, VisitRequest{URL: "https://example-plumbing.com/?gclid=x"})
		h.clock.add(10 * time.Minute)
	}
	h.clock.add(2 * time.Hour)
	_, err := h.svc.alloc.Sweep(ctx, h.clock.now()) // the leases end and are written through
	require.NoError(t, err)
	require.NoError(t, h.svc.Close())
	rep, err := h.svc.Audit(ctx, "paid-search", h.clock.now().Add(-24*time.Hour), h.clock.now())
	require.NoError(t, err)
	assert.Equal(t, 3, rep.Holds)
	assert.Equal(t, 3, rep.PeakConcurrency, "visits 10 minutes apart, each holding its number 30 minutes")
	assert.Positive(t, rep.Recommended.Numbers)
	_, err = h.svc.Audit(ctx, "nope", h.clock.now().Add(-time.Hour), h.clock.now())
	assert.ErrorIs(t, err, pool.ErrUnknownPool)
}

// A chat the tracker saw in the browser, then reported by the platform's
// signed webhook naming only its conversation: joined to the same session,
// recorded once, and made a conversion by a rule.
func TestChatWebhookJoinsTheTrackersConversation(t *testing.T) {
	cfg := testConfig()
	cfg.ChatWebhooks = []chat.Webhook{chat.TawkWebhook{Secret: "whsec"}}
	cfg.ChatConversions = []chat.Rule{{Name: "chat_conversation", Types: []chat.Type{chat.Started}, Value: 5000, Currency: "USD"}}
	h := newHarness(t, cfg)
	ctx := context.Background()
	a, hook := h.tawkChat(t, "c-1")
	assert.Equal(t, http.StatusUnauthorized, hook("wrong"))
	assert.Equal(t, http.StatusOK, hook("whsec"))

	tps, convs, err := h.svc.Journey(ctx, journey.Identifier{Kind: journey.IDVisitor, Value: a.VisitorID}, h.clock.now().Add(-time.Hour), h.clock.now().Add(time.Hour))
	require.NoError(t, err)
	var chats []string
	for _, tp := range tps {
		if tp.Kind == journey.TouchChat {
			chats = append(chats, tp.ID)
			assert.Equal(t, classify.ChannelOrganicSocial, tp.Source.Channel)
		}
	}
	assert.Equal(t, []string{"chat:tawk/c-1/chat_message", "chat:tawk/c-1/chat_started"}, sortedStrings(chats), "the browser's and the webhook's start are one touchpoint")
	require.Len(t, convs, 1)
	assert.Equal(t, "chat_conversation", convs[0].Type)
	assert.Equal(t, a.SessionID, convs[0].SessionID)
}

func sortedStrings(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

// A qualified call reaches a CRM webhook through the export outbox, signed
// and with an idempotency key, without the call path waiting on it.
func TestQualifiedCallIsExported(t *testing.T) {
	secret := []byte("crm-secret")
	var mu sync.Mutex
	var received []string
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := webhook.VerifySignature(secret, r.Header.Get(webhook.SignatureHeader), body, time.Now(), 0); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		mu.Lock()
		received = append(received, r.Header.Get(webhook.IdempotencyHeader))
		mu.Unlock()
	}))
	defer receiver.Close()
	st := memstore.New()
	hook, err := webhook.New(webhook.Config{URL: receiver.URL, Secret: secret})
	require.NoError(t, err)
	x, err := export.New(st, export.Config{}, hook)
	require.NoError(t, err)
	defer x.Close()

	h := newHarness(t, testConfig(), WithStore(st), WithExports(x))
	ctx := context.Background()
	a := h.visit(t, VisitRequest{URL: "https://example-plumbing.com/?gclid=x"})
	_, err = h.caller.PlaceCall(ctx, h.srv.URL+DefaultPrefix+"webhooks/fake", fake.Call{ID: "CA9", From: caller, To: a.Swaps[0].Number, Answered: true, Duration: 2 * time.Minute})
	require.NoError(t, err)
	require.NoError(t, h.svc.Close())
	delivered, err := x.DeliverDue(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, delivered)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"webhook/call:fake/CA9"}, received)
}

// When the allocator fails (Redis down, say), each business line is asked
// once, the visit still succeeds, and the visitor sees the real numbers.
func TestVisitWhenTheAllocatorFails(t *testing.T) {
	ctrl := gomock.NewController(t)
	alloc := poolmock.NewAllocator(ctrl)
	alloc.EXPECT().Sweep(gomock.Any(), gomock.Any()).AnyTimes() // Run sweeps at start and every minute
	var sessions []string
	alloc.EXPECT().Lease(gomock.Any(), gomock.Any(), gomock.Any(), gomock.Any()).Times(2).
		DoAndReturn(func(_ context.Context, poolName, session string, _ time.Time) (pool.Lease, error) {
			sessions = append(sessions, session)
			line := map[string]string{"paid-search": mainLine, "service": serviceLine}[poolName]
			return pool.Lease{Pool: poolName, Number: line, Outcome: pool.Original}, pool.ErrUnavailable
		})
	h := newHarness(t, testConfig(), WithAllocator(func(pool.Config) (pool.Allocator, error) { return alloc, nil }))
	a := h.visit(t, VisitRequest{URL: "https://example-plumbing.com/?gclid=x"})
	assert.Empty(t, a.Swaps, "the real numbers stay")
	assert.Equal(t, []string{a.SessionID, a.SessionID}, sessions, "one lease per business line, for the visit's session")
	sess, err := h.svc.Store().Session(context.Background(), a.SessionID)
	require.NoError(t, err, "the session is kept all the same")
	assert.Empty(t, sess.Number)
}

func TestNewCampaignStartsANewSession(t *testing.T) {
	h := newHarness(t, testConfig())
	first := h.visit(t, VisitRequest{URL: "https://example-plumbing.com/?utm_source=newsletter&utm_medium=email"})
	h.clock.add(time.Minute)
	same := h.visit(t, VisitRequest{VisitorID: first.VisitorID, SessionID: first.SessionID, URL: "https://example-plumbing.com/services"})
	assert.Equal(t, first.SessionID, same.SessionID, "an untagged page view continues the session")
	h.clock.add(time.Minute)
	again := h.visit(t, VisitRequest{VisitorID: first.VisitorID, SessionID: first.SessionID, URL: "https://example-plumbing.com/?utm_source=newsletter&utm_medium=email"})
	assert.Equal(t, first.SessionID, again.SessionID, "the same tags continue it too")
	h.clock.add(time.Minute)
	ad := h.visit(t, VisitRequest{VisitorID: first.VisitorID, SessionID: first.SessionID, URL: "https://example-plumbing.com/?gclid=abc"})
	assert.NotEqual(t, first.SessionID, ad.SessionID, "an ad click starts a new session")
	assert.Equal(t, classify.ChannelPaidSearch, ad.Source.Channel)
	assert.Contains(t, []string{"+14155550101", "+14155550102"}, ad.Swaps[0].Number, "with a number of the new channel's pool")
}

// Settings that would fail when a call arrives fail New instead, each
// naming its field.
func TestNewRefusesWhatACallWouldRefuse(t *testing.T) {
	cfg := testConfig()
	cfg.Forward = Forward{Record: true, RingTimeout: time.Hour}
	cfg.Retention = -time.Hour
	cfg.Qualify = []journey.QualifyRule{{Name: "first", FirstTimeOnly: true, Currency: "USD"}}
	built := 0
	failing := WithAllocator(func(pool.Config) (pool.Allocator, error) {
		built++
		return nil, errors.New("redis down")
	})
	_, err := New(cfg, failing)
	require.Error(t, err)
	for _, want := range []string{"Forward:", "RecordingNotice", "RingTimeout", "Retention -1h0m0s is negative"} {
		assert.Contains(t, err.Error(), want)
	}
	assert.NotContains(t, err.Error(), "History", "every store keeps the caller history the rule needs")
	assert.Zero(t, built, "no allocator (which may write to Redis) is built for a configuration already refused")

	_, err = New(testConfig(), failing)
	require.ErrorContains(t, err, "allocator: redis down")
	assert.Equal(t, 1, built)
}

// Health says when Run is not doing the background work: webhooks would
// be answered and spooled, and nothing recorded.
func TestHealthSaysWhenRunIsNotRunning(t *testing.T) {
	svc, err := New(testConfig())
	require.NoError(t, err)
	defer svc.Close()
	h := svc.Health(context.Background())
	require.False(t, h.Ready())
	assert.Contains(t, h.Reasons[0], "Run is not running")

	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- svc.Run(ctx) }()
	waitFor(t, "ready", func() bool { return svc.Health(context.Background()).Ready() })
	cancel()
	require.ErrorIs(t, <-ran, context.Canceled)
	assert.False(t, svc.Health(context.Background()).Ready(), "Run ended with its context")
	assert.ErrorContains(t, svc.Run(context.Background()), "only once")
}

// A first-time-only rule counts a caller's first call and not the next.
func TestFirstTimeOnlyQualifiesTheFirstCallOnly(t *testing.T) {
	cfg := testConfig()
	cfg.Qualify = []journey.QualifyRule{{Name: "new caller", FirstTimeOnly: true, Value: 10000, Currency: "USD"}}
	h := newHarness(t, cfg)
	ctx := context.Background()
	for _, id := range []string{"first", "second"} {
		_, err := h.caller.PlaceCall(ctx, h.srv.URL+DefaultPrefix+"webhooks/fake",
			fake.Call{ID: id, From: caller, To: printNumber, Answered: true, Duration: 2 * time.Minute})
		require.NoError(t, err)
		h.clock.add(time.Hour)
	}
	require.NoError(t, h.svc.Close())
	convs, err := h.svc.store.ConversionsBetween(ctx, h.clock.now().Add(-24*time.Hour), h.clock.now())
	require.NoError(t, err)
	require.Len(t, convs, 1)
	assert.Equal(t, journey.CallConversionID("fake", "first"), convs[0].ID)
}
