package dni

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/attriqs/calltrack/classify"
	"github.com/attriqs/calltrack/export"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/phone"
	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/store"
)

// RecordCall records one call event and brings everything that follows
// from it up to date: the store merges the event into the call, the
// journey package derives what the merged call produces (attribution to a
// session, the caller's link to the visitor, the call's touchpoint and, if
// it qualifies, its conversion), and the store writes all of that in one
// transaction, with the conversion's export messages. Duplicate and
// out-of-order events converge: each run derives the same records from the
// merged call and writes them by their natural ids. It implements
// provider.CallRecorder; webhook handlers call it through their ingest
// queue, after the caller has been answered.
//
// With Config.IdentityKey set, the event is redacted first
// (journey.RedactCall: the caller's number keyed, the caller name dropped,
// the raw body sealed), as the webhooks' events already are before they
// are spooled, so the store never holds the caller in the clear.
//
// An event of a call erased by ErasePerson (a carrier's late callback)
// is dropped on purpose, logged at Info with the call's provider and id:
// the store refuses it (store.ErrErased), and neither a retry nor a dead
// letter could record it.
func (s *Service) RecordCall(ctx context.Context, ev provider.CallEvent) error {
	call, err := s.store.RecordCall(ctx, s.redact(ev))
	if errors.Is(err, store.ErrErased) {
		s.log.Info("dni: event of an erased call dropped; the call stays erased",
			"provider", ev.Provider, "call_id", ev.CallID)
		return nil
	}
	if err != nil {
		return err
	}
	return s.processCall(ctx, call)
}

// amendCall records what was learned of a stored call after the fact (its
// analysis) and derives the call again; a call no longer stored (erased
// since) is left absent: store.ErrNotFound or store.ErrErased.
func (s *Service) amendCall(ctx context.Context, ev provider.CallEvent) error {
	call, err := s.store.AmendCall(ctx, s.redact(ev))
	if err != nil {
		return err
	}
	return s.processCall(ctx, call)
}

// processCall stitches and qualifies a call as stored and writes what it
// produces; a call erased meanwhile is left erased.
func (s *Service) processCall(ctx context.Context, call provider.CallEvent) error {
	rec, err := s.calls.Process(ctx, call)
	if errors.Is(err, journey.ErrCallNotReady) {
		return nil // nothing to stitch yet; a later event will carry it
	}
	if err != nil {
		return err
	}
	var msgs []store.OutboxMessage
	if rec.Conversion != nil && s.exports != nil {
		if msgs, err = s.conversionMessages(ctx, rec, call); err != nil {
			return err
		}
	}
	err = s.store.PutCallRecord(ctx, rec, msgs...)
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrErased) {
		// The call was erased (ErasePerson) while rec was derived: it
		// stays erased, so nothing to retry or dead-letter.
		s.log.Info("dni: call erased while being recorded; its record is not written",
			"provider", call.Provider, "call_id", call.CallID)
		return nil
	}
	if err != nil {
		return err
	}
	return s.queueAnalysis(ctx, call)
}

// conversionMessages are the deliveries a call's conversion owes, with
// what the sinks match it by: the session's source and ad ids.
func (s *Service) conversionMessages(ctx context.Context, rec journey.CallRecord, call provider.CallEvent) ([]store.OutboxMessage, error) {
	src, ids, err := s.exported(ctx, rec.Attribution.SessionID, rec.Attribution.Source)
	if err != nil {
		return nil, err
	}
	return s.exports.Messages(export.Event{Conversion: rec.Conversion, Call: &call, Source: src, AdIDs: ids, Touch: journey.TouchCall})
}

// exported is what the sinks are told of the session a conversion came
// from: its source and ad ids as they are now, so a withdrawal of ads
// consent since (which clears both) holds; src, with no ad ids, when
// there is no session or it is gone.
func (s *Service) exported(ctx context.Context, sessionID string, src classify.Source) (classify.Source, journey.AdIDs, error) {
	if sessionID == "" {
		return src, journey.AdIDs{}, nil
	}
	sess, err := s.store.Session(ctx, sessionID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return src, journey.AdIDs{}, nil
	case err != nil:
		return src, journey.AdIDs{}, err
	}
	return sess.Source, sess.AdIDs, nil
}

// redact is what the Service keeps of a call event: with
// Config.IdentityKey, nothing that names the caller in the clear. The
// ingest applies it before an event is spooled, after the webhook's
// handler has routed the call from its own copy (CallerIDPassthrough
// needs the number, in memory only, for the answer).
func (s *Service) redact(ev provider.CallEvent) provider.CallEvent {
	return journey.RedactCall(ev, s.cfg.IdentityKey)
}

