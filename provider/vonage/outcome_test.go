package vonage_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/provider/providertest"
	"github.com/attriqs/calltrack/provider/vonage"
)

// rig serves a Vonage provider through a real Handler, recording into a
// MemoryRecorder.
type rig struct {
	srv *httptest.Server
	rec *providertest.MemoryRecorder
	in  *provider.Ingest
}

func newRig(t *testing.T, p *vonage.Provider) *rig {
	t.Helper()
	rec := providertest.NewMemoryRecorder()
	quiet := slog.New(slog.DiscardHandler)
	in, err := provider.NewIngest(rec, provider.IngestConfig{SpoolDir: t.TempDir(), RetryInterval: 10 * time.Millisecond, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	providertest.RunIngest(t, in)
	route := func(ctx context.Context, ev provider.CallEvent) (provider.Forward, error) {
		return provider.Forward{To: "+12125550123"}, nil
	}
	h, err := provider.NewHandler(p, in, route, provider.HandlerConfig{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() { srv.Close(); _ = in.Close() })
	return &rig{srv: srv, rec: rec, in: in}
}

// send signs body (or, without one, the GET) as Vonage does and sends it.
func (g *rig) send(t *testing.T, method, u string, body []byte, key []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(vonage.AuthorizationHeader, "Bearer "+vonage.Sign(key, body, vonage.Claims{IssuedAt: now.Unix(), ID: "jti-1"}))
	if len(body) > 0 {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := g.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// settle waits, as long as the test may run, until the recorder took
// writes events and nothing is pending.
func (g *rig) settle(t *testing.T, writes int) {
	t.Helper()
	deadline, ok := t.Deadline()
	for g.rec.Writes() < writes || g.in.Stats().Pending != 0 {
		if ok && time.Until(deadline) < time.Second {
			t.Fatalf("recorder saw %d writes, want %d", g.rec.Writes(), writes)
		}
		time.Sleep(time.Millisecond)
	}
}

// A new Vonage application fetches its answer URL by GET with the call
// in the query. The answer asks for the forwarded leg's events at the
// handler's own URL with the caller's uuid; the leg's answered and
// completed events then end the caller's call answered with the leg's
// talk time, in either order and twice over.
func TestGETAnswerAndLegEventsThroughHandler(t *testing.T) {
	p, err := vonage.New(vonage.Config{SignatureSecret: secret, Clock: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	g := newRig(t, p)
	c := providertest.Call{ID: "aaaaaaaa-bbbb-cccc-dddd-0123456789ab", From: "+14158675309", To: "+18005551212"}
	query := url.Values{"to": {c.To[1:]}, "from": {c.From[1:]}, "uuid": {c.ID}, "conversation_uuid": {"CON-f972836a-550f-45fa-956c-12a2ab5b7d22"}, "region_url": {"https://api-us-3.vonage.com"}}
	code, body := g.send(t, http.MethodGet, g.srv.URL+"/vonage/answer?"+query.Encode(), nil, secret)
	if code != http.StatusOK {
		t.Fatalf("GET answer: status %d: %s", code, body)
	}
	var ncco []vonage.Action
	if err := json.Unmarshal(body, &ncco); err != nil || len(ncco) != 1 || ncco[0].Action != "connect" {
		t.Fatalf("answer is not one connect action: %s", body)
	}
	connect := ncco[0]
	wantURL, err := vonage.LegEventURL(secret, g.srv.URL+"/vonage/answer", c.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(connect.EventURL) != 1 || connect.EventURL[0] != wantURL || connect.EventMethod != http.MethodPost {
		t.Fatalf("connect reports to %v by %s, want [%s] by POST", connect.EventURL, connect.EventMethod, wantURL)
	}

	if code, body := g.send(t, http.MethodGet, g.srv.URL+"/vonage/answer?"+query.Encode(), nil, []byte("another secret")); code != http.StatusForbidden {
		t.Fatalf("GET signed with another secret: status %d: %s", code, body)
	}

	answered := legEvent(c, wantURL, "answered", `,"start_time":null,"rate":null,"network":null`).Body
	completed := legOutcome(c, g.srv.URL+"/vonage/answer", provider.OutcomeAnswered, 42*time.Second).Body
	for _, b := range [][]byte{completed, answered, completed, answered} {
		if code, body := g.send(t, http.MethodPost, wantURL, b, secret); code != http.StatusOK {
			t.Fatalf("leg event: status %d: %s", code, body)
		}
	}
	g.settle(t, 5)
	if n := len(g.rec.Calls()); n != 1 {
		t.Fatalf("recorded %d calls, want the caller's one: %v", n, g.rec.Calls())
	}
	got, _ := g.rec.Call(vonage.Name, c.ID)
	if got.Outcome != provider.OutcomeAnswered || got.TalkTime != 42*time.Second || got.From != c.From || got.To != c.To {
		t.Fatalf("call = outcome %q talk %s from %q to %q, want answered 42s from %s to %s", got.Outcome, got.TalkTime, got.From, got.To, c.From, c.To)
	}
	if want := time.Date(2026, 3, 1, 12, 0, 5, 0, time.UTC); !got.AnsweredAt.Equal(want) {
		t.Fatalf("AnsweredAt = %s, want the leg's answered event at %s", got.AnsweredAt, want)
	}
}

// permutations returns every order of evs.
func permutations(evs []*provider.Request) [][]*provider.Request {
	if len(evs) <= 1 {
		return [][]*provider.Request{evs}
	}
	var out [][]*provider.Request
	for i := range evs {
		rest := append(append([]*provider.Request{}, evs[:i]...), evs[i+1:]...)
		for _, p := range permutations(rest) {
			out = append(out, append([]*provider.Request{evs[i]}, p...))
		}
	}
	return out
}

// With machine detection, a voicemail answers the leg too: Vonage sends
// answered, then machine (or human), and completed with the leg's
// duration. Every order of those events, merged as stores merge them,
// ends voicemail for a machine and answered for a person.
func TestMachineDetectionDecidesInAnyOrder(t *testing.T) {
	p, err := vonage.New(vonage.Config{SignatureSecret: secret, MachineDetection: vonage.MachineContinue, Clock: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	c := providertest.Call{ID: "aaaaaaaa-bbbb-cccc-dddd-0123456789ab", From: "+14158675309", To: "+18005551212"}
	a, err := p.RenderForward(provider.Forward{To: "+12125550123", CallbackURL: hookURL}, provider.CallEvent{CallID: c.ID, To: c.To})
	if err != nil {
		t.Fatal(err)
	}
	var ncco []vonage.Action
	if err := json.Unmarshal(a.Body, &ncco); err != nil || ncco[0].MachineDetection != vonage.MachineContinue {
		t.Fatalf("connect without machine detection: %s", a.Body)
	}
	eventURL := ncco[0].EventURL[0]
	for _, tc := range []struct {
		verdict string
		want    provider.Outcome
	}{{"machine", provider.OutcomeVoicemail}, {"human", provider.OutcomeAnswered}} {
		evs := []*provider.Request{
			legEvent(c, eventURL, "answered", ""),
			legEvent(c, eventURL, tc.verdict, ""),
			legEvent(c, eventURL, "completed", `,"duration":"30"`),
		}
		for _, order := range permutations(evs) {
			var got provider.CallEvent
			for _, r := range order {
				ev, err := p.Parse(r)
				if err != nil {
					t.Fatalf("%s: %v", r.Body, err)
				}
				got = provider.Merge(got, ev)
			}
			if got.CallID != c.ID || got.Outcome != tc.want || got.TalkTime != 30*time.Second {
				t.Fatalf("%s: merged to call %q outcome %q talk %s, want %s %q 30s", tc.verdict, got.CallID, got.Outcome, got.TalkTime, c.ID, tc.want)
			}
		}
	}
}

func TestParseLegEvent(t *testing.T) {
	c := providertest.Call{ID: "parent-uuid", From: "+14158675309", To: "+18005551212"}
	u, err := vonage.LegEventURL(secret, hookURL, c.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		status, extra string
		want          provider.Outcome
		err           error
	}{
		{"answered", "", provider.OutcomeAnswered, nil},
		{"completed", `,"duration":"12"`, provider.OutcomeAnswered, nil},
		{"completed", `,"duration":"0"`, "", provider.ErrIgnoredEvent}, // follows busy, timeout, cancelled
		{"busy", "", provider.OutcomeBusy, nil},
		{"timeout", "", provider.OutcomeNoAnswer, nil},
		{"unanswered", `,"detail":"unavailable"`, provider.OutcomeNoAnswer, nil},
		{"rejected", `,"detail":"declined"`, provider.OutcomeBusy, nil},
		{"rejected", `,"detail":"restricted"`, provider.OutcomeFailed, nil},
		{"failed", `,"detail":"number_out_of_service"`, provider.OutcomeFailed, nil},
		{"cancelled", "", provider.OutcomeAbandoned, nil},
		{"machine", "", provider.OutcomeVoicemail, nil},
		{"started", "", "", provider.ErrIgnoredEvent},
		{"ringing", "", "", provider.ErrIgnoredEvent},
	}
	p, _ := vonage.New(vonage.Config{SignatureSecret: secret})
	for _, tc := range cases {
		t.Run(tc.status+tc.extra, func(t *testing.T) {
			ev, err := p.Parse(legEvent(c, u, tc.status, tc.extra))
			if !errors.Is(err, tc.err) || tc.err == nil && err != nil {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if err != nil {
				return
			}
			// Only the forward's facts: the leg's numbers and status would
			// overwrite the caller's call.
			if ev.CallID != c.ID || ev.Kind != provider.KindStatus || ev.Outcome != tc.want || ev.From != "" || ev.To != "" || ev.Status != "" {
				t.Fatalf("event = %+v, want a status event of %s with outcome %q and nothing else of the leg", ev, c.ID, tc.want)
			}
			if err := providertest.CheckStorable(ev); err != nil {
				t.Fatal(err)
			}
		})
	}
	twice := u + "&" + vonage.ParentParam + "=other"
	if _, err := p.Parse(legEvent(c, twice, "busy", "")); !errors.Is(err, provider.ErrMalformedPayload) {
		t.Fatalf("two parents: %v, want ErrMalformedPayload", err)
	}
	if _, err := p.Parse(legEvent(c, hookURL+"?"+vonage.ParentParam+"=", "busy", "")); !errors.Is(err, provider.ErrMalformedPayload) {
		t.Fatalf("empty parent: %v, want ErrMalformedPayload", err)
	}
}

func TestRenderForwardWithCallbacksGolden(t *testing.T) {
	p, _ := vonage.New(vonage.Config{SignatureSecret: secret, MachineDetection: vonage.MachineHangup})
	ev := provider.CallEvent{CallID: "aaaaaaaa-bbbb-cccc-dddd-0123456789ab", From: "+14158675309", To: "+18005551212"}
	a, err := p.RenderForward(provider.Forward{To: "+12125550123", Record: true, RecordingNotice: "Recorded.", CallbackURL: "https://calls.example.com/vonage?tenant=7"}, ev)
	if err != nil {
		t.Fatal(err)
	}
	// calltrack_mac is base64url(HMAC-SHA256(secret,
	// "calltrack-leg|aaaaaaaa-bbbb-cccc-dddd-0123456789ab|1"))[:16 bytes],
	// computed outside Go.
	const u = `"https://calls.example.com/vonage?calltrack_amd=1\u0026calltrack_mac=9ID3I_wJg3L3roGwFphHHg\u0026calltrack_parent=aaaaaaaa-bbbb-cccc-dddd-0123456789ab\u0026tenant=7"`
	want := `[{"action":"talk","text":"Recorded."},{"action":"record","eventUrl":[` + u + `],"eventMethod":"POST"},` +
		`{"action":"connect","from":"18005551212","timeout":30,"machineDetection":"hangup","eventUrl":[` + u + `],"eventMethod":"POST","endpoint":[{"type":"phone","number":"12125550123"}]}]`
	if string(a.Body) != want {
		t.Fatalf("got\n%s\nwant\n%s", a.Body, want)
	}
}

func TestRejectEndsTheCallWithoutConnecting(t *testing.T) {
	p, _ := vonage.New(vonage.Config{SignatureSecret: secret})
	a, err := p.RenderForward(provider.Forward{Reject: true, CallbackURL: hookURL}, provider.CallEvent{CallID: "u"})
	if err != nil {
		t.Fatal(err)
	}
	if want := `[{"action":"talk","text":"` + vonage.RejectText + `"}]`; string(a.Body) != want || a.ContentType != vonage.ContentType {
		t.Fatalf("reject = %s %s, want %s", a.ContentType, a.Body, want)
	}
}

func TestParseQuery(t *testing.T) {
	q := "to=18005551212&from=14158675309&uuid=aaaaaaaa-bbbb-cccc-dddd-0123456789ab&conversation_uuid=CON-1&SipHeader_X-UserId=1938ND9"
	ev, err := vonage.ParseQuery(q)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Kind != provider.KindInbound || ev.From != "+14158675309" || ev.To != "+18005551212" || ev.CallID != "aaaaaaaa-bbbb-cccc-dddd-0123456789ab" || string(ev.Raw) != q {
		t.Fatalf("ParseQuery = %+v", ev)
	}
	if _, err := vonage.ParseQuery("to=1&from=2"); !errors.Is(err, provider.ErrMalformedPayload) || !strings.Contains(err.Error(), "uuid") {
		t.Fatalf("no uuid: %v, want ErrMalformedPayload naming uuid", err)
	}
	if _, err := vonage.ParseQuery("uuid=%zz"); !errors.Is(err, provider.ErrMalformedPayload) {
		t.Fatalf("bad escape: %v, want ErrMalformedPayload", err)
	}
}

func TestNewNamesEveryProblem(t *testing.T) {
	_, err := vonage.New(vonage.Config{MachineDetection: "detect", PrivateKey: []byte("not pem")})
	if !errors.Is(err, provider.ErrInvalidConfig) {
		t.Fatalf("err = %v, want ErrInvalidConfig", err)
	}
	for _, field := range []string{"SignatureSecret", "MachineDetection", "PrivateKey", "ApplicationID"} {
		if !strings.Contains(err.Error(), "field "+field) {
			t.Errorf("error does not name %s: %v", field, err)
		}
	}
}

func FuzzParseLegEvent(f *testing.F) {
	c := providertest.Call{ID: "u", From: "+14158675309", To: "+18005551212"}
	f.Add(legOutcome(c, hookURL, provider.OutcomeAnswered, time.Minute).Body, "u")
	f.Add(legRecording(c, hookURL, provider.Recording{ID: "r", URL: "https://api.nexmo.com/v1/files/x", Duration: time.Second}).Body, "u")
	f.Fuzz(func(t *testing.T, body []byte, parent string) {
		ev, err := vonage.ParseLegEvent(body, parent, false)
		if err == nil && (ev.CallID != parent || ev.TalkTime < 0 || ev.Recording.Duration < 0) {
			t.Fatalf("accepted %q as %+v", body, ev)
		}
	})
}

func FuzzParseQuery(f *testing.F) {
	f.Add("to=18005551212&from=14158675309&uuid=u&conversation_uuid=CON-1")
	f.Add("uuid=u&status=completed&duration=93&timestamp=2026-03-01T12:00:00.000Z")
	f.Fuzz(func(t *testing.T, q string) {
		ev, err := vonage.ParseQuery(q)
		if err == nil {
			if err := providertest.CheckStorable(ev); err != nil {
				t.Fatalf("%q: %v", q, err)
			}
		}
	})
}

// Vonage's JWT signs the body, not the URL: a signed leg report replayed
// within the tolerance with its URL edited (another call's parent, the
// machine flag added or dropped, the MAC dropped or taken from another
// URL) is refused with 403 and records nothing; the genuine one is
// recorded under its parent.
func TestLegEventURLIsBoundByItsMAC(t *testing.T) {
	p, err := vonage.New(vonage.Config{SignatureSecret: secret, Clock: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	g := newRig(t, p)
	c := providertest.Call{ID: "aaaaaaaa-bbbb-cccc-dddd-0123456789ab", From: "+14158675309", To: "+18005551212"}
	victim := "cccccccc-bbbb-cccc-dddd-0123456789ab"
	base := g.srv.URL + "/vonage/answer"
	mustURL := func(key []byte, parent string, machine bool) string {
		t.Helper()
		u, err := vonage.LegEventURL(key, base, parent, machine)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	edit := func(u string, f func(q url.Values)) string {
		t.Helper()
		pu, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		q := pu.Query()
		f(q)
		pu.RawQuery = q.Encode()
		return pu.String()
	}
	genuine := mustURL(secret, c.ID, false)
	genuineAMD := mustURL(secret, c.ID, true)
	victimMAC, _ := url.Parse(mustURL(secret, victim, false))
	refused := []struct{ name, url string }{
		{"edited parent", edit(genuine, func(q url.Values) { q.Set(vonage.ParentParam, victim) })},
		{"amd flag added", edit(genuine, func(q url.Values) { q.Set(vonage.MachineParam, "1") })},
		{"amd flag dropped", edit(genuineAMD, func(q url.Values) { q.Del(vonage.MachineParam) })},
		{"missing MAC", edit(genuine, func(q url.Values) { q.Del(vonage.MACParam) })},
		{"empty MAC", edit(genuine, func(q url.Values) { q.Set(vonage.MACParam, "") })},
		{"MAC of another call", edit(genuine, func(q url.Values) { q.Set(vonage.MACParam, victimMAC.Query().Get(vonage.MACParam)) })},
		{"MAC under another secret", mustURL([]byte("another secret"), c.ID, false)},
		{"MAC twice", edit(genuine, func(q url.Values) { q.Add(vonage.MACParam, q.Get(vonage.MACParam)) })},
	}
	body := legEvent(c, genuine, "busy", "").Body
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			if code, out := g.send(t, http.MethodPost, tc.url, body, secret); code != http.StatusForbidden {
				t.Fatalf("status %d: %s, want 403", code, out)
			}
			if _, err := p.Parse(legEvent(c, tc.url, "busy", "")); !errors.Is(err, provider.ErrBadSignature) && !errors.Is(err, provider.ErrMalformedPayload) {
				t.Fatalf("Parse: %v, want ErrBadSignature", err)
			}
		})
	}
	if w := g.rec.Writes(); w != 0 {
		t.Fatalf("refused reports were recorded: %d writes", w)
	}
	if code, out := g.send(t, http.MethodPost, genuine, body, secret); code != http.StatusOK {
		t.Fatalf("genuine report: status %d: %s", code, out)
	}
	g.settle(t, 1)
	if got, ok := g.rec.Call(vonage.Name, c.ID); !ok || got.Outcome != provider.OutcomeBusy {
		t.Fatalf("genuine report recorded as %+v (found %v), want busy on %s", got, ok, c.ID)
	}
	if _, ok := g.rec.Call(vonage.Name, victim); ok {
		t.Fatal("a report was filed under the victim's call")
	}
}

func TestParseRefusesLegReportWithoutMAC(t *testing.T) {
	p, _ := vonage.New(vonage.Config{SignatureSecret: secret})
	c := providertest.Call{ID: "parent-uuid", From: "+14158675309", To: "+18005551212"}
	for name, u := range map[string]string{
		"no MAC":  hookURL + "?" + vonage.ParentParam + "=" + c.ID,
		"bad MAC": hookURL + "?" + vonage.ParentParam + "=" + c.ID + "&" + vonage.MACParam + "=AAAAAAAAAAAAAAAAAAAAAA",
	} {
		if _, err := p.Parse(legEvent(c, u, "busy", "")); !errors.Is(err, provider.ErrBadSignature) {
			t.Errorf("%s: Parse = %v, want ErrBadSignature", name, err)
		}
	}
	if _, err := vonage.RenderConnect(provider.Forward{To: "+12125550123", CallbackURL: hookURL}, provider.CallEvent{CallID: c.ID}); !errors.Is(err, provider.ErrInvalidForward) {
		t.Errorf("RenderConnect with a CallbackURL it cannot sign: %v, want ErrInvalidForward", err)
	}
}

func FuzzVerifyLegEventURL(f *testing.F) {
	u, _ := vonage.LegEventURL(secret, hookURL, "u", true)
	pu, _ := url.Parse(u)
	f.Add(pu.RawQuery)
	f.Add(vonage.ParentParam + "=u&" + vonage.MACParam + "=x")
	f.Fuzz(func(t *testing.T, rawQuery string) {
		q, err := url.ParseQuery(rawQuery)
		if err != nil {
			return
		}
		parent, machine, isLeg, err := vonage.VerifyLegEventURL(secret, q)
		if err != nil || !isLeg {
			return
		}
		// Accepted: the URL must be the one LegEventURL renders.
		want, _ := vonage.LegEventURL(secret, hookURL, parent, machine)
		wu, _ := url.Parse(want)
		if wu.Query().Get(vonage.MACParam) != q.Get(vonage.MACParam) {
			t.Fatalf("accepted %q, whose MAC LegEventURL does not render", rawQuery)
		}
	})
}
