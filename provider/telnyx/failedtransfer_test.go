package telnyx_test

import (
	"bytes"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/provider/providertest"
	"github.com/attriqs/calltrack/provider/telnyx"
)

// businessLegCC is the business leg's call_control_id: a command sent
// there would be on the wrong leg.
const businessLegCC = "v3:BusinessLegB0"

// connectRecorded takes a recorded call through the answer and the notice
// to the transfer, and returns the transfer's body.
func connectRecorded(t *testing.T, rig *ccRig, api *callControlAPI, call providertest.Call) map[string]any {
	t.Helper()
	answerState := rig.step(t, api, event(call, "call.initiated", ""))[0].Body["client_state"].(string)
	rig.step(t, api, stepEvent(call, "call.answered", answerState, ""))
	cmds := rig.step(t, api, stepEvent(call, "call.speak.ended", answerState, `,"status":"completed"`))
	if len(cmds) != 1 || cmds[0].Path != ccPath("transfer") {
		t.Fatalf("the notice's end sent %v, want the transfer", cmds)
	}
	return cmds[0].Body
}

// businessLeg renders an event of the leg the transfer tr dialled, as
// Telnyx sends it: its own leg and call control ids, and the transfer's
// target_leg_client_state.
func businessLeg(c providertest.Call, tr map[string]any, eventType, extra string) *provider.Request {
	r := legEvent(c, eventType, extra)
	r.Body = bytes.Replace(r.Body, []byte(forwardState(c.ID)), []byte(tr["target_leg_client_state"].(string)), 1)
	r.Body = bytes.Replace(r.Body, []byte(`"call_control_id":"v3:AgDIxmoRX6QMuaIj"`), []byte(`"call_control_id":"`+businessLegCC+`"`), 1)
	return r
}

// callerHangup is the caller's leg's call.hangup after the transfer tr.
func callerHangup(c providertest.Call, tr map[string]any, after time.Duration) *provider.Request {
	return at(stepEvent(c, "call.hangup", tr["client_state"].(string), `,"hangup_cause":"normal_clearing","hangup_source":"callee"`), now.Add(after))
}

// refuseNext makes the stand-in answer the next command with code, as
// Telnyx answers a command on a call that has already ended.
func (a *callControlAPI) refuseNext(code int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.fail = append(a.fail, code)
}

// Telnyx leaves the caller's leg up when a transfer fails. A caller
// answered for the recording notice would wait in silence: the business
// leg's unanswered hangup hangs the caller's leg up, once (one command
// id, however often and in whatever order the webhooks come), and the
// forward's outcome is recorded as before.
func TestCallControlFailedTransferHangsUpTheAnsweredCaller(t *testing.T) {
	for _, tc := range []struct {
		cause string
		want  provider.Outcome
	}{
		{"timeout", provider.OutcomeNoAnswer},
		{"no_answer", provider.OutcomeNoAnswer},
		{"user_busy", provider.OutcomeBusy},
		{"call_rejected", provider.OutcomeBusy},
		{"not_found", provider.OutcomeFailed},
		{"unspecified", provider.OutcomeFailed},
	} {
		t.Run(tc.cause, func(t *testing.T) {
			api := &callControlAPI{}
			rig := callControlRig(t, api, provider.Forward{To: business, Record: true, RecordingNotice: notice})
			call := providertest.Call{ID: "leg-ring-out", From: "+14158675309", To: "+18005551212"}
			tr := connectRecorded(t, rig, api, call)
			target := state(t, recordedCommand{Body: tr}, "target_leg_client_state")
			if target["hangup"] != "v3:AgDIxmoRX6QMuaIj" || target["from"] != call.From || target["to"] != call.To {
				t.Fatalf("target_leg_client_state %v: want the caller's call_control_id to hang up, and the call's numbers", target)
			}
			if own := state(t, recordedCommand{Body: tr}, "client_state"); own["hangup"] != nil {
				t.Fatalf("client_state %v: the caller's own leg has nothing to hang up", own)
			}

			legHangup := at(businessLeg(call, tr, "call.hangup", fmt.Sprintf(`,"hangup_cause":%q,"hangup_source":"callee"`, tc.cause)), now.Add(40*time.Second))
			var cmds []recordedCommand
			// The business leg's call.initiated (ignored), its hangup, and
			// Telnyx's retry of that hangup.
			cmds = append(cmds, rig.step(t, api, businessLeg(call, tr, "call.initiated", ""))...)
			cmds = append(cmds, rig.step(t, api, legHangup)...)
			cmds = append(cmds, rig.step(t, api, legHangup)...)
			// The caller's leg ends; a copy of the business leg's hangup
			// arrives after it, and Telnyx refuses that one's command.
			cmds = append(cmds, rig.step(t, api, callerHangup(call, tr, 41*time.Second))...)
			api.refuseNext(http.StatusUnprocessableEntity)
			cmds = append(cmds, rig.step(t, api, legHangup)...)

			if len(cmds) != 3 {
				t.Fatalf("sent %v, want the hangup for each copy of the business leg's hangup and nothing else", cmds)
			}
			for _, c := range cmds {
				if c.Path != ccPath("hangup") || c.Body["command_id"] == nil || c.Body["command_id"] != cmds[0].Body["command_id"] {
					t.Fatalf("sent %s %v, want the hangup on the caller's leg with one command id, so Telnyx hangs up once", c.Path, c.Body)
				}
			}
			if rig.logs.Contains("level=ERROR") {
				t.Fatalf("a hangup of a caller already gone is not an error: %s", rig.logs.String())
			}
			rig.settle(t)
			got, _ := rig.recorder.Call(telnyx.Name, call.ID)
			if got.Outcome != tc.want || !got.AnsweredAt.IsZero() || got.Kind != provider.KindInbound || got.From != call.From || got.To != call.To {
				t.Fatalf("recorded %+v: want the inbound call from %s to %s, %s, never answered by the business", got, call.From, call.To, tc.want)
			}
			if n := len(rig.recorder.Calls()); n != 1 {
				t.Fatalf("recorded %d calls, want the caller's one", n)
			}
		})
	}
}

