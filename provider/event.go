package provider

import (
	"time"
)

// Kind says which webhook a CallEvent came from.
type Kind uint8

const (
	// KindStatus is a status callback: it needs only an acknowledgement.
	KindStatus Kind = iota
	// KindInbound is the inbound-call webhook: it needs a routing answer.
	KindInbound
)

func (k Kind) String() string {
	if k == KindInbound {
		return "inbound"
	}
	return "status"
}

// Direction of a call as the provider reports it.
type Direction string

const (
	DirectionInbound  Direction = "inbound"
	DirectionOutbound Direction = "outbound"
)

// Status is the provider-neutral call state. Adapters map each vendor's
// vocabulary onto these values.
type Status string

const (
	StatusUnknown    Status = ""
	StatusInitiated  Status = "initiated"
	StatusRinging    Status = "ringing"
	StatusInProgress Status = "in-progress"
	StatusCompleted  Status = "completed"
	StatusBusy       Status = "busy"
	StatusNoAnswer   Status = "no-answer"
	StatusFailed     Status = "failed"
	StatusCanceled   Status = "canceled"
)

// Rank orders statuses along a call's life so that late or duplicate
// callbacks cannot move a call backwards: a "ringing" arriving after
// "completed" has a lower rank and is ignored by Merge. All terminal
// statuses share the highest rank.
func (s Status) Rank() int {
	switch s {
	case StatusInitiated:
		return 1
	case StatusRinging:
		return 2
	case StatusInProgress:
		return 3
	case StatusCompleted, StatusBusy, StatusNoAnswer, StatusFailed, StatusCanceled:
		return 4
	default:
		return 0
	}
}

// Terminal reports whether the call is over.
func (s Status) Terminal() bool { return s.Rank() == 4 }

// CallEvent is one webhook from a telephony provider, normalised and
// storable. Numbers are E.164 ("+14155550100", read with
// phone.Normalize) or empty when the caller withheld them. Times are
// zero when the provider did not say or said something impossible
// ([SaneTime]). Text fields are valid UTF-8 without control characters
// ([CleanText]); the call id is checked, never altered ([CheckCallID]).
type CallEvent struct {
	Provider   string    `json:"provider"`
	CallID     string    `json:"call_id"`
	Kind       Kind      `json:"kind"`
	From       string    `json:"from,omitempty"`
	To         string    `json:"to,omitempty"`
	Direction  Direction `json:"direction,omitempty"`
	Status     Status    `json:"status,omitempty"`
	OccurredAt time.Time `json:"occurred_at,omitzero"`
	StartedAt  time.Time `json:"started_at,omitzero"`
	AnsweredAt time.Time `json:"answered_at,omitzero"`
	EndedAt    time.Time `json:"ended_at,omitzero"`
	// Duration is the billable talk time the provider reports once the call
	// ends; 0 when unknown, including when the provider reported a value
	// outside 0..MaxCallDuration (see [ParseSeconds]).
	Duration time.Duration `json:"duration,omitempty"`
	// Caller details, where the provider offers them (Twilio's CallerName,
	// FromCity, ...).
	CallerName    string `json:"caller_name,omitempty"`
	CallerCity    string `json:"caller_city,omitempty"`
	CallerRegion  string `json:"caller_region,omitempty"`
	CallerCountry string `json:"caller_country,omitempty"`
	// ForwardedFrom is the number that forwarded the call to us, if any.
	ForwardedFrom string `json:"forwarded_from,omitempty"`
	// Outcome is what became of the forward to the business line, from
	// the vendor's report on the forwarded leg (Twilio's <Dial action>,
	// Telnyx's bridge and hangup events, ...); empty until one arrives.
	Outcome Outcome `json:"outcome,omitempty"`
	// TalkTime is the answering leg's talk time: how long the business
	// line was connected, without the ring. Duration, by contrast, is the
	// caller's whole call as the vendor bills it.
	TalkTime time.Duration `json:"talk_time,omitempty"`
	// Recording is the call's recording, from the vendor's recording
	// callback; zero when the call was not recorded.
	Recording Recording `json:"recording,omitzero"`
	// Attestation is the caller's STIR/SHAKEN attestation level as the
	// vendor verified it ("A", "B" or "C"); empty when the vendor sent
	// none. See [Attestation].
	Attestation Attestation `json:"attestation,omitempty"`
	// Labels and Transcript are what the host's call analyzer made of the
	// recording ("booked", "spam"); the library never sets them from a
	// webhook.
	Labels     []string `json:"labels,omitempty"`
	Transcript string   `json:"transcript,omitempty"`
	// Raw is the webhook body exactly as received, kept for audit and for
	// fields calltrack does not model.
	Raw []byte `json:"raw,omitempty"`
}

