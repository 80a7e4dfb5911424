package telnyx_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/provider/providertest"
	"github.com/attriqs/calltrack/provider/telnyx"
)

const (
	business = "+12125550123"
	notice   = "This call may be recorded."
	whisper  = "Call from Google Ads"
	// whisperAudio is where the host keeps the whisper's recording.
	whisperAudio = "https://media.example.com/whisper/google-ads.mp3"
)

// ccPath is where a command on the caller's leg goes (event's
// call_control_id).
func ccPath(action string) string { return "/calls/v3:AgDIxmoRX6QMuaIj/actions/" + action }

// state decodes a command's client_state.
func state(t *testing.T, c recordedCommand, field string) map[string]any {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(fmt.Sprint(c.Body[field]))
	if err != nil {
		t.Fatalf("%s %s = %v: not base64: %v", c.Path, field, c.Body[field], err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s %s = %s: not JSON: %v", c.Path, field, raw, err)
	}
	return m
}

// stepEvent renders an event of the caller's leg as Telnyx echoes a
// command's client_state on it. call.speak.ended carries no numbers, as
// Telnyx sends it (the SDKs' CallSpeakEndedPayload).
func stepEvent(c providertest.Call, eventType, clientState, extra string) *provider.Request {
	if eventType == "call.speak.ended" {
		body := fmt.Sprintf(`{"data":{"event_type":"call.speak.ended","id":"4b5a1f8c-2a91-4d36-9a1e-0c6f3a9d2e11","occurred_at":"2026-03-01T12:00:06.000000Z",`+
			`"payload":{"call_control_id":"v3:AgDIxmoRX6QMuaIj","call_leg_id":%q,"call_session_id":"428c31b6-abf3-3bc1-b7f4-5013ef9657c1",`+
			`"client_state":%q,"connection_id":"7267xxxxxxxxxxxxxx"%s},"record_type":"event"},"meta":{"attempt":1,"delivered_to":"https://calls.example.com/calltrack/telnyx"}}`,
			c.ID, clientState, extra)
		r := event(c, eventType, "")
		r.Body = []byte(body)
		return r
	}
	r := event(c, eventType, extra)
	r.Body = []byte(strings.Replace(string(r.Body), `"client_state":null`, fmt.Sprintf(`"client_state":%q`, clientState), 1))
	return r
}

func recordedRoute(f provider.Forward) provider.RouteFunc {
	return func(context.Context, provider.CallEvent) (provider.Forward, error) { return f, nil }
}

// A recorded Call Control call: answered so the caller can be told, told,
// then transferred recording from the business line's answer with the
// whisper played to the business line; every webhook twice, the answer's
// echo late; the recording lands on the caller's call.
func TestCallControlRecordingPlaysTheNoticeFirstThenTransfersRecording(t *testing.T) {
	api := &callControlAPI{}
	fwd := provider.Forward{To: business, Record: true, RecordingNotice: notice, Whisper: whisper}
	rig := callControlRigWith(t, api, telnyx.Config{WhisperAudio: map[string]string{whisper: whisperAudio}}, recordedRoute(fwd))
	call := providertest.Call{ID: "leg-rec", From: "+14158675309", To: "+18005551212"}

	// 1. The call rings: answered (twice delivered, one command id), not
	// yet transferred: the caller has not been told.
	cmds := append(rig.step(t, api, event(call, "call.initiated", "")), rig.step(t, api, event(call, "call.initiated", ""))...)
	if len(cmds) != 2 || cmds[0].Path != ccPath("answer") || cmds[1].Path != ccPath("answer") {
		t.Fatalf("call.initiated sent %v, want the answer command (twice, for the webhook delivered twice) and nothing else", cmds)
	}
	if cmds[0].Body["command_id"] == nil || cmds[0].Body["command_id"] != cmds[1].Body["command_id"] {
		t.Fatalf("answer command ids %v, %v: a repeated webhook must repeat the id, so Telnyx answers once", cmds[0].Body["command_id"], cmds[1].Body["command_id"])
	}
	st := state(t, cmds[0], "client_state")
	if st["calltrack_parent"] != call.ID || st["notice"] != true || st["from"] != call.From || st["to"] != call.To {
		t.Fatalf("answer client_state %v: want the caller's leg marked for the notice, with its numbers", st)
	}
	answerState := cmds[0].Body["client_state"].(string)

	// 2. Telnyx reports the answer with that state: the notice is spoken.
	cmds = append(rig.step(t, api, stepEvent(call, "call.answered", answerState, "")), rig.step(t, api, stepEvent(call, "call.answered", answerState, ""))...)
	if len(cmds) != 2 || cmds[0].Path != ccPath("speak") || cmds[0].Body["command_id"] != cmds[1].Body["command_id"] {
		t.Fatalf("call.answered sent %v, want the speak command, the same id twice", cmds)
	}
	speak := cmds[0].Body
	if speak["payload"] != notice || speak["payload_type"] != "text" || speak["voice"] != telnyx.DefaultVoice || speak["client_state"] != answerState {
		t.Fatalf("speak %v: want the notice as text in the default voice, keeping the leg's state", speak)
	}

	// 3. The notice ends: the transfer records and whispers. A late
	// duplicate of the answer repeats the speak's id, which Telnyx ignores.
	cmds = rig.step(t, api, stepEvent(call, "call.speak.ended", answerState, `,"status":"completed"`))
	cmds = append(cmds, rig.step(t, api, stepEvent(call, "call.speak.ended", answerState, `,"status":"completed"`))...)
	cmds = append(cmds, rig.step(t, api, stepEvent(call, "call.answered", answerState, ""))...)
	if len(cmds) != 3 || cmds[0].Path != ccPath("transfer") || cmds[1].Path != ccPath("transfer") || cmds[2].Path != ccPath("speak") ||
		cmds[0].Body["command_id"] != cmds[1].Body["command_id"] || cmds[2].Body["command_id"] != speak["command_id"] {
		t.Fatalf("after the notice sent %v, want the transfer twice with one id, then the speak again with its own id", cmds)
	}
	tr := cmds[0].Body
	if tr["to"] != business || tr["record"] != "record-from-answer" || tr["record_channels"] != "dual" || tr["audio_url"] != whisperAudio {
		t.Fatalf("transfer %v: want the business line, recording from its answer on two channels, the whisper's recording as audio_url", tr)
	}
	for _, k := range []string{"client_state", "target_leg_client_state"} {
		if got := state(t, cmds[0], k); got["calltrack_parent"] != call.ID || got["rec"] != true || got["notice"] != nil {
			t.Fatalf("transfer %s %v: want the caller's leg, recording, past the notice", k, got)
		}
	}
	if _, ok := tr["from"]; ok {
		t.Fatalf("transfer %v: without passthrough the tracking number stays the caller id", tr)
	}

	// 4. The business line answers after 12 s; the recording arrives on
	// the caller's leg, as the transfer's client_state marks it.
	legState := tr["client_state"].(string)
	rec := provider.Recording{ID: "rec-cc", URL: "https://media.example.com/rec-cc.mp3", Duration: 37 * time.Second}
	saved := stepEvent(call, "call.recording.saved", legState, fmt.Sprintf(
		`,"recording_id":%q,"channels":"dual","recording_started_at":"2026-03-01T12:00:18Z","recording_ended_at":"2026-03-01T12:00:55Z","recording_urls":{"mp3":%q,"wav":null},"public_recording_urls":{}`,
		rec.ID, rec.URL))
	rig.deliver(t, at(legEvent(call, "call.answered", ""), now.Add(18*time.Second)), saved,
		at(stepEvent(call, "call.hangup", legState, `,"hangup_cause":"normal_clearing","hangup_source":"caller","end_time":"2026-03-01T12:00:55Z"`), now.Add(55*time.Second)))
	rig.settle(t)
	if n := len(api.all()); n != 7 {
		t.Fatalf("Telnyx received %d commands, want 7: the status events send none", n)
	}
	if calls := rig.recorder.Calls(); len(calls) != 1 {
		t.Fatalf("recorded %d calls, want the caller's one: %v", len(calls), calls)
	}
	got, _ := rig.recorder.Call(telnyx.Name, call.ID)
	if got.Recording.ID != rec.ID || got.Recording.URL != rec.URL || got.Recording.Duration != rec.Duration || got.TalkTime != rec.Duration {
		t.Fatalf("recorded recording %+v talk %s, want %+v and its length as the talk time", got.Recording, got.TalkTime, rec)
	}
	if got.Kind != provider.KindInbound || got.From != call.From || got.To != call.To || got.Outcome != provider.OutcomeAnswered ||
		got.Status != provider.StatusCompleted || !got.AnsweredAt.Equal(now.Add(18*time.Second)) {
		t.Fatalf("recorded %+v: want the inbound call from %s to %s, answered by the business line at +18s (not at the notice), completed", got, call.From, call.To)
	}
}

// Telnyx reports the recording on whichever leg; on the business leg it
// still lands on the caller's call.
func TestCallControlRecordingOfTheBusinessLegLandsOnTheCall(t *testing.T) {
	api := &callControlAPI{}
	rig := callControlRig(t, api, provider.Forward{To: business})
	call := providertest.Call{ID: "leg-rb", From: "+14158675309", To: "+18005551212"}
	rec := provider.Recording{ID: "rec-b", URL: "https://media.example.com/rec-b.mp3", Duration: 9 * time.Second}
	rig.deliver(t, event(call, "call.initiated", ""), recordingSaved(call, rec))
	rig.settle(t)
	got, _ := rig.recorder.Call(telnyx.Name, call.ID)
	if got.Recording.ID != rec.ID || got.Recording.Duration != rec.Duration {
		t.Fatalf("recorded %+v, want the recording %+v", got.Recording, rec)
	}
}

func TestCallControlCallerWhoHangsUpDuringTheNoticeIsNotTransferred(t *testing.T) {
	api := &callControlAPI{}
	rig := callControlRig(t, api, provider.Forward{To: business, Record: true, RecordingNotice: notice})
	call := providertest.Call{ID: "leg-gone", From: "+14158675309", To: "+18005551212"}
	answerState := rig.step(t, api, event(call, "call.initiated", ""))[0].Body["client_state"].(string)
	rig.step(t, api, stepEvent(call, "call.answered", answerState, ""))
	if cmds := rig.step(t, api, stepEvent(call, "call.speak.ended", answerState, `,"status":"call_hangup"`)); len(cmds) != 0 {
		t.Fatalf("a notice cut short by the caller hanging up sent %v, want nothing", cmds)
	}
}

// A notice Telnyx refuses to speak must not leave an answered caller in
// silence, nor record one who was not told.
func TestCallControlNoticeThatCannotBePlayedConnectsWithoutRecording(t *testing.T) {
	api := &callControlAPI{refuse: "speak"}
	rig := callControlRigWith(t, api, telnyx.Config{Voice: "Nobody.Nothing.none"}, recordedRoute(provider.Forward{To: business, Record: true, RecordingNotice: notice}))
	call := providertest.Call{ID: "leg-mute", From: "+14158675309", To: "+18005551212"}
	answerState := rig.step(t, api, event(call, "call.initiated", ""))[0].Body["client_state"].(string)
	cmds := rig.step(t, api, stepEvent(call, "call.answered", answerState, ""))
	if len(cmds) != 2 || cmds[0].Path != ccPath("speak") || cmds[0].Body["voice"] != "Nobody.Nothing.none" || cmds[1].Path != ccPath("transfer") {
		t.Fatalf("sent %v, want the refused speak, then the transfer", cmds)
	}
	if _, ok := cmds[1].Body["record"]; ok || state(t, cmds[1], "client_state")["rec"] != nil {
		t.Fatalf("transfer %v: a caller who heard no notice is not recorded", cmds[1].Body)
	}
	if !rig.logs.Contains("connected the call without recording") || !rig.logs.Contains("The voice is not supported") {
		t.Fatalf("the failure was not logged with Telnyx's reason: %s", rig.logs.String())
	}
}

// A route that refuses the caller once the call was answered for the
// notice hangs it up (reject is for calls not yet answered).
func TestCallControlRefusalAfterTheAnswerHangsUp(t *testing.T) {
	api := &callControlAPI{}
	var fwd atomic.Pointer[provider.Forward]
	fwd.Store(&provider.Forward{To: business, Record: true, RecordingNotice: notice})
	rig := callControlRigWith(t, api, telnyx.Config{}, func(context.Context, provider.CallEvent) (provider.Forward, error) { return *fwd.Load(), nil })
	call := providertest.Call{ID: "leg-late", From: "+14158675309", To: "+18005551212"}
	answerState := rig.step(t, api, event(call, "call.initiated", ""))[0].Body["client_state"].(string)
	fwd.Store(&provider.Forward{Reject: true})
	cmds := rig.step(t, api, stepEvent(call, "call.answered", answerState, ""))
	if len(cmds) != 1 || cmds[0].Path != ccPath("hangup") || cmds[0].Body["command_id"] == nil {
		t.Fatalf("sent %v, want the hangup command", cmds)
	}
}

func TestCallControlWhisperWithoutARecordingIsLeftOutAndSaid(t *testing.T) {
	api := &callControlAPI{}
	rig := callControlRigWith(t, api, telnyx.Config{WhisperAudio: map[string]string{"Call from Bing": "https://media.example.com/bing.mp3"}},
		recordedRoute(provider.Forward{To: business, Whisper: whisper}))
	call := providertest.Call{ID: "leg-w", From: "+14158675309", To: "+18005551212"}
	cmds := rig.step(t, api, event(call, "call.initiated", ""))
	if len(cmds) != 1 || cmds[0].Path != ccPath("transfer") {
		t.Fatalf("sent %v, want the transfer", cmds)
	}
	if _, ok := cmds[0].Body["audio_url"]; ok {
		t.Fatalf("transfer %v: no recording of this whisper, so no audio_url", cmds[0].Body)
	}
	if !rig.logs.Contains("Config.WhisperAudio has none") {
		t.Fatalf("the missing whisper recording was not logged: %s", rig.logs.String())
	}
}

func TestNoticeStepsAreInboundEventsOfTheCall(t *testing.T) {
	call := providertest.Call{ID: "leg-st", From: "+14158675309", To: "+18005551212"}
	st := base64.StdEncoding.EncodeToString([]byte(`{"calltrack_parent":"leg-st","notice":true,"from":"+14158675309","to":"+18005551212"}`))
	ev, err := telnyx.ParseEvent(stepEvent(call, "call.speak.ended", st, `,"status":"completed"`).Body)
	if err != nil || ev.Kind != provider.KindInbound || ev.CallID != call.ID || ev.From != call.From || ev.To != call.To || !ev.AnsweredAt.IsZero() {
		t.Fatalf("call.speak.ended of the notice = %+v, %v: want an inbound event of the call, numbers from the state", ev, err)
	}
	ev, err = telnyx.ParseEvent(stepEvent(call, "call.answered", st, "").Body)
	if err != nil || ev.Kind != provider.KindInbound || ev.Status != provider.StatusInProgress || !ev.AnsweredAt.IsZero() {
		t.Fatalf("call.answered for the notice = %+v, %v: want an inbound step, in progress, without AnsweredAt (the business line's answer is the call's)", ev, err)
	}
	// Someone else's speak, and an unmarked answer, are what they were.
	if _, err := telnyx.ParseEvent(stepEvent(call, "call.speak.ended", base64.StdEncoding.EncodeToString([]byte("host")), `,"status":"completed"`).Body); !errors.Is(err, provider.ErrIgnoredEvent) {
		t.Fatalf("a host's speak.ended: %v, want ErrIgnoredEvent", err)
	}
	if ev, err := telnyx.ParseEvent(event(call, "call.answered", "").Body); err != nil || ev.Kind != provider.KindStatus || ev.AnsweredAt.IsZero() {
		t.Fatalf("a plain call.answered = %+v, %v", ev, err)
	}
	// RouteCall refuses events that are not steps, and forwards that are
	// not valid, before anything is sent.
	p, _ := telnyx.New(telnyx.Config{PublicKey: publicKey, APIKey: "k", APIBaseURL: "http://127.0.0.1:1"})
	if err := p.RouteCall(context.Background(), provider.Forward{To: business}, provider.CallEvent{Raw: event(call, "call.hangup", "").Body}); !errors.Is(err, provider.ErrMalformedPayload) {
		t.Fatalf("routing a hangup: %v, want ErrMalformedPayload", err)
	}
	if err := p.RouteCall(context.Background(), provider.Forward{To: business, Record: true}, provider.CallEvent{Raw: event(call, "call.initiated", "").Body}); !errors.Is(err, provider.ErrInvalidForward) {
		t.Fatalf("recording without a notice: %v, want ErrInvalidForward", err)
	}
}

func TestWhisperAudioIsValidated(t *testing.T) {
	_, err := telnyx.New(telnyx.Config{PublicKey: publicKey, WhisperAudio: map[string]string{whisper: "media/whisper.mp3", "": whisperAudio}})
	if !errors.Is(err, provider.ErrInvalidConfig) {
		t.Fatalf("New = %v, want ErrInvalidConfig", err)
	}
	for _, want := range []string{`field WhisperAudio["Call from Google Ads"]`, `field WhisperAudio[""]`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	if _, err := telnyx.New(telnyx.Config{MachineDetection: "guess"}); err == nil || !strings.Contains(err.Error(), "field PublicKey") || !strings.Contains(err.Error(), "field MachineDetection") {
		t.Fatalf("New = %v, want every bad field named at once", err)
	}
}
