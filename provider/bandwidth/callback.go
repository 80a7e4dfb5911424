package bandwidth

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/attriqs/calltrack/phone"
	"github.com/attriqs/calltrack/provider"
)

// maxURLLen bounds a media URL taken from a callback.
const maxURLLen = 2048

// callback holds the fields calltrack reads from every Bandwidth voice
// callback; each event fills a subset.
type callback struct {
	EventType    string   `json:"eventType"`
	EventTime    wireTime `json:"eventTime"`
	CallID       string   `json:"callId"`
	ParentCallID string   `json:"parentCallId"`
	From         string   `json:"from"`
	To           string   `json:"to"`
	Direction    string   `json:"direction"`
	StartTime    wireTime `json:"startTime"`
	AnswerTime   wireTime `json:"answerTime"`
	EndTime      wireTime `json:"endTime"`
	Cause        string   `json:"cause"`
	Diversion    *struct {
		OrigTo string `json:"origTo"`
	} `json:"diversion"`
	StirShaken *struct {
		Verstat              string `json:"verstat"`
		AttestationIndicator string `json:"attestationIndicator"`
	} `json:"stirShaken"`
	RecordingID string `json:"recordingId"`
	MediaURL    string `json:"mediaUrl"`
	Duration    string `json:"duration"`
	Status      string `json:"status"`
}

// wireTime reads a callback time leniently. Bandwidth's own examples
// carry times without a zone ("2019-09-13T16:49:40.500", UTC by the
// reference) and malformed ones ("2019-09-13-16:48:27.198Z" as
// enqueuedTime); refusing the callback for a time would lose the event,
// so an unreadable time is unknown (zero) instead.
type wireTime struct{ time.Time }

func (t *wireTime) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) != nil {
		return nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
		if v, err := time.Parse(layout, s); err == nil {
			t.Time = provider.SaneTime(v.UTC())
			return nil
		}
	}
	return nil
}

var disconnectCauses = map[string]provider.Status{
	"hangup":   provider.StatusCompleted,
	"busy":     provider.StatusBusy,
	"timeout":  provider.StatusNoAnswer,
	"cancel":   provider.StatusCanceled,
	"rejected": provider.StatusFailed,
}

// transferCauses maps the cause of a transferComplete or
// transferDisconnect onto the forward's outcome. "hangup" is answered
// only when the leg was answered; every cause not listed (callback-error,
// invalid-bxml, application-error, account-limit, node-capacity-exceeded,
// error, unknown and causes Bandwidth adds later) is failed.
var transferCauses = map[string]provider.Outcome{
	"timeout": provider.OutcomeNoAnswer,
	"busy":    provider.OutcomeBusy,
	// The business line declined the call (a mobile's decline button):
	// the caller hears it as busy.
	"rejected": provider.OutcomeBusy,
	// The caller hung up while the business line rang: Bandwidth cancels
	// the transferred leg it originated.
	"cancel": provider.OutcomeAbandoned,
}

// ParseCallback reads a Bandwidth voice callback:
//
//   - initiate is the inbound call (with the STIR/SHAKEN attestation when
//     Bandwidth verified it); answer and disconnect are its status. A
//     disconnect with cause "hangup" is completed only if the call was
//     answered (otherwise the caller gave up: canceled); its Duration is
//     endTime − answerTime.
//   - transferDisconnect, transferComplete and transferAnswer report the
//     forward to the business line: a status event of the caller's call
//     (parentCallId for the transferred leg's events) carrying the
//     Outcome, and for an answered leg its TalkTime (answerTime to
//     endTime of the leg).
//   - recordingAvailable and recordComplete carry the Recording of the
//     caller's call.
//
// Other events are provider.ErrIgnoredEvent. A call id that
// [provider.CheckCallID] refuses makes the request malformed.
func ParseCallback(body []byte) (provider.CallEvent, error) {
	var cb callback
	if err := json.Unmarshal(body, &cb); err != nil {
		return provider.CallEvent{}, fmt.Errorf("%w: %v", provider.ErrMalformedPayload, err)
	}
	if cb.EventType == "" {
		return provider.CallEvent{}, fmt.Errorf("%w: eventType is required", provider.ErrMalformedPayload)
	}
	if err := provider.CheckCallID("callId", cb.CallID); err != nil {
		return provider.CallEvent{}, err
	}
	ev := provider.CallEvent{
		Provider:   Name,
		CallID:     cb.CallID,
		From:       phone.Normalize(cb.From, ""),
		To:         phone.Normalize(cb.To, ""),
		OccurredAt: cb.EventTime.Time,
		Raw:        body,
	}
	switch cb.EventType {
	case "initiate", "answer", "disconnect":
		ev = callLeg(ev, cb)
	case "transferAnswer", "transferDisconnect":
		// Events of the transferred leg: callId is that leg, parentCallId
		// the caller's call the outcome belongs to. Its direction and
		// times are the leg's, not the caller's call's.
		if err := provider.CheckCallID("parentCallId", cb.ParentCallID); err != nil {
			return provider.CallEvent{}, err
		}
		ev.CallID = cb.ParentCallID
		answered := cb.AnswerTime.Time
		if cb.EventType == "transferAnswer" {
			ev.Outcome = provider.OutcomeAnswered
			ev.AnsweredAt = answered
			break
		}
		ev.Outcome = transferOutcome(cb.Cause, !answered.IsZero())
		if ev.Outcome == provider.OutcomeAnswered {
			ev.AnsweredAt = answered
			ev.TalkTime = provider.Elapsed(answered, cb.EndTime.Time)
		}
	case "transferComplete":
		// Sent on the caller's call itself (callId), whose times these
		// are; it carries no end time of the transferred leg, so no talk
		// time. A "hangup" here is the business side hanging up after the
		// calls were bridged: the transfer was answered.
		ev.StartedAt = cb.StartTime.Time
		ev.AnsweredAt = cb.AnswerTime.Time
		ev.Direction = direction(cb.Direction)
		ev.Outcome = transferOutcome(cb.Cause, true)
	case "recordingAvailable", "recordComplete":
		if cb.Status == "error" {
			// Nothing was recorded that could be fetched.
			return provider.CallEvent{}, provider.ErrIgnoredEvent
		}
		if cb.ParentCallID != "" {
			if err := provider.CheckCallID("parentCallId", cb.ParentCallID); err != nil {
				return provider.CallEvent{}, err
			}
			ev.CallID = cb.ParentCallID
		}
		if err := provider.CheckCallID("recordingId", cb.RecordingID); err != nil {
			return provider.CallEvent{}, err
		}
		d, _ := ParseISODuration(cb.Duration)
		ev.Recording = provider.Recording{
			ID:       cb.RecordingID,
			URL:      provider.CleanText(cb.MediaURL, maxURLLen),
			Duration: d,
		}
	default:
		return provider.CallEvent{}, provider.ErrIgnoredEvent
	}
	return ev, nil
}

