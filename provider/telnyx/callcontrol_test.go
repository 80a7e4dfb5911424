package telnyx_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/attriqs/calltrack/internal/logbuf"
	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/provider/providertest"
	"github.com/attriqs/calltrack/provider/telnyx"
)

// callControlAPI stands in for api.telnyx.com: it records every command
// and answers with the statuses queued in fail first, then success as
// documented ({"data":{"result":"ok"}}).
type callControlAPI struct {
	mu       sync.Mutex
	arrived  *sync.Cond // broadcast on each command; see waitFor
	commands []recordedCommand
	fail     []int
	// refuse is an action (speak, transfer, ...) answered 422 every time.
	refuse string
}

type recordedCommand struct {
	Path, Auth string
	Body       map[string]any
}

func (a *callControlAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var m map[string]any
	_ = json.Unmarshal(body, &m)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.commands = append(a.commands, recordedCommand{Path: r.URL.EscapedPath(), Auth: r.Header.Get("Authorization"), Body: m})
	if a.arrived != nil {
		a.arrived.Broadcast()
	}
	if a.refuse != "" && strings.HasSuffix(r.URL.Path, "/actions/"+a.refuse) {
		w.WriteHeader(http.StatusUnprocessableEntity)
		_, _ = w.Write([]byte(`{"errors":[{"code":"90046","title":"Invalid voice","detail":"The voice is not supported."}]}`))
		return
	}
	if len(a.fail) > 0 {
		code := a.fail[0]
		a.fail = a.fail[1:]
		w.WriteHeader(code)
		_, _ = w.Write([]byte(`{"errors":[{"code":"90018","title":"Call has already ended","detail":"This call is no longer active."}]}`))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"data":{"result":"ok"}}`))
}

// waitFor returns the first command received at path, waiting for it as
// long as the test may run (the handler sends it after its answer).
func (a *callControlAPI) waitFor(path string) recordedCommand {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.arrived == nil {
		a.arrived = sync.NewCond(&a.mu)
	}
	for {
		for _, c := range a.commands {
			if c.Path == path {
				return c
			}
		}
		a.arrived.Wait()
	}
}

// all returns the commands received so far, in the order received.
func (a *callControlAPI) all() []recordedCommand {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]recordedCommand(nil), a.commands...)
}

// sent returns the commands received so far, and fails the test unless
// there are exactly n. Call it once nothing can still be sending: after
// Provider.RouteCall returns, or after callControlRig's handler's Wait.
func (a *callControlAPI) sent(t *testing.T, n int) []recordedCommand {
	t.Helper()
	a.mu.Lock()
	got := append([]recordedCommand(nil), a.commands...)
	a.mu.Unlock()
	if len(got) != n {
		t.Fatalf("Telnyx API received %d commands, want %d: %v", len(got), n, got)
	}
	return got
}

// ccRig is a Handler serving the provider's webhooks, with its logs.
type ccRig struct {
	srv      *httptest.Server
	h        *provider.Handler
	logs     *logbuf.Buffer
	ingest   *provider.Ingest
	recorder *providertest.MemoryRecorder
}

// deliver posts each webhook as Telnyx does, then waits until the
// handler has no call being connected: the handler counts a command in
// flight before it answers the webhook and until the command, retries
// and failure log included, is done, so on return every command has
// reached the API. No clock is involved; the test binary's timeout
// bounds a hang.
func (r *ccRig) deliver(t *testing.T, reqs ...*provider.Request) {
	t.Helper()
	for _, req := range reqs {
		if resp := postSigned(t, r.srv.URL, req); resp.StatusCode != http.StatusOK {
			t.Fatalf("webhook answered %d", resp.StatusCode)
		}
	}
	r.h.Wait()
}

// step delivers one webhook and returns the commands it sent, in order,
// after those of earlier webhooks (one at a time, so their order is the
// order Telnyx received them).
func (r *ccRig) step(t *testing.T, api *callControlAPI, req *provider.Request) []recordedCommand {
	t.Helper()
	before := len(api.all())
	r.deliver(t, req)
	return api.all()[before:]
}

// settle closes the ingest, which delivers every event the handler kept
// and waits for that (Ingest.Close), then fails the test unless all were
// recorded. Call it once, after the last webhook.
func (r *ccRig) settle(t *testing.T) {
	t.Helper()
	if err := r.ingest.Close(); err != nil {
		t.Fatal(err)
	}
	if st := r.ingest.Stats(); st.Recorded < st.Spooled || st.Pending > 0 || st.DeadLettered > 0 {
		t.Fatalf("not every event was recorded: %+v", st)
	}
}

// callControlRig serves the provider's webhooks through a provider.Handler
// whose Route sends every call to business.
func callControlRig(t *testing.T, api *callControlAPI, fwd provider.Forward) *ccRig {
	t.Helper()
	return callControlRigWith(t, api, telnyx.Config{}, func(context.Context, provider.CallEvent) (provider.Forward, error) { return fwd, nil })
}

// callControlRigWith is callControlRig with a provider configured as cfg
// (its key, API key and API URL filled in) and the route given.
func callControlRigWith(t *testing.T, api *callControlAPI, cfg telnyx.Config, route provider.RouteFunc) *ccRig {
	t.Helper()
	apiSrv := httptest.NewServer(api)
	t.Cleanup(apiSrv.Close)
	logs := &logbuf.Buffer{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	cfg.PublicKey, cfg.APIKey, cfg.APIBaseURL, cfg.Logger = publicKey, "KEY0123", apiSrv.URL, logger
	p, err := telnyx.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rec := providertest.NewMemoryRecorder()
	in, err := provider.NewIngest(rec, provider.IngestConfig{SpoolDir: t.TempDir(), RetryInterval: 10 * time.Millisecond, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	providertest.RunIngest(t, in)
	h, err := provider.NewHandler(p, in, route, provider.HandlerConfig{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() { srv.Close(); in.Close() })
	return &ccRig{srv: srv, h: h, logs: logs, ingest: in, recorder: rec}
}

func postSigned(t *testing.T, url string, r *provider.Request) *http.Response {
	t.Helper()
	sig, ts := telnyx.Sign(privateKey, r.Body, time.Now())
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(r.Body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(telnyx.SignatureHeader, sig)
	req.Header.Set(telnyx.TimestampHeader, ts)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	return resp
}

func TestCallControlCallIsTransferredToTheBusinessLine(t *testing.T) {
	api := &callControlAPI{}
	rig := callControlRig(t, api, provider.Forward{To: "+12125550123", RingTimeout: 200 * time.Second})
	call := providertest.Call{ID: "leg-1", From: "+14158675309", To: "+18005551212"}

	// Telnyx delivers the webhook again.
	rig.deliver(t, event(call, "call.initiated", ""), event(call, "call.initiated", ""))

	cmds := api.sent(t, 2)
	for _, c := range cmds {
		if c.Path != "/calls/v3:AgDIxmoRX6QMuaIj/actions/transfer" || c.Auth != "Bearer KEY0123" {
			t.Fatalf("command sent to %s with %q", c.Path, c.Auth)
		}
		if c.Body["to"] != "+12125550123" || c.Body["timeout_secs"] != 200.0 {
			t.Fatalf("transfer body %v: want to the business line, ringing 200 s (Telnyx takes 5 to 600)", c.Body)
		}
		for _, k := range []string{"client_state", "target_leg_client_state"} {
			if c.Body[k] != forwardState(call.ID) {
				t.Fatalf("transfer %s = %v, want the caller's leg %q named so both legs' events fold into its call", k, c.Body[k], call.ID)
			}
		}
		if _, ok := c.Body["answering_machine_detection"]; ok {
			t.Fatalf("transfer body %v: machine detection is off unless configured", c.Body)
		}
		if _, ok := c.Body["from"]; ok {
			t.Fatalf("transfer body %v: without passthrough the tracking number stays the caller id", c.Body)
		}
	}
	if cmds[0].Body["command_id"] == "" || cmds[0].Body["command_id"] != cmds[1].Body["command_id"] {
		t.Fatalf("command ids %v and %v: a repeated webhook must repeat the same command id, so Telnyx transfers once",
			cmds[0].Body["command_id"], cmds[1].Body["command_id"])
	}
}

func TestCallControlTransferRetriesTransientFailuresAndStopsOnPermanentOnes(t *testing.T) {
	api := &callControlAPI{fail: []int{http.StatusServiceUnavailable, http.StatusTooManyRequests}}
	rig := callControlRig(t, api, provider.Forward{To: "+12125550123", CallerIDPassthrough: true})
	call := providertest.Call{ID: "leg-2", From: "+14158675309", To: "+18005551212"}
	rig.deliver(t, event(call, "call.initiated", ""))
	cmds := api.sent(t, 3) // 503, 429, then success
	if cmds[2].Body["from"] != call.From {
		t.Fatalf("transfer body %v: passthrough shows the caller's number", cmds[2].Body)
	}

	// The command is over once deliver returns, so one command means the
	// 422 was not retried, however slow the machine.
	api2 := &callControlAPI{fail: []int{http.StatusUnprocessableEntity}}
	rig2 := callControlRig(t, api2, provider.Forward{To: "+12125550123"})
	rig2.deliver(t, event(call, "call.initiated", ""))
	api2.sent(t, 1)
	if !rig2.logs.Contains("Call has already ended") {
		t.Fatalf("the failure was not logged with Telnyx's reason: %s", rig2.logs.String())
	}
}

// A command Telnyx refuses comes back as the package's *APIError, with
// Telnyx's error codes, and its text says "telnyx:" once.
func TestCallControlRefusedCommandIsAnAPIError(t *testing.T) {
	api := &callControlAPI{fail: []int{http.StatusUnprocessableEntity}}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	p, err := telnyx.New(telnyx.Config{PublicKey: publicKey, APIKey: "k", APIBaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	call := providertest.Call{ID: "leg-refused", From: "+14158675309", To: "+18005551212"}
	ev, err := p.Parse(event(call, "call.initiated", ""))
	if err != nil {
		t.Fatal(err)
	}
	err = p.RouteCall(context.Background(), provider.Forward{To: "+12125550123"}, ev)
	var apiErr *telnyx.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusUnprocessableEntity || len(apiErr.Codes) != 1 || apiErr.Codes[0] != "90018" {
		t.Fatalf("RouteCall: %v, want a *telnyx.APIError 422 with code 90018", err)
	}
	if n := strings.Count(err.Error(), "telnyx:"); n != 1 {
		t.Fatalf("error %q says \"telnyx:\" %d times, want once", err, n)
	}
	api.sent(t, 1)
}

func TestCallControlOutgoingLegIsIgnoredNotRoutedAgain(t *testing.T) {
	p, _ := telnyx.New(telnyx.Config{PublicKey: publicKey, APIKey: "KEY0123"})
	leg := event(providertest.Call{ID: "leg-b", From: "+18005551212", To: "+12125550123"}, "call.initiated", "")
	leg.Body = bytes.Replace(leg.Body, []byte(`"direction":"incoming"`), []byte(`"direction":"outgoing"`), 1)
	if _, err := p.Parse(leg); !errors.Is(err, provider.ErrIgnoredEvent) {
		t.Fatalf("outgoing leg: %v, want ErrIgnoredEvent", err)
	}
}

func TestWithoutAPIKeyCallControlIsNotRoutedByCommand(t *testing.T) {
	p, _ := telnyx.New(telnyx.Config{PublicKey: publicKey})
	ev, err := p.Parse(event(providertest.Call{ID: "leg-3", From: "+14158675309", To: "+18005551212"}, "call.initiated", ""))
	if err != nil {
		t.Fatal(err)
	}
	if p.RoutesByCommand(ev) {
		t.Fatal("without an API key there is no command to send")
	}
	withKey, _ := telnyx.New(telnyx.Config{PublicKey: publicKey, APIKey: "k"})
	texml, _ := withKey.Parse(&provider.Request{Body: []byte("CallSid=v3:abc&CallStatus=ringing&From=%2B14158675309&To=%2B18005551212&Direction=inbound")})
	if withKey.RoutesByCommand(texml) {
		t.Fatal("a TeXML call is routed by the webhook answer")
	}
	if _, err := telnyx.New(telnyx.Config{PublicKey: publicKey, APIBaseURL: "api.telnyx.com"}); !errors.Is(err, provider.ErrInvalidConfig) {
		t.Fatalf("relative APIBaseURL: %v", err)
	}
}

func TestCallControlRejectSendsTheRejectCommand(t *testing.T) {
	api := &callControlAPI{}
	rig := callControlRig(t, api, provider.Forward{Reject: true})
	call := providertest.Call{ID: "leg-spam", From: "+14158675309", To: "+18005551212"}
	rig.deliver(t, event(call, "call.initiated", ""))
	cmds := api.sent(t, 1)
	if cmds[0].Path != "/calls/v3:AgDIxmoRX6QMuaIj/actions/reject" || cmds[0].Body["cause"] != "CALL_REJECTED" || cmds[0].Body["command_id"] == "" {
		t.Fatalf("sent %s %v, want the reject command with cause CALL_REJECTED and a command id", cmds[0].Path, cmds[0].Body)
	}
}

func TestCallControlMachineDetectionIsConfigured(t *testing.T) {
	api := &callControlAPI{}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	p, err := telnyx.New(telnyx.Config{PublicKey: publicKey, APIKey: "k", APIBaseURL: srv.URL, MachineDetection: "premium"})
	if err != nil {
		t.Fatal(err)
	}
	call := providertest.Call{ID: "leg-amd", From: "+14158675309", To: "+18005551212"}
	ev, err := p.Parse(event(call, "call.initiated", ""))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.RouteCall(context.Background(), provider.Forward{To: "+12125550123"}, ev); err != nil {
		t.Fatal(err)
	}
	body := api.sent(t, 1)[0].Body // RouteCall returns once Telnyx answered
	amd := base64.StdEncoding.EncodeToString([]byte(`{"calltrack_parent":"leg-amd","amd":true}`))
	if body["answering_machine_detection"] != "premium" || body["target_leg_client_state"] != amd {
		t.Fatalf("transfer body %v: want premium detection, and the business leg told detection runs", body)
	}
	if _, err := telnyx.New(telnyx.Config{PublicKey: publicKey, MachineDetection: "guess"}); !errors.Is(err, provider.ErrInvalidConfig) {
		t.Fatalf("MachineDetection guess: %v, want ErrInvalidConfig", err)
	}
}
