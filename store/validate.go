package store

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/phone"
	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/provider"
)

// Validator is a record that checks itself, as the journey types do.
type Validator interface{ Validate() error }

// ValidateRecord runs r.Validate and wraps a failure with [ErrInvalid].
func ValidateRecord(r Validator) error {
	if err := r.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return nil
}

// ValidateCall reports every invalid field of a call event, wrapped with
// [ErrInvalid]: provider and call_id are required; to must be E.164 when
// set; from and forwarded_from must be E.164 or, when the host keys caller
// identities, the keyed form [journey.RedactCall] leaves there
// ([journey.IsKeyed]: "h:" and 64 hex digits); the duration may not be
// negative; and kind, direction and status must be known values (status
// may be empty).
func ValidateCall(ev provider.CallEvent) error {
	var errs []error
	if ev.Provider == "" {
		errs = append(errs, errors.New("call: provider is empty"))
	}
	if ev.CallID == "" {
		errs = append(errs, errors.New("call: call_id is empty"))
	}
	for _, f := range []struct {
		name, v string
		keyed   bool // may hold the caller's keyed identifier instead
	}{{"from", ev.From, true}, {"to", ev.To, false}, {"forwarded_from", ev.ForwardedFrom, true}} {
		switch {
		case f.v == "" || phone.IsE164(f.v) || f.keyed && journey.IsKeyed(f.v):
		case f.keyed:
			errs = append(errs, fmt.Errorf("call: %s %q is neither an E.164 number nor a keyed caller identifier", f.name, f.v))
		default:
			errs = append(errs, fmt.Errorf("call: %s %q is not an E.164 number", f.name, f.v))
		}
	}
	if ev.Duration < 0 {
		errs = append(errs, fmt.Errorf("call: duration %s is negative", ev.Duration))
	}
	if ev.Kind != provider.KindStatus && ev.Kind != provider.KindInbound {
		errs = append(errs, fmt.Errorf("call: kind %d is not a known kind", ev.Kind))
	}
	switch ev.Direction {
	case "", provider.DirectionInbound, provider.DirectionOutbound:
	default:
		errs = append(errs, fmt.Errorf("call: direction %q is not a known direction", ev.Direction))
	}
	if ev.Status != provider.StatusUnknown && ev.Status.Rank() == 0 {
		errs = append(errs, fmt.Errorf("call: status %q is not a known status", ev.Status))
	}
	if !ev.Outcome.Valid() {
		errs = append(errs, fmt.Errorf("call: outcome %q is not a known outcome", ev.Outcome))
	}
	if a, ok := provider.ParseAttestation(string(ev.Attestation)); ev.Attestation != "" && (!ok || a != ev.Attestation) {
		errs = append(errs, fmt.Errorf("call: attestation %q is not A, B or C", ev.Attestation))
	}
	if ev.TalkTime < 0 {
		errs = append(errs, fmt.Errorf("call: talk_time %s is negative", ev.TalkTime))
	}
	if ev.Recording.Duration < 0 {
		errs = append(errs, fmt.Errorf("call: recording duration %s is negative", ev.Recording.Duration))
	}
	for i, l := range ev.Labels {
		if !utf8.ValidString(l) || strings.ContainsRune(l, 0) {
			errs = append(errs, fmt.Errorf("call: labels[%d] is not UTF-8 text", i))
		}
	}
	if !utf8.ValidString(ev.Transcript) || strings.ContainsRune(ev.Transcript, 0) {
		errs = append(errs, errors.New("call: transcript is not UTF-8 text"))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrInvalid, errors.Join(errs...))
	}
	return nil
}

// ValidateHold reports every invalid field of a hold record, wrapped with
// [ErrInvalid]: pool and session_id are required, number must be E.164,
// from must be set and until, when set, may not be before from.
func ValidateHold(h pool.HoldRecord) error {
	var errs []error
	if h.Pool == "" {
		errs = append(errs, errors.New("hold: pool is empty"))
	}
	if h.SessionID == "" {
		errs = append(errs, errors.New("hold: session_id is empty"))
	}
	if !phone.IsE164(h.Number) {
		errs = append(errs, fmt.Errorf("hold: number %q is not an E.164 number", h.Number))
	}
	if h.From.IsZero() {
		errs = append(errs, errors.New("hold: from is zero"))
	}
	if !h.Until.IsZero() && h.Until.Before(h.From) {
		errs = append(errs, errors.New("hold: until is before from"))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrInvalid, errors.Join(errs...))
	}
	return nil
}

// Micro returns t in UTC truncated to the microsecond: the precision every
// adapter stores and returns. The zero time stays zero.
func Micro(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

// ValidateCallRecord validates every part of a call record and the outbox
// messages written with its conversion, wrapping failures with
// [ErrInvalid]: nothing of an invalid record is written.
func ValidateCallRecord(rec journey.CallRecord, msgs []OutboxMessage) error {
	var errs []error
	add := func(part string, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", part, err))
		}
	}
	add("attribution", rec.Attribution.Validate())
	if rec.Caller != nil {
		add("caller phone", rec.Caller.Phone.Validate())
		add("caller visitor", rec.Caller.Visitor.Validate())
	}
	add("touchpoint", rec.Touchpoint.Validate())
	if rec.Conversion != nil {
		add("conversion", rec.Conversion.Validate())
	} else if len(msgs) > 0 {
		errs = append(errs, errors.New("outbox: messages given without a conversion"))
	}
	for i, m := range msgs {
		add(fmt.Sprintf("outbox[%d]", i), m.Validate())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return nil
}

// ErasedSession stands in for an erased session's id in the text of the
// records that remain ([Retention.ErasePerson]).
const ErasedSession = "(erased session)"

// WithoutSessions returns text with every id of sessions replaced by
// [ErasedSession]: an attribution's reason names the other sessions that
// held the number, and erasure takes the erased person's out of it.
// Longer ids are replaced first, so an id inside another is not cut.
func WithoutSessions(text string, sessions []string) string {
	ids := slices.Clone(sessions)
	slices.SortFunc(ids, func(a, b string) int { return len(b) - len(a) })
	for _, id := range ids {
		if id != "" {
			text = strings.ReplaceAll(text, id, ErasedSession)
		}
	}
	return text
}