// callLeg fills the events of the caller's own call.
func callLeg(ev provider.CallEvent, cb callback) provider.CallEvent {
	answered := cb.AnswerTime.Time
	ev.StartedAt = cb.StartTime.Time
	ev.AnsweredAt = answered
	ev.Direction = direction(cb.Direction)
	if cb.Diversion != nil {
		ev.ForwardedFrom = phone.Normalize(cb.Diversion.OrigTo, "")
	}
	switch cb.EventType {
	case "initiate":
		ev.Kind = provider.KindInbound
		ev.Status = provider.StatusRinging
		ev.Attestation = attestation(cb)
	case "answer":
		ev.Status = provider.StatusInProgress
	case "disconnect":
		st, ok := disconnectCauses[cb.Cause]
		if !ok {
			st = provider.StatusFailed
		}
		if st == provider.StatusCompleted && answered.IsZero() {
			st = provider.StatusCanceled
		}
		ev.Status = st
		ev.EndedAt = cb.EndTime.Time
		if st == provider.StatusCompleted {
			ev.Duration = provider.Elapsed(answered, ev.EndedAt)
		}
	}
	return ev
}

func direction(s string) provider.Direction {
	switch s {
	case "inbound":
		return provider.DirectionInbound
	case "outbound":
		return provider.DirectionOutbound
	}
	return ""
}

// transferOutcome maps a transfer's cause. A leg that ended with "hangup"
// without ever being answered was ended from the caller's side while it
// rang, which Bandwidth may also report as "cancel": abandoned.
func transferOutcome(cause string, answered bool) provider.Outcome {
	if cause == "hangup" {
		if answered {
			return provider.OutcomeAnswered
		}
		return provider.OutcomeAbandoned
	}
	if o, ok := transferCauses[cause]; ok {
		return o
	}
	return provider.OutcomeFailed
}

// attestation is the STIR/SHAKEN level of the initiate callback, only
// when Bandwidth's verification passed: verstat is "TN-Validation-Passed"
// in the SDK's model and "TN-Verification-Passed" in the callback
// reference; a failed verification attests nothing.
func attestation(cb callback) provider.Attestation {
	ss := cb.StirShaken
	if ss == nil {
		return ""
	}
	v := strings.ToUpper(ss.Verstat)
	if !strings.HasSuffix(v, "-PASSED") {
		return ""
	}
	a, ok := provider.ParseAttestation(ss.AttestationIndicator)
	if !ok {
		return ""
	}
	return a
}

// ParseISODuration reads an ISO 8601 duration as Bandwidth writes a
// recording's length ("PT20.056S", "PT1M5S", "PT1H0M2.5S", "P1DT2H").
// Years, months and weeks are refused (no recording lasts that long and
// their length is ambiguous), as is anything over
// [provider.MaxCallDuration].
func ParseISODuration(s string) (time.Duration, error) {
	bad := fmt.Errorf("%w: duration %q is not an ISO 8601 duration", provider.ErrMalformedPayload, s)
	rest, ok := strings.CutPrefix(s, "P")
	if !ok || rest == "" {
		return 0, bad
	}
	var total float64
	inTime, units := false, 0
	for rest != "" {
		if rest[0] == 'T' {
			if inTime {
				return 0, bad
			}
			inTime, rest = true, rest[1:]
			continue
		}
		i := strings.IndexFunc(rest, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
		if i <= 0 {
			return 0, bad
		}
		v, err := strconv.ParseFloat(rest[:i], 64)
		if err != nil {
			return 0, bad
		}
		var unit float64
		switch u := rest[i]; {
		case !inTime && u == 'D':
			unit = 24 * 3600
		case inTime && u == 'H':
			unit = 3600
		case inTime && u == 'M':
			unit = 60
		case inTime && u == 'S':
			unit = 1
		default:
			return 0, bad
		}
		total += v * unit
		units++
		rest = rest[i+1:]
	}
	if units == 0 || total > provider.MaxCallDuration.Seconds() {
		return 0, bad
	}
	return time.Duration(total * float64(time.Second)).Round(time.Millisecond), nil
}
