package telnyx

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/attriqs/calltrack/provider"
)

// DefaultAPIBaseURL is where Call Control commands go.
const DefaultAPIBaseURL = "https://api.telnyx.com/v2"

// Bounds Telnyx sets on a transfer's ring time (timeout_secs).
const (
	minTransferTimeout = 5 * time.Second
	maxTransferTimeout = 600 * time.Second
)

// commandAttempts is how many times a command is sent when Telnyx or the
// network fails transiently; the command id makes repeats harmless.
const commandAttempts = 3

var _ provider.CommandRouter = (*Provider)(nil)

// RoutesByCommand reports whether ev is a Call Control step this provider
// answers with commands: an inbound call.initiated, or one of the inbound
// steps of a recorded call (see [ParseEvent]), when Config.APIKey is set.
// TeXML calls are routed by the webhook answer.
func (p *Provider) RoutesByCommand(ev provider.CallEvent) bool {
	return p.cfg.APIKey != "" && ev.Kind == provider.KindInbound && isJSON(ev.Raw)
}

func isJSON(body []byte) bool {
	trimmed := bytes.TrimSpace(body)
	return len(trimmed) > 0 && trimmed[0] == '{'
}

// transferCommand is the body of Call Control's transfer command.
type transferCommand struct {
	To          string `json:"to"`
	From        string `json:"from,omitempty"`
	TimeoutSecs int    `json:"timeout_secs"`
	CommandID   string `json:"command_id"`
	// ClientState is echoed on the caller's leg's later events,
	// TargetLegClientState on the business leg's: both name the caller's
	// leg, so the business leg's outcome folds into the caller's call.
	ClientState          string `json:"client_state,omitempty"`
	TargetLegClientState string `json:"target_leg_client_state,omitempty"`
	// AnsweringMachineDetection is Config.MachineDetection.
	AnsweringMachineDetection string `json:"answering_machine_detection,omitempty"`
	// AudioURL is played to the business line when it answers, before the
	// legs are bridged: the whisper (Config.WhisperAudio).
	AudioURL string `json:"audio_url,omitempty"`
	// Record "record-from-answer" records the call from the business
	// line's answer, on two channels.
	Record         string `json:"record,omitempty"`
	RecordChannels string `json:"record_channels,omitempty"`
}

// rejectCommand is the body of Call Control's reject command.
type rejectCommand struct {
	Cause     string `json:"cause"`
	CommandID string `json:"command_id"`
}

// answerCommand is the body of Call Control's answer command.
type answerCommand struct {
	ClientState string `json:"client_state"`
	CommandID   string `json:"command_id"`
}

// speakCommand is the body of Call Control's speak command.
type speakCommand struct {
	Payload     string `json:"payload"`
	PayloadType string `json:"payload_type"`
	Voice       string `json:"voice"`
	Language    string `json:"language,omitempty"`
	ClientState string `json:"client_state"`
	CommandID   string `json:"command_id"`
}

// hangupCommand is the body of Call Control's hangup command.
type hangupCommand struct {
	CommandID string `json:"command_id"`
}

// routeStep is where a Call Control call is on its way to the business
// line, read from the event being routed.
type routeStep int

const (
	// stepRinging: call.initiated, nothing sent yet.
	stepRinging routeStep = iota
	// stepAnswered: the caller's leg was answered for the notice.
	stepAnswered
	// stepNoticeEnded: the caller heard the notice to its end.
	stepNoticeEnded
	// stepTransferFailed: the business leg of a transfer whose caller
	// was answered for the notice ended unanswered (see
	// [leavesCallerWaiting]); Telnyx keeps the caller's leg up.
	stepTransferFailed
)

