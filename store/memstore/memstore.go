package memstore

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/attriqs/calltrack/classify"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/store"
)

// Store keeps everything in maps behind one RWMutex. The zero value is not
// ready; use [New].
type Store struct {
	now func() time.Time

	mu          sync.RWMutex
	sessions    map[string]journey.Session
	outcomes    map[string]journey.ManualOutcome // by touchpoint id; made on first write
	holds       map[holdKey]*pool.HoldRecord
	holdsByNum  map[string][]*pool.HoldRecord // sorted by From, then SessionID
	maxSpan     map[string]time.Duration      // longest closed hold per number
	calls       map[callKey]*callRow
	erased      map[callKey]time.Time // erased calls by provider and digest of their id, when erased
	attrs       map[callKey]journey.Attribution
	identities  map[journey.Identifier]string // identifier -> person id
	persons     map[string]*person
	personSeq   uint64
	claims      map[claimKey]journey.Claim
	touchpoints map[string]journey.Touchpoint
	conversions map[string]journey.Conversion
	outbox      map[string]*store.OutboxMessage
	spend       map[spendKey]journey.Spend // made on first write
}

type holdKey struct {
	number, session string
	from            time.Time
}

type callKey struct{ provider, id string }

type claimKey struct {
	id      journey.Identifier
	session string
}

type callRow struct {
	ev provider.CallEvent
	at time.Time // the earliest journey.CallTime of its events
}

type person struct {
	seq uint64
	ids map[journey.Identifier]struct{}
}

var _ store.Store = (*Store)(nil)

// New returns an empty store.
func New() *Store {
	return &Store{
		now:         time.Now,
		sessions:    map[string]journey.Session{},
		holds:       map[holdKey]*pool.HoldRecord{},
		holdsByNum:  map[string][]*pool.HoldRecord{},
		maxSpan:     map[string]time.Duration{},
		calls:       map[callKey]*callRow{},
		erased:      map[callKey]time.Time{},
		attrs:       map[callKey]journey.Attribution{},
		identities:  map[journey.Identifier]string{},
		persons:     map[string]*person{},
		claims:      map[claimKey]journey.Claim{},
		touchpoints: map[string]journey.Touchpoint{},
		conversions: map[string]journey.Conversion{},
		outbox:      map[string]*store.OutboxMessage{},
	}
}

func ctxErr(ctx context.Context) error { return ctx.Err() }

// ---- sessions

func normSession(s journey.Session) journey.Session {
	s.StartedAt = store.Micro(s.StartedAt)
	s.LastSeenAt = store.Micro(s.LastSeenAt)
	s.Source = cloneSource(s.Source)
	return s
}

func cloneSource(src classify.Source) classify.Source {
	src.Problems = slices.Clone(src.Problems)
	if len(src.Problems) == 0 {
		src.Problems = nil
	}
	return src
}

// PutSession implements [store.Sessions].
func (m *Store) PutSession(ctx context.Context, s journey.Session) error {
	return m.PutSessions(ctx, []journey.Session{s})
}