// Key is the identity stores deduplicate on: one call per (provider, call id).
func (e CallEvent) Key() string { return e.Provider + "/" + e.CallID }

// Merge folds a newer-arriving event into the recorded state of the same
// call and returns the result. It is what makes duplicate and out-of-order
// callbacks converge: the status only moves forward by Rank (ties keep the
// earlier terminal outcome unless the incoming one is later), empty fields
// are filled in from either side, and known facts are never erased. Merge
// is commutative for events of one call in the sense that matters to
// stores: applying a set of events in any order yields the same status,
// timestamps and duration. Stores call it inside their upsert.
func Merge(recorded, incoming CallEvent) CallEvent {
	out := recorded
	if out.Provider == "" {
		out.Provider = incoming.Provider
	}
	if out.CallID == "" {
		out.CallID = incoming.CallID
	}
	if incoming.Kind == KindInbound {
		out.Kind = KindInbound
	}
	inRank, outRank := incoming.Status.Rank(), out.Status.Rank()
	switch {
	case inRank > outRank:
		out.Status = incoming.Status
	case inRank == outRank && inRank == 4 && terminalPrecedence(incoming.Status) > terminalPrecedence(out.Status):
		// Two different outcomes for one call should not happen; if a
		// provider sends them anyway, a fixed precedence keeps the result
		// independent of arrival order.
		out.Status = incoming.Status
	}
	out.From = firstNonEmpty(out.From, incoming.From)
	out.To = firstNonEmpty(out.To, incoming.To)
	if out.Direction == "" {
		out.Direction = incoming.Direction
	}
	out.CallerName = firstNonEmpty(out.CallerName, incoming.CallerName)
	out.CallerCity = firstNonEmpty(out.CallerCity, incoming.CallerCity)
	out.CallerRegion = firstNonEmpty(out.CallerRegion, incoming.CallerRegion)
	out.CallerCountry = firstNonEmpty(out.CallerCountry, incoming.CallerCountry)
	out.ForwardedFrom = firstNonEmpty(out.ForwardedFrom, incoming.ForwardedFrom)
	out.OccurredAt = latest(out.OccurredAt, incoming.OccurredAt)
	out.StartedAt = earliest(out.StartedAt, incoming.StartedAt)
	out.AnsweredAt = earliest(out.AnsweredAt, incoming.AnsweredAt)
	out.EndedAt = latest(out.EndedAt, incoming.EndedAt)
	if incoming.Duration > out.Duration {
		out.Duration = incoming.Duration
	}
	if outcomePrecedence(incoming.Outcome) > outcomePrecedence(out.Outcome) {
		out.Outcome = incoming.Outcome
	}
	if incoming.TalkTime > out.TalkTime {
		out.TalkTime = incoming.TalkTime
	}
	out.Recording = mergeRecording(out.Recording, incoming.Recording)
	if in, cur := incoming.Attestation.trust(), out.Attestation.trust(); in < cur ||
		in == cur && incoming.Attestation < out.Attestation {
		// The least trusted level wins: order does not matter, and a
		// doubt once raised is kept. Values of equal rank (anything but
		// A, B and C ranks as unknown) are settled by their text.
		out.Attestation = incoming.Attestation
	}
	out.Labels = mergeLabels(out.Labels, incoming.Labels)
	if len(incoming.Transcript) > len(out.Transcript) ||
		len(incoming.Transcript) == len(out.Transcript) && incoming.Transcript < out.Transcript {
		out.Transcript = incoming.Transcript
	}
	if len(out.Raw) == 0 {
		out.Raw = incoming.Raw
	}
	return out
}

// terminalPrecedence breaks ties between terminal statuses: "completed"
// carries a duration, so it wins.
func terminalPrecedence(s Status) int {
	switch s {
	case StatusCompleted:
		return 5
	case StatusBusy:
		return 4
	case StatusNoAnswer:
		return 3
	case StatusCanceled:
		return 2
	case StatusFailed:
		return 1
	}
	return 0
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