// RouteCall connects a Call Control call, one step per event; the
// Handler calls it for each inbound event (see [ParseEvent]).
//
// call.initiated: f.Reject sends the reject command (cause
// CALL_REJECTED). A forward that records answers the call (the answer
// command), since only an answered caller can be told; the answer's
// client_state marks the leg, so its call.answered comes back as the
// next step, which speaks f.RecordingNotice to the caller (the speak
// command, Config.Voice); the notice's call.speak.ended comes back as
// the last step, which transfers the call recording from the business
// line's answer (record-from-answer, two channels). A forward that does
// not record is transferred at once. A refusal at a later step (the
// route changed its mind) hangs the answered call up.
//
// A failed transfer leaves the caller's leg up (Telnyx: "the original
// call will remain active"). A caller Telnyx never answered is ended by
// Telnyx's own handling of unanswered calls; one answered for the notice
// would wait in silence. So the transfer of an answered caller names the
// caller's call_control_id in the business leg's client_state, and that
// leg's call.hangup with an unanswered outcome (no-answer, busy, failed)
// comes back as a last step, which sends the hangup command on the
// caller's leg. A business leg that answered ends the caller's leg with
// the bridge (the transfer does not set park_after_unbridge), and a
// caller who hung up first (originator_cancel) is gone: neither sends
// anything. A caller's leg that has already ended (Telnyx answers 422,
// code 90018) is not an error.
//
// The transfer dials f.To with the ring time (5 to 600 s, Telnyx's
// bounds), answering-machine detection when Config.MachineDetection is
// set, the whisper's recording (Config.WhisperAudio[f.Whisper]) as the
// audio_url played to the business line before the legs are bridged,
// and a client_state naming the caller's leg on both legs, which is how
// the business leg's events come back as the forward's outcome. The
// caller id shown to the business is the tracking number (Telnyx's
// default), or the caller's own number with f.CallerIDPassthrough.
//
// Each command's id is derived from the call, so a webhook Telnyx
// delivers twice, or a command sent again after a timeout, acts once
// (Telnyx ignores a command id it has seen on the call). If the notice
// cannot be played, the answered caller is transferred without recording
// at once (one who was not told is not recorded, nor left waiting), and
// the failure is logged (Config.Logger).
func (p *Provider) RouteCall(ctx context.Context, f provider.Forward, ev provider.CallEvent) error {
	if err := f.Validate(); err != nil {
		return fmt.Errorf("telnyx: route: %w", err)
	}
	var env envelope
	if err := json.Unmarshal(ev.Raw, &env); err != nil || env.Data.Payload.CallControlID == "" {
		return fmt.Errorf("telnyx: route: %w: payload.call_control_id is missing", provider.ErrMalformedPayload)
	}
	id := env.Data.Payload.CallControlID
	step, st, err := stepOf(env)
	if err != nil {
		return err
	}
	// The caller's leg's state while the notice plays: set on the answer
	// and again on the speak.
	notice := forwardState{Parent: ev.CallID, Notice: true, From: ev.From, To: ev.To}.encode()
	switch {
	case step == stepTransferFailed:
		// Whatever the route says now: the call is over.
		return p.hangUpCaller(ctx, ev, st.HangUp)
	case f.Reject && step == stepRinging:
		return p.command(ctx, id, "reject", rejectCommand{Cause: "CALL_REJECTED", CommandID: "calltrack-reject-" + id})
	case f.Reject:
		// Answered for the notice: refusing it now is hanging up.
		return p.command(ctx, id, "hangup", hangupCommand{CommandID: hangupCommandID(id)})
	case f.Record && step == stepRinging:
		return p.command(ctx, id, "answer", answerCommand{ClientState: notice, CommandID: "calltrack-answer-" + id})
	case f.Record && step == stepAnswered:
		err := p.command(ctx, id, "speak", speakCommand{Payload: f.RecordingNotice, PayloadType: "text", Voice: p.cfg.Voice,
			Language: p.cfg.Language, ClientState: notice, CommandID: "calltrack-notice-" + id})
		if err != nil {
			return p.transferUnrecorded(ctx, f, ev, id, err)
		}
		return nil
	}
	// Not recording, or the caller heard the notice (a route that no
	// longer records at that point connects without recording).
	return p.transfer(ctx, f, ev, id, f.Record && step == stepNoticeEnded, step != stepRinging)
}

