package dni

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/attriqs/calltrack/chat"
	"github.com/attriqs/calltrack/classify"
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

// ErrUnknownTouchpoint is returned by SetOutcome for an id that names no
// recorded call, chat or form.
var ErrUnknownTouchpoint = errors.New("dni: no recorded call, chat or form")

// SetOutcome sets by hand the outcome of a call, a chat or a form, named
// by its touchpoint id (journey.CallTouchpointID for a call; a chat's is
// journey.ChatTouchpointID). It wins over the qualification rules, the
// chat conversion rules and the spam filter, now and whenever they run
// again: qualified and won make the touchpoint a conversion at o's value,
// lead and lost make it none (a conversion already made is retracted).
// The outcome, the conversion and its export messages are written in one
// transaction. A call's first conversion is exported as a conversion; a
// change to one already exported goes to the sinks that had it as an
// adjustment (export.Adjustment: restate or retract), one per change.
// A form's outcome is exported the same way, on the conversion the form
// rules write (journey.FormConversionID). A chat's outcome is a conversion
// of its own (journey.ManualConversionID), exported likewise, and the
// conversions the chat rules made of the conversation are retracted at
// the sinks that had them. Setting an outcome again is a new change.
func (s *Service) SetOutcome(ctx context.Context, touchpointID string, o Outcome) error {
	var prev *journey.ManualOutcome // the touchpoint's outcome, when read already
	if platform, conversation, ok := journey.ParseChatTouchpointID(touchpointID); ok {
		// Ordered with the chat rules' conversions (RecordChat), so the
		// retraction finds a rule's conversion written meanwhile.
		s.chatRules.Lock()
		defer s.chatRules.Unlock()
		// A conversation has one outcome, whichever of its events names it.
		id, mo, err := s.ChatOutcome(ctx, platform, conversation)
		if err != nil {
			return fmt.Errorf("dni: set outcome: %w", err)
		}
		if id != "" {
			touchpointID, prev = id, &mo
		}
	}
	set, err := s.outcomeSetter(ctx, touchpointID)
	if err != nil {
		return fmt.Errorf("dni: set outcome: %w", err)
	}
	// Two hands setting the same touchpoint at once: the loser of the
	// version check reads the winner's outcome and goes again.
	for range 5 {
		err = s.setOutcome(ctx, touchpointID, o, set, prev)
		if !errors.Is(err, store.ErrConflict) {
			return err
		}
		prev = nil
	}
	return fmt.Errorf("dni: set outcome: %w", err)
}

// applyOutcome derives, for a hand-set outcome, the conversion to put
// (nil for none), the conversion ids to retract and the export messages.
type applyOutcome func(ctx context.Context, mo journey.ManualOutcome) (put *journey.Conversion, retract []string, msgs []store.OutboxMessage, err error)

// outcomeSetter finds what touchpointID names and how an outcome applies
// to it.
func (s *Service) outcomeSetter(ctx context.Context, touchpointID string) (applyOutcome, error) {
	if providerName, callID, ok := journey.ParseCallTouchpointID(touchpointID); ok {
		call, err := s.store.Call(ctx, providerName, callID)
		if errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("touchpoint %q: %w", touchpointID, ErrUnknownTouchpoint)
		}
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context, mo journey.ManualOutcome) (*journey.Conversion, []string, []store.OutboxMessage, error) {
			return s.callOutcome(ctx, call, mo)
		}, nil
	}
	tp, err := s.store.Touchpoint(ctx, touchpointID)
	if errors.Is(err, store.ErrNotFound) || err == nil && tp.Kind != journey.TouchChat && tp.Kind != journey.TouchForm {
		return nil, fmt.Errorf("touchpoint %q: %w", touchpointID, ErrUnknownTouchpoint)
	}
	if err != nil {
		return nil, err
	}
	if tp.Kind == journey.TouchForm {
		return func(ctx context.Context, mo journey.ManualOutcome) (*journey.Conversion, []string, []store.OutboxMessage, error) {
			return s.formOutcome(ctx, tp, mo)
		}, nil
	}
	return func(ctx context.Context, mo journey.ManualOutcome) (*journey.Conversion, []string, []store.OutboxMessage, error) {
		return s.chatOutcome(ctx, tp, mo)
	}, nil
}

