package main

import (
	"context"
	"log/slog"
	"sync"

	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/store"
)

// activityLog is the quickstart's store wrapped so that the flow shows in
// the log as it happens: one Info line when a visit starts a session, when
// a call is first stitched, and when a conversion is first recorded. The
// service writes the same records again as a session and a call go on
// (heartbeats, status callbacks), so each is logged once, by its id.
type activityLog struct {
	outboxStore
	log *slog.Logger

	mu   sync.Mutex
	seen map[string]bool
}

// outboxStore is a store that also keeps the export outbox, as every
// store of the library does: the wrapper keeps that role visible, so the
// call analysis can queue its work there.
type outboxStore interface {
	store.Store
	store.Outbox
}

func newActivityLog(st outboxStore, log *slog.Logger) *activityLog {
	return &activityLog{outboxStore: st, log: log, seen: map[string]bool{}}
}

// first reports whether key is seen for the first time.
func (a *activityLog) first(key string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.seen[key] {
		return false
	}
	a.seen[key] = true
	return true
}

func (a *activityLog) PutSession(ctx context.Context, s journey.Session) error {
	err := a.outboxStore.PutSession(ctx, s)
	if err == nil && a.log.Enabled(ctx, slog.LevelInfo) && a.first("session:"+s.ID) {
		a.log.InfoContext(ctx, "visit", "session", s.ID, "channel", s.Source.Channel, "source", s.Source.Source,
			"medium", s.Source.Medium, "campaign", s.Source.Campaign, "landing", s.LandingURL)
	}
	return err
}

// PutCallRecord is where the service writes a call's attribution and, if
// it qualified, its conversion, in one transaction.
func (a *activityLog) PutCallRecord(ctx context.Context, rec journey.CallRecord, msgs ...store.OutboxMessage) error {
	err := a.outboxStore.PutCallRecord(ctx, rec, msgs...)
	if err != nil || !a.log.Enabled(ctx, slog.LevelInfo) {
		return err
	}
	at := rec.Attribution
	if a.first("call:" + at.Provider + "/" + at.CallID) {
		args := []any{"call_id", at.CallID}
		if call, err := a.outboxStore.Call(ctx, at.Provider, at.CallID); err == nil {
			args = append(args, "from", call.From, "to", call.To)
		}
		args = append(args, "channel", at.Source.Channel, "campaign", at.Source.Campaign,
			"confidence", at.Confidence, "session", at.SessionID)
		a.log.InfoContext(ctx, "call", args...)
	}
	if c := rec.Conversion; c != nil && a.first("conversion:"+c.ID) {
		a.log.InfoContext(ctx, "conversion", "id", c.ID, "type", c.Type, "value", money(c.Value), "currency", c.Currency,
			"session", c.SessionID)
	}
	return nil
}