// stepOf reads which step of routing an event is, and the client_state
// calltrack set on its leg. An event RouteCall does not route (anything
// ParseEvent does not make inbound) is malformed for it.
func stepOf(env envelope) (routeStep, forwardState, error) {
	pl := env.Data.Payload
	st, ours := decodeForwardState(pl.ClientState)
	own := ours && st.Parent == cmp.Or(pl.CallLegID, pl.CallControlID)
	switch {
	case env.Data.EventType == "call.initiated":
		return stepRinging, st, nil
	case env.Data.EventType == "call.answered" && own && st.Notice:
		return stepAnswered, st, nil
	case env.Data.EventType == "call.speak.ended" && own && st.Notice:
		return stepNoticeEnded, st, nil
	case env.Data.EventType == "call.hangup" && ours && !own && leavesCallerWaiting(st, legOutcome(pl.HangupCause)):
		return stepTransferFailed, st, nil
	}
	return 0, forwardState{}, fmt.Errorf("telnyx: route: %w: data.event_type %q is not a step of routing a call", provider.ErrMalformedPayload, env.Data.EventType)
}

// leavesCallerWaiting reports whether the business leg's outcome o ends
// a transfer that Telnyx leaves the caller's leg up after, on a leg whose
// caller calltrack answered (st.HangUp names it).
func leavesCallerWaiting(st forwardState, o provider.Outcome) bool {
	switch o {
	case provider.OutcomeNoAnswer, provider.OutcomeBusy, provider.OutcomeFailed:
		return st.HangUp != ""
	}
	return false
}

// hangupCommandID is the id of the hangup of the caller's leg callerID:
// one per call, so every webhook that asks for it acts once.
func hangupCommandID(callerID string) string { return "calltrack-hangup-" + callerID }

// hangUpCaller ends the caller's leg (call_control_id callerID) after the
// transfer failed. A caller whose leg has already ended (who hung up, or
// whose hangup an earlier copy of the webhook sent) needs nothing more.
func (p *Provider) hangUpCaller(ctx context.Context, ev provider.CallEvent, callerID string) error {
	err := p.command(ctx, callerID, "hangup", hangupCommand{CommandID: hangupCommandID(callerID)})
	if callEnded(err) {
		p.cfg.Logger.Debug("telnyx: the caller's leg had already ended when the failed transfer's hangup was sent", "call_id", ev.CallID)
		return nil
	}
	return err
}

// transferUnrecorded connects a caller whose notice could not be played
// (speakErr): answered, the caller would otherwise wait in silence, and
// one who was not told is not recorded. Only when that fails too is
// there an error to return.
func (p *Provider) transferUnrecorded(ctx context.Context, f provider.Forward, ev provider.CallEvent, id string, speakErr error) error {
	if err := p.transfer(ctx, f, ev, id, false, true); err != nil {
		return fmt.Errorf("telnyx: could not play the recording notice (%w), nor connect the call without recording: %w", speakErr, err)
	}
	p.cfg.Logger.Error("telnyx: could not play the recording notice; connected the call without recording",
		"call_id", ev.CallID, "err", speakErr)
	return nil
}