// PutSessions implements [store.Sessions].
func (m *Store) PutSessions(ctx context.Context, ss []journey.Session) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	for i, s := range ss {
		if err := store.ValidateRecord(s); err != nil {
			if len(ss) > 1 {
				return fmt.Errorf("session %d: %w", i, err)
			}
			return err
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range ss {
		m.sessions[s.ID] = normSession(s)
	}
	return nil
}

// Session implements [store.Sessions].
func (m *Store) Session(ctx context.Context, id string) (journey.Session, error) {
	if err := ctxErr(ctx); err != nil {
		return journey.Session{}, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	s, ok := m.sessions[id]
	if !ok {
		return journey.Session{}, fmt.Errorf("session %q: %w", id, store.ErrNotFound)
	}
	return normSession(s), nil
}

// SessionsOfVisitor implements [store.Sessions].
func (m *Store) SessionsOfVisitor(ctx context.Context, visitorID string) ([]journey.Session, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []journey.Session
	for _, s := range m.sessions {
		if s.VisitorID == visitorID {
			out = append(out, normSession(s))
		}
	}
	slices.SortFunc(out, func(a, b journey.Session) int {
		return cmp.Or(a.StartedAt.Compare(b.StartedAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// ---- leases

// RecordHold implements [store.Leases].
func (m *Store) RecordHold(ctx context.Context, h pool.HoldRecord) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if err := store.ValidateHold(h); err != nil {
		return err
	}
	h.From, h.Until = store.Micro(h.From), store.Micro(h.Until)
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur, ok := m.holds[holdKey{h.Number, h.SessionID, h.From}]; ok && cur.Pool != h.Pool {
		return fmt.Errorf("hold of %s by %q from %s is in pool %q, not %q: %w",
			h.Number, h.SessionID, h.From.Format(time.RFC3339Nano), cur.Pool, h.Pool, store.ErrConflict)
	}
	m.recordHoldLocked(h)
	return nil
}

func compareHold(a, b *pool.HoldRecord) int {
	return cmp.Or(a.From.Compare(b.From), cmp.Compare(a.SessionID, b.SessionID))
}

func holder(h pool.HoldRecord) pool.Holder {
	return pool.Holder{Pool: h.Pool, Number: h.Number, SessionID: h.SessionID,
		From: h.From, Until: h.Until, Live: h.Until.IsZero(), Reused: h.Reused}
}

// HoldersAt implements [store.Leases].
func (m *Store) HoldersAt(ctx context.Context, number string, at time.Time, grace time.Duration) ([]pool.Holder, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	grace = max(grace, 0)
	at = store.Micro(at)
	lo := at.Add(-grace)
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []pool.Holder
	for _, h := range m.holdsByNum[number] {
		if h.From.After(at) {
			break
		}
		if h.Until.IsZero() || !h.Until.Before(lo) {
			out = append(out, holder(*h))
		}
	}
	return out, nil
}

// HoldsBetween implements [store.Leases].
func (m *Store) HoldsBetween(ctx context.Context, from, to time.Time) ([]pool.HoldRecord, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	from, to = store.Micro(from), store.Micro(to)
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []pool.HoldRecord
	for _, h := range m.holds {
		if h.From.Before(to) && (h.Until.IsZero() || !h.Until.Before(from)) {
			out = append(out, *h)
		}
	}
	slices.SortFunc(out, func(a, b pool.HoldRecord) int {
		return cmp.Or(a.From.Compare(b.From), cmp.Compare(a.Number, b.Number), cmp.Compare(a.SessionID, b.SessionID))
	})
	return out, nil
}

// ---- calls

func normCall(ev provider.CallEvent) provider.CallEvent {
	ev.OccurredAt = store.Micro(ev.OccurredAt)
	ev.StartedAt = store.Micro(ev.StartedAt)
	ev.AnsweredAt = store.Micro(ev.AnsweredAt)
	ev.EndedAt = store.Micro(ev.EndedAt)
	ev.Raw = slices.Clone(ev.Raw)
	if len(ev.Raw) == 0 {
		ev.Raw = nil // as the SQL adapters return it
	}
	// Merge may hand back the caller's slice: the stored call shares none.
	ev.Labels = slices.Clone(ev.Labels)
	if len(ev.Labels) == 0 {
		ev.Labels = nil
	}
	return ev
}

// RecordCall implements [store.Calls].
func (m *Store) RecordCall(ctx context.Context, ev provider.CallEvent) (provider.CallEvent, error) {
	return m.recordCall(ctx, ev, false)
}

// AmendCall implements [store.Calls].
func (m *Store) AmendCall(ctx context.Context, ev provider.CallEvent) (provider.CallEvent, error) {
	return m.recordCall(ctx, ev, true)
}

// recordCall upserts the call or, when existing, only updates a stored one.
func (m *Store) recordCall(ctx context.Context, ev provider.CallEvent, existing bool) (provider.CallEvent, error) {
	if err := ctxErr(ctx); err != nil {
		return provider.CallEvent{}, err
	}
	if err := store.ValidateCall(ev); err != nil {
		return provider.CallEvent{}, err
	}
	ev = normCall(ev)
	m.mu.Lock()
	defer m.mu.Unlock()
	at := store.Micro(m.now())
	if t, err := journey.CallTime(ev); err == nil {
		at = t
	}
	if _, gone := m.erased[erasedKey(ev.Provider, ev.CallID)]; gone {
		return provider.CallEvent{}, fmt.Errorf("call %s/%s: %w", ev.Provider, ev.CallID, store.ErrErased)
	}
	k := callKey{ev.Provider, ev.CallID}
	cur, ok := m.calls[k]
	if !ok && existing {
		return provider.CallEvent{}, fmt.Errorf("call %s/%s: %w", ev.Provider, ev.CallID, store.ErrNotFound)
	}
	if !ok {
		cur = &callRow{ev: provider.Merge(provider.CallEvent{}, ev), at: at}
		m.calls[k] = cur
	} else {
		cur.ev = provider.Merge(cur.ev, ev)
		if at.Before(cur.at) {
			cur.at = at
		}
	}
	cur.ev, cur.at = store.FileCall(cur.ev, cur.at)
	return normCall(cur.ev), nil
}

// erasedKey is how an erased call is remembered: by its id's digest,
// which names no call.
func erasedKey(providerName, callID string) callKey {
	return callKey{providerName, store.ErasedCallDigest(callID)}
}

// Call implements [store.Calls].
func (m *Store) Call(ctx context.Context, providerName, callID string) (provider.CallEvent, error) {
	if err := ctxErr(ctx); err != nil {
		return provider.CallEvent{}, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	c, ok := m.calls[callKey{providerName, callID}]
	if !ok {
		return provider.CallEvent{}, fmt.Errorf("call %s/%s: %w", providerName, callID, store.ErrNotFound)
	}
	return normCall(c.ev), nil
}

// CallsBetween implements [store.Calls].
func (m *Store) CallsBetween(ctx context.Context, from, to time.Time) ([]provider.CallEvent, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	from, to = store.Micro(from), store.Micro(to)
	m.mu.RLock()
	defer m.mu.RUnlock()
	var rows []*callRow
	for _, c := range m.calls {
		if !c.at.Before(from) && c.at.Before(to) {
			rows = append(rows, c)
		}
	}
	slices.SortFunc(rows, func(a, b *callRow) int {
		return cmp.Or(a.at.Compare(b.at), cmp.Compare(a.ev.Provider, b.ev.Provider), cmp.Compare(a.ev.CallID, b.ev.CallID))
	})
	out := make([]provider.CallEvent, len(rows))
	for i, r := range rows {
		out[i] = normCall(r.ev)
	}
	return out, nil
}

// ---- attributions

func normAttribution(a journey.Attribution) journey.Attribution {
	a.Source = cloneSource(a.Source)
	a.StitchedAt = store.Micro(a.StitchedAt)
	cs := make([]journey.Candidate, len(a.Candidates))
	for i, c := range a.Candidates {
		c.HeldFrom, c.HeldUntil = store.Micro(c.HeldFrom), store.Micro(c.HeldUntil)
		cs[i] = c
	}
	if len(cs) == 0 {
		cs = nil
	}
	a.Candidates = cs
	return a
}

// PutAttribution implements [store.Attributions].
func (m *Store) PutAttribution(ctx context.Context, a journey.Attribution) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if err := store.ValidateRecord(a); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.attrs[callKey{a.Provider, a.CallID}] = normAttribution(a)
	return nil
}

// Attribution implements [store.Attributions].
func (m *Store) Attribution(ctx context.Context, providerName, callID string) (journey.Attribution, error) {
	if err := ctxErr(ctx); err != nil {
		return journey.Attribution{}, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	a, ok := m.attrs[callKey{providerName, callID}]
	if !ok {
		return journey.Attribution{}, fmt.Errorf("attribution of call %s/%s: %w", providerName, callID, store.ErrNotFound)
	}
	return normAttribution(a), nil
}

// ---- identities

func newPersonID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "p_" + hex.EncodeToString(b[:])
}

// ensure returns id's person, creating one; m.mu must be held.
func (m *Store) ensure(id journey.Identifier) string {
	if p, ok := m.identities[id]; ok {
		return p
	}
	m.personSeq++
	p := newPersonID()
	m.persons[p] = &person{seq: m.personSeq, ids: map[journey.Identifier]struct{}{id: {}}}
	m.identities[id] = p
	return p
}

// Link implements [store.Identities].
func (m *Store) Link(ctx context.Context, a, b journey.Identifier) (string, error) {
	if err := ctxErr(ctx); err != nil {
		return "", err
	}
	if err := validateIDs(a, b); err != nil {
		return "", err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.link(a, b), nil
}

// Attach implements [store.Identities].
func (m *Store) Attach(ctx context.Context, id, to journey.Identifier) (string, bool, error) {
	if err := ctxErr(ctx); err != nil {
		return "", false, err
	}
	if err := validateIDs(id, to); err != nil {
		return "", false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if p, ok := m.identities[id]; ok {
		return p, false, nil
	}
	return m.link(id, to), true, nil
}

// link joins a's and b's persons and returns the survivor; m.mu must be
// held.
func (m *Store) link(a, b journey.Identifier) string {
	pa, aok := m.identities[a]
	pb, bok := m.identities[b]
	switch {
	case !aok && !bok:
		p := m.ensure(a)
		m.identities[b] = p
		m.persons[p].ids[b] = struct{}{}
		return p
	case aok && !bok:
		m.identities[b] = pa
		m.persons[pa].ids[b] = struct{}{}
		return pa
	case !aok && bok:
		m.identities[a] = pb
		m.persons[pb].ids[a] = struct{}{}
		return pb
	case pa == pb:
		return pa
	}
	win, lose := pa, pb
	if m.persons[pb].seq < m.persons[pa].seq {
		win, lose = pb, pa
	}
	for id := range m.persons[lose].ids {
		m.identities[id] = win
		m.persons[win].ids[id] = struct{}{}
	}
	delete(m.persons, lose)
	return win
}

func validateIDs(ids ...journey.Identifier) error {
	for _, id := range ids {
		if err := store.ValidateRecord(id); err != nil {
			return err
		}
	}
	return nil
}

// Resolve implements [store.Identities].
func (m *Store) Resolve(ctx context.Context, id journey.Identifier) (string, error) {
	if err := ctxErr(ctx); err != nil {
		return "", err
	}
	if err := validateIDs(id); err != nil {
		return "", err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.ensure(id), nil
}

// PersonOf implements [store.Identities].
func (m *Store) PersonOf(ctx context.Context, id journey.Identifier) (string, error) {
	if err := ctxErr(ctx); err != nil {
		return "", err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	p, ok := m.identities[id]
	if !ok {
		return "", fmt.Errorf("person of %s: %w", id, store.ErrNotFound)
	}
	return p, nil
}

// Identifiers implements [store.Identities].
func (m *Store) Identifiers(ctx context.Context, personID string) ([]journey.Identifier, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	p, ok := m.persons[personID]
	if !ok {
		return nil, fmt.Errorf("person %q: %w", personID, store.ErrNotFound)
	}
	out := slices.Collect(maps.Keys(p.ids))
	slices.SortFunc(out, compareID)
	return out, nil
}

func compareID(a, b journey.Identifier) int {
	return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Value, b.Value))
}

// visitorsAndSessions returns the person's visitor ids and the ids of their
// sessions; m.mu must be held.
func (m *Store) visitorsAndSessions(personID string) (visitors, sessions map[string]bool) {
	visitors, sessions = map[string]bool{}, map[string]bool{}
	p, ok := m.persons[personID]
	if !ok {
		return visitors, sessions
	}
	for id := range p.ids {
		if id.Kind == journey.IDVisitor {
			visitors[id.Value] = true
		}
	}
	for _, s := range m.sessions {
		if visitors[s.VisitorID] {
			sessions[s.ID] = true
		}
	}
	return visitors, sessions
}

// ---- claims

// PutClaim implements [store.Claims].
func (m *Store) PutClaim(ctx context.Context, c journey.Claim) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if err := store.ValidateRecord(c); err != nil {
		return err
	}
	c.At = store.Micro(c.At)
	k := claimKey{c.ID, c.SessionID}
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur, ok := m.claims[k]; ok && !c.At.Before(cur.At) {
		return nil
	}
	m.claims[k] = c
	return nil
}

// ClaimsOf implements [store.Claims].
func (m *Store) ClaimsOf(ctx context.Context, id journey.Identifier) ([]journey.Claim, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []journey.Claim
	for k, c := range m.claims {
		if k.id == id {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b journey.Claim) int {
		return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.SessionID, b.SessionID))
	})
	return out, nil
}

// ---- touchpoints

func normTouchpoint(tp journey.Touchpoint) journey.Touchpoint {
	tp.At = store.Micro(tp.At)
	tp.Source = cloneSource(tp.Source)
	if len(tp.Attrs) == 0 {
		tp.Attrs = nil
	} else {
		tp.Attrs = maps.Clone(tp.Attrs)
	}
	return tp
}

// AddTouchpoint implements [store.Touchpoints].
func (m *Store) AddTouchpoint(ctx context.Context, tp journey.Touchpoint) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if err := store.ValidateRecord(tp); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur, ok := m.touchpoints[tp.ID]; ok && cur.Kind != tp.Kind {
		return fmt.Errorf("touchpoint %q is a %s, not a %s: %w", tp.ID, cur.Kind, tp.Kind, store.ErrConflict)
	}
	m.touchpoints[tp.ID] = normTouchpoint(tp)
	return nil
}

// TouchpointsOf implements [store.Touchpoints].
func (m *Store) TouchpointsOf(ctx context.Context, personID string, from, to time.Time) ([]journey.Touchpoint, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	from, to = store.Micro(from), store.Micro(to)
	m.mu.RLock()
	defer m.mu.RUnlock()
	visitors, sessions := m.visitorsAndSessions(personID)
	var out []journey.Touchpoint
	for _, tp := range m.touchpoints {
		if tp.At.Before(from) || !tp.At.Before(to) {
			continue
		}
		if visitors[tp.VisitorID] || sessions[tp.SessionID] {
			out = append(out, normTouchpoint(tp))
		}
	}
	slices.SortFunc(out, func(a, b journey.Touchpoint) int {
		return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// Touchpoint implements [store.Touchpoints].
func (m *Store) Touchpoint(ctx context.Context, id string) (journey.Touchpoint, error) {
	if err := ctxErr(ctx); err != nil {
		return journey.Touchpoint{}, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	tp, ok := m.touchpoints[id]
	if !ok {
		return journey.Touchpoint{}, fmt.Errorf("touchpoint %q: %w", id, store.ErrNotFound)
	}
	return normTouchpoint(tp), nil
}

// ---- conversions

func normConversion(c journey.Conversion) journey.Conversion {
	c.At = store.Micro(c.At)
	return c
}

// PutConversion implements [store.Conversions].
func (m *Store) PutConversion(ctx context.Context, c journey.Conversion) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if err := store.ValidateRecord(c); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur, ok := m.conversions[c.ID]; ok && cur.Type != c.Type {
		return fmt.Errorf("conversion %q is a %s, not a %s: %w", c.ID, cur.Type, c.Type, store.ErrConflict)
	}
	m.conversions[c.ID] = normConversion(c)
	return nil
}

func sortConversions(out []journey.Conversion) {
	slices.SortFunc(out, func(a, b journey.Conversion) int {
		return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.ID, b.ID))
	})
}

// ConversionsBetween implements [store.Conversions].
func (m *Store) ConversionsBetween(ctx context.Context, from, to time.Time) ([]journey.Conversion, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	from, to = store.Micro(from), store.Micro(to)
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []journey.Conversion
	for _, c := range m.conversions {
		if !c.At.Before(from) && c.At.Before(to) {
			out = append(out, c)
		}
	}
	sortConversions(out)
	return out, nil
}

// ConversionsOf implements [store.Conversions].
func (m *Store) ConversionsOf(ctx context.Context, personID string) ([]journey.Conversion, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	visitors, sessions := m.visitorsAndSessions(personID)
	var out []journey.Conversion
	for _, c := range m.conversions {
		if visitors[c.VisitorID] || sessions[c.SessionID] {
			out = append(out, c)
		}
	}
	sortConversions(out)
	return out, nil
}

// ---- retention

// DeleteBefore implements [store.Retention].
func (m *Store) DeleteBefore(ctx context.Context, cutoff time.Time) (int64, error) {
	if err := ctxErr(ctx); err != nil {
		return 0, err
	}
	cutoff = store.Micro(cutoff)
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int64
	deleted := map[string]bool{}
	for id, s := range m.sessions {
		last := s.LastSeenAt
		if last.IsZero() {
			last = s.StartedAt
		}
		if last.Before(cutoff) {
			delete(m.sessions, id)
			deleted[id] = true
			n++
		}
	}
	for k, c := range m.claims {
		if c.At.Before(cutoff) || deleted[c.SessionID] {
			delete(m.claims, k)
			n++
		}
	}
	for k, h := range m.holds {
		if !h.Until.IsZero() && h.Until.Before(cutoff) {
			m.deleteHold(k)
			n++
		}
	}
	for k, c := range m.calls {
		if c.at.Before(cutoff) {
			delete(m.calls, k)
			n++
			if _, ok := m.attrs[k]; ok {
				delete(m.attrs, k)
				n++
			}
		}
	}
	// Outcomes go with their touchpoints; one whose touchpoint is not
	// stored goes once it was set before the cut-off.
	for id, o := range m.outcomes {
		tp, ok := m.touchpoints[id]
		if ok && tp.At.Before(cutoff) || !ok && o.SetAt.Before(cutoff) {
			delete(m.outcomes, id)
			n++
		}
	}
	for id, tp := range m.touchpoints {
		if tp.At.Before(cutoff) {
			delete(m.touchpoints, id)
			n++
		}
	}
	for id, c := range m.conversions {
		if c.At.Before(cutoff) {
			delete(m.conversions, id)
			n++
		}
	}
	for id, msg := range m.outbox {
		if msg.State != store.OutboxPending && msg.UpdatedAt.Before(cutoff) {
			delete(m.outbox, id)
			n++
		}
	}
	for k, erasedAt := range m.erased {
		if erasedAt.Before(cutoff) {
			delete(m.erased, k)
			n++
		}
	}
	return n, nil
}

// deleteHold removes one hold; m.mu must be held. The number's longest span
// is kept: it is an upper bound, still true after a deletion.
func (m *Store) deleteHold(k holdKey) {
	h := m.holds[k]
	delete(m.holds, k)
	m.holdsByNum[k.number] = slices.DeleteFunc(m.holdsByNum[k.number], func(x *pool.HoldRecord) bool { return x == h })
	if len(m.holdsByNum[k.number]) == 0 {
		delete(m.holdsByNum, k.number)
	}
}

// ErasePerson implements [store.Retention].
func (m *Store) ErasePerson(ctx context.Context, personID string) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.persons[personID]
	if !ok {
		return nil
	}
	visitors, sessions := m.visitorsAndSessions(personID)
	phones := map[string]bool{}
	for id := range p.ids {
		if id.Kind == journey.IDPhone {
			phones[id.Value] = true
		}
	}
	theirs := func(visitor, session string) bool { return visitors[visitor] || sessions[session] }
	// Their calls: from their numbers, attributed to them, or whose
	// touchpoint or conversion is theirs (a call no session explains is
	// filed under their "caller-…" visitor).
	calls := map[callKey]bool{}
	for k, c := range m.calls {
		if phones[c.ev.From] {
			calls[k] = true
		}
	}
	for k, a := range m.attrs {
		if theirs(a.VisitorID, a.SessionID) {
			calls[k] = true
		}
	}
	for _, tp := range m.touchpoints {
		if prov, id, ok := journey.ParseCallTouchpointID(tp.ID); ok && tp.Kind == journey.TouchCall && theirs(tp.VisitorID, tp.SessionID) {
			calls[callKey{prov, id}] = true
		}
	}
	for _, c := range m.conversions {
		if c.CallID != "" && theirs(c.VisitorID, c.SessionID) {
			calls[callKey{c.CallProvider, c.CallID}] = true
		}
	}
	now := store.Micro(m.now())
	for k := range calls {
		m.erased[erasedKey(k.provider, k.id)] = now
		delete(m.calls, k)
		delete(m.attrs, k)
		delete(m.touchpoints, journey.CallTouchpointID(k.provider, k.id))
		delete(m.outcomes, journey.CallTouchpointID(k.provider, k.id))
		for id := range m.outbox {
			if store.IsCallOutboxID(id, k.provider, k.id) {
				delete(m.outbox, id)
			}
		}
	}
	// Their numbers and sessions in other people's calls.
	for _, c := range m.calls {
		if phones[c.ev.ForwardedFrom] {
			c.ev.ForwardedFrom, c.ev.Raw = "", nil
		}
	}
	erasedSessions := slices.Collect(maps.Keys(sessions))
	for k, a := range m.attrs {
		kept := slices.DeleteFunc(slices.Clone(a.Candidates), func(c journey.Candidate) bool { return sessions[c.SessionID] })
		reason := store.WithoutSessions(a.Reason, erasedSessions)
		if len(kept) != len(a.Candidates) || reason != a.Reason {
			a.Candidates, a.Reason = kept, reason
			m.attrs[k] = a
		}
	}
	for id, tp := range m.touchpoints {
		if theirs(tp.VisitorID, tp.SessionID) {
			delete(m.touchpoints, id)
			delete(m.outcomes, id)
		}
	}
	// Claims by their visitors and sessions, and claims of their
	// identifiers, whoever made them.
	for k, c := range m.claims {
		if _, named := p.ids[k.id]; named || theirs(c.VisitorID, c.SessionID) {
			delete(m.claims, k)
		}
	}
	// Their email hashes claimed on other people's touchpoints.
	for id, tp := range m.touchpoints {
		h, ok := tp.Attrs[store.AttrClaimedEmailHash]
		if _, named := p.ids[journey.Identifier{Kind: journey.IDEmailHash, Value: h}]; !ok || !named {
			continue
		}
		tp.Attrs = maps.Clone(tp.Attrs)
		delete(tp.Attrs, store.AttrClaimedEmailHash)
		if len(tp.Attrs) == 0 {
			tp.Attrs = nil
		}
		m.touchpoints[id] = tp
	}
	for id, c := range m.conversions {
		if theirs(c.VisitorID, c.SessionID) || calls[callKey{c.CallProvider, c.CallID}] {
			delete(m.conversions, id)
			m.deleteOutboxOf(id)
		}
	}
	for k := range m.holds {
		if sessions[k.session] {
			m.deleteHold(k)
		}
	}
	for id := range sessions {
		delete(m.sessions, id)
	}
	for id := range p.ids {
		delete(m.identities, id)
	}
	delete(m.persons, personID)
	return nil
}
