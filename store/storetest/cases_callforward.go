package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/store"
)

// The forward's outcome, its recording and the analyzer's findings come
// back as status events of the caller's (parent) call, in any order around
// the parent's own callbacks; a store folds them in with provider.Merge
// like every other event of the call.

// forwardedCall is the callbacks of one call forwarded to the business
// line, as a vendor may send them: the inbound webhook, the forwarded
// leg's outcome, the parent's terminal status, the recording, and the
// outcome again (vendors retry). outcome is what the business line did.
func forwardedCall(id string, outcome provider.Outcome) []provider.CallEvent {
	inbound := call(id)
	inbound.Kind, inbound.Status = provider.KindInbound, provider.StatusRinging
	inbound.OccurredAt, inbound.StartedAt = at(0), at(0)
	inbound.Attestation = provider.AttestationFull

	leg := call(id)
	leg.Outcome, leg.OccurredAt = outcome, at(40*time.Second)
	if outcome == provider.OutcomeAnswered {
		leg.AnsweredAt, leg.OccurredAt = at(4*time.Second), at(94*time.Second)
		leg.TalkTime = 90*time.Second + 250*time.Millisecond
	}

	completed := call(id)
	completed.Status = provider.StatusCompleted
	completed.OccurredAt, completed.EndedAt = at(95*time.Second), at(95*time.Second)
	completed.Duration = 95 * time.Second

	rec := call(id)
	rec.OccurredAt = at(96 * time.Second)
	rec.Recording = provider.Recording{ID: "RE" + id, URL: "https://api.example.com/recordings/RE" + id, Duration: 90 * time.Second}

	return []provider.CallEvent{inbound, leg, completed, rec, leg}
}

func (s *suite) recordCallRoundTripsEveryForwardField(t *testing.T) {
	ev := call("CA1")
	ev.Status, ev.OccurredAt = provider.StatusCompleted, at(time.Minute)
	ev.Outcome = provider.OutcomeVoicemail
	ev.TalkTime = 41*time.Second + 7*time.Nanosecond
	ev.Recording = provider.Recording{ID: "RE1", URL: "https://api.example.com/RE1.mp3?x=1&y=ü",
		Duration: 40*time.Second + 3*time.Nanosecond}
	ev.Attestation = provider.AttestationGateway
	ev.Labels = []string{"spam", "booked", "quote: \"roof\"\n"}
	ev.Transcript = "Hello, I'd like a quote.\nThanks — bye."
	// What a store returns: Merge's labels, sorted, and the call's times.
	want := wantCall(ev)
	want.StartedAt = utcMicro(ev.OccurredAt)
	want.Labels = []string{"booked", "quote: \"roof\"\n", "spam"}

	t.Run("Insert", func(t *testing.T) {
		st := s.newStore(t)
		got, err := st.RecordCall(t.Context(), ev)
		require.NoError(t, err)
		require.Equal(t, want, got, "RecordCall's answer")
		requireStoredCall(t, st, want)
	})
	t.Run("Update", func(t *testing.T) {
		// The same fields arriving on a call already stored take the
		// rewrite path instead of the insert.
		st := s.newStore(t)
		first := call("CA1")
		first.Status, first.OccurredAt = provider.StatusRinging, at(time.Minute)
		require.NoError(t, recordErr(st.RecordCall(t.Context(), first)))
		got, err := st.RecordCall(t.Context(), ev)
		require.NoError(t, err)
		require.Equal(t, want, got, "RecordCall's answer")
		requireStoredCall(t, st, want)
	})
}

// requireStoredCall checks that Call and CallsBetween both read want.
func requireStoredCall(t *testing.T, st store.Store, want provider.CallEvent) {
	t.Helper()
	got, err := st.Call(t.Context(), want.Provider, want.CallID)
	require.NoError(t, err)
	require.Equal(t, want, got, "Call")
	calls, err := st.CallsBetween(t.Context(), at(-time.Hour), at(time.Hour))
	require.NoError(t, err)
	require.Equal(t, []provider.CallEvent{want}, calls, "CallsBetween")
}

