package telnyx

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/attriqs/calltrack/phone"
	"github.com/attriqs/calltrack/provider"
)

type envelope struct {
	Data struct {
		EventType  string    `json:"event_type"`
		ID         string    `json:"id"`
		OccurredAt time.Time `json:"occurred_at"`
		Payload    payload   `json:"payload"`
	} `json:"data"`
}

type payload struct {
	CallControlID string    `json:"call_control_id"`
	CallLegID     string    `json:"call_leg_id"`
	ClientState   string    `json:"client_state"`
	Direction     string    `json:"direction"`
	From          string    `json:"from"`
	To            string    `json:"to"`
	CallerIDName  string    `json:"caller_id_name"`
	StartTime     time.Time `json:"start_time"`
	EndTime       time.Time `json:"end_time"`
	HangupCause   string    `json:"hangup_cause"`
	// STIR/SHAKEN on call.initiated.
	Attestation string   `json:"shaken_stir_attestation"`
	Validated   flexBool `json:"shaken_stir_validated"`
	// Answering-machine detection result.
	Result string `json:"result"`
	// How a speak command ended (call.speak.ended): completed,
	// call_hangup, cancelled_amd.
	Status string `json:"status"`
	// call.recording.saved.
	RecordingID         string        `json:"recording_id"`
	RecordingURLs       recordingURLs `json:"recording_urls"`
	PublicRecordingURLs recordingURLs `json:"public_recording_urls"`
	RecordingStartedAt  time.Time     `json:"recording_started_at"`
	RecordingEndedAt    time.Time     `json:"recording_ended_at"`
}

// maxURLLen bounds a recording URL: Telnyx's are signed and run to several
// hundred bytes, which provider.MaxTextLen would cut.
const maxURLLen = 4096

// flexBool reads true, "true" and anything else as false: a flag in an
// unexpected form must not make Telnyx retry a call's webhook forever.
type flexBool bool

func (b *flexBool) UnmarshalJSON(data []byte) error {
	*b = flexBool(strings.EqualFold(strings.Trim(string(data), `"`), "true"))
	return nil
}

type recordingURLs struct {
	MP3 string `json:"mp3"`
	WAV string `json:"wav"`
}

// first returns the first URL given, mp3 before wav.
func (u recordingURLs) first() string {
	if u.MP3 != "" {
		return u.MP3
	}
	return u.WAV
}

// forwardState is what calltrack asks Telnyx to echo, as client_state,
// on the events of a call it routes. On a transfer it names, on both
// legs, the caller's leg the outcome belongs to, whether
// answering-machine detection runs on the business leg and whether the
// transfer records. Between the answer that lets the caller hear the
// recording notice and the transfer, it marks the caller's leg (Parent
// is then the leg itself) and carries the call's numbers, which
// call.speak.ended does not. On the business leg of a caller calltrack
// answered, HangUp is the caller's call_control_id, for the hangup a
// failed transfer needs, with the call's numbers again.
type forwardState struct {
	Parent string `json:"calltrack_parent"`
	AMD    bool   `json:"amd,omitempty"`
	Record bool   `json:"rec,omitempty"`
	Notice bool   `json:"notice,omitempty"`
	HangUp string `json:"hangup,omitempty"`
	From   string `json:"from,omitempty"`
	To     string `json:"to,omitempty"`
}

func (s forwardState) encode() string {
	b, _ := json.Marshal(s)
	return base64.StdEncoding.EncodeToString(b)
}

// decodeForwardState reads a client_state set by [Provider.RouteCall]; ok
// is false for any other (a host's own) client state. Numbers that are
// not E.164 are dropped.
func decodeForwardState(s string) (forwardState, bool) {
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return forwardState{}, false
	}
	var st forwardState
	if json.Unmarshal(raw, &st) != nil || provider.CheckCallID("client_state.calltrack_parent", st.Parent) != nil {
		return forwardState{}, false
	}
	st.From, st.To = phone.Normalize(st.From, ""), phone.Normalize(st.To, "")
	if provider.CheckCallID("client_state.hangup", st.HangUp) != nil {
		st.HangUp = ""
	}
	return st, true
}

var hangupStatuses = map[string]provider.Status{
	"normal_clearing":   provider.StatusCompleted,
	"time_limit":        provider.StatusCompleted,
	"user_busy":         provider.StatusBusy,
	"timeout":           provider.StatusNoAnswer,
	"no_answer":         provider.StatusNoAnswer,
	"originator_cancel": provider.StatusCanceled,
}

