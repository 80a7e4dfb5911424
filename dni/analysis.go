package dni

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/attriqs/calltrack/export"
	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/store"
)

// AnalysisSinkName names the export sink that runs the call analyzer.
const AnalysisSinkName = "calltrack-analysis"

// Bounds on what an analyzer's result may store on a call.
const (
	maxLabels        = 32
	maxLabelLen      = 64
	maxTranscriptLen = 256 << 10
)

// AnalysisSink runs the host's provider.CallAnalyzer on recorded calls as
// a sink of the export outbox, so analysis is durable and retried like
// any delivery: a call whose recording is reported queues one analysis
// (its id is the call's, so duplicates queue nothing), and the result is
// recorded on the call like a webhook, re-deriving its qualification.
// Give it to the exporter (export.New) and to the Service
// (WithAnalysis); without an exporter the Service makes one for it.
type AnalysisSink struct {
	analyzer provider.CallAnalyzer
	client   *http.Client

	mu       sync.Mutex
	record   func(context.Context, provider.CallEvent) error
	exists   func(ctx context.Context, providerName, callID string) error
	fetchers map[string]provider.RecordingFetcher
	log      *slog.Logger // the Service's: an analysis of an erased call is dropped at Info
}

// NewAnalysisSink returns the sink that runs a on recorded calls.
// Recordings are fetched with a plain GET, or by the provider's own
// RecordingFetcher when its URLs need the account's credentials.
func NewAnalysisSink(a provider.CallAnalyzer) *AnalysisSink {
	return &AnalysisSink{analyzer: a, client: &http.Client{Timeout: 2 * time.Minute}}
}

// Name implements export.Sink.
func (a *AnalysisSink) Name() string { return AnalysisSinkName }

// Accepts implements export.Filter: the sink takes no exported event,
// only the analyses the Service queues for it.
func (a *AnalysisSink) Accepts(export.Event) bool { return false }

// bind connects the sink to the Service that records its results.
func (a *AnalysisSink) bind(s *Service) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.record = s.amendCall
	a.exists = func(ctx context.Context, p, id string) error { _, err := s.store.Call(ctx, p, id); return err }
	a.log = s.log
	a.fetchers = map[string]provider.RecordingFetcher{}
	for _, p := range s.providers {
		if f, ok := p.(provider.RecordingFetcher); ok {
			a.fetchers[p.Name()] = f
		}
	}
}

// Deliver implements export.Sink: it analyzes the call and records the
// result on it.
func (a *AnalysisSink) Deliver(ctx context.Context, m export.Message) error {
	a.mu.Lock()
	record, exists, fetchers, log := a.record, a.exists, a.fetchers, a.log
	a.mu.Unlock()
	if record == nil {
		return errors.New("dni: the analysis sink is not given to the Service (WithAnalysis)")
	}
	call := m.Event.Call
	if call == nil || call.Recording.IsZero() {
		return export.Permanent(errors.New("dni: an analysis message without a recorded call"))
	}
	erased := func() error {
		log.Info("dni: call erased before its analysis was recorded; the analysis is dropped",
			"provider", call.Provider, "call_id", call.CallID)
		return nil
	}
	if err := exists(ctx, call.Provider, call.CallID); errors.Is(err, store.ErrNotFound) {
		return erased() // nothing to analyze, nothing to bring back
	} else if err != nil {
		return err
	}
	fetch := fetchers[call.Provider]
	if fetch == nil {
		fetch = httpFetcher{a.client}
	}
	res, err := a.analyzer.Analyze(ctx, *call, fetch)
	if err != nil {
		return fmt.Errorf("dni: analyzer: %w", err)
	}
	// Only into the call as still stored: erased while the analyzer ran,
	// it stays erased.
	err = record(ctx, provider.CallEvent{Provider: call.Provider, CallID: call.CallID, Kind: provider.KindStatus,
		Labels: cleanLabels(res.Labels), Transcript: provider.CleanText(res.Transcript, maxTranscriptLen)})
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrErased) {
		return erased()
	}
	return err
}

// cleanLabels stores labels lower case, trimmed, bounded, sorted and
// without repeats, so the same verdict is always the same set.
func cleanLabels(labels []string) []string {
	var out []string
	for _, l := range labels {
		l = strings.ToLower(strings.TrimSpace(provider.CleanText(l, maxLabelLen)))
		if l != "" && !strings.Contains(l, ",") {
			out = append(out, l)
		}
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) > maxLabels {
		out = out[:maxLabels]
	}
	return out
}

// httpFetcher downloads recordings whose URLs need no credentials.
type httpFetcher struct{ client *http.Client }

func (f httpFetcher) FetchRecording(ctx context.Context, rec provider.Recording) (io.ReadCloser, error) {
	if rec.URL == "" {
		return nil, errors.New("dni: the recording has no URL")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rec.URL, nil)
	if err != nil {
		return nil, fmt.Errorf("dni: recording URL: %w", err)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("dni: recording %s: HTTP %d", rec.ID, resp.StatusCode)
	}
	return resp.Body, nil
}

// queueAnalysis queues the analysis of a call whose recording is known
// and that has not been analyzed. The message's id is the call's, so
// queueing again changes nothing.
func (s *Service) queueAnalysis(ctx context.Context, call provider.CallEvent) error {
	if s.analysis == nil || call.Recording.IsZero() || len(call.Labels) > 0 || call.Transcript != "" {
		return nil
	}
	outbox, ok := s.store.(store.Outbox)
	if !ok {
		return errors.New("dni: the store keeps no outbox for call analysis")
	}
	call.Raw = nil
	msg, err := analysisMessage(call, s.now())
	if err != nil {
		return err
	}
	return outbox.EnqueueOutbox(ctx, msg)
}

func analysisMessage(call provider.CallEvent, now time.Time) (store.OutboxMessage, error) {
	payload, err := json.Marshal(export.Event{Call: &call})
	if err != nil {
		return store.OutboxMessage{}, err
	}
	return store.OutboxMessage{ID: store.CallOutboxID(AnalysisSinkName, call.Provider, call.CallID), Sink: AnalysisSinkName,
		Kind: export.KindCall, Payload: payload, CreatedAt: now, NextAt: now}, nil
}
