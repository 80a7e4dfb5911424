package plivo

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/attriqs/calltrack/provider"
)

// dialStatuses maps the <Dial> action URL's DialStatus to the forward's
// outcome. "timeout" is the dial's own ring timeout running out, as
// "no-answer" is the carrier saying nobody picked up: the line rang out
// either way. "cancel" (the caller gave up) is not in Plivo's DialStatus
// list but is one of its call statuses; it is read if it comes.
var dialStatuses = map[string]provider.Outcome{
	"completed": provider.OutcomeAnswered,
	"busy":      provider.OutcomeBusy,
	"no-answer": provider.OutcomeNoAnswer,
	"timeout":   provider.OutcomeNoAnswer,
	"failed":    provider.OutcomeFailed,
	"cancel":    provider.OutcomeAbandoned,
}

// parentCallID is the caller's call a <Dial> callback belongs to:
// DialALegUUID, the A leg, which is the inbound call's CallUUID; CallUUID
// where DialALegUUID is absent.
func parentCallID(form url.Values) (string, error) {
	if id := form.Get("DialALegUUID"); id != "" {
		return id, provider.CheckCallID("DialALegUUID", id)
	}
	id := form.Get("CallUUID")
	return id, provider.CheckCallID("CallUUID", id)
}

// ParseDialAction reads the request Plivo sends to <Dial action> when the
// dial ends: DialStatus, DialHangupCause, DialALegUUID, DialBLegUUID. It
// becomes a status event of the caller's call (DialALegUUID) carrying the
// forward's outcome; it carries no talk time (the callbackUrl hangup
// event does). A DialHangupCause of ORIGINATOR_CANCEL on a dial that was
// not answered means the caller hung up first: abandoned, whatever
// DialStatus says. An unknown DialStatus leaves the outcome unknown.
func ParseDialAction(form url.Values, body []byte) (provider.CallEvent, error) {
	id, err := parentCallID(form)
	if err != nil {
		return provider.CallEvent{}, err
	}
	o := dialStatuses[strings.ToLower(strings.TrimSpace(form.Get("DialStatus")))]
	if o != provider.OutcomeAnswered && callerCancelled(form.Get("DialHangupCause"), "", "") {
		o = provider.OutcomeAbandoned
	}
	return provider.CallEvent{Provider: Name, CallID: id, Kind: provider.KindStatus, Outcome: o, Raw: body}, nil
}

// ParseDialEvent reads a <Dial callbackUrl> request: DialAction "answer"
// or "connected" (the business line picked up), "hangup" (the B leg
// ended, with DialBLegDuration, DialBLegBillDuration and the hangup cause
// in DialBLegHangupCause, DialBLegHangupCauseName and
// DialBLegHangupSource) or "digits" (ignored). The hangup of a B leg that
// talked (DialBLegDuration > 0) is answered with that talk time; one that
// never did is classified by its cause.
func ParseDialEvent(form url.Values, body []byte) (provider.CallEvent, error) {
	action := strings.ToLower(strings.TrimSpace(form.Get("DialAction")))
	if action == "digits" {
		return provider.CallEvent{}, provider.ErrIgnoredEvent
	}
	id, err := parentCallID(form)
	if err != nil {
		return provider.CallEvent{}, err
	}
	ev := provider.CallEvent{Provider: Name, CallID: id, Kind: provider.KindStatus, Raw: body}
	switch action {
	case "answer", "connected":
		ev.Outcome = provider.OutcomeAnswered
	case "hangup":
		// DialBLegDuration is the B leg's time connected; the bill
		// duration is rounded up to the billing increment (60 s), so it
		// is not talk time.
		talk, _ := provider.ParseSeconds("DialBLegDuration", form.Get("DialBLegDuration")) // unknown (0) when absent or absurd
		ev.Outcome, ev.TalkTime = hangupOutcome(form, talk)
	default:
		return provider.CallEvent{}, provider.ErrIgnoredEvent
	}
	return ev, nil
}