// chatOutcome applies a hand-set outcome to a chat: a conversion of its
// own at the outcome's value, or none, in place of the chat rules'
// conversions of the conversation, which are retracted. The messages are
// what the change owes the sinks: the conversion or its adjustment, and a
// retraction of each rule's conversion to the sinks that had it.
func (s *Service) chatOutcome(ctx context.Context, tp journey.Touchpoint, mo journey.ManualOutcome) (*journey.Conversion, []string, []store.OutboxMessage, error) {
	put, retract := s.touchOutcome(tp, mo)
	if s.exports == nil {
		return put, retract, nil, nil
	}
	// Every message of the change is exported under the session as it is
	// now, read once.
	src, ids, err := s.exported(ctx, tp.SessionID, tp.Source)
	if err != nil {
		return nil, nil, nil, err
	}
	exported := func() (classify.Source, journey.AdIDs, error) { return src, ids, nil }
	id := journey.ManualConversionID(tp.ID)
	sent, err := s.exports.Status(ctx, id)
	if err != nil {
		return nil, nil, nil, err
	}
	msgs, err := s.sentChangeMessages(id, sent, put, tp.At, mo, func() ([]store.OutboxMessage, error) {
		return s.exports.Messages(export.Event{Conversion: put, Source: src, AdIDs: ids, Touch: journey.TouchChat})
	}, exported)
	if err != nil {
		return nil, nil, nil, err
	}
	for _, ruleID := range retract {
		if ruleID == id {
			continue
		}
		more, err := s.ruleRetraction(ctx, ruleID, mo, exported)
		if err != nil {
			return nil, nil, nil, err
		}
		msgs = append(msgs, more...)
	}
	return put, retract, msgs, nil
}

// ruleRetraction is the retraction a chat rule's conversion owes the sinks
// that had it, when the hand first takes the conversation over. Rule
// conversions are only ever retracted, so one with an adjustment queued
// already has its retraction. exported is as in sentChangeMessages.
func (s *Service) ruleRetraction(ctx context.Context, convID string, mo journey.ManualOutcome,
	exported func() (classify.Source, journey.AdIDs, error)) ([]store.OutboxMessage, error) {
	sent, err := s.exports.Status(ctx, convID)
	if err != nil {
		return nil, err
	}
	at := time.Time{}
	for _, m := range sent {
		if m.Kind == export.KindAdjustment {
			return nil, nil
		}
		var ev export.Event
		if m.Kind == export.KindConversion && json.Unmarshal(m.Payload, &ev) == nil && ev.Conversion != nil {
			at = ev.Conversion.At // the time the sinks were told
		}
	}
	if at.IsZero() {
		return nil, nil // no sink was sent it
	}
	return s.sentChangeMessages(convID, sent, nil, at, mo, nil, exported)
}

// setOutcome sets o as the outcome of touchpointID, as apply applies it;
// prev is the touchpoint's outcome when read already, nil to read it.
func (s *Service) setOutcome(ctx context.Context, touchpointID string, o Outcome, apply applyOutcome, prev *journey.ManualOutcome) error {
	if prev == nil {
		switch mo, err := s.store.ManualOutcome(ctx, touchpointID); {
		case err == nil:
			prev = &mo
		case !errors.Is(err, store.ErrNotFound):
			return fmt.Errorf("dni: set outcome: %w", err)
		}
	}
	version := int64(1)
	if prev != nil {
		version = prev.Version + 1
	}
	mo := journey.ManualOutcome{TouchpointID: touchpointID, Status: o.Status, Value: o.Value, Currency: o.Currency,
		Note: o.Note, SetAt: s.now().UTC(), Version: version}
	if err := mo.Validate(); err != nil {
		return fmt.Errorf("dni: set outcome: %w: %w", store.ErrInvalid, err)
	}
	put, retract, msgs, err := apply(ctx, mo)
	if err != nil {
		return fmt.Errorf("dni: set outcome: %w", err)
	}
	if err := s.store.SetOutcome(ctx, mo, put, retract, msgs...); err != nil {
		return fmt.Errorf("dni: set outcome: %w", err)
	}
	return nil
}

// callOutcome applies a hand-set outcome to a call: its conversion, as the
// call pipeline derives it under the outcome, and the export messages.
func (s *Service) callOutcome(ctx context.Context, call provider.CallEvent, mo journey.ManualOutcome) (*journey.Conversion, []string, []store.OutboxMessage, error) {
	rec, err := s.calls.Process(ctx, call)
	if err != nil {
		return nil, nil, nil, err
	}
	rec = journey.ApplyOutcome(rec, call, mo)
	convID := journey.CallConversionID(call.Provider, call.CallID)
	var retract []string
	if rec.Conversion == nil {
		retract = []string{convID}
	}
	msgs, err := s.outcomeMessages(ctx, rec, call, mo, convID)
	return rec.Conversion, retract, msgs, err
}

// touchOutcome applies a hand-set outcome to a chat (a form's is
// formOutcome): a conversion of its own at the outcome's value, and the
// conversions the chat rules made of its conversation retracted, so the
// hand's value is the conversation's only one.
func (s *Service) touchOutcome(tp journey.Touchpoint, mo journey.ManualOutcome) (*journey.Conversion, []string) {
	c := journey.Conversion{ID: journey.ManualConversionID(tp.ID), Type: journey.ConversionForm, At: tp.At,
		VisitorID: tp.VisitorID, SessionID: tp.SessionID, Value: mo.Value, Currency: mo.Currency}
	var retract []string
	if tp.Kind == journey.TouchChat {
		c.Type = journey.ConversionChat
		if platform, conversation, ok := journey.ParseChatTouchpointID(tp.ID); ok {
			for _, r := range s.cfg.ChatConversions {
				retract = append(retract, r.ConversionID(chat.Event{Platform: platform, ConversationID: conversation}))
			}
		}
	}
	if !mo.Status.Converts() {
		return nil, append(retract, c.ID)
	}
	return &c, retract
}

