package store

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/attriqs/calltrack/journey"
)

// Outcomes keeps the outcomes of touchpoints set by hand
// ([journey.ManualOutcome]) and applies each to its conversion
// atomically: the outcome, the conversion it makes or retracts and the
// export adjustments reporting the change are stored together or not at
// all, so a crash cannot leave an outcome whose adjustment is never sent.
//
// Besides the rules shared by every role ([Store]), each rule below is a
// case of storetest:
//   - SetOutcomeRoundTripsEveryFieldInUTCMicroseconds: ManualOutcome
//     returns the outcome as set, SetAt in UTC microseconds.
//   - SetOutcomeVersionMustFollowTheStoredOne: o.Version must be the
//     stored outcome's Version + 1, or 1 when there is none; any other
//     (a repeat, a gap) is [ErrConflict] and nothing of the call is
//     written, so of two people changing one outcome at once, one wins.
//   - SetOutcomePutsTheConversionAndEnqueuesItsMessages: put is written
//     as [Conversions.PutConversion] writes it and msgs are enqueued as
//     [Outbox.EnqueueOutbox] enqueues them: an existing message id
//     changes nothing.
//   - SetOutcomeRetractsConversionsAndKeepsTheirMessages: every
//     conversion whose id is in retract is deleted; unknown ids are no
//     error; the retracted conversions' outbox messages stay (they are
//     the retraction's own messages, or already owed).
//   - SetOutcomeIsAllOrNothing: a put whose id exists with another Type
//     is [ErrConflict], and then neither the outcome, nor the retraction,
//     nor the messages are written.
//   - SetOutcomeInvalidNamesFieldAndWritesNothing: an invalid outcome
//     (o.Validate), conversion or message, or a put whose id is also
//     retracted, is [ErrInvalid] naming each problem.
//   - ManualOutcomeMissingIsErrNotFound.
//   - ParallelSetOutcomesOfOneVersionOneWins: of concurrent SetOutcome
//     calls with the same Version, in one process or several, exactly one
//     succeeds.
//   - DeleteBeforeDeletesTheOutcomesOfTheTouchpointsItDeletes:
//     [Retention.DeleteBefore] deletes the outcomes of the touchpoints it
//     deletes, and the outcomes set before the cut-off whose touchpoint is
//     not stored (nothing else would ever delete them); each counts as a
//     deleted record.
//   - ErasePersonDeletesTheOutcomesOfTheirTouchpointsAndCalls:
//     [Retention.ErasePerson] deletes the outcomes of every touchpoint it
//     erases and of every call it erases
//     ([journey.CallTouchpointID]), stored touchpoint or not.
type Outcomes interface {
	// SetOutcome stores o as the hand-set outcome of o.TouchpointID and, in
	// the same transaction: when put is non-nil, inserts or replaces the
	// conversion *put (as Conversions.PutConversion: an existing id of
	// another Type is ErrConflict); deletes every conversion whose id is in
	// retract (unknown ids are no error; a retracted conversion's pending
	// outbox messages stay: they are the retraction's own messages or
	// already owed); and enqueues msgs (as Outbox.EnqueueOutbox: an
	// existing id changes nothing). o.Version must be the stored outcome's
	// Version + 1, or 1 when there is none; otherwise ErrConflict and
	// nothing is written. An invalid o (o.Validate) is ErrInvalid.
	SetOutcome(ctx context.Context, o journey.ManualOutcome, put *journey.Conversion, retract []string, msgs ...OutboxMessage) error
	// ManualOutcome returns the touchpoint's hand-set outcome, or
	// [ErrNotFound].
	ManualOutcome(ctx context.Context, touchpointID string) (journey.ManualOutcome, error)
}

// ValidateSetOutcome reports every problem of a [Outcomes.SetOutcome]
// call, each naming its part, wrapped with [ErrInvalid]; adapters call it
// before writing anything.
func ValidateSetOutcome(o journey.ManualOutcome, put *journey.Conversion, retract []string, msgs []OutboxMessage) error {
	var errs []error
	add := func(part string, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", part, err))
		}
	}
	add("outcome", o.Validate())
	if put != nil {
		add("conversion", put.Validate())
		// Deleting and writing one id in one call has no single meaning.
		if slices.Contains(retract, put.ID) {
			errs = append(errs, fmt.Errorf("retract: names %q, the conversion put", put.ID))
		}
	}
	for i, m := range msgs {
		add(fmt.Sprintf("outbox[%d]", i), m.Validate())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return nil
}
