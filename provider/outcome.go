package provider

import (
	"slices"
	"strings"
	"time"
)

// Outcome is what became of the forward to the business line. Vendors
// report it on the forwarded leg, not on the caller's call: a caller's
// call "completed" whether or not the business picked up.
type Outcome string

const (
	OutcomeUnknown Outcome = ""
	// OutcomeAnswered: the business line picked up; TalkTime says how long
	// they talked.
	OutcomeAnswered Outcome = "answered"
	// OutcomeVoicemail: a machine answered the business line (the vendor's
	// answering-machine detection said so).
	OutcomeVoicemail Outcome = "voicemail"
	// OutcomeBusy: the business line was busy.
	OutcomeBusy Outcome = "busy"
	// OutcomeNoAnswer: the business line rang out.
	OutcomeNoAnswer Outcome = "no-answer"
	// OutcomeAbandoned: the caller hung up while the business line rang.
	OutcomeAbandoned Outcome = "abandoned"
	// OutcomeFailed: the business line could not be reached.
	OutcomeFailed Outcome = "failed"
)

// Outcomes lists the known outcomes, answered first.
var Outcomes = []Outcome{OutcomeAnswered, OutcomeVoicemail, OutcomeBusy, OutcomeNoAnswer, OutcomeAbandoned, OutcomeFailed}

// Valid reports whether o is a known outcome or unknown.
func (o Outcome) Valid() bool { return o == OutcomeUnknown || slices.Contains(Outcomes, o) }

// Missed reports whether the caller did not reach a person: every known
// outcome but answered.
func (o Outcome) Missed() bool { return o != OutcomeUnknown && o != OutcomeAnswered }

// outcomePrecedence settles two reports of one forward independently of
// their order: evidence that someone answered outweighs a report that the
// line was not reached, and a machine verdict outweighs "answered",
// which vendors also report when a machine picks up (Twilio's Dial
// status is "completed" either way, with the verdict sent apart).
func outcomePrecedence(o Outcome) int {
	if o == OutcomeVoicemail {
		return len(Outcomes) + 1
	}
	if i := slices.Index(Outcomes, o); i >= 0 {
		return len(Outcomes) - i
	}
	return 0
}

// Recording is a call recording as the vendor reported it. The library
// stores where it is, never the audio: a CallAnalyzer fetches it when it
// needs to (see [RecordingFetcher]).
type Recording struct {
	// ID is the vendor's handle (Twilio's RE... sid, Telnyx's recording id).
	ID string `json:"id,omitempty"`
	// URL is where the vendor serves the audio.
	URL string `json:"url,omitempty"`
	// Duration is the recording's length; 0 when the vendor did not say.
	Duration time.Duration `json:"duration,omitempty"`
}

// IsZero reports whether there is no recording.
func (r Recording) IsZero() bool { return r.ID == "" && r.URL == "" }

// mergeRecording keeps one recording per call whatever the order of the
// callbacks, filling in what one report of it lacks from the others. A
// forward makes one recording; should a vendor report two, the smaller id
// is kept: a choice by anything a later report can change (its length)
// would keep details of one recording and the id of the other, depending
// on the order.
func mergeRecording(a, b Recording) Recording {
	switch {
	case b.IsZero():
		return a
	case a.IsZero():
		return b
	case a.ID == b.ID:
		if a.URL == "" || b.URL != "" && b.URL < a.URL {
			a.URL = b.URL
		}
		a.Duration = max(a.Duration, b.Duration)
		return a
	case b.ID < a.ID:
		return b
	}
	return a
}

// Attestation is a STIR/SHAKEN attestation level: "A" (the carrier knows
// the caller and that they may use the number), "B" (knows the caller,
// not the number), "C" (knows neither: gateway traffic, where robocalls
// come from).
type Attestation string

const (
	AttestationFull    Attestation = "A"
	AttestationPartial Attestation = "B"
	AttestationGateway Attestation = "C"
)

// ParseAttestation reads a level as vendors write it ("A", "b",
// "TN-Validation-Passed-A"); ok is false for anything else, including a
// failed verification ("TN-Validation-Failed-A"), which attests nothing.
func ParseAttestation(s string) (a Attestation, ok bool) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if strings.Contains(s, "FAILED") || strings.Contains(s, "NO-TN-VALIDATION") {
		return "", false
	}
	if i := strings.LastIndexAny(s, "-_ "); i >= 0 {
		s = s[i+1:]
	}
	switch Attestation(s) {
	case AttestationFull, AttestationPartial, AttestationGateway:
		return Attestation(s), true
	}
	return "", false
}

// trust orders levels for Merge: unknown ranks above every level so that
// any attestation replaces it.
func (a Attestation) trust() int {
	switch a {
	case AttestationFull:
		return 3
	case AttestationPartial:
		return 2
	case AttestationGateway:
		return 1
	}
	return 4
}

// mergeLabels is the sorted union of two label sets, nil when both are
// empty. It always sorts, and never returns a caller's slice, so the
// result depends neither on which side a set arrives on nor on the order
// of its labels.
func mergeLabels(a, b []string) []string {
	if len(a)+len(b) == 0 {
		return nil
	}
	out := append(slices.Clone(a), b...)
	slices.Sort(out)
	return slices.Compact(out)
}
