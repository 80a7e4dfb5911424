package vonage

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/attriqs/calltrack/provider"
)

// legEvent is what Vonage posts to a connect or record action's eventUrl:
// the forwarded leg's call events (its own uuid, the caller's
// conversation_uuid) or the record action's report.
type legEvent struct {
	Status        string          `json:"status"`
	Detail        string          `json:"detail"`
	Timestamp     time.Time       `json:"timestamp"`
	Duration      json.RawMessage `json:"duration"`
	RecordingURL  string          `json:"recording_url"`
	RecordingUUID string          `json:"recording_uuid"`
	StartTime     time.Time       `json:"start_time"`
	EndTime       time.Time       `json:"end_time"`
}

// ParseLegEvent reads a report sent to LegEventURL: parent is the
// caller's leg (ParentParam), machine says whether machine detection ran
// on the forwarded leg (MachineParam). Both are trusted as given: take
// them from VerifyLegEventURL (Provider.Parse does). The event is a status CallEvent of
// the parent call carrying only what the report says about the forward,
// never the leg's own numbers or status, so that it cannot overwrite the
// caller's call in any order:
//
//   - answered: Outcome answered, AnsweredAt; with machine detection only
//     AnsweredAt (a voicemail answers too), and human or machine decides.
//   - completed: TalkTime is its duration; a duration above zero is an
//     answered leg (without machine detection). Vonage also sends
//     completed, duration 0, after busy, timeout or cancelled: ignored.
//   - busy: busy; timeout (the connect timeout) and unanswered: no-answer;
//     rejected: busy when the callee declined, else failed; failed:
//     failed; cancelled (the caller hung up while it rang, ending the
//     attempt before an answer): abandoned; machine: voicemail; human:
//     answered.
//   - a report with recording_url: Recording {recording_uuid,
//     recording_url, end_time − start_time}.
//
// started, ringing and anything else are ErrIgnoredEvent.
func ParseLegEvent(body []byte, parent string, machine bool) (provider.CallEvent, error) {
	if err := provider.CheckCallID(ParentParam, parent); err != nil {
		return provider.CallEvent{}, err
	}
	var w legEvent
	if err := json.Unmarshal(body, &w); err != nil {
		return provider.CallEvent{}, fmt.Errorf("%w: %v", provider.ErrMalformedPayload, err)
	}
	ev := provider.CallEvent{
		Provider:   Name,
		CallID:     parent,
		Kind:       provider.KindStatus,
		OccurredAt: provider.SaneTime(w.Timestamp),
		Raw:        body,
	}
	if w.RecordingURL != "" || w.RecordingUUID != "" {
		ev.Recording = provider.Recording{
			ID:       provider.CleanText(w.RecordingUUID, provider.MaxTextLen),
			URL:      provider.CleanText(w.RecordingURL, maxURLLen),
			Duration: provider.Elapsed(provider.SaneTime(w.StartTime), provider.SaneTime(w.EndTime)),
		}
		return ev, nil
	}
	switch w.Status {
	case "answered":
		ev.AnsweredAt = ev.OccurredAt
		if !machine {
			ev.Outcome = provider.OutcomeAnswered
		}
	case "human":
		ev.Outcome = provider.OutcomeAnswered
	case "machine":
		ev.Outcome = provider.OutcomeVoicemail
	case "completed":
		if d := string(w.Duration); d != "" && d != "null" {
			ev.TalkTime, _ = provider.ParseSeconds("duration", d) // unknown (0) when absurd; Raw keeps it
		}
		if ev.TalkTime == 0 {
			return provider.CallEvent{}, provider.ErrIgnoredEvent
		}
		if !machine {
			ev.Outcome = provider.OutcomeAnswered
		}
	case "busy":
		ev.Outcome = provider.OutcomeBusy
	case "timeout", "unanswered":
		ev.Outcome = provider.OutcomeNoAnswer
	case "rejected":
		ev.Outcome = provider.OutcomeFailed
		if w.Detail == "declined" {
			ev.Outcome = provider.OutcomeBusy
		}
	case "failed":
		ev.Outcome = provider.OutcomeFailed
	case "cancelled":
		ev.Outcome = provider.OutcomeAbandoned
	default:
		return provider.CallEvent{}, provider.ErrIgnoredEvent
	}
	return ev, nil
}

// maxURLLen bounds a recording URL; Vonage's are under 100 bytes.
const maxURLLen = 2048
