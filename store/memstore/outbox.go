package memstore

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/store"
)

var _ store.Outbox = (*Store)(nil)

// normOutbox is m as stored: times in UTC microseconds, payload copied.
func (m *Store) normOutbox(msg store.OutboxMessage) store.OutboxMessage {
	msg.State, msg.Attempts, msg.LastError, msg.DeliveredAt, msg.Claim = store.OutboxPending, 0, "", time.Time{}, ""
	if msg.CreatedAt.IsZero() {
		msg.CreatedAt = m.now()
	}
	msg.CreatedAt = store.Micro(msg.CreatedAt)
	if msg.NextAt.IsZero() {
		msg.NextAt = msg.CreatedAt
	}
	msg.NextAt = store.Micro(msg.NextAt)
	msg.UpdatedAt = msg.CreatedAt
	msg.Payload = slices.Clone(msg.Payload)
	return msg
}

func cloneMsg(msg store.OutboxMessage) store.OutboxMessage {
	msg.Payload = slices.Clone(msg.Payload)
	return msg
}

// enqueue adds the messages whose ids are new; m.mu must be held.
func (m *Store) enqueue(msgs []store.OutboxMessage) {
	for _, msg := range msgs {
		if _, ok := m.outbox[msg.ID]; ok {
			continue
		}
		n := m.normOutbox(msg)
		m.outbox[msg.ID] = &n
	}
}

// EnqueueOutbox implements [store.Outbox].
func (m *Store) EnqueueOutbox(ctx context.Context, msgs ...store.OutboxMessage) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if err := store.ValidateOutbox(msgs); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.enqueue(msgs)
	return nil
}

// PutConversionWithOutbox implements [store.Outbox].
func (m *Store) PutConversionWithOutbox(ctx context.Context, c journey.Conversion, msgs ...store.OutboxMessage) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if err := store.ValidateRecord(c); err != nil {
		return err
	}
	if err := store.ValidateOutbox(msgs); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur, ok := m.conversions[c.ID]; ok && cur.Type != c.Type {
		return fmt.Errorf("conversion %q is a %s, not a %s: %w", c.ID, cur.Type, c.Type, store.ErrConflict)
	}
	m.conversions[c.ID] = normConversion(c)
	m.enqueue(msgs)
	return nil
}

func newClaim() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ClaimOutbox implements [store.Outbox].
func (m *Store) ClaimOutbox(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]store.OutboxMessage, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, nil
	}
	now = store.Micro(now)
	m.mu.Lock()
	defer m.mu.Unlock()
	var due []*store.OutboxMessage
	for _, msg := range m.outbox {
		if msg.State == store.OutboxPending && !msg.NextAt.After(now) {
			due = append(due, msg)
		}
	}
	slices.SortFunc(due, func(a, b *store.OutboxMessage) int {
		return cmp.Or(a.NextAt.Compare(b.NextAt), cmp.Compare(a.ID, b.ID))
	})
	if len(due) > limit {
		due = due[:limit]
	}
	claim := newClaim()
	out := make([]store.OutboxMessage, 0, len(due))
	for _, msg := range due {
		msg.Attempts++
		msg.Claim = claim
		msg.NextAt = store.Micro(now.Add(lease))
		msg.UpdatedAt = now
		out = append(out, cloneMsg(*msg))
	}
	return out, nil
}

// MarkOutboxDelivered implements [store.Outbox].
func (m *Store) MarkOutboxDelivered(ctx context.Context, id string, at time.Time) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	msg, ok := m.outbox[id]
	if !ok {
		return fmt.Errorf("outbox message %q: %w", id, store.ErrNotFound)
	}
	if msg.State == store.OutboxDelivered {
		return nil
	}
	at = store.Micro(at)
	msg.State, msg.DeliveredAt, msg.UpdatedAt = store.OutboxDelivered, at, at
	return nil
}

// MarkOutboxFailed implements [store.Outbox].
func (m *Store) MarkOutboxFailed(ctx context.Context, id, claim, lastError string, at, retryAt time.Time, dead bool) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	msg, err := m.held(id, claim)
	if err != nil {
		return err
	}
	msg.LastError, msg.UpdatedAt = lastError, store.Micro(at)
	if dead {
		msg.State = store.OutboxDead
	} else {
		msg.NextAt = store.Micro(retryAt)
	}
	return nil
}

// held is message id while claim holds it; m.mu is held.
func (m *Store) held(id, claim string) (*store.OutboxMessage, error) {
	msg, ok := m.outbox[id]
	if !ok {
		return nil, fmt.Errorf("outbox message %q: %w", id, store.ErrNotFound)
	}
	if msg.State != store.OutboxPending || msg.Claim != claim {
		return nil, fmt.Errorf("outbox message %q is no longer held by claim %q: %w", id, claim, store.ErrConflict)
	}
	return msg, nil
}

// DeferOutbox implements [store.Outbox].
func (m *Store) DeferOutbox(ctx context.Context, id, claim, reason string, at, retryAt time.Time) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	msg, err := m.held(id, claim)
	if err != nil {
		return err
	}
	msg.Attempts = max(msg.Attempts-1, 0)
	msg.LastError, msg.UpdatedAt, msg.NextAt = reason, store.Micro(at), store.Micro(retryAt)
	return nil
}

// RequeueOutbox implements [store.Outbox].
func (m *Store) RequeueOutbox(ctx context.Context, id string, at time.Time) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	msg, ok := m.outbox[id]
	if !ok {
		return fmt.Errorf("outbox message %q: %w", id, store.ErrNotFound)
	}
	if msg.State == store.OutboxDelivered {
		return fmt.Errorf("outbox message %q was delivered: %w", id, store.ErrConflict)
	}
	at = store.Micro(at)
	msg.State, msg.Attempts, msg.NextAt, msg.UpdatedAt, msg.Claim = store.OutboxPending, 0, at, at, ""
	return nil
}

// OutboxMessage implements [store.Outbox].
func (m *Store) OutboxMessage(ctx context.Context, id string) (store.OutboxMessage, error) {
	if err := ctxErr(ctx); err != nil {
		return store.OutboxMessage{}, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	msg, ok := m.outbox[id]
	if !ok {
		return store.OutboxMessage{}, fmt.Errorf("outbox message %q: %w", id, store.ErrNotFound)
	}
	return cloneMsg(*msg), nil
}

// OutboxOfConversion implements [store.Outbox].
func (m *Store) OutboxOfConversion(ctx context.Context, conversionID string) ([]store.OutboxMessage, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []store.OutboxMessage
	for _, msg := range m.outbox {
		if msg.ConversionID == conversionID {
			out = append(out, cloneMsg(*msg))
		}
	}
	slices.SortFunc(out, func(a, b store.OutboxMessage) int {
		return cmp.Or(cmp.Compare(a.Sink, b.Sink), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// OutboxByState implements [store.Outbox].
func (m *Store) OutboxByState(ctx context.Context, state store.OutboxState, limit int) ([]store.OutboxMessage, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []store.OutboxMessage
	for _, msg := range m.outbox {
		if msg.State == state {
			out = append(out, cloneMsg(*msg))
		}
	}
	slices.SortFunc(out, func(a, b store.OutboxMessage) int {
		return cmp.Or(b.UpdatedAt.Compare(a.UpdatedAt), cmp.Compare(a.ID, b.ID))
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// deleteOutboxOf deletes the messages of a conversion; m.mu must be held.
func (m *Store) deleteOutboxOf(conversionID string) {
	for id, msg := range m.outbox {
		if msg.ConversionID == conversionID {
			delete(m.outbox, id)
		}
	}
}