// chatOutcomeSet reports whether any touchpoint of a chat conversation has
// an outcome set by hand, which the chat rules then leave alone.
func (s *Service) chatOutcomeSet(ctx context.Context, platform, conversation string) (bool, error) {
	id, _, err := s.ChatOutcome(ctx, platform, conversation)
	return id != "", err
}

// ChatOutcome reads the outcome set by hand on a chat conversation, on
// whichever of its events (journey.ChatTouchpointID) it was set: SetOutcome
// keeps one per conversation. It returns that event's touchpoint id, ""
// when none was set.
func (s *Service) ChatOutcome(ctx context.Context, platform, conversation string) (string, journey.ManualOutcome, error) {
	for _, t := range []chat.Type{chat.Opened, chat.Started, chat.Message, chat.Lead} {
		id := journey.ChatTouchpointID(platform, conversation, string(t))
		mo, err := s.store.ManualOutcome(ctx, id)
		if err == nil {
			return id, mo, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return "", journey.ManualOutcome{}, err
		}
	}
	return "", journey.ManualOutcome{}, nil
}

// outcomeMessages are the deliveries a change of outcome owes: the
// conversion itself to every sink when none has had it, otherwise an
// adjustment to each sink that has.
func (s *Service) outcomeMessages(ctx context.Context, rec journey.CallRecord, call provider.CallEvent, mo journey.ManualOutcome, convID string) ([]store.OutboxMessage, error) {
	return s.changeMessages(ctx, convID, rec.Conversion, rec.Touchpoint.At, rec.Attribution.SessionID, rec.Attribution.Source, mo,
		func() ([]store.OutboxMessage, error) { return s.conversionMessages(ctx, rec, call) })
}

// changeMessages are the deliveries a change of outcome owes conversion
// convID (put: its new state, nil when retracted; at: when it happened):
// first's messages when no sink has had it, else the adjustment, exported
// under session sessionID as it is now (src when it is gone).
func (s *Service) changeMessages(ctx context.Context, convID string, put *journey.Conversion, at time.Time, sessionID string,
	src classify.Source, mo journey.ManualOutcome, first func() ([]store.OutboxMessage, error)) ([]store.OutboxMessage, error) {
	if s.exports == nil {
		return nil, nil
	}
	sent, err := s.exports.Status(ctx, convID)
	if err != nil {
		return nil, err
	}
	return s.sentChangeMessages(convID, sent, put, at, mo, first, func() (classify.Source, journey.AdIDs, error) {
		return s.exported(ctx, sessionID, src)
	})
}

// sentChangeMessages is changeMessages once the sinks' messages of convID
// are read (sent: export.Exporter.Status); exported gives the source and
// ad ids an adjustment is exported under, asked only for one. The
// Service has exports.
func (s *Service) sentChangeMessages(convID string, sent []store.OutboxMessage, put *journey.Conversion, at time.Time,
	mo journey.ManualOutcome, first func() ([]store.OutboxMessage, error),
	exported func() (classify.Source, journey.AdIDs, error)) ([]store.OutboxMessage, error) {
	var had []string
	for _, m := range sent {
		// A sink with the conversion queued, sent or dead-lettered gets
		// the change as an adjustment: the exporter holds it until the
		// conversion is delivered, and dead-letters it with a dead one, so
		// an operator who requeues both sends the conversion, then the
		// change (queuing the conversion again would queue nothing: its
		// message exists).
		if m.Kind == export.KindConversion {
			had = append(had, m.Sink)
		}
	}
	if len(had) == 0 {
		if put == nil {
			return nil, nil
		}
		return first()
	}
	adj := &export.Adjustment{ConversionID: convID, Type: export.AdjustRetract, Status: string(mo.Status), At: mo.SetAt, Version: mo.Version,
		ConversionAt: at}
	if put != nil {
		adj.Type, adj.Value, adj.Currency = export.AdjustRestate, put.Value, put.Currency
	}
	src, ids, err := exported()
	if err != nil {
		return nil, err
	}
	msgs, err := s.exports.Messages(export.Event{Adjustment: adj, Source: src, AdIDs: ids})
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(msgs, func(m store.OutboxMessage) bool { return !slices.Contains(had, m.Sink) }), nil
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
	case errors.Is(err, ErrUnknownTouchpoint):
		writeJSON(w, http.StatusNotFound, apiError{err.Error()})
	case errors.Is(err, store.ErrInvalid):
		writeJSON(w, http.StatusBadRequest, apiError{err.Error()})
	default:
		writeJSON(w, http.StatusServiceUnavailable, apiError{err.Error()})
	}
}

// ExportStatus is each export sink's status report (export.Exporter.Report):
// pending, accepted and rejected deliveries, with the platforms' reasons.
// Without exports it is empty.
func (s *Service) ExportStatus(ctx context.Context) ([]export.SinkStatus, error) {
	if s.exports == nil {
		return nil, nil
	}
	return s.exports.Report(ctx)
}
