package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/attriqs/calltrack/journey"
)

// OutboxState is where an outbox message is in its delivery.
type OutboxState string

const (
	// OutboxPending: owed to its sink; claimed when due.
	OutboxPending OutboxState = "pending"
	// OutboxDelivered: the sink accepted it. Final.
	OutboxDelivered OutboxState = "delivered"
	// OutboxDead: given up on (a permanent error, or too many attempts);
	// kept with its last error until requeued or deleted by retention.
	OutboxDead OutboxState = "dead"
)

// Valid reports whether s is one of the defined states.
func (s OutboxState) Valid() bool {
	return s == OutboxPending || s == OutboxDelivered || s == OutboxDead
}

// OutboxMessage is one delivery owed to one sink: a conversion or a call
// event pushed to a CRM, an ad platform or a webhook. The store keeps it
// until the sink has it; the export package decides what the payload is
// and delivers it.
type OutboxMessage struct {
	// ID is the natural id and the idempotency key receivers dedupe on.
	ID string `json:"id"`
	// Sink names the sink that delivers the message.
	Sink string `json:"sink"`
	// Kind says what the payload is ("conversion", "call").
	Kind string `json:"kind"`
	// ConversionID names the conversion the message reports, if any; the
	// delivery status of a conversion is found by it.
	ConversionID string `json:"conversion_id,omitempty"`
	// Payload is opaque to the store (JSON in practice).
	Payload []byte `json:"payload,omitempty"`

	// Delivery state, maintained by the store.
	State     OutboxState `json:"state"`
	Attempts  int         `json:"attempts"` // claims so far, each one a delivery attempt
	NextAt    time.Time   `json:"next_at"`  // due time while pending; a claim pushes it to the lease's end
	LastError string      `json:"last_error,omitempty"`
	CreatedAt time.Time   `json:"created_at"`
	UpdatedAt time.Time   `json:"updated_at"`
	// DeliveredAt is set once the message is delivered.
	DeliveredAt time.Time `json:"delivered_at,omitzero"`
	// Claim is the token of the claim that last took the message; only
	// that claim may report its failure.
	Claim string `json:"claim,omitempty"`
}

// CallOutboxID is the id of the message that reports the call
// (providerName, callID) alone, without a conversion, to sink:
// "<sink>/call:<provider>/<call id>". Writers of such messages use it
// (export.MessageID does), so that [Retention.ErasePerson] can find them:
// the store does not read payloads.
func CallOutboxID(sink, providerName, callID string) string {
	return sink + callOutboxInfix + providerName + "/" + callID
}

const callOutboxInfix = "/call:"

// IsCallOutboxID reports whether id is [CallOutboxID] of the call
// (providerName, callID) for some sink.
func IsCallOutboxID(id, providerName, callID string) bool {
	suffix := callOutboxInfix + providerName + "/" + callID
	return len(id) > len(suffix) && strings.HasSuffix(id, suffix)
}

// Validate reports every missing field of a message to enqueue, each named.
func (m OutboxMessage) Validate() error {
	var errs []error
	if m.ID == "" {
		errs = append(errs, errors.New("outbox: id is empty"))
	}
	if m.Sink == "" {
		errs = append(errs, errors.New("outbox: sink is empty"))
	}
	if m.Kind == "" {
		errs = append(errs, errors.New("outbox: kind is empty"))
	}
	return errors.Join(errs...)
}

// ValidateOutbox validates every message and wraps failures with
// [ErrInvalid], naming the message by position when there are several.
func ValidateOutbox(msgs []OutboxMessage) error {
	var errs []error
	for i, m := range msgs {
		if err := m.Validate(); err != nil {
			if len(msgs) > 1 {
				err = fmt.Errorf("message %d: %w", i, err)
			}
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrInvalid, errors.Join(errs...))
	}
	return nil
}

