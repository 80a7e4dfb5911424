package journey

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/attriqs/calltrack/journey/touch"
	"github.com/attriqs/calltrack/provider"
)

// OutcomeStatus is where a lead stands, as the business says by hand.
type OutcomeStatus string

const (
	// OutcomeLead: a lead, not (yet) worth a conversion.
	OutcomeLead OutcomeStatus = "lead"
	// OutcomeQualified: a qualified lead; it converts, at its value.
	OutcomeQualified OutcomeStatus = "qualified"
	// OutcomeWon: a sale; it converts, at its value.
	OutcomeWon OutcomeStatus = "won"
	// OutcomeLost: no business came of it; any conversion is retracted.
	OutcomeLost OutcomeStatus = "lost"
)

// OutcomeStatuses lists the statuses in the order a lead moves through
// them.
var OutcomeStatuses = []OutcomeStatus{OutcomeLead, OutcomeQualified, OutcomeWon, OutcomeLost}

// Valid reports whether s is a known status.
func (s OutcomeStatus) Valid() bool {
	for _, v := range OutcomeStatuses {
		if s == v {
			return true
		}
	}
	return false
}

// Converts reports whether the status makes its touchpoint a conversion.
func (s OutcomeStatus) Converts() bool { return s == OutcomeQualified || s == OutcomeWon }

// MaxOutcomeNote bounds the note kept with a hand-set outcome, in bytes.
const MaxOutcomeNote = 1000

// ManualOutcome is the outcome of a touchpoint (a call, a chat, a form)
// set by hand. It wins over the qualification rules: a call whose outcome
// converts is a conversion at the outcome's value whatever the rules say,
// and one whose outcome does not is none, however often it is qualified
// again.
type ManualOutcome struct {
	TouchpointID string        `json:"touchpoint_id"`
	Status       OutcomeStatus `json:"status"`
	Value        int64         `json:"value"`    // minor units
	Currency     string        `json:"currency"` // ISO 4217
	Note         string        `json:"note,omitempty"`
	SetAt        time.Time     `json:"set_at"`
	// Version counts the changes of the touchpoint's outcome, from 1: it
	// names each change, so an export adjustment is sent once per change.
	Version int64 `json:"version"`
}

// Validate reports every invalid field, each named.
func (o ManualOutcome) Validate() error {
	var errs []error
	if o.TouchpointID == "" {
		errs = append(errs, errors.New("outcome: touchpoint_id is empty"))
	}
	if !o.Status.Valid() {
		errs = append(errs, fmt.Errorf("outcome: status %q is not one of %v", o.Status, OutcomeStatuses))
	}
	if o.Value < 0 {
		errs = append(errs, fmt.Errorf("outcome: value %d is negative", o.Value))
	}
	if !touch.ValidCurrency(o.Currency) {
		errs = append(errs, fmt.Errorf("outcome: currency %q is not a three-letter ISO 4217 code", o.Currency))
	}
	if len(o.Note) > MaxOutcomeNote || !utf8.ValidString(o.Note) || strings.ContainsRune(o.Note, 0) {
		errs = append(errs, fmt.Errorf("outcome: note is not UTF-8 text of at most %d bytes", MaxOutcomeNote))
	}
	if o.SetAt.IsZero() {
		errs = append(errs, errors.New("outcome: set_at is zero"))
	}
	if o.Version < 1 {
		errs = append(errs, fmt.Errorf("outcome: version %d is not positive", o.Version))
	}
	return errors.Join(errs...)
}

// ManualConversionID is the id of the conversion a hand-set outcome makes
// of a touchpoint that is not a call (a call's is [CallConversionID]).
func ManualConversionID(touchpointID string) string { return "outcome:" + touchpointID }

// OutcomeBook finds the hand-set outcome of a touchpoint; ok is false when
// there is none.
type OutcomeBook interface {
	HandSetOutcome(ctx context.Context, touchpointID string) (o ManualOutcome, ok bool, err error)
}

// ApplyOutcome makes rec, derived from call, say what the hand-set
// outcome o says: a conversion at o's value when o converts (whatever the
// rules and the spam filter decided), none when it does not.
func ApplyOutcome(rec CallRecord, call provider.CallEvent, o ManualOutcome) CallRecord {
	return applyOutcome(rec, call.Provider, call.CallID, o)
}

// ApplyStoredOutcome is ApplyOutcome for a store holding rec, which names
// its call by its attribution: stores apply the outcome they hold inside
// the transaction that writes rec, so an outcome set while rec was being
// derived is not undone by it.
func ApplyStoredOutcome(rec CallRecord, o ManualOutcome) CallRecord {
	return applyOutcome(rec, rec.Attribution.Provider, rec.Attribution.CallID, o)
}

func applyOutcome(rec CallRecord, providerName, callID string, o ManualOutcome) CallRecord {
	rec.Touchpoint.Attrs = maps.Clone(rec.Touchpoint.Attrs)
	if rec.Touchpoint.Attrs == nil {
		rec.Touchpoint.Attrs = map[string]string{}
	}
	rec.Touchpoint.Attrs[AttrOutcomeSet] = string(o.Status)
	rec.Decision = Decision{Rule: "set by hand", Reason: fmt.Sprintf("outcome %s set by hand", o.Status)}
	rec.Conversion = nil
	if !o.Status.Converts() {
		return rec
	}
	c := Conversion{ID: CallConversionID(providerName, callID), Type: ConversionCall, At: rec.Touchpoint.At,
		VisitorID: rec.Touchpoint.VisitorID, SessionID: rec.Attribution.SessionID, Value: o.Value, Currency: o.Currency,
		CallProvider: providerName, CallID: callID}
	rec.Decision.Qualified, rec.Decision.Conversion, rec.Conversion = true, c, &c
	return rec
}

// AttrOutcomeSet is the touchpoint attribute naming the status set by hand.
const AttrOutcomeSet = "outcome_set"
