package provider_test

import (
	"slices"
	"testing"
	"time"

	"github.com/attriqs/calltrack/provider"
)

// The forward's reports converge on one call whatever their order: every
// permutation of these reports merges to the same result.
func TestForwardReportsMergeInAnyOrder(t *testing.T) {
	base := provider.CallEvent{Provider: "twilio", CallID: "CA1"}
	with := func(edit func(*provider.CallEvent)) provider.CallEvent { e := base; edit(&e); return e }
	reports := []provider.CallEvent{
		with(func(e *provider.CallEvent) { e.Outcome, e.TalkTime = provider.OutcomeAnswered, 30*time.Second }),
		with(func(e *provider.CallEvent) { e.Outcome = provider.OutcomeVoicemail }),
		with(func(e *provider.CallEvent) {
			e.Recording = provider.Recording{ID: "RE2", URL: "https://r/2", Duration: 20 * time.Second}
		}),
		with(func(e *provider.CallEvent) { e.Recording = provider.Recording{ID: "RE1", Duration: 25 * time.Second} }),
		with(func(e *provider.CallEvent) { e.Recording = provider.Recording{ID: "RE1", URL: "https://r/1"} }),
		with(func(e *provider.CallEvent) { e.Attestation = provider.AttestationFull }),
		with(func(e *provider.CallEvent) { e.Attestation = provider.AttestationGateway }),
		with(func(e *provider.CallEvent) { e.Labels = []string{"spam", "booked"} }),
		with(func(e *provider.CallEvent) { e.Labels, e.Transcript = []string{"booked", "new"}, "hello" }),
	}
	want := provider.CallEvent{Provider: "twilio", CallID: "CA1",
		Outcome: provider.OutcomeVoicemail, TalkTime: 30 * time.Second,
		Recording:   provider.Recording{ID: "RE1", URL: "https://r/1", Duration: 25 * time.Second},
		Attestation: provider.AttestationGateway, Labels: []string{"booked", "new", "spam"}, Transcript: "hello"}
	order := make([]int, len(reports))
	for i := range order {
		order[i] = i
	}
	// Every rotation and its reverse: enough to put each report first and
	// last, with every neighbour on either side.
	for shift := range order {
		for _, reverse := range []bool{false, true} {
			seq := append(slices.Clone(order[shift:]), order[:shift]...)
			if reverse {
				slices.Reverse(seq)
			}
			var got provider.CallEvent
			for _, i := range seq {
				got = provider.Merge(got, reports[i])
			}
			if got.Outcome != want.Outcome || got.TalkTime != want.TalkTime || got.Recording != want.Recording ||
				got.Attestation != want.Attestation || !slices.Equal(got.Labels, want.Labels) || got.Transcript != want.Transcript {
				t.Fatalf("order %v merged to %+v, want %+v", seq, got, want)
			}
		}
	}
}

func TestParseAttestation(t *testing.T) {
	for in, want := range map[string]provider.Attestation{
		"A": provider.AttestationFull, "b": provider.AttestationPartial, "TN-Validation-Passed-C": provider.AttestationGateway,
		"TN-Validation-Failed-A": "", "No-TN-Validation": "", "": "", "D": "",
	} {
		got, ok := provider.ParseAttestation(in)
		if got != want || ok != (want != "") {
			t.Errorf("ParseAttestation(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

// Labels converge whichever side of Merge they arrive on, in whatever
// order a report lists them, and the result shares no caller's slice.
func TestMergeLabelsIsOrderIndependent(t *testing.T) {
	a := provider.CallEvent{Provider: "twilio", CallID: "CA1", Labels: []string{"spam", "booked", "spam"}}
	b := provider.CallEvent{Provider: "twilio", CallID: "CA1"}
	ab, ba := provider.Merge(a, b), provider.Merge(b, a)
	want := []string{"booked", "spam"}
	if !slices.Equal(ab.Labels, want) || !slices.Equal(ba.Labels, want) {
		t.Fatalf("Merge(a, b).Labels = %q, Merge(b, a).Labels = %q; want %q both ways", ab.Labels, ba.Labels, want)
	}
	ab.Labels[0] = "changed"
	if a.Labels[1] != "booked" {
		t.Fatalf("Merge returned the recorded event's label slice: %q", a.Labels)
	}
	if got := provider.Merge(provider.CallEvent{Labels: []string{}}, provider.CallEvent{}).Labels; got != nil {
		t.Fatalf("no labels merged to %#v, want nil", got)
	}
}

// An attestation Merge does not rank (lower case, say) still merges the
// same both ways round.
func TestMergeUnrankedAttestationIsOrderIndependent(t *testing.T) {
	a := provider.CallEvent{Provider: "twilio", CallID: "CA1", Attestation: "a"}
	b := provider.CallEvent{Provider: "twilio", CallID: "CA1"}
	if ab, ba := provider.Merge(a, b).Attestation, provider.Merge(b, a).Attestation; ab != ba {
		t.Fatalf("Merge(a, b).Attestation = %q, Merge(b, a).Attestation = %q", ab, ba)
	}
}