// legOutcomes maps the business leg's hangup_cause to the forward's
// outcome. normal_clearing and time_limit end a leg that was answered;
// originator_cancel is the caller's leg going away while the business
// line rang; call_rejected is the business line declining (603), which
// carriers report as busy.
var legOutcomes = map[string]provider.Outcome{
	"normal_clearing":   provider.OutcomeAnswered,
	"time_limit":        provider.OutcomeAnswered,
	"user_busy":         provider.OutcomeBusy,
	"call_rejected":     provider.OutcomeBusy,
	"timeout":           provider.OutcomeNoAnswer,
	"no_answer":         provider.OutcomeNoAnswer,
	"originator_cancel": provider.OutcomeAbandoned,
	"not_found":         provider.OutcomeFailed,
	"unspecified":       provider.OutcomeFailed,
}

// legOutcome is the forward's outcome for the business leg's hangup_cause.
func legOutcome(cause string) provider.Outcome {
	if o, ok := legOutcomes[cause]; ok {
		return o
	}
	return provider.OutcomeFailed
}

// ParseEvent reads a Call Control v2 webhook.
//
// Events of the caller's leg: call.initiated is the inbound call (with
// its STIR/SHAKEN attestation when Telnyx validated it), call.answered
// and call.hangup are status; a hangup's Duration is end_time (or
// occurred_at) − start_time ([provider.Elapsed]).
//
// Events of the business leg a transfer dialled carry the client_state
// [Provider.RouteCall] set and become status events of the caller's call
// (see the package documentation, "Forward outcomes"). Events of an
// outgoing leg without it, and every other event type, are
// provider.ErrIgnoredEvent. A call id that [provider.CheckCallID] refuses
// makes the request malformed.
//
// While a recorded call's caller hears the recording notice, two events
// of the caller's leg are steps of routing and come back as inbound
// events of the call, for the Handler to route again by command (see
// [Provider.RouteCall]): call.answered (the answer RouteCall asked for;
// it sets no AnsweredAt, which stays the business line's answer) and
// call.speak.ended of the notice when it completed (one that ended with
// the caller hanging up is ignored). So is the business leg's
// call.hangup when it ended unanswered (no-answer, busy, failed) a
// transfer of a caller answered for the notice: still an event of the
// caller's call with the forward's outcome, and the step that hangs the
// caller's leg up, which Telnyx leaves up after a failed transfer.
func ParseEvent(body []byte) (provider.CallEvent, error) {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return provider.CallEvent{}, fmt.Errorf("%w: %v", provider.ErrMalformedPayload, err)
	}
	d, pl := env.Data, env.Data.Payload
	if d.EventType == "" {
		return provider.CallEvent{}, fmt.Errorf("%w: data.event_type is missing", provider.ErrMalformedPayload)
	}
	id := pl.CallLegID
	if id == "" {
		id = pl.CallControlID
	}
	if err := provider.CheckCallID("call_leg_id", id); err != nil {
		return provider.CallEvent{}, err
	}
	occurred := provider.SaneTime(d.OccurredAt)
	st, ours := decodeForwardState(pl.ClientState)
	if ours && st.Parent != id {
		return parseLegEvent(d.EventType, st, pl, occurred, body)
	}
	if ours && st.Notice && (d.EventType == "call.answered" || d.EventType == "call.speak.ended") {
		return noticeStep(d.EventType, id, st, pl, occurred, body)
	}
	if d.EventType == "call.recording.saved" {
		rec := recordingEvent(id, pl, occurred, body)
		if ours && st.Record {
			// The transfer recorded from the business line's answer to
			// the hangup: the talk time.
			rec.TalkTime = rec.Recording.Duration
		}
		return rec, nil
	}
	start, end := provider.SaneTime(pl.StartTime), provider.SaneTime(pl.EndTime)
	ev := provider.CallEvent{
		Provider:   Name,
		CallID:     id,
		From:       phone.Normalize(pl.From, ""),
		To:         phone.Normalize(pl.To, ""),
		CallerName: provider.CleanText(pl.CallerIDName, provider.MaxTextLen),
		OccurredAt: occurred,
		StartedAt:  start,
		Raw:        body,
	}
	switch pl.Direction {
	case "incoming":
		ev.Direction = provider.DirectionInbound
	case "outgoing":
		// A leg this provider did not dial (no client_state of ours):
		// routing it would transfer again.
		return provider.CallEvent{}, provider.ErrIgnoredEvent
	}
	switch d.EventType {
	case "call.initiated":
		ev.Kind = provider.KindInbound
		ev.Status = provider.StatusRinging
		if ev.StartedAt.IsZero() {
			ev.StartedAt = occurred
		}
		if bool(pl.Validated) {
			// An attestation Telnyx could not validate attests nothing.
			ev.Attestation, _ = provider.ParseAttestation(pl.Attestation)
		}
	case "call.answered":
		ev.Status = provider.StatusInProgress
		ev.AnsweredAt = occurred
	case "call.hangup":
		st, ok := hangupStatuses[pl.HangupCause]
		if !ok {
			st = provider.StatusFailed
		}
		ev.Status = st
		if end.IsZero() {
			end = occurred
		}
		ev.EndedAt = end
		if st == provider.StatusCompleted {
			ev.Duration = provider.Elapsed(start, end)
		}
	default:
		return provider.CallEvent{}, provider.ErrIgnoredEvent
	}
	return ev, nil
}