func (s *suite) recordCallForwardOutcomeConvergesBeforeOrAfterTheParentsTerminalStatus(t *testing.T) {
	for _, outcome := range []provider.Outcome{provider.OutcomeAnswered, provider.OutcomeNoAnswer} {
		t.Run(string(outcome), func(t *testing.T) {
			st := s.newStore(t)
			want := wantCall(mergeAll(forwardedCall("x", outcome)))
			require.Equal(t, provider.StatusCompleted, want.Status)
			require.Equal(t, outcome, want.Outcome)
			require.Equal(t, outcome.Missed(), want.Outcome.Missed())
			requireSameCallInEveryOrder(t, st, forwardedCall("x", outcome), want)
		})
	}
}

func (s *suite) recordCallLabelsAreTheSortedUnionOfEveryReport(t *testing.T) {
	st := s.newStore(t)
	reports := [][]string{{"spam", "booked", "spam"}, nil, {"callback", "booked"}, {}}
	var got provider.CallEvent
	for _, labels := range reports {
		ev := call("CA1")
		ev.Labels = labels
		var err error
		got, err = st.RecordCall(t.Context(), ev)
		require.NoError(t, err)
	}
	want := []string{"booked", "callback", "spam"}
	require.Equal(t, want, got.Labels, "RecordCall's answer")
	stored, err := st.Call(t.Context(), "twilio", "CA1")
	require.NoError(t, err)
	require.Equal(t, want, stored.Labels)

	// The answer is the caller's own copy: changing it changes nothing
	// stored.
	got.Labels[0] = "changed"
	stored, err = st.Call(t.Context(), "twilio", "CA1")
	require.NoError(t, err)
	require.Equal(t, want, stored.Labels)

	// A call never labelled reads nil labels, not an empty list.
	require.NoError(t, recordErr(st.RecordCall(t.Context(), call("CA2"))))
	bare, err := st.Call(t.Context(), "twilio", "CA2")
	require.NoError(t, err)
	require.Nil(t, bare.Labels)
}

func (s *suite) recordCallRecordingReportedTwiceIsStoredOnce(t *testing.T) {
	// Vendors send a recording's URL before its length is known, and
	// retry: one recording results, with every detail either report gave.
	early := call("CA1")
	early.Recording = provider.Recording{ID: "RE1", URL: "https://api.example.com/RE1"}
	late := call("CA1")
	late.Recording = provider.Recording{ID: "RE1", Duration: 30 * time.Second}
	want := provider.Recording{ID: "RE1", URL: "https://api.example.com/RE1", Duration: 30 * time.Second}
	for name, order := range map[string][]provider.CallEvent{
		"url first":      {early, late, early},
		"duration first": {late, early, late},
	} {
		t.Run(name, func(t *testing.T) {
			st := s.newStore(t)
			for _, ev := range order {
				require.NoError(t, recordErr(st.RecordCall(t.Context(), ev)))
			}
			got, err := st.Call(t.Context(), "twilio", "CA1")
			require.NoError(t, err)
			require.Equal(t, want, got.Recording)
		})
	}
}

