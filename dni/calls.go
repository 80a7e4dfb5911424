package dni

import (
	"context"
	"fmt"
	"strings"

	"github.com/attriqs/calltrack/export"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/phone"
	"github.com/attriqs/calltrack/provider"
)

// RecordCall records one call event and brings everything that follows
// from it up to date: the call is merged into its stored state, stitched
// to a session, linked into the caller's identity and journey, and
// qualified. Duplicate and out-of-order events converge: each run re-does
// the same work on the merged call and writes the same records by their
// natural ids. It implements provider.CallRecorder; webhook handlers call
// it through their ingest queue, after the caller has been answered.
func (s *Service) RecordCall(ctx context.Context, ev provider.CallEvent) error {
	if err := s.store.RecordCall(ctx, ev); err != nil {
		return err
	}
	call, err := s.store.Call(ctx, ev.Provider, ev.CallID)
	if err != nil {
		return err
	}
	if _, err := journey.CallTime(call); err != nil || call.To == "" {
		return nil // nothing to stitch yet; a later event will carry it
	}
	a, err := s.stitcher.Stitch(ctx, call)
	if err != nil {
		return err
	}
	if err := s.store.PutAttribution(ctx, a); err != nil {
		return err
	}
	visitor, err := s.linkCaller(ctx, call, a)
	if err != nil {
		return err
	}
	at, _ := journey.CallTime(call)
	tp := journey.Touchpoint{ID: "call:" + call.Key(), Kind: journey.TouchCall, At: at.UTC(),
		VisitorID: visitor, SessionID: a.SessionID, Source: a.Source,
		Attrs: map[string]string{"status": string(call.Status), "confidence": string(a.Confidence)}}
	if call.Duration > 0 {
		tp.Attrs["talk_s"] = fmt.Sprint(int(journey.TalkTime(call).Seconds()))
	}
	if err := s.store.AddTouchpoint(ctx, tp); err != nil {
		return err
	}
	poolName := ""
	if info, ok := s.catalog.Number(call.To); ok {
		poolName = info.Pool
	}
	d, err := s.qualifier.Qualify(ctx, call, a, poolName)
	if err != nil {
		return err
	}
	if d.Qualified {
		d.Conversion.VisitorID = visitor // a caller with no session is filed under the caller
		if s.exports != nil {
			return s.exports.Record(ctx, export.Event{Conversion: &d.Conversion, Call: &call, Source: a.Source})
		}
		return s.store.PutConversion(ctx, d.Conversion)
	}
	return nil
}

// linkCaller joins the caller's number to the visitor the call was
// stitched to, so that a returning caller's calls, and this session, land
// in one journey, and returns the visitor id to file the call under. A
// call no session explains (dedicated or pool-only) is filed under a
// visitor id derived from the caller's number and linked to it, so the
// caller's journey still holds it; withheld numbers share one such id.
func (s *Service) linkCaller(ctx context.Context, call provider.CallEvent, a journey.Attribution) (string, error) {
	visitor := a.VisitorID
	phone, err := journey.PhoneID(call.From, s.cfg.IdentityKey)
	if err != nil {
		if visitor == "" {
			visitor = "caller-withheld"
		}
		return visitor, nil
	}
	if visitor == "" {
		visitor = "caller-" + strings.TrimPrefix(strings.TrimPrefix(phone.Value, "h:"), "+")
	}
	_, err = s.store.Link(ctx, phone, journey.Identifier{Kind: journey.IDVisitor, Value: visitor})
	return visitor, err
}

// route answers an inbound call from memory only: the caller must reach the
// business even when the store is down.
func (s *Service) route(_ context.Context, ev provider.CallEvent) (provider.Forward, error) {
	f := provider.Forward{CallerIDPassthrough: s.cfg.CallerIDPassthrough, RingTimeout: s.cfg.RingTimeout,
		Record: s.cfg.Record, RecordingNotice: s.cfg.RecordingNotice}
	if d, ok := s.catalog.Dedicated(ev.To); ok {
		f.To = d.BusinessNumber
		if s.cfg.WhisperSource {
			f.Whisper = "Call from " + d.Campaign
		}
		return f, nil
	}
	info, ok := s.catalog.Number(ev.To)
	if !ok {
		return provider.Forward{}, fmt.Errorf("dni: %q is not a tracking number", ev.To)
	}
	p, _ := s.catalog.Pool(info.Pool)
	f.To = p.BusinessNumber
	if s.cfg.WhisperSource {
		f.Whisper = "Call from " + strings.ReplaceAll(p.Name, "-", " ")
	}
	return f, nil
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