// transfer sends the transfer command to the business line. answered
// says calltrack answered the caller's leg (id): the business leg's state
// then names it, to be hung up if the transfer fails, with the call's
// numbers, for the route that step runs.
func (p *Provider) transfer(ctx context.Context, f provider.Forward, ev provider.CallEvent, id string, record, answered bool) error {
	state := forwardState{Parent: ev.CallID, AMD: p.cfg.MachineDetection != "", Record: record}
	target := state
	if answered {
		target.HangUp, target.From, target.To = id, ev.From, ev.To
	}
	cmd := transferCommand{
		To:                        f.To,
		TimeoutSecs:               transferSeconds(f.RingTimeout),
		CommandID:                 "calltrack-transfer-" + id,
		ClientState:               state.encode(),
		TargetLegClientState:      target.encode(),
		AnsweringMachineDetection: p.cfg.MachineDetection,
	}
	if f.CallerIDPassthrough {
		cmd.From = ev.From
	}
	if record {
		cmd.Record, cmd.RecordChannels = "record-from-answer", "dual"
	}
	if f.Whisper != "" {
		if audio, ok := p.cfg.WhisperAudio[f.Whisper]; ok {
			cmd.AudioURL = audio
		} else {
			p.cfg.Logger.Warn("telnyx: a Call Control transfer plays the whisper from a recording, and Config.WhisperAudio has none for it; connecting without the whisper",
				"call_id", ev.CallID, "whisper", f.Whisper)
		}
	}
	return p.command(ctx, id, "transfer", cmd)
}

func transferSeconds(ring time.Duration) int {
	if ring == 0 {
		ring = provider.DefaultRingTimeout
	}
	return int(min(max(ring, minTransferTimeout), maxTransferTimeout) / time.Second)
}

// command posts one Call Control command, retrying network errors, 429 and
// 5xx answers with a growing pause (or the one Retry-After asks for).
func (p *Provider) command(ctx context.Context, callControlID, action string, body any) error {
	payload, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("telnyx: %s: %w", action, err)
	}
	endpoint := strings.TrimRight(p.cfg.APIBaseURL, "/") + "/calls/" + url.PathEscape(callControlID) + "/actions/" + action
	wait := 250 * time.Millisecond
	for attempt := 1; ; attempt++ {
		retryAfter, err := p.post(ctx, endpoint, payload)
		if err == nil {
			return nil
		}
		var perm permanentError
		if errors.As(err, &perm) || attempt == commandAttempts {
			return fmt.Errorf("telnyx: %s (attempt %d): %w", action, attempt, err)
		}
		if retryAfter > 0 {
			wait = retryAfter
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("telnyx: %s: %w (after: %w)", action, ctx.Err(), err)
		case <-t.C:
		}
		wait *= 2
	}
}

// permanentError is an answer that sending again cannot change (4xx other
// than 429: a bad key, a call that has already ended).
type permanentError struct{ error }

func (e permanentError) Unwrap() error { return e.error }

// callEnded reports whether err is Telnyx refusing a command because the
// call has already ended (422, error code 90018).
func callEnded(err error) bool {
	var e *APIError
	return errors.As(err, &e) && e.Status == http.StatusUnprocessableEntity && slices.Contains(e.Codes, "90018")
}

func (p *Provider) post(ctx context.Context, endpoint string, payload []byte) (retryAfter time.Duration, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(payload))
	if err != nil {
		return 0, permanentError{err}
	}
	req.Header.Set("Authorization", "Bearer "+p.cfg.APIKey)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := p.cfg.HTTPClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode/100 == 2 {
		return 0, nil
	}
	codes, text := apiErrors(msg)
	err = &APIError{Status: resp.StatusCode, Codes: codes, Detail: text}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
		secs, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		return time.Duration(secs) * time.Second, err
	}
	return 0, permanentError{err}
}

// apiErrors reads Telnyx's {"errors":[{"code","title","detail"}]} body:
// the codes, and the errors as text (or the body itself).
func apiErrors(body []byte) (codes []string, text string) {
	var e struct {
		Errors []struct {
			Code   string `json:"code"`
			Title  string `json:"title"`
			Detail string `json:"detail"`
		} `json:"errors"`
	}
	if json.Unmarshal(body, &e) != nil || len(e.Errors) == 0 {
		return nil, strings.TrimSpace(string(body))
	}
	var parts []string
	for _, x := range e.Errors {
		codes = append(codes, x.Code)
		parts = append(parts, strings.TrimSpace(x.Code+" "+x.Title+": "+x.Detail))
	}
	return codes, strings.Join(parts, "; ")
}