// A caller connected without recording because the notice could not be
// played was answered too: a failed transfer hangs it up as well.
func TestCallControlFailedTransferAfterAMuteNoticeHangsUp(t *testing.T) {
	api := &callControlAPI{refuse: "speak"}
	rig := callControlRig(t, api, provider.Forward{To: business, Record: true, RecordingNotice: notice})
	call := providertest.Call{ID: "leg-mute-out", From: "+14158675309", To: "+18005551212"}
	answerState := rig.step(t, api, event(call, "call.initiated", ""))[0].Body["client_state"].(string)
	cmds := rig.step(t, api, stepEvent(call, "call.answered", answerState, ""))
	if len(cmds) != 2 || cmds[1].Path != ccPath("transfer") {
		t.Fatalf("sent %v, want the refused speak, then the transfer", cmds)
	}
	tr := cmds[1].Body
	cmds = rig.step(t, api, businessLeg(call, tr, "call.hangup", `,"hangup_cause":"timeout","hangup_source":"callee"`))
	if len(cmds) != 1 || cmds[0].Path != ccPath("hangup") {
		t.Fatalf("sent %v, want the hangup on the caller's leg", cmds)
	}
}

// The business leg that answered ends the caller's leg with the bridge
// (Telnyx hangs up the other leg unless park_after_unbridge is set), and a
// caller who hung up while it rang is gone: neither sends a command,
// whatever the order of the webhooks.
func TestCallControlTransferThatDidNotFailSendsNoHangup(t *testing.T) {
	for _, tc := range []struct {
		name string
		legs func(call providertest.Call, tr map[string]any) []*provider.Request
		want provider.Outcome
	}{
		{"answered, then hung up", func(call providertest.Call, tr map[string]any) []*provider.Request {
			hangup := at(businessLeg(call, tr, "call.hangup", `,"hangup_cause":"normal_clearing","hangup_source":"callee"`), now.Add(90*time.Second))
			answered := at(businessLeg(call, tr, "call.answered", ""), now.Add(30*time.Second))
			return []*provider.Request{hangup, callerHangup(call, tr, 90*time.Second), answered, hangup, answered}
		}, provider.OutcomeAnswered},
		{"answered until the time limit", func(call providertest.Call, tr map[string]any) []*provider.Request {
			hangup := at(businessLeg(call, tr, "call.hangup", `,"hangup_cause":"time_limit","hangup_source":"unknown"`), now.Add(90*time.Second))
			return []*provider.Request{hangup, at(businessLeg(call, tr, "call.answered", ""), now.Add(30*time.Second)), hangup}
		}, provider.OutcomeAnswered},
		{"the caller gave up while it rang", func(call providertest.Call, tr map[string]any) []*provider.Request {
			hangup := at(businessLeg(call, tr, "call.hangup", `,"hangup_cause":"originator_cancel","hangup_source":"caller"`), now.Add(20*time.Second))
			return []*provider.Request{callerHangup(call, tr, 20*time.Second), hangup, hangup}
		}, provider.OutcomeAbandoned},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := &callControlAPI{}
			rig := callControlRig(t, api, provider.Forward{To: business, Record: true, RecordingNotice: notice})
			call := providertest.Call{ID: "leg-talked", From: "+14158675309", To: "+18005551212"}
			tr := connectRecorded(t, rig, api, call)
			var cmds []recordedCommand
			for _, req := range tc.legs(call, tr) {
				cmds = append(cmds, rig.step(t, api, req)...)
			}
			if len(cmds) != 0 {
				t.Fatalf("sent %v after the transfer, want nothing", cmds)
			}
			rig.settle(t)
			if got, _ := rig.recorder.Call(telnyx.Name, call.ID); got.Outcome != tc.want {
				t.Fatalf("recorded outcome %s, want %s", got.Outcome, tc.want)
			}
		})
	}
}

// A caller the provider did not answer (no recording) is Telnyx's to end
// when the transfer fails, as before: no state to hang up, no command.
func TestCallControlFailedTransferOfAnUnansweredCallerSendsNothing(t *testing.T) {
	api := &callControlAPI{}
	rig := callControlRig(t, api, provider.Forward{To: business})
	call := providertest.Call{ID: "leg-plain", From: "+14158675309", To: "+18005551212"}
	cmds := rig.step(t, api, event(call, "call.initiated", ""))
	if len(cmds) != 1 || cmds[0].Path != ccPath("transfer") || cmds[0].Body["target_leg_client_state"] != forwardState(call.ID) {
		t.Fatalf("sent %v, want the transfer, its business leg's state naming only the caller's leg", cmds)
	}
	hangup := businessLeg(call, cmds[0].Body, "call.hangup", `,"hangup_cause":"timeout","hangup_source":"callee"`)
	if cmds := append(rig.step(t, api, hangup), rig.step(t, api, hangup)...); len(cmds) != 0 {
		t.Fatalf("sent %v, want nothing", cmds)
	}
	rig.settle(t)
	if got, _ := rig.recorder.Call(telnyx.Name, call.ID); got.Outcome != provider.OutcomeNoAnswer || got.Kind != provider.KindInbound {
		t.Fatalf("recorded %+v, want the inbound call, no-answer", got)
	}
}
