package fake

import (
	"context"
	"fmt"
	"time"

	"github.com/attriqs/calltrack/provider"
)

// Analyzer is a provider.CallAnalyzer for tests and demos: it never
// downloads the audio and labels a call by its talk time alone, "booked"
// from BookedAfter on and "short" below it, with a one-line transcript
// naming the recording. Real analyzers transcribe the audio they fetch.
type Analyzer struct {
	// BookedAfter is the talk time from which a call is labelled
	// "booked"; zero means two minutes.
	BookedAfter time.Duration
}

// Analyze implements provider.CallAnalyzer.
func (a Analyzer) Analyze(_ context.Context, call provider.CallEvent, _ provider.RecordingFetcher) (provider.Analysis, error) {
	booked := a.BookedAfter
	if booked == 0 {
		booked = 2 * time.Minute
	}
	label := "short"
	if call.TalkTime >= booked {
		label = "booked"
	}
	return provider.Analysis{Labels: []string{label},
		Transcript: fmt.Sprintf("(fake transcript of recording %s, %s of talk)", call.Recording.ID, call.TalkTime)}, nil
}