// Outbox is a persistent queue of deliveries owed to sinks: the transactional
// outbox pattern. A conversion and the messages reporting it are written in
// one transaction, so a crash can lose neither one without the other, and
// delivery runs later from the outbox, at least once.
//
// It is an optional role: the export package finds it on a store by type
// assertion. memstore, sqlite and postgres implement it, and storetest
// checks every sentence below on any store that does.
//
// Besides the rules shared by every role ([Store]):
//   - Enqueue of an id that exists changes nothing (not its payload, state
//     or attempts), so enqueuing again never sends twice.
//   - A claim leases messages: it increments Attempts, sets a fresh Claim
//     token and moves NextAt to now+lease, so a message whose claimer died
//     is due again, and claimed again, once the lease runs out (a
//     visibility timeout). Concurrent claims, in one process or several,
//     never return the same message while its lease runs.
//   - MarkOutboxDelivered always wins: a delivery is a fact, even when
//     reported by a claim whose lease ran out.
//   - MarkOutboxFailed and DeferOutbox only apply for the claim that holds
//     the message (same Claim token, still pending); otherwise they are
//     [ErrConflict] and change nothing.
//   - Unknown ids are [ErrNotFound] for every method naming one id.
//   - Retention: DeleteBefore deletes delivered and dead messages last
//     updated before the cut-off (pending ones are still owed);
//     ErasePerson deletes the messages of every conversion it erases.
type Outbox interface {
	// EnqueueOutbox inserts msgs in state pending, all or none. State,
	// Attempts, LastError, DeliveredAt and Claim are ignored; a zero
	// CreatedAt means the store's clock now, and a zero NextAt means
	// CreatedAt (due at once).
	EnqueueOutbox(ctx context.Context, msgs ...OutboxMessage) error
	// PutConversionWithOutbox writes c as [Conversions.PutConversion] does
	// and enqueues msgs as EnqueueOutbox does, in one transaction: both are
	// stored or neither is.
	PutConversionWithOutbox(ctx context.Context, c journey.Conversion, msgs ...OutboxMessage) error
	// ClaimOutbox leases up to limit pending messages with NextAt <= now,
	// earliest NextAt first (then by id), for lease, and returns them as
	// claimed (Attempts already incremented, Claim set), in that order.
	ClaimOutbox(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]OutboxMessage, error)
	// MarkOutboxDelivered records the delivery of message id at at. Marking
	// a delivered message again is a no-op; a dead one becomes delivered.
	MarkOutboxDelivered(ctx context.Context, id string, at time.Time) error
	// MarkOutboxFailed records a failed attempt of the claim: the error
	// text, and either the time to try again (dead false) or the dead
	// state (dead true).
	MarkOutboxFailed(ctx context.Context, id, claim, lastError string, at, retryAt time.Time, dead bool) error
	// DeferOutbox hands a claimed message back without counting the claim
	// as an attempt: it stays pending, due at retryAt, with Attempts one
	// lower than the claim made it (never below zero), LastError set to
	// reason (why it waits) and UpdatedAt to at. A message that must wait
	// for another one (an adjustment for the conversion it adjusts) uses
	// it, so waiting never uses up its attempts.
	DeferOutbox(ctx context.Context, id, claim, reason string, at, retryAt time.Time) error
	// RequeueOutbox makes a dead (or pending) message pending again, due at
	// at, with its attempts reset to zero; a delivered one is [ErrConflict].
	RequeueOutbox(ctx context.Context, id string, at time.Time) error
	// OutboxMessage returns one message, or [ErrNotFound].
	OutboxMessage(ctx context.Context, id string) (OutboxMessage, error)
	// OutboxOfConversion returns the messages reporting one conversion,
	// ordered by sink, then id.
	OutboxOfConversion(ctx context.Context, conversionID string) ([]OutboxMessage, error)
	// OutboxByState returns up to limit messages in state, most recently
	// updated first, then by id; limit <= 0 means all.
	OutboxByState(ctx context.Context, state OutboxState, limit int) ([]OutboxMessage, error)
}
