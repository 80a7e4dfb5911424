package faults_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/attriqs/calltrack/classify"
	"github.com/attriqs/calltrack/dni"
	"github.com/attriqs/calltrack/internal/testenv"
	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/provider/bandwidth"
	"github.com/attriqs/calltrack/provider/fake"
	"github.com/attriqs/calltrack/provider/plivo"
	"github.com/attriqs/calltrack/provider/providertest"
	"github.com/attriqs/calltrack/provider/signalwire"
	"github.com/attriqs/calltrack/provider/telnyx"
	"github.com/attriqs/calltrack/provider/twilio"
	"github.com/attriqs/calltrack/provider/vonage"
	"github.com/attriqs/calltrack/store"
	"github.com/attriqs/calltrack/store/postgres"
	"github.com/attriqs/calltrack/store/sqlite"
)

// normalCalls is how many ordinary calls follow the poison webhooks.
const normalCalls = 5

const (
	poisonMainLine = "+14155550000"
	poisonCaller   = "+12125550123"
	poisonUA       = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)

func poisonConfig() dni.Config {
	return dni.Config{Pools: []dni.Pool{
		{PoolConfig: pool.PoolConfig{Name: "paid-search", Numbers: []string{"+14155550201", "+14155550202"}, BusinessNumber: poisonMainLine},
			Serves: []string{string(classify.ChannelPaidSearch)}},
		{PoolConfig: pool.PoolConfig{Name: "main", Numbers: []string{"+14155550211"}, BusinessNumber: poisonMainLine}},
	}}
}

// wireCall is one webhook's content before a vendor renders it.
type wireCall struct {
	ID, From, To string
	// Name is the caller name (and city, where the vendor sends one); empty
	// sends what the vendor usually sends.
	Name  string
	At    time.Time
	TalkS int64 // completed status only
}

// vendor renders and signs webhooks the way one telephony vendor does.
type vendor struct {
	name     string
	prov     provider.Provider
	hasName  bool // sends a caller name
	hasCity  bool // sends a caller city
	plusless bool // writes numbers as international digits without '+'
	// durationAsTimes: the vendor sends call times, not a duration, so the
	// absurd duration is an end time that many seconds after the answer.
	durationAsTimes bool
	inbound         func(c wireCall) []byte
	completed       func(c wireCall) []byte
	sign            func(h http.Header, fullURL string, body []byte)
}

func (v *vendor) number(e164 string) string {
	if v.plusless {
		return strings.TrimPrefix(e164, "+")
	}
	return e164
}