func (s *suite) recordCallForwardTextTheDatabaseRefusesIsErrInvalidOrKeptExactly(t *testing.T) {
	// Labels and transcript come from the host's analyzer, not through
	// the webhook's text cleaning. A store keeps what it cannot hold
	// exactly out: ErrInvalid (dead-lettered), never a silently altered
	// value and never an error retried forever.
	for name, mutate := range map[string]func(*provider.CallEvent){
		"LabelNotUTF8":      func(e *provider.CallEvent) { e.Labels = []string{"ok", "\xff\xfe"} },
		"LabelWithNUL":      func(e *provider.CallEvent) { e.Labels = []string{"a\x00b"} },
		"TranscriptNotUTF8": func(e *provider.CallEvent) { e.Transcript = "caller said \xff" },
		"TranscriptWithNUL": func(e *provider.CallEvent) { e.Transcript = "caller\x00said" },
	} {
		t.Run(name, func(t *testing.T) {
			st := s.newStore(t)
			ev := call("CA1")
			mutate(&ev)
			_, err := st.RecordCall(t.Context(), ev)
			if err != nil {
				require.ErrorIs(t, err, store.ErrInvalid)
				_, err = st.Call(t.Context(), "twilio", "CA1")
				require.ErrorIs(t, err, store.ErrNotFound, "a refused call writes nothing")
			} else {
				got, err := st.Call(t.Context(), "twilio", "CA1")
				require.NoError(t, err)
				require.Equal(t, wantCall(provider.Merge(provider.CallEvent{}, ev)), got, "kept exactly")
			}
			require.NoError(t, recordErr(st.RecordCall(t.Context(), call("CA2"))), "a refused call blocks nothing")
		})
	}
}

// Values that name the erased caller of erasePersonLeavesNoTranscriptLabelsOrRecordingOfTheirCalls.
const (
	fwNumber     = "+14155550166"
	fwTranscript = "hi this is fw-erase-2b9e calling about my roof"
	fwLabel      = "lead:fw-erase-2b9e"
	fwRecording  = "RE-fw-erase-2b9e"
)

func (s *suite) erasePersonLeavesNoTranscriptLabelsOrRecordingOfTheirCalls(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	p, err := st.Link(ctx, visitor("v-fw-erase-2b9e"), phone(fwNumber))
	require.NoError(t, err)

	theirs := forwardedCall("CA-fw-erase-2b9e", provider.OutcomeAnswered)
	for _, ev := range theirs {
		ev.From = fwNumber
		require.NoError(t, recordErr(st.RecordCall(ctx, ev)))
	}
	analysis := call("CA-fw-erase-2b9e")
	analysis.From = fwNumber
	analysis.Labels, analysis.Transcript = []string{fwLabel, "booked"}, fwTranscript
	analysis.Recording = provider.Recording{ID: fwRecording, URL: "https://api.example.com/" + fwRecording, Duration: time.Hour}
	require.NoError(t, recordErr(st.RecordCall(ctx, analysis)))

	// Another caller's call, analysed too, stays whole.
	keep := mergeAll(forwardedCall("CA-fw-keep", provider.OutcomeNoAnswer))
	keep.Labels, keep.Transcript = []string{"booked"}, "another caller"
	for _, ev := range forwardedCall("CA-fw-keep", provider.OutcomeNoAnswer) {
		require.NoError(t, recordErr(st.RecordCall(ctx, ev)))
	}
	other := call("CA-fw-keep")
	other.Labels, other.Transcript = keep.Labels, keep.Transcript
	require.NoError(t, recordErr(st.RecordCall(ctx, other)))

	require.NoError(t, st.ErasePerson(ctx, p))

	_, err = st.Call(ctx, "twilio", "CA-fw-erase-2b9e")
	require.ErrorIs(t, err, store.ErrNotFound)
	got, err := st.Call(ctx, "twilio", "CA-fw-keep")
	require.NoError(t, err)
	require.Equal(t, wantCall(keep), got, "another caller's call keeps its outcome, recording, labels and transcript")

	if s.features.Dump == nil {
		t.Log("storetest: Features.Dump is not set: the store's tables are not searched for the erased call's analysis")
		return
	}
	var left []string
	for _, v := range s.features.Dump(t, st) {
		for _, n := range []string{"fw-erase-2b9e", fwNumber} {
			if strings.Contains(v, n) {
				left = append(left, fmt.Sprintf("%s (names them by %q)", v, n))
			}
		}
	}
	require.Empty(t, left, "erased, yet still stored")
}
