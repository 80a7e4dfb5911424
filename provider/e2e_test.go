package provider_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/provider/bandwidth"
	"github.com/attriqs/calltrack/provider/fake"
	"github.com/attriqs/calltrack/provider/plivo"
	"github.com/attriqs/calltrack/provider/providertest"
	"github.com/attriqs/calltrack/provider/signalwire"
	"github.com/attriqs/calltrack/provider/telnyx"
	"github.com/attriqs/calltrack/provider/twilio"
	"github.com/attriqs/calltrack/provider/vonage"
)

// vendor is what the end-to-end test needs of each adapter: the provider,
// and a way to build a signed webhook in the vendor's shape for a call
// event (kind "inbound", or a status with talk time).
type vendor struct {
	provider provider.Provider
	build    func(u string, call string, status provider.Status, talk time.Duration) *http.Request
}

var (
	e2eSeed    = bytes.Repeat([]byte{7}, ed25519.SeedSize)
	telnyxKey  = ed25519.NewKeyFromSeed(e2eSeed)
	e2eSecrets = struct{ fake, twilio, signalwire, plivo, vonage, bwUser, bwPass string }{
		"fake-secret", "twilio-token", "signalwire-key", "plivo-token", "vonage-secret", "bw-user", "bw-pass",
	}
)

const (
	callerNumber   = "+14158675309"
	trackingNumber = "+18005551212"
	businessNumber = "+12125550123"
)

func newPost(u string, body []byte, header http.Header) *http.Request {
	r, _ := http.NewRequest(http.MethodPost, u, bytes.NewReader(body))
	for k, v := range header {
		r.Header.Set(k, v[0]) // canonical keys, as on the wire
	}
	return r
}

// twilioForm is Twilio's (and SignalWire's) voice/status parameter set.
func twilioForm(call string, st provider.Status, talk time.Duration) url.Values {
	v := url.Values{"CallSid": {call}, "From": {callerNumber}, "To": {trackingNumber}, "Direction": {"inbound"}, "AccountSid": {"AC1"}}
	if st == "" {
		v.Set("CallStatus", "ringing")
		return v
	}
	v.Set("CallStatus", string(st))
	v.Set("CallbackSource", "call-progress-events")
	if st == provider.StatusCompleted {
		v.Set("CallDuration", strconv.Itoa(int(talk/time.Second)))
	}
	return v
}

