package provider

import "context"

// CallAnalyzer is what the host plugs in to transcribe or score recorded
// calls (a speech-to-text service, a classifier). The library calls it
// once a call's recording is reported, through a durable queue that
// retries failures with backoff (an error from export.Permanent gives up
// at once), and stores the result on the call, where qualification rules
// and the spam filter read it.
//
// Analyze gets the call as recorded and a fetcher for the audio. The
// library never downloads a recording by itself: only an analyzer that
// calls audio.FetchRecording(ctx, call.Recording) does.
type CallAnalyzer interface {
	Analyze(ctx context.Context, call CallEvent, audio RecordingFetcher) (Analysis, error)
}

// Analysis is what a CallAnalyzer made of a call.
type Analysis struct {
	// Labels are short tags ("booked", "spam", "existing-customer"),
	// stored lower case, sorted and without repeats.
	Labels []string
	// Transcript is the call's text, if the analyzer made one.
	Transcript string
}