// noticeStep reads an event of the caller's leg that moves a recorded
// call on: the answer before the notice, the notice's end before the
// transfer. Both are inbound events of the caller's call, so the Handler
// routes them; the numbers come from the client_state when the event has
// none.
func noticeStep(eventType, id string, st forwardState, pl payload, occurred time.Time, body []byte) (provider.CallEvent, error) {
	if eventType == "call.speak.ended" && pl.Status != "completed" {
		// The caller hung up during the notice (call_hangup): nothing to
		// connect; the leg's call.hangup reports the end.
		return provider.CallEvent{}, provider.ErrIgnoredEvent
	}
	ev := provider.CallEvent{
		Provider:   Name,
		CallID:     id,
		Kind:       provider.KindInbound,
		Direction:  provider.DirectionInbound,
		Status:     provider.StatusInProgress,
		From:       cmp.Or(phone.Normalize(pl.From, ""), st.From),
		To:         cmp.Or(phone.Normalize(pl.To, ""), st.To),
		CallerName: provider.CleanText(pl.CallerIDName, provider.MaxTextLen),
		OccurredAt: occurred,
		StartedAt:  provider.SaneTime(pl.StartTime),
		Raw:        body,
	}
	return ev, nil
}

// parseLegEvent turns an event of the business leg into a status event of
// the caller's call st.Parent. It never sets the caller's Status: the
// business leg ending busy does not make the caller's call busy.
func parseLegEvent(eventType string, st forwardState, pl payload, occurred time.Time, body []byte) (provider.CallEvent, error) {
	ev := provider.CallEvent{Provider: Name, CallID: st.Parent, Kind: provider.KindStatus, OccurredAt: occurred, Raw: body}
	switch eventType {
	case "call.answered":
		ev.AnsweredAt = occurred
		if !st.AMD {
			// With detection on, the detection result says who answered.
			ev.Outcome = provider.OutcomeAnswered
		}
	case "call.machine.detection.ended", "call.machine.premium.detection.ended":
		ev.Outcome = machineOutcome(pl.Result)
		if ev.Outcome == provider.OutcomeUnknown {
			return provider.CallEvent{}, provider.ErrIgnoredEvent
		}
	case "call.hangup":
		o := legOutcome(pl.HangupCause)
		if o == provider.OutcomeAnswered && st.AMD {
			// Answered by whom is the detection's to say; a hangup
			// claiming "answered" would outrank its "voicemail".
			return provider.CallEvent{}, provider.ErrIgnoredEvent
		}
		ev.Outcome = o
		if leavesCallerWaiting(st, o) {
			// Inbound, for the Handler to route: RouteCall hangs the
			// caller up. The numbers let the route find the call.
			ev.Kind, ev.Direction, ev.From, ev.To = provider.KindInbound, provider.DirectionInbound, st.From, st.To
		}
	case "call.recording.saved":
		rec := recordingEvent(st.Parent, pl, occurred, body)
		// Recording runs from the answer (record-from-answer) to the
		// hangup: the business leg's talk time.
		rec.TalkTime = rec.Recording.Duration
		return rec, nil
	default:
		return provider.CallEvent{}, provider.ErrIgnoredEvent
	}
	return ev, nil
}

// machineOutcome maps call.machine.detection.ended's result (human,
// machine, not_sure) and the premium detection's (human_residence,
// human_business, machine, silence, fax_detected, not_sure).
func machineOutcome(result string) provider.Outcome {
	switch {
	case result == "machine" || result == "fax_detected":
		return provider.OutcomeVoicemail
	case strings.HasPrefix(result, "human"), result == "not_sure":
		// Someone or something picked up and detection could not tell a
		// machine: the caller was connected.
		return provider.OutcomeAnswered
	}
	return provider.OutcomeUnknown
}

// recordingEvent reads call.recording.saved. The public URL (which lasts
// as long as the file) is preferred over recording_urls, which Telnyx
// signs for ten minutes only.
func recordingEvent(callID string, pl payload, occurred time.Time, body []byte) provider.CallEvent {
	url := pl.PublicRecordingURLs.first()
	if url == "" {
		url = pl.RecordingURLs.first()
	}
	return provider.CallEvent{
		Provider:   Name,
		CallID:     callID,
		Kind:       provider.KindStatus,
		OccurredAt: occurred,
		Recording: provider.Recording{
			ID:       provider.CleanText(pl.RecordingID, provider.MaxTextLen),
			URL:      provider.CleanText(url, maxURLLen),
			Duration: provider.Elapsed(provider.SaneTime(pl.RecordingStartedAt), provider.SaneTime(pl.RecordingEndedAt)),
		},
		Raw: body,
	}
}