func vendors(t testing.TB) map[string]vendor {
	t.Helper()
	must := func(p provider.Provider, err error) provider.Provider {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	pub := telnyxKey.Public().(ed25519.PublicKey)
	return map[string]vendor{
		"fake": {
			provider: must(fake.New(fake.Config{Secret: []byte(e2eSecrets.fake)})),
			build: func(u, call string, st provider.Status, talk time.Duration) *http.Request {
				e := fake.Event{Type: fake.EventInbound, CallID: call, From: callerNumber, To: trackingNumber}
				if st != "" {
					e.Type, e.Status, e.DurationS = fake.EventStatus, string(st), int(talk/time.Second)
				}
				body := fmt.Appendf(nil, `{"type":%q,"call_id":%q,"from":%q,"to":%q,"status":%q,"duration_s":%d}`, e.Type, e.CallID, e.From, e.To, e.Status, e.DurationS)
				return newPost(u, body, http.Header{fake.SignatureHeader: {fake.Sign([]byte(e2eSecrets.fake), body, time.Now())}})
			},
		},
		"twilio": {
			provider: must(twilio.New(twilio.Config{AuthToken: e2eSecrets.twilio})),
			build: func(u, call string, st provider.Status, talk time.Duration) *http.Request {
				v := twilioForm(call, st, talk)
				return newPost(u, []byte(v.Encode()), http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, twilio.SignatureHeader: {twilio.Sign(e2eSecrets.twilio, u, v)}})
			},
		},
		"signalwire": {
			provider: must(signalwire.New(signalwire.Config{SigningKey: e2eSecrets.signalwire})),
			build: func(u, call string, st provider.Status, talk time.Duration) *http.Request {
				v := twilioForm(call, st, talk)
				return newPost(u, []byte(v.Encode()), http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, signalwire.SignatureHeader: {signalwire.Sign(e2eSecrets.signalwire, u, v)}})
			},
		},
		"plivo": {
			provider: must(plivo.New(plivo.Config{AuthToken: e2eSecrets.plivo})),
			build: func(u, call string, st provider.Status, talk time.Duration) *http.Request {
				v := url.Values{"CallUUID": {call}, "From": {callerNumber[1:]}, "To": {trackingNumber[1:]}, "Direction": {"inbound"}}
				if st == "" {
					v.Set("Event", "StartApp")
					v.Set("CallStatus", "ringing")
				} else {
					v.Set("Event", "Hangup")
					v.Set("CallStatus", string(st))
					v.Set("Duration", strconv.Itoa(int(talk/time.Second)))
				}
				nonce := strconv.FormatInt(time.Now().UnixNano(), 10)
				return newPost(u, []byte(v.Encode()), http.Header{plivo.NonceHeader: {nonce}, plivo.SignatureHeader: {plivo.Sign(e2eSecrets.plivo, http.MethodPost, u, nonce, v)}})
			},
		},
		"telnyx": {
			provider: must(telnyx.New(telnyx.Config{PublicKey: pub})),
			build: func(u, call string, st provider.Status, talk time.Duration) *http.Request {
				start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
				eventType, extra := "call.initiated", ""
				switch {
				case st == provider.StatusInProgress:
					eventType = "call.answered"
				case st == provider.StatusRinging:
					eventType = "call.initiated"
				case st.Terminal():
					eventType = "call.hangup"
					extra = fmt.Sprintf(`,"hangup_cause":"normal_clearing","end_time":%q`, start.Add(talk).Format(time.RFC3339))
				}
				body := fmt.Appendf(nil, `{"data":{"event_type":%q,"occurred_at":%q,"payload":{"call_leg_id":%q,"direction":"incoming","from":%q,"to":%q,"start_time":%q%s}}}`,
					eventType, start.Format(time.RFC3339), call, callerNumber, trackingNumber, start.Format(time.RFC3339), extra)
				sig, ts := telnyx.Sign(telnyxKey, body, time.Now())
				return newPost(u, body, http.Header{telnyx.SignatureHeader: {sig}, telnyx.TimestampHeader: {ts}})
			},
		},
		"vonage": {
			provider: must(vonage.New(vonage.Config{SignatureSecret: []byte(e2eSecrets.vonage)})),
			build: func(u, call string, st provider.Status, talk time.Duration) *http.Request {
				status := map[provider.Status]string{provider.StatusRinging: "ringing", provider.StatusInProgress: "answered", provider.StatusCompleted: "completed"}[st]
				body := fmt.Appendf(nil, `{"uuid":%q,"from":%q,"to":%q,"conversation_uuid":"CON-1"}`, call, callerNumber[1:], trackingNumber[1:])
				if st != "" {
					body = fmt.Appendf(nil, `{"uuid":%q,"from":%q,"to":%q,"status":%q,"direction":"inbound","duration":"%d"}`, call, callerNumber[1:], trackingNumber[1:], status, int(talk/time.Second))
				}
				tok := vonage.Sign([]byte(e2eSecrets.vonage), body, vonage.Claims{IssuedAt: time.Now().Unix()})
				return newPost(u, body, http.Header{"Authorization": {"Bearer " + tok}})
			},
		},
		"bandwidth": {
			provider: must(bandwidth.New(bandwidth.Config{CallbackUsername: e2eSecrets.bwUser, CallbackPassword: e2eSecrets.bwPass})),
			build: func(u, call string, st provider.Status, talk time.Duration) *http.Request {
				answer := time.Date(2026, 3, 1, 12, 0, 5, 0, time.UTC)
				eventType, extra := "initiate", ""
				switch {
				case st == provider.StatusInProgress:
					eventType, extra = "answer", fmt.Sprintf(`,"answerTime":%q`, answer.Format(time.RFC3339))
				case st.Terminal():
					eventType, extra = "disconnect", fmt.Sprintf(`,"cause":"hangup","answerTime":%q,"endTime":%q`, answer.Format(time.RFC3339), answer.Add(talk).Format(time.RFC3339))
				}
				body := fmt.Appendf(nil, `{"eventType":%q,"callId":%q,"from":%q,"to":%q,"direction":"inbound"%s}`, eventType, call, callerNumber, trackingNumber, extra)
				return newPost(u, body, http.Header{"Authorization": {bandwidth.BasicAuth(e2eSecrets.bwUser, e2eSecrets.bwPass)}})
			},
		},
	}
}