// ErasePerson erases a person from everything the Service keeps: first
// the call events from their numbers that wait in the spool or were kept
// as dead letters (provider.Ingest.Erase), so none is recorded after the
// erasure, and, of the waiting calls of others forwarded from their
// numbers, the forwarding number and the raw body (those calls are
// recorded, without them), then every record of the store that names them
// (store.Retention.ErasePerson: identifiers, sessions, holds, calls with
// and without a session, attributions, touchpoints, conversions, outbox
// messages). An unknown person is a no-op, so erasure may be retried. A
// call being recorded as the erasure runs stays erased: what was derived
// from it before is not written (store.CallRecords), nor retried, and
// the carrier's later callbacks of it are dropped (see RecordCall).
//
// Events are matched by the caller's and the forwarding number only: a
// waiting event from a withheld number that would have been attributed to
// one of their sessions is recorded after the erasure with no session to
// join.
func (s *Service) ErasePerson(ctx context.Context, personID string) error {
	ids, err := s.store.Identifiers(ctx, personID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("dni: erase person: %w", err)
	}
	phones := map[string]bool{}
	for _, id := range ids {
		if id.Kind == journey.IDPhone {
			phones[id.Value] = true
		}
	}
	if s.ingest != nil && len(phones) > 0 {
		theirs := func(number string) bool {
			if number == "" {
				return false
			}
			// Events spooled before the key was set hold E.164.
			id, err := journey.PhoneID(number, s.cfg.IdentityKey)
			return phones[number] || err == nil && phones[id.Value]
		}
		edit := func(ev provider.CallEvent) (bool, *provider.CallEvent) {
			if theirs(ev.From) {
				return true, nil
			}
			if theirs(ev.ForwardedFrom) {
				// Someone else's call, forwarded from their number: it
				// is recorded, without their number and without the
				// body that names them, as the store scrubs it.
				ev.ForwardedFrom, ev.Raw = "", nil
				return false, &ev
			}
			return false, nil
		}
		if _, err := s.ingest.Erase(edit); err != nil {
			return fmt.Errorf("dni: erase person: waiting call events: %w", err)
		}
	}
	// What is queued to be written behind lands first, so the erasure
	// finds it rather than being followed by it.
	if err := s.writes.flush(ctx); err != nil {
		return fmt.Errorf("dni: erase person: waiting for the writes behind: %w", err)
	}
	s.holds.flushBeforeErasure()
	if err := s.store.ErasePerson(ctx, personID); err != nil {
		return fmt.Errorf("dni: erase person: %w", err)
	}
	return nil
}

// route answers an inbound call from memory only: the caller must reach the
// business even when the store is down.
func (s *Service) route(_ context.Context, ev provider.CallEvent) (provider.Forward, error) {
	if s.cfg.RejectBlocked && s.spam.Blocked(ev.From, s.cfg.IdentityKey) {
		return provider.Forward{Reject: true}, nil
	}
	if d, ok := s.catalog.Dedicated(ev.To); ok {
		return s.cfg.forwardTo(d.BusinessNumber, "Call from "+d.Campaign), nil
	}
	info, ok := s.numbers.Number(ev.To)
	if !ok {
		return provider.Forward{}, fmt.Errorf("dni: %q is not a tracking number", ev.To)
	}
	p, _ := s.catalog.Pool(info.Pool)
	return s.cfg.forwardTo(p.BusinessNumber, "Call from "+strings.ReplaceAll(p.Name, "-", " ")), nil
}

// fallbackForward is where calls go when routing fails: the first business line.
func (s *Service) fallbackForward() provider.Forward {
	for _, name := range s.catalog.PoolNames() {
		if p, ok := s.catalog.Pool(name); ok {
			return provider.Forward{To: p.BusinessNumber}
		}
	}
	for _, d := range s.cfg.Dedicated {
		return provider.Forward{To: d.BusinessNumber}
	}
	return provider.Forward{}
}

// display writes a tracking number the way its country writes it.
// Formatting runs libphonenumber's patterns, too slow to repeat on every
// visit, so each number is formatted once, when first shown.
func (s *Service) display(number string) string {
	if d, ok := s.displays.Load(number); ok {
		return d.(string)
	}
	d := phone.National(number)
	s.displays.Store(number, d)
	return d
}

// numberDirectory finds tracking numbers: the configured ones, then the
// ones a resizable allocator (pool.Elastic, driven by pool/autoscale)
// added since, so calls to a number bought at run time are routed and
// stitched like the rest.
type numberDirectory struct {
	*pool.Catalog
	alloc pool.Allocator
}

func (d numberDirectory) Number(number string) (pool.NumberInfo, bool) {
	if info, ok := d.Catalog.Number(number); ok {
		return info, true
	}
	if r, ok := d.alloc.(interface {
		Number(string) (pool.NumberInfo, bool)
	}); ok {
		return r.Number(number)
	}
	return pool.NumberInfo{}, false
}
