package telnyx_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/provider/providertest"
	"github.com/attriqs/calltrack/provider/telnyx"
)

// outcomeRig serves a Telnyx provider through a provider.Handler that
// records into memory.
type outcomeRig struct {
	srv      *httptest.Server
	recorder *providertest.MemoryRecorder
	ingest   *provider.Ingest
}

func newOutcomeRig(t *testing.T) *outcomeRig {
	t.Helper()
	p, err := telnyx.New(telnyx.Config{PublicKey: publicKey})
	if err != nil {
		t.Fatal(err)
	}
	rec := providertest.NewMemoryRecorder()
	quiet := slog.New(slog.DiscardHandler)
	in, err := provider.NewIngest(rec, provider.IngestConfig{SpoolDir: t.TempDir(), RetryInterval: 10 * time.Millisecond, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	providertest.RunIngest(t, in)
	route := func(context.Context, provider.CallEvent) (provider.Forward, error) {
		return provider.Forward{To: "+12125550123"}, nil
	}
	h, err := provider.NewHandler(p, in, route, provider.HandlerConfig{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() { srv.Close(); _ = in.Close() })
	return &outcomeRig{srv: srv, recorder: rec, ingest: in}
}

// send posts each request signed, then closes the ingest, which delivers
// every event kept and waits for that (Ingest.Close): call it once.
func (r *outcomeRig) send(t *testing.T, reqs ...*provider.Request) {
	t.Helper()
	for _, req := range reqs {
		sig, ts := telnyx.Sign(privateKey, req.Body, time.Now())
		hr, _ := http.NewRequest(http.MethodPost, r.srv.URL, bytes.NewReader(req.Body))
		hr.Header.Set(telnyx.SignatureHeader, sig)
		hr.Header.Set(telnyx.TimestampHeader, ts)
		resp, err := http.DefaultClient.Do(hr)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("webhook answered %d: %s", resp.StatusCode, body)
		}
	}
	// Every kept event was spooled before its answer; ignored ones were not.
	if err := r.ingest.Close(); err != nil {
		t.Fatal(err)
	}
	if st := r.ingest.Stats(); st.Recorded < st.Spooled || st.Pending > 0 || st.DeadLettered > 0 {
		t.Fatalf("not every event was recorded: %+v", st)
	}
}

// at sets an event's occurred_at.
func at(r *provider.Request, t time.Time) *provider.Request {
	r.Body = bytes.Replace(r.Body, []byte(`"occurred_at":"2026-03-01T12:00:00.000000Z"`), []byte(`"occurred_at":"`+t.Format(time.RFC3339Nano)+`"`), 1)
	return r
}

// withAMD marks a business-leg event as one of a transfer that ran
// answering-machine detection.
func withAMD(c providertest.Call, r *provider.Request) *provider.Request {
	amd := base64.StdEncoding.EncodeToString([]byte(`{"calltrack_parent":"` + c.ID + `","amd":true}`))
	r.Body = bytes.Replace(r.Body, []byte(forwardState(c.ID)), []byte(amd), 1)
	return r
}

func TestCallControlOutcomesThroughTheHandler(t *testing.T) {
	c := providertest.Call{ID: "428c31b6-7af4-4bcb-b7f5-5013ef9657c1", From: "+14158675309", To: "+18005551212"}
	inbound := func() *provider.Request { return event(c, "call.initiated", "") }
	callerHangup := func() *provider.Request {
		return at(event(c, "call.hangup", `,"hangup_cause":"normal_clearing","hangup_source":"caller"`), now.Add(70*time.Second))
	}
	legHangup := func(cause string) *provider.Request {
		return at(legEvent(c, "call.hangup", fmt.Sprintf(`,"hangup_cause":%q,"hangup_source":"callee"`, cause)), now.Add(68*time.Second))
	}
	rec := provider.Recording{ID: "rec-7", URL: "https://media.example.com/rec-7.mp3", Duration: 41 * time.Second}
	cases := []struct {
		name        string
		reqs        func() []*provider.Request
		outcome     provider.Outcome
		talk        time.Duration
		answeredAt  time.Time
		recordingID string
	}{
		{"a transfer that rings out ends no-answer", func() []*provider.Request {
			return []*provider.Request{inbound(), legHangup("timeout"), callerHangup()}
		}, provider.OutcomeNoAnswer, 0, time.Time{}, ""},
		{"a busy business line ends busy", func() []*provider.Request {
			return []*provider.Request{inbound(), legHangup("user_busy"), callerHangup()}
		}, provider.OutcomeBusy, 0, time.Time{}, ""},
		{"the caller hanging up while it rings ends abandoned", func() []*provider.Request {
			return []*provider.Request{inbound(), legHangup("originator_cancel"), callerHangup()}
		}, provider.OutcomeAbandoned, 0, time.Time{}, ""},
		{"an answered, recorded transfer ends answered with the recording's talk time", func() []*provider.Request {
			return []*provider.Request{inbound(), at(legEvent(c, "call.answered", ""), now.Add(12*time.Second)),
				legHangup("normal_clearing"), recordingSaved(c, rec), callerHangup()}
		}, provider.OutcomeAnswered, 41 * time.Second, now.Add(12 * time.Second), "rec-7"},
		{"a machine that answers ends voicemail", func() []*provider.Request {
			return []*provider.Request{inbound(), withAMD(c, legEvent(c, "call.answered", "")),
				withAMD(c, legEvent(c, "call.machine.premium.detection.ended", `,"result":"machine"`)),
				withAMD(c, legHangup("normal_clearing")), callerHangup()}
		}, provider.OutcomeVoicemail, 0, now, ""},
		{"a person who answers with detection on ends answered", func() []*provider.Request {
			return []*provider.Request{inbound(), withAMD(c, legEvent(c, "call.answered", "")),
				withAMD(c, legEvent(c, "call.machine.detection.ended", `,"result":"human"`)),
				withAMD(c, legHangup("normal_clearing")), callerHangup()}
		}, provider.OutcomeAnswered, 0, now, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var results []provider.CallEvent
			// In order; then every event twice in reverse order.
			for _, order := range []func([]*provider.Request) []*provider.Request{
				func(r []*provider.Request) []*provider.Request { return r },
				func(r []*provider.Request) []*provider.Request {
					slices.Reverse(r)
					return append(r, tc.reqs()...)
				},
			} {
				rig := newOutcomeRig(t)
				rig.send(t, order(tc.reqs())...)
				if n := len(rig.recorder.Calls()); n != 1 {
					t.Fatalf("recorded %d calls, want the caller's one: %v", n, rig.recorder.Calls())
				}
				got, _ := rig.recorder.Call(telnyx.Name, c.ID)
				if got.Outcome != tc.outcome || got.TalkTime != tc.talk || !got.AnsweredAt.Equal(tc.answeredAt) || got.Recording.ID != tc.recordingID {
					t.Fatalf("recorded outcome %q talk %s answered %v recording %+v; want %q %s %v %q",
						got.Outcome, got.TalkTime, got.AnsweredAt, got.Recording, tc.outcome, tc.talk, tc.answeredAt, tc.recordingID)
				}
				if got.Status != provider.StatusCompleted || got.From != c.From {
					t.Fatalf("the caller's own call became %q from %q, want completed from %s", got.Status, got.From, c.From)
				}
				got.Raw = nil
				results = append(results, got)
			}
			if results[0].Outcome != results[1].Outcome || results[0].TalkTime != results[1].TalkTime || results[0].Recording != results[1].Recording {
				t.Fatalf("order changed the result:\n%+v\n%+v", results[0], results[1])
			}
		})
	}
}

func TestRecordingPrefersThePublicURL(t *testing.T) {
	c := providertest.Call{ID: "leg-a", From: "+14158675309", To: "+18005551212"}
	r := recordingSaved(c, provider.Recording{ID: "r", URL: "https://signed.example.com/r.mp3", Duration: 3 * time.Second})
	r.Body = bytes.Replace(r.Body, []byte(`"public_recording_urls":{}`), []byte(`"public_recording_urls":{"mp3":null,"wav":"https://public.example.com/r.wav"}`), 1)
	ev, err := telnyx.ParseEvent(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ev.CallID != c.ID || ev.Recording.URL != "https://public.example.com/r.wav" || ev.Recording.Duration != 3*time.Second {
		t.Fatalf("ParseEvent = %+v: want the caller's call and the public URL, which outlives the signed one's ten minutes", ev)
	}
}

func TestAttestationCountsOnlyWhenValidated(t *testing.T) {
	c := providertest.Call{ID: "leg-s", From: "+14158675309", To: "+18005551212"}
	cases := []struct {
		extra string
		want  provider.Attestation
	}{
		{`,"shaken_stir_attestation":"A","shaken_stir_validated":true`, provider.AttestationFull},
		{`,"shaken_stir_attestation":"C","shaken_stir_validated":true`, provider.AttestationGateway},
		{`,"shaken_stir_attestation":"A","shaken_stir_validated":false`, ""},
		{`,"shaken_stir_attestation":"A"`, ""},
		{`,"shaken_stir_attestation":"B","shaken_stir_validated":"true"`, provider.AttestationPartial},
		{`,"shaken_stir_attestation":"B","shaken_stir_validated":1`, ""},
		{`,"shaken_stir_attestation":"Z","shaken_stir_validated":true`, ""},
	}
	for _, tc := range cases {
		ev, err := telnyx.ParseEvent(event(c, "call.initiated", tc.extra).Body)
		if err != nil || ev.Attestation != tc.want {
			t.Errorf("call.initiated%s: attestation %q (%v), want %q", tc.extra, ev.Attestation, err, tc.want)
		}
	}
}

func TestOtherLegsAndStatesAreNotFolded(t *testing.T) {
	c := providertest.Call{ID: "leg-a", From: "+14158675309", To: "+18005551212"}
	// The business leg's own call.initiated says nothing about the outcome.
	if _, err := telnyx.ParseEvent(legEvent(c, "call.initiated", "").Body); err == nil {
		t.Fatal("the business leg's call.initiated became an event")
	}
	// A host's own client_state is not ours: the outgoing leg is ignored.
	r := legEvent(c, "call.hangup", `,"hangup_cause":"timeout"`)
	r.Body = bytes.Replace(r.Body, []byte(forwardState(c.ID)), []byte(base64.StdEncoding.EncodeToString([]byte("host state"))), 1)
	if _, err := telnyx.ParseEvent(r.Body); err == nil {
		t.Fatal("an outgoing leg with someone else's client_state became an event")
	}
	// The caller's leg carrying our state (it is on both legs) stays itself.
	own := event(c, "call.hangup", fmt.Sprintf(`,"hangup_cause":"normal_clearing","client_state":%q`, forwardState(c.ID)))
	own.Body = bytes.Replace(own.Body, []byte(`"client_state":null,`), nil, 1)
	ev, err := telnyx.ParseEvent(own.Body)
	if err != nil || ev.CallID != c.ID || ev.Status != provider.StatusCompleted || ev.Outcome != "" {
		t.Fatalf("caller's hangup = %+v, %v", ev, err)
	}
}