// process is one run of the host application: an Ingest over the spool
// directory and one Handler per vendor behind a real HTTP server.
type process struct {
	srv    *httptest.Server
	ingest *provider.Ingest
}

func startProcess(t *testing.T, vs map[string]vendor, rec provider.CallRecorder, spoolDir string) *process {
	t.Helper()
	quiet := slog.New(slog.DiscardHandler)
	in, err := provider.NewIngest(rec, provider.IngestConfig{SpoolDir: spoolDir, RetryInterval: 10 * time.Millisecond, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	providertest.RunIngest(t, in)
	mux := http.NewServeMux()
	p := &process{ingest: in}
	p.srv = httptest.NewUnstartedServer(mux)
	p.srv.Start()
	route := func(ctx context.Context, ev provider.CallEvent) (provider.Forward, error) {
		return provider.Forward{To: businessNumber}, nil
	}
	for name, v := range vs {
		h, err := provider.NewHandler(v.provider, in, route, provider.HandlerConfig{PublicURL: p.srv.URL, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		mux.Handle("/hooks/"+name, h)
	}
	return p
}

func (p *process) post(t *testing.T, v vendor, name, call string, st provider.Status, talk time.Duration) string {
	t.Helper()
	req := v.build(p.srv.URL+"/hooks/"+name, call, st, talk)
	resp, err := p.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s %q: HTTP %d: %s", name, call, st, resp.StatusCode, body)
	}
	return string(body)
}

func (p *process) stop(t *testing.T) {
	t.Helper()
	p.srv.Close()
	if err := p.ingest.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestEndToEndStoreDownThenRestart posts signed webhooks for every vendor
// over real HTTP while the store is stopped, shuts the process down,
// starts a new one over the same spool directory with the store back, and
// checks every call is recorded exactly once with its final state.
func TestEndToEndStoreDownThenRestart(t *testing.T) {
	vs := vendors(t)
	spoolDir := t.TempDir()
	rec := providertest.NewMemoryRecorder()
	rec.SetDown(true)

	const callsPerVendor = 3
	talk := 93 * time.Second
	first := startProcess(t, vs, rec, spoolDir)
	events := 0
	for name, v := range vs {
		for i := range callsPerVendor {
			call := fmt.Sprintf("%s-call-%d", name, i)
			answer := first.post(t, v, name, call, "", 0)
			if !strings.Contains(answer, strings.TrimPrefix(businessNumber, "+")) {
				t.Fatalf("%s: routing answer with the store down does not dial the business:\n%s", name, answer)
			}
			// Duplicates and a late "ringing" after completion.
			first.post(t, v, name, call, provider.StatusInProgress, 0)
			first.post(t, v, name, call, provider.StatusCompleted, talk)
			first.post(t, v, name, call, provider.StatusCompleted, talk)
			first.post(t, v, name, call, provider.StatusRinging, 0)
			events += 5
		}
	}
	first.stop(t)
	if rec.Writes() != 0 {
		t.Fatalf("store was down but saw %d writes", rec.Writes())
	}
	if st := first.ingest.Stats(); st.Spooled != int64(events) || st.Pending != events {
		t.Fatalf("after shutdown: %+v, want %d spooled and pending", st, events)
	}

	// Restart with the store back.
	rec.SetDown(false)
	second := startProcess(t, vs, rec, spoolDir)
	defer second.stop(t)
	deadline := time.Now().Add(10 * time.Second)
	for second.ingest.Stats().Pending > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("spool not drained: %+v", second.ingest.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}

	calls := rec.Calls()
	if len(calls) != len(vs)*callsPerVendor {
		t.Fatalf("recorded %d calls, want %d", len(calls), len(vs)*callsPerVendor)
	}
	if rec.Writes() != events {
		t.Fatalf("store saw %d writes for %d events: something was replayed twice or lost", rec.Writes(), events)
	}
	for name := range vs {
		for i := range callsPerVendor {
			c, ok := rec.Call(name, fmt.Sprintf("%s-call-%d", name, i))
			if !ok {
				t.Fatalf("%s call %d lost", name, i)
			}
			if c.Status != provider.StatusCompleted || c.Duration != talk || c.From != callerNumber || c.To != trackingNumber || c.Kind != provider.KindInbound {
				t.Fatalf("%s call %d converged to %+v", name, i, c)
			}
		}
	}
}