// js writes s as a JSON string literal the way a careless sender does:
// quotes, backslashes and control characters are escaped, but bytes that
// are not UTF-8 go out raw.
func js(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20:
			fmt.Fprintf(&b, `\u%04x`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func jsTime(t time.Time) string { return js(t.UTC().Format(time.RFC3339Nano)) }

// after is t plus secs seconds without overflowing time.Duration.
func after(t time.Time, secs int64) time.Time {
	return time.Unix(t.Unix()+secs, int64(t.Nanosecond())).UTC()
}

// twilioDialect renders the form parameters Twilio and SignalWire post.
func twilioDialect(v *vendor) (inbound, completed func(wireCall) []byte) {
	base := func(c wireCall, status string) url.Values {
		f := url.Values{
			"AccountSid": {"ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"}, "ApiVersion": {"2010-04-01"},
			"CallSid": {c.ID}, "CallStatus": {status}, "Direction": {"inbound"},
			"From": {c.From}, "Caller": {c.From}, "To": {c.To}, "Called": {c.To},
			"FromCity": {"SAN FRANCISCO"}, "FromState": {"CA"}, "FromCountry": {"US"},
		}
		if c.Name != "" {
			f.Set("CallerName", c.Name)
			f.Set("FromCity", c.Name)
		}
		return f
	}
	inbound = func(c wireCall) []byte { return []byte(base(c, "ringing").Encode()) }
	completed = func(c wireCall) []byte {
		f := base(c, "completed")
		f.Set("CallbackSource", "call-progress-events")
		f.Set("CallDuration", strconv.FormatInt(c.TalkS, 10))
		f.Set("Timestamp", c.At.UTC().Format(time.RFC1123Z))
		return []byte(f.Encode())
	}
	return inbound, completed
}

func formSigner(header string, sign func(fullURL string, params url.Values) string) func(http.Header, string, []byte) {
	return func(h http.Header, fullURL string, body []byte) {
		params, _ := url.ParseQuery(string(body))
		h.Set("Content-Type", "application/x-www-form-urlencoded")
		h.Set(header, sign(fullURL, params))
	}
}

func newVendors(t *testing.T) []*vendor {
	t.Helper()
	var vs []*vendor
	must := func(p provider.Provider, err error) provider.Provider {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return p
	}

	const twilioToken = "twilio-auth-token"
	tw := &vendor{name: twilio.Name, prov: must(twilio.New(twilio.Config{AuthToken: twilioToken})), hasName: true, hasCity: true,
		sign: formSigner(twilio.SignatureHeader, func(u string, p url.Values) string { return twilio.Sign(twilioToken, u, p) })}
	tw.inbound, tw.completed = twilioDialect(tw)
	vs = append(vs, tw)

	const swKey = "PSKXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"
	sw := &vendor{name: signalwire.Name, prov: must(signalwire.New(signalwire.Config{SigningKey: swKey})), hasName: true, hasCity: true,
		sign: formSigner(signalwire.SignatureHeader, func(u string, p url.Values) string { return signalwire.Sign(swKey, u, p) })}
	sw.inbound, sw.completed = twilioDialect(sw)
	vs = append(vs, sw)

	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tx := &vendor{name: telnyx.Name, prov: must(telnyx.New(telnyx.Config{PublicKey: pub})), hasName: true, durationAsTimes: true,
		sign: func(h http.Header, _ string, body []byte) {
			sig, ts := telnyx.Sign(priv, body, time.Now())
			h.Set("Content-Type", "application/json")
			h.Set(telnyx.SignatureHeader, sig)
			h.Set(telnyx.TimestampHeader, ts)
		}}
	telnyxEvent := func(c wireCall, eventType, extra string) []byte {
		name := ""
		if c.Name != "" {
			name = `,"caller_id_name":` + js(c.Name)
		}
		return []byte(`{"data":{"event_type":` + js(eventType) + `,"id":"0ccc7b54-4df3-4bca-a65a-3da1ecc777f0","occurred_at":` + jsTime(c.At) +
			`,"payload":{"call_control_id":"v3:AgDIxmoRX6QMuaIj","call_leg_id":` + js(c.ID) + `,"call_session_id":"428c31b6-abf3-3bc1-b7f4-5013ef9657c1",` +
			`"client_state":null,"connection_id":"7267xxxxxxxxxxxxxx","direction":"incoming","from":` + js(c.From) + `,"to":` + js(c.To) +
			`,"state":"parked","start_time":` + jsTime(c.At) + name + extra + `},"record_type":"event"},"meta":{"attempt":1}}`)
	}
	tx.inbound = func(c wireCall) []byte { return telnyxEvent(c, "call.initiated", "") }
	tx.completed = func(c wireCall) []byte {
		return telnyxEvent(c, "call.hangup", `,"hangup_cause":"normal_clearing","hangup_source":"caller","end_time":`+jsTime(after(c.At, c.TalkS)))
	}
	vs = append(vs, tx)

	vonageSecret := []byte("vonage-signature-secret")
	var jti atomic.Int64
	vo := &vendor{name: vonage.Name, prov: must(vonage.New(vonage.Config{SignatureSecret: vonageSecret})), plusless: true,
		sign: func(h http.Header, _ string, body []byte) {
			tok := vonage.Sign(vonageSecret, body, vonage.Claims{IssuedAt: time.Now().Unix(), ID: fmt.Sprint("jti-", jti.Add(1)),
				APIKey: "abcd1234", ApplicationID: "aaaaaaaa-bbbb-cccc-dddd-0123456789ab"})
			h.Set("Content-Type", "application/json")
			h.Set(vonage.AuthorizationHeader, "Bearer "+tok)
		}}
	vo.inbound = func(c wireCall) []byte {
		return []byte(`{"to":` + js(c.To) + `,"from":` + js(c.From) + `,"uuid":` + js(c.ID) +
			`,"conversation_uuid":"CON-f972836a-550f-45fa-956c-12a2ab5b7d22","region_url":"https://api-us-3.vonage.com","custom_data":{}}`)
	}
	vo.completed = func(c wireCall) []byte {
		return []byte(`{"from":` + js(c.From) + `,"to":` + js(c.To) + `,"uuid":` + js(c.ID) +
			`,"conversation_uuid":"CON-f972836a-550f-45fa-956c-12a2ab5b7d22","status":"completed","direction":"inbound","timestamp":` + jsTime(c.At) +
			`,"duration":` + js(strconv.FormatInt(c.TalkS, 10)) + `,"start_time":` + jsTime(c.At) + `,"end_time":` + jsTime(after(c.At, c.TalkS)) +
			`,"rate":"0.00450000","price":"0.00697500","network":"US-FIXED"}`)
	}
	vs = append(vs, vo)

	const plivoToken = "plivo-auth-token"
	var nonce atomic.Int64
	pl := &vendor{name: plivo.Name, prov: must(plivo.New(plivo.Config{AuthToken: plivoToken})), hasName: true, plusless: true,
		sign: func(h http.Header, fullURL string, body []byte) {
			params, _ := url.ParseQuery(string(body))
			n := fmt.Sprint(time.Now().UnixNano(), nonce.Add(1))
			h.Set("Content-Type", "application/x-www-form-urlencoded")
			h.Set(plivo.NonceHeader, n)
			h.Set(plivo.SignatureHeader, plivo.Sign(plivoToken, http.MethodPost, fullURL, n, params))
		}}
	plivoForm := func(c wireCall, event, status string) url.Values {
		name := c.Name
		if name == "" {
			name = "+" + strings.TrimPrefix(c.From, "+")
		}
		return url.Values{"CallUUID": {c.ID}, "CallStatus": {status}, "Direction": {"inbound"}, "Event": {event},
			"From": {c.From}, "To": {c.To}, "CallerName": {name}, "StartTime": {c.At.UTC().Format("2006-01-02 15:04:05")}}
	}
	pl.inbound = func(c wireCall) []byte { return []byte(plivoForm(c, "StartApp", "ringing").Encode()) }
	pl.completed = func(c wireCall) []byte {
		f := plivoForm(c, "Hangup", "completed")
		f.Set("Duration", strconv.FormatInt(c.TalkS, 10))
		f.Set("BillDuration", strconv.FormatInt(c.TalkS, 10))
		f.Set("EndTime", after(c.At, c.TalkS).Format("2006-01-02 15:04:05"))
		f.Set("HangupCause", "NORMAL_CLEARING")
		return []byte(f.Encode())
	}
	vs = append(vs, pl)

	bw := &vendor{name: bandwidth.Name, prov: must(bandwidth.New(bandwidth.Config{CallbackUsername: "calltrack", CallbackPassword: "callback-password"})),
		durationAsTimes: true,
		sign: func(h http.Header, _ string, _ []byte) {
			h.Set("Content-Type", "application/json")
			h.Set(bandwidth.AuthorizationHeader, bandwidth.BasicAuth("calltrack", "callback-password"))
		}}
	bandwidthCallback := func(c wireCall, eventType, extra string) []byte {
		return []byte(`{"eventType":` + js(eventType) + `,"eventTime":` + jsTime(c.At) + `,"accountId":"9900000","applicationId":"04e88489-df02-4e34-a0ee-27a91849555f",` +
			`"from":` + js(c.From) + `,"to":` + js(c.To) + `,"direction":"inbound","callId":` + js(c.ID) +
			`,"callUrl":"https://voice.bandwidth.com/api/v2/accounts/9900000/calls/x","startTime":` + jsTime(c.At) + extra + `}`)
	}
	bw.inbound = func(c wireCall) []byte { return bandwidthCallback(c, "initiate", "") }
	bw.completed = func(c wireCall) []byte {
		return bandwidthCallback(c, "disconnect", `,"cause":"hangup","answerTime":`+jsTime(c.At)+`,"endTime":`+jsTime(after(c.At, c.TalkS)))
	}
	vs = append(vs, bw)

	fakeSecret := []byte("fault-suite-secret")
	fk := &vendor{name: fake.Name, prov: must(fake.New(fake.Config{Secret: fakeSecret})),
		sign: func(h http.Header, _ string, body []byte) {
			h.Set("Content-Type", "application/json")
			h.Set(fake.SignatureHeader, fake.Sign(fakeSecret, body, time.Now()))
		}}
	fk.inbound = func(c wireCall) []byte {
		return []byte(`{"type":` + js(fake.EventInbound) + `,"call_id":` + js(c.ID) + `,"from":` + js(c.From) + `,"to":` + js(c.To) + `,"occurred_at":` + jsTime(c.At) + `}`)
	}
	fk.completed = func(c wireCall) []byte {
		return []byte(`{"type":` + js(fake.EventStatus) + `,"call_id":` + js(c.ID) + `,"from":` + js(c.From) + `,"to":` + js(c.To) +
			`,"status":"completed","duration_s":` + strconv.FormatInt(c.TalkS, 10) + `,"occurred_at":` + jsTime(c.At) + `}`)
	}
	vs = append(vs, fk)
	return vs
}

// Hostile values.
const (
	callerID16   = "+4930123456789012"
	dirtyName    = "ALICE\x00 \xff\xfeSMITH"
	hugeSeconds  = 9300000000
	bodyLimit    = provider.DefaultMaxBodyBytes // what dni gives each webhook handler
	hugeNameSize = 100 << 10
)

// poisonKind is one hostile webhook and what must become of it.
type poisonKind struct {
	name string
	// applies is false where the vendor's webhooks have no such field.
	applies func(v *vendor) bool
	// body renders the hostile webhook for the call id and tracking number.
	body func(v *vendor, id, to string) []byte
	// want is the answer the vendor must get: 200, or an error status for
	// what must be refused at the boundary and recorded nowhere.
	want int
	// fillsLimit: the body is as large as the webhook handler accepts.
	fillsLimit bool
	// check tells whether a recorded call was made storable.
	check func(v *vendor, call provider.CallEvent) error
}

func always(*vendor) bool { return true }

// sizedName is the longest caller name of 'A's that keeps the rendered
// body within limit (a vendor may repeat the name in several fields).
func sizedName(render func(name string) []byte, limit int) string {
	one := len(render("A"))
	per := len(render("AA")) - one
	return strings.Repeat("A", 1+(limit-one)/per)
}

func poisonKinds() []poisonKind {
	inboundWith := func(v *vendor, id, to, from, name string) []byte {
		return v.inbound(wireCall{ID: id, From: v.number(from), To: v.number(to), Name: name, At: time.Now()})
	}
	withheld := func(_ *vendor, call provider.CallEvent) error {
		if call.From != "" {
			return fmt.Errorf("caller id %q kept; want it withheld", call.From)
		}
		return nil
	}
	// cleanName: the text survives, without what made it unstorable (a
	// JSON decoder writes U+FFFD per bad byte, CleanText per bad run, so
	// replacement characters are not counted).
	cleanName := func(want string) func(v *vendor, call provider.CallEvent) error {
		return func(v *vendor, call provider.CallEvent) error {
			if got := strings.ReplaceAll(call.CallerName, "\uFFFD", ""); got != want {
				return fmt.Errorf("caller name %q, want %q", call.CallerName, want)
			}
			if got := strings.ReplaceAll(call.CallerCity, "\uFFFD", ""); v.hasCity && got != want {
				return fmt.Errorf("caller city %q, want %q", call.CallerCity, want)
			}
			return nil
		}
	}
	return []poisonKind{
		{name: "caller id of 16 digits", applies: always, want: http.StatusOK, check: withheld,
			body: func(v *vendor, id, to string) []byte { return inboundWith(v, id, to, callerID16, "") }},
		{name: "caller id of 17 digits", applies: always, want: http.StatusOK, check: withheld,
			body: func(v *vendor, id, to string) []byte { return inboundWith(v, id, to, providertest.LongCallerID, "") }},
		{name: "duration of 9300000000 s", applies: always, want: http.StatusOK,
			body: func(v *vendor, id, to string) []byte {
				return v.completed(wireCall{ID: id, From: v.number(poisonCaller), To: v.number(to), At: time.Now(), TalkS: hugeSeconds})
			},
			check: func(_ *vendor, call provider.CallEvent) error {
				if call.Duration != 0 {
					return fmt.Errorf("duration %s kept; want 0 (unknown)", call.Duration)
				}
				if call.Status != provider.StatusCompleted {
					return fmt.Errorf("status %q, want completed", call.Status)
				}
				return nil
			}},
		{name: "NUL and invalid UTF-8 in caller name", applies: func(v *vendor) bool { return v.hasName }, want: http.StatusOK,
			body:  func(v *vendor, id, to string) []byte { return inboundWith(v, id, to, poisonCaller, dirtyName) },
			check: cleanName("ALICE SMITH")},
		{name: "caller name filling the body limit", applies: func(v *vendor) bool { return v.hasName }, want: http.StatusOK, fillsLimit: true,
			body: func(v *vendor, id, to string) []byte {
				at := time.Now() // one time: its rendering's length varies
				render := func(name string) []byte {
					return v.inbound(wireCall{ID: id, From: v.number(poisonCaller), To: v.number(to), Name: name, At: at})
				}
				return render(sizedName(render, bodyLimit))
			},
			check: cleanName(strings.Repeat("A", provider.MaxTextLen))},
		{name: "caller name of 100 KB", applies: func(v *vendor) bool { return v.hasName }, want: http.StatusRequestEntityTooLarge,
			body: func(v *vendor, id, to string) []byte {
				return inboundWith(v, id, to, poisonCaller, strings.Repeat("A", hugeNameSize))
			}},
		{name: "call id of 129 bytes", applies: always, want: http.StatusBadRequest,
			body: func(v *vendor, id, to string) []byte {
				long := id + strings.Repeat("x", provider.MaxCallIDLen+1-len(id))
				return inboundWith(v, long, to, poisonCaller, "")
			}},
		{name: "call id with a NUL byte", applies: always, want: http.StatusBadRequest,
			body: func(v *vendor, id, to string) []byte { return inboundWith(v, id+"\x00", to, poisonCaller, "") }},
	}
}

// storeFactory opens a fresh, empty store for one test.
type storeFactory struct {
	name string
	open func(t *testing.T) store.Store
}

func openSQLite(t *testing.T) store.Store {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "calls.db"), sqlite.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// openPostgres migrates a fresh schema, dropped when the test ends. It
// skips when PostgreSQL is absent, or fails under
// CALLTRACK_REQUIRE_SERVICES=1.
func openPostgres(t *testing.T) store.Store {
	dsn := testenv.PostgresDSN(t)
	ctx := context.Background()
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "calltrack_faults_" + hex.EncodeToString(b[:])
	admin, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		t.Fatal(err)
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	pgPool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	st := postgres.New(pgPool, postgres.Config{})
	t.Cleanup(func() {
		_ = st.Close()
		pgPool.Close()
		if _, err := admin.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
		admin.Close()
	})
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return st
}

// poisonResult is one line of the summary.
type poisonResult struct {
	store, vendor                                  string
	sent, answered, refused                        int
	recorded, deadLettered, lost, leaked, unstored int
}

// TestPoisonWebhooksFromEveryVendor sends, through every vendor's signed
// webhooks and on each store, every kind of hostile value a webhook can
// carry, then ordinary calls. Every ordinary call must be recorded and
// stitched; every poison webhook that was answered must be recorded
// (made storable) or dead-lettered with its reason, never silently
// missing; the ones refused at the boundary must be recorded nowhere; and
// nothing may wait for retries at the end.
func TestPoisonWebhooksFromEveryVendor(t *testing.T) {
	var (
		mu      sync.Mutex
		results []poisonResult
	)
	for _, sf := range []storeFactory{{"sqlite", openSQLite}, {"postgres", openPostgres}} {
		t.Run(sf.name, func(t *testing.T) {
			for _, v := range newVendors(t) {
				t.Run(v.name, func(t *testing.T) {
					t.Parallel()
					r := runPoison(t, sf, v)
					mu.Lock()
					results = append(results, r)
					mu.Unlock()
				})
			}
		})
	}
	slices.SortFunc(results, func(a, b poisonResult) int { return strings.Compare(a.store+a.vendor, b.store+b.vendor) })
	var b strings.Builder
	fmt.Fprintf(&b, "%-9s %-11s %5s %9s %8s %9s %13s %5s\n", "store", "vendor", "sent", "answered", "refused", "recorded", "dead-lettered", "lost")
	for _, r := range results {
		fmt.Fprintf(&b, "%-9s %-11s %5d %9d %8d %9d %13d %5d\n", r.store, r.vendor, r.sent, r.answered, r.refused, r.recorded, r.deadLettered, r.lost+r.leaked+r.unstored)
	}
	t.Logf("poison webhooks, then %d calls, per vendor and store (webhooks sent, answered 2xx, refused 4xx; calls recorded, dead-lettered, lost):\n%s", normalCalls, b.String())
}

func runPoison(t *testing.T, sf storeFactory, v *vendor) poisonResult {
	ctx := context.Background()
	st := sf.open(t)
	reader := sdkmetric.NewManualReader()
	meters := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelError}))
	svc, err := dni.New(poisonConfig(), dni.WithStore(st), dni.WithProvider(v.prov), dni.WithSpoolDir(t.TempDir()),
		dni.WithLogger(logger), dni.WithMeterProvider(meters))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc.Handler())
	stopRun := runService(t, svc)
	t.Cleanup(func() {
		srv.Close()
		stopRun()
		_ = meters.Shutdown(context.Background())
	})
	hookURL := srv.URL + dni.DefaultPrefix + "webhooks/" + v.name
	client := &http.Client{Timeout: 30 * time.Second}
	res := poisonResult{store: sf.name, vendor: v.name}

	post := func(body []byte) int {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, hookURL, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		v.sign(req.Header, hookURL, body)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("post: %v", err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		res.sent++
		switch {
		case resp.StatusCode/100 == 2:
			res.answered++
		case resp.StatusCode/100 == 4:
			res.refused++
		}
		return resp.StatusCode
	}

	// A visitor from a paid search ad holds a tracking number; every
	// webhook below dials it.
	visit, err := svc.Visit(ctx, dni.VisitRequest{URL: "https://example-plumbing.com/?gclid=poison", UserAgent: poisonUA})
	if err != nil || len(visit.Swaps) == 0 {
		t.Fatalf("Visit = %+v, %v", visit, err)
	}
	tracking := visit.Swaps[0].Number
	// Some vendors write times to the second: let the first call's second
	// begin after the lease did.
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)))

	type sentPoison struct {
		kind poisonKind
		id   string
		code int
	}
	var poisons []sentPoison
	for i, k := range poisonKinds() {
		if !k.applies(v) {
			continue
		}
		id := fmt.Sprintf("poison-%d", i)
		body := k.body(v, id, tracking)
		if k.fillsLimit && (len(body) > bodyLimit || len(body) < bodyLimit-8) {
			t.Fatalf("%s: body of %d bytes does not fill the %d-byte limit", k.name, len(body), bodyLimit)
		}
		code := post(body)
		if code != k.want {
			t.Errorf("%s: answered %d, want %d", k.name, code, k.want)
		}
		poisons = append(poisons, sentPoison{kind: k, id: id, code: code})
	}
	var normal []string
	for i := range normalCalls {
		id := fmt.Sprintf("call-%d", i)
		normal = append(normal, id)
		c := wireCall{ID: id, From: v.number(poisonCaller), To: v.number(tracking), At: time.Now(), TalkS: 61}
		if code := post(v.inbound(c)); code != http.StatusOK {
			t.Errorf("%s inbound: answered %d, want 200", id, code)
		}
		c.At = time.Now()
		if code := post(v.completed(c)); code != http.StatusOK {
			t.Errorf("%s completed: answered %d, want 200", id, code)
		}
	}

	deadLettered := func() map[string]provider.DeadLetter {
		out := map[string]provider.DeadLetter{}
		for _, l := range svc.DeadLetters() {
			out[l.Event.CallID] = l
		}
		return out
	}
	// normalProblem says what is wrong with an ordinary call, or "".
	normalProblem := func(id string) string {
		call, err := st.Call(ctx, v.name, id)
		if err != nil {
			return fmt.Sprintf("%s not recorded: %v", id, err)
		}
		if call.Status != provider.StatusCompleted || call.Duration != 61*time.Second || call.From != poisonCaller {
			return fmt.Sprintf("%s recorded as status %q, %s, from %q; want completed, 1m1s, from %s", id, call.Status, call.Duration, call.From, poisonCaller)
		}
		a, err := st.Attribution(ctx, v.name, id)
		if err != nil {
			return fmt.Sprintf("%s not stitched: %v", id, err)
		}
		if a.SessionID != visit.SessionID || a.Source.Channel != classify.ChannelPaidSearch {
			return fmt.Sprintf("%s stitched to session %q (%s), want %q (Paid Search)", id, a.SessionID, a.Source.Channel, visit.SessionID)
		}
		return ""
	}
	settled := func() bool {
		for _, id := range normal {
			if normalProblem(id) != "" {
				return false
			}
		}
		dead := deadLettered()
		for _, p := range poisons {
			if p.code/100 != 2 {
				continue
			}
			if _, err := st.Call(ctx, v.name, p.id); err != nil && dead[p.id].ID == "" {
				return false
			}
		}
		return backlog(t, reader) == 0 && !recorderFailing(svc.Health(ctx))
	}
	deadline := time.Now().Add(60 * time.Second)
	for !settled() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}

	// Ordinary calls: every one recorded and stitched.
	for _, id := range normal {
		if p := normalProblem(id); p != "" {
			res.lost++
			t.Errorf("later call lost: %s", p)
		} else {
			res.recorded++
		}
	}
	// Poison: answered ones recorded (storable) or dead-lettered with a
	// reason; refused ones nowhere.
	dead := deadLettered()
	for _, p := range poisons {
		call, err := st.Call(ctx, v.name, p.id)
		recorded := err == nil
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: reading call %s: %v", p.kind.name, p.id, err)
		}
		letter, isDead := dead[p.id]
		switch {
		case p.code/100 != 2:
			if recorded || isDead {
				res.leaked++
				t.Errorf("%s: refused with %d yet recorded=%v dead-lettered=%v", p.kind.name, p.code, recorded, isDead)
			}
		case recorded:
			res.recorded++
			if err := providertest.CheckStorable(call); err != nil {
				res.unstored++
				t.Errorf("%s: recorded unstorable: %v", p.kind.name, err)
			} else if p.kind.check != nil {
				if err := p.kind.check(v, call); err != nil {
					res.unstored++
					t.Errorf("%s: recorded but not sanitised: %v", p.kind.name, err)
				}
			}
		case isDead:
			res.deadLettered++
			if strings.TrimSpace(letter.Error) == "" {
				t.Errorf("%s: dead letter %s names no reason", p.kind.name, letter.ID)
			}
			t.Logf("%s: dead-lettered: %s", p.kind.name, letter.Error)
		default:
			res.lost++
			t.Errorf("%s: answered %d but neither recorded nor dead-lettered", p.kind.name, p.code)
		}
	}
	// Dead letters hold nothing but answered poison, each with its reason.
	answeredPoison := map[string]bool{}
	for _, p := range poisons {
		answeredPoison[p.id] = p.code/100 == 2
	}
	for id, l := range dead {
		if !answeredPoison[id] {
			t.Errorf("dead letter for %q (%s): only answered poison may be dead-lettered", id, l.Error)
		}
	}
	// The store holds exactly the calls sent and answered, nothing the
	// boundary refused.
	calls, err := st.CallsBetween(ctx, time.Now().Add(-24*time.Hour), time.Now().Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range calls {
		if !answeredPoison[c.CallID] && !slices.Contains(normal, c.CallID) {
			res.leaked++
			t.Errorf("store holds call %q, which was never answered", c.CallID)
		}
	}
	// Nothing retried forever.
	if h := svc.Health(ctx); recorderFailing(h) {
		t.Errorf("health still reports the recorder failing: %v", h.Reasons)
	}
	if n := backlog(t, reader); n != 0 {
		t.Errorf("%d call events still wait in the spool", n)
	}
	t.Logf("%s × %s: %d webhooks sent, %d answered, %d refused; %d calls recorded, %d dead-lettered, %d lost",
		v.name, sf.name, res.sent, res.answered, res.refused, res.recorded, res.deadLettered, res.lost+res.leaked+res.unstored)
	return res
}

func recorderFailing(h dni.Health) bool {
	return slices.ContainsFunc(h.Reasons, func(r string) bool { return strings.Contains(r, "recorder failing") })
}

// backlog reads calltrack.ingest.backlog: events durable in the spool and
// not yet recorded.
func backlog(t *testing.T, reader *sdkmetric.ManualReader) int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if g, ok := m.Data.(metricdata.Gauge[int64]); ok && m.Name == "calltrack.ingest.backlog" && len(g.DataPoints) > 0 {
				return g.DataPoints[0].Value
			}
		}
	}
	t.Fatal("no calltrack.ingest.backlog metric")
	return 0
}