// hangupOutcome classifies a B leg's hangup.
func hangupOutcome(form url.Values, talk time.Duration) (provider.Outcome, time.Duration) {
	if talk > 0 {
		return provider.OutcomeAnswered, talk
	}
	cause := strings.ToUpper(strings.TrimSpace(form.Get("DialBLegHangupCause")))
	name := strings.ToLower(strings.TrimSpace(form.Get("DialBLegHangupCauseName")))
	source := strings.ToLower(strings.TrimSpace(form.Get("DialBLegHangupSource")))
	switch {
	case callerCancelled(cause, name, source):
		return provider.OutcomeAbandoned, 0
	case cause == "USER_BUSY" || cause == "CALL_REJECTED" || name == "busy line" || name == "rejected":
		return provider.OutcomeBusy, 0
	case cause == "NO_ANSWER" || cause == "NO_USER_RESPONSE" || cause == "ALLOTTED_TIMEOUT" ||
		name == "no answer" || name == "ring timeout reached":
		return provider.OutcomeNoAnswer, 0
	case cause == "NORMAL_CLEARING" || name == "normal hangup" || cause == "" && name == "":
		// A normal end without talk time says nothing sure: the answer
		// event or the action URL's DialStatus settles it.
		return provider.OutcomeUnknown, 0
	}
	return provider.OutcomeFailed, 0
}

// callerCancelled reports a hangup caused by the caller giving up while
// the business line rang: the standard cause ORIGINATOR_CANCEL, or Plivo's
// hangup source "Caller" on a leg that never answered.
func callerCancelled(cause, name, source string) bool {
	return strings.EqualFold(strings.TrimSpace(cause), "ORIGINATOR_CANCEL") || source == "caller"
}

// ParseRecording reads the request <Record callbackUrl> sends when the
// recording file is ready. The Record element's parameters are
// RecordUrl, RecordingID, RecordingDuration (seconds) and
// RecordingDurationMs; the Record Call API's callback_url writes the same
// in snake case (record_url, recording_id, recording_duration_ms, ...),
// which is read too. The recording belongs to CallUUID (call_uuid), the
// caller's call the <Record> ran in. A duration of -1 (recording still
// running) or one out of range is unknown (0).
func ParseRecording(form url.Values, body []byte) (provider.CallEvent, error) {
	get := func(names ...string) (string, string) {
		for _, n := range names {
			if v := form.Get(n); v != "" {
				return n, v
			}
		}
		return names[0], ""
	}
	field, id := get("CallUUID", "call_uuid")
	if err := provider.CheckCallID(field, id); err != nil {
		return provider.CallEvent{}, err
	}
	_, recID := get("RecordingID", "recording_id")
	_, recURL := get("RecordUrl", "record_url")
	rec := provider.Recording{
		ID:  provider.CleanText(recID, provider.MaxCallIDLen),
		URL: provider.CleanText(recURL, maxURLLen),
	}
	if f, ms := get("RecordingDurationMs", "recording_duration_ms"); ms != "" {
		rec.Duration, _ = parseMillis(f, ms)
	}
	if f, s := get("RecordingDuration", "recording_duration"); rec.Duration == 0 && s != "" {
		rec.Duration, _ = provider.ParseSeconds(f, s)
	}
	if rec.IsZero() {
		return provider.CallEvent{}, fmt.Errorf("%w: RecordingID and RecordUrl are both missing", provider.ErrMalformedPayload)
	}
	return provider.CallEvent{Provider: Name, CallID: id, Kind: provider.KindStatus, Recording: rec, Raw: body}, nil
}

// maxURLLen bounds a recording URL kept from the wire.
const maxURLLen = 2048

// parseMillis reads Plivo's millisecond durations ("345100.00000").
func parseMillis(field, s string) (time.Duration, error) {
	ms, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(ms) || ms < 0 || ms > float64(provider.MaxCallDuration/time.Millisecond) {
		return 0, fmt.Errorf("%w: %s %q is not a duration in milliseconds", provider.ErrMalformedPayload, field, s)
	}
	return time.Duration(math.Round(ms)) * time.Millisecond, nil
}
