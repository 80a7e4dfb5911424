package dni

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/attriqs/calltrack/export"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/store"
)

// OutcomeStatus is where a lead stands (see journey.OutcomeStatus).
type OutcomeStatus = journey.OutcomeStatus

// The outcome statuses.
const (
	OutcomeLead      = journey.OutcomeLead
	OutcomeQualified = journey.OutcomeQualified
	OutcomeWon       = journey.OutcomeWon
	OutcomeLost      = journey.OutcomeLost
)

// Outcome is what the business says became of a call: its status and
// what it was worth.
type Outcome struct {
	Status   OutcomeStatus `json:"status"`
	Value    int64         `json:"value"`    // minor units
	Currency string        `json:"currency"` // ISO 4217
	Note     string        `json:"note,omitempty"`
}

// ErrNotACall is returned by SetOutcome for a touchpoint that is not a
// recorded call.
var ErrNotACall = errors.New("dni: not a recorded call")

// SetOutcome sets by hand the outcome of the call whose touchpoint id is
// touchpointID (journey.CallTouchpointID). It wins over the qualification
// rules and the spam filter, now and whenever the call is qualified
// again: qualified and won make the call a conversion at o's value, lead
// and lost make it none (a conversion already made is retracted). The
// outcome, the conversion and its export messages are written in one
// transaction: the first conversion of a call is exported as a
// conversion; a change to one already exported goes to the sinks that had
// it as an adjustment (export.Adjustment: restate or retract), one per
// change. Setting an outcome again is a new change.
func (s *Service) SetOutcome(ctx context.Context, touchpointID string, o Outcome) error {
	providerName, callID, ok := journey.ParseCallTouchpointID(touchpointID)
	if !ok {
		return fmt.Errorf("dni: set outcome: touchpoint %q: %w (outcomes are set on calls: call:<provider>/<call id>)", touchpointID, ErrNotACall)
	}
	call, err := s.store.Call(ctx, providerName, callID)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("dni: set outcome: touchpoint %q: %w", touchpointID, ErrNotACall)
	}
	if err != nil {
		return fmt.Errorf("dni: set outcome: %w", err)
	}
	// Two hands setting the same call at once: the loser of the version
	// check reads the winner's outcome and goes again.
	for range 5 {
		err = s.setOutcome(ctx, touchpointID, call, o)
		if !errors.Is(err, store.ErrConflict) {
			return err
		}
	}
	return fmt.Errorf("dni: set outcome: %w", err)
}

func (s *Service) setOutcome(ctx context.Context, touchpointID string, call provider.CallEvent, o Outcome) error {
	version := int64(1)
	switch prev, err := s.store.ManualOutcome(ctx, touchpointID); {
	case err == nil:
		version = prev.Version + 1
	case !errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("dni: set outcome: %w", err)
	}
	mo := journey.ManualOutcome{TouchpointID: touchpointID, Status: o.Status, Value: o.Value, Currency: o.Currency,
		Note: o.Note, SetAt: s.now().UTC(), Version: version}
	if err := mo.Validate(); err != nil {
		return fmt.Errorf("dni: set outcome: %w: %w", store.ErrInvalid, err)
	}
	rec, err := s.calls.Process(ctx, call)
	if err != nil {
		return fmt.Errorf("dni: set outcome: %w", err)
	}
	rec = journey.ApplyOutcome(rec, call, mo)
	convID := journey.CallConversionID(call.Provider, call.CallID)
	var retract []string
	if rec.Conversion == nil {
		retract = []string{convID}
	}
	msgs, err := s.outcomeMessages(ctx, rec, call, mo, convID)
	if err != nil {
		return fmt.Errorf("dni: set outcome: %w", err)
	}
	if err := s.store.SetOutcome(ctx, mo, rec.Conversion, retract, msgs...); err != nil {
		return fmt.Errorf("dni: set outcome: %w", err)
	}
	return nil
}

// outcomeMessages are the deliveries a change of outcome owes: the
// conversion itself to every sink when none has had it, otherwise an
// adjustment to each sink that has.
func (s *Service) outcomeMessages(ctx context.Context, rec journey.CallRecord, call provider.CallEvent, mo journey.ManualOutcome, convID string) ([]store.OutboxMessage, error) {
	if s.exports == nil {
		return nil, nil
	}
	sent, err := s.exports.Status(ctx, convID)
	if err != nil {
		return nil, err
	}
	var had []string
	for _, m := range sent {
		if m.Kind == export.KindConversion {
			had = append(had, m.Sink)
		}
	}
	if len(had) == 0 {
		if rec.Conversion == nil {
			return nil, nil
		}
		return s.exports.Messages(export.Event{Conversion: rec.Conversion, Call: &call, Source: rec.Attribution.Source})
	}
	adj := &export.Adjustment{ConversionID: convID, Type: export.AdjustRetract, Status: string(mo.Status), At: mo.SetAt, Version: mo.Version}
	if rec.Conversion != nil {
		adj.Type, adj.Value, adj.Currency = export.AdjustRestate, rec.Conversion.Value, rec.Conversion.Currency
	}
	msgs, err := s.exports.Messages(export.Event{Adjustment: adj, Source: rec.Attribution.Source})
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(msgs, func(m store.OutboxMessage) bool { return !slices.Contains(had, m.Sink) }), nil
}

// outcomeBook reads the store's hand-set outcomes for the call pipeline.
type outcomeBook struct{ st store.Outcomes }

func (b outcomeBook) HandSetOutcome(ctx context.Context, touchpointID string) (journey.ManualOutcome, bool, error) {
	o, err := b.st.ManualOutcome(ctx, touchpointID)
	if errors.Is(err, store.ErrNotFound) {
		return journey.ManualOutcome{}, false, nil
	}
	return o, err == nil, err
}

// OutcomeRequest is the body of POST {Prefix}reports/outcomes, by which a
// CRM or a host's back office sets a call's outcome.
type OutcomeRequest struct {
	TouchpointID string `json:"touchpoint_id"`
	Outcome
}

// serveSetOutcome answers 204 once the outcome is set, 400 for a body or
// outcome that cannot be set (naming the field), 404 for an unknown call,
// 503 when the store fails.
func (s *Service) serveSetOutcome(w http.ResponseWriter, r *http.Request) {
	var req OutcomeRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, apiError{"body: " + err.Error()})
		return
	}
	err := s.SetOutcome(r.Context(), req.TouchpointID, req.Outcome)
	switch {
	case err == nil:
		w.WriteHeader(http.StatusNoContent)
	case errors.Is(err, ErrNotACall):
		writeJSON(w, http.StatusNotFound, apiError{err.Error()})
	case errors.Is(err, store.ErrInvalid):
		writeJSON(w, http.StatusBadRequest, apiError{err.Error()})
	default:
		writeJSON(w, http.StatusServiceUnavailable, apiError{err.Error()})
	}
}
