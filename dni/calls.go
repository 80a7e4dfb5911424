package dni

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/attriqs/calltrack/export"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/phone"
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
func (s *Service) RecordCall(ctx context.Context, ev provider.CallEvent) error {
	call, err := s.store.RecordCall(ctx, ev)
	if err != nil {
		return err
	}
	rec, err := s.calls.Process(ctx, call)
	if errors.Is(err, journey.ErrCallNotReady) {
		return nil // nothing to stitch yet; a later event will carry it
	}
	if err != nil {
		return err
	}
	var msgs []store.OutboxMessage
	if rec.Conversion != nil && s.exports != nil {
		if msgs, err = s.exports.Messages(export.Event{Conversion: rec.Conversion, Call: &call, Source: rec.Attribution.Source}); err != nil {
			return err
		}
	}
	return s.store.PutCallRecord(ctx, rec, msgs...)
}

// route answers an inbound call from memory only: the caller must reach the
// business even when the store is down.
func (s *Service) route(_ context.Context, ev provider.CallEvent) (provider.Forward, error) {
	if d, ok := s.catalog.Dedicated(ev.To); ok {
		return s.cfg.forwardTo(d.BusinessNumber, "Call from "+d.Campaign), nil
	}
	info, ok := s.catalog.Number(ev.To)
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
