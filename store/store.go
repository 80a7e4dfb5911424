package store

import (
	"context"
	"errors"
	"time"

	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/journey/attribution"
	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/provider"
)

// Sentinels returned by every adapter; check them with errors.Is.
var (
	// ErrNotFound: the record asked for does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict: a write names an existing record but disagrees with what
	// identifies it (a conversion id reused with another type, a touchpoint id
	// with another kind, a hold with another pool).
	ErrConflict = errors.New("store: conflict")
	// ErrInvalid: the record failed validation; the error names every bad
	// field and nothing was written.
	ErrInvalid = errors.New("store: invalid record")
	// ErrErased: a write names a call [Retention.ErasePerson] erased; the
	// call stays erased and nothing was written.
	ErrErased = errors.New("store: call erased")
)

// Store is everything calltrack persists. Adapters implement all of it and
// pass the storetest conformance suite. Consumers should depend on the
// small role interfaces they need, not on Store.
//
// For every method of every role:
//   - Methods are safe for concurrent use.
//   - Times are returned in UTC, truncated to the microsecond; a zero time
//     stays zero.
//   - Writes keyed by a natural id are idempotent: repeating a write with
//     the same data changes nothing, so any write may be retried after an
//     error without creating duplicates.
//   - Invalid records are refused with an error wrapping [ErrInvalid] that
//     names each bad field; nothing of a refused write (or batch) is stored.
//   - Periods are half-open: from <= t < to.
//   - List methods return an empty (possibly nil) slice and no error when
//     nothing matches.
type Store interface {
	Sessions
	Leases
	Calls
	CallRecords
	Attributions
	Identities
	Claims
	Touchpoints
	Conversions
	Outcomes
	Journeys
	Spends
	Retention
}

// Sessions stores visitor sessions with their classified source.
type Sessions interface {
	// PutSession inserts or replaces the session with s.ID.
	PutSession(ctx context.Context, s journey.Session) error
	// PutSessions writes a batch as PutSession would, in one transaction:
	// all are stored or, if any is invalid, none. When an id repeats, the
	// last one wins.
	PutSessions(ctx context.Context, ss []journey.Session) error
	// Session returns the session with id, or [ErrNotFound].
	Session(ctx context.Context, id string) (journey.Session, error)
	// SessionsOfVisitor returns the visitor's sessions ordered by StartedAt,
	// then ID.
	SessionsOfVisitor(ctx context.Context, visitorID string) ([]journey.Session, error)
}

// Leases is the history of which session held which tracking number when:
// what call stitching asks and what pool audits read. Allocators write it
// through [pool.Config.OnRecord].
type Leases interface {
	// RecordHold upserts a hold keyed by (Number, SessionID, From). A record
	// with Until zero starts (or repeats) a hold; one with Until set ends it.
	// Until only moves later, Reused only turns on and a non-zero Token is
	// kept, so start and end records may arrive in any order or twice.
	// A record whose Pool differs from the stored hold's is [ErrConflict].
	RecordHold(ctx context.Context, h pool.HoldRecord) error
	// HoldersAt returns the holds of number that overlap [at-grace, at]:
	// From <= at and (Until zero or Until >= at-grace), oldest From first,
	// then by SessionID. A hold whose Until is zero is still held: it is
	// returned with Live true and Until zero (the store does not know its
	// expiry). A negative grace counts as zero.
	HoldersAt(ctx context.Context, number string, at time.Time, grace time.Duration) ([]pool.Holder, error)
	// HoldsBetween returns every hold overlapping [from, to) (From < to and
	// (Until zero or Until >= from)), ordered by From, then Number, then
	// SessionID: the pool history for audits.
	HoldsBetween(ctx context.Context, from, to time.Time) ([]pool.HoldRecord, error)
}

// Calls stores calls as the provider reported them. A call's From and
// ForwardedFrom are E.164, or the keyed identifier [journey.RedactCall]
// leaves there when the host keys caller identities (see
// [ValidateCall]); the caller history compares them as stored, so keyed
// calls have a history under their keyed number.
type Calls interface {
	// RecordCall upserts the call keyed by (ev.Provider, ev.CallID), folding
	// ev into the stored state with [provider.Merge] inside one transaction,
	// and returns the merged call: duplicate and out-of-order callbacks
	// converge on the same call, and a late "ringing" never overwrites
	// "completed". The stored call's StartedAt is the time it is filed
	// under ([FileCall]), so [journey.CallTime] of a stored call is that
	// time, whichever of its events arrived first. The forward's outcome,
	// talk time, recording, attestation, labels and transcript are stored
	// and merged like every other field: labels are the sorted union of
	// every report, and a recording reported twice is stored once.
	//
	// An event of a call [Retention.ErasePerson] erased (a carrier's late
	// callback: status completed, recording ready, an outcome) writes
	// nothing and is [ErrErased] naming the call, so the erased person
	// does not come back with it. The store remembers an erased call until
	// [Retention.DeleteBefore] passes the time of its erasure. An erasure
	// and RecordCall of one of the calls it erases are ordered: the event
	// is merged wholly before the erasure, or refused.
	RecordCall(ctx context.Context, ev provider.CallEvent) (provider.CallEvent, error)
	// AmendCall folds ev into a call already stored, exactly as RecordCall
	// does, and returns the merged call; a call that is not stored is
	// [ErrNotFound] ([ErrErased] if it was erased, as for RecordCall) and
	// nothing is written. What is learned of a call after the fact (an
	// analysis of its recording) is written with it, so it cannot bring
	// back a call erased meanwhile.
	AmendCall(ctx context.Context, ev provider.CallEvent) (provider.CallEvent, error)
	// Call returns the merged state of one call, or [ErrNotFound].
	Call(ctx context.Context, providerName, callID string) (provider.CallEvent, error)
	// CallsBetween returns the calls filed in [from, to), ordered by the
	// time they are filed under, then provider, then call id. A call is
	// filed under the earliest [journey.CallTime] of its events, which does
	// not depend on their order; a call whose events carry no time at all
	// is filed under the time it was first recorded.
	CallsBetween(ctx context.Context, from, to time.Time) ([]provider.CallEvent, error)
	// CallsBefore is the caller history qualification rules read
	// ([journey.CallerHistory]): how many calls from the number were filed
	// strictly before before, and the filing time of the latest of them.
	// A withheld (empty) number has no history.
	CallsBefore(ctx context.Context, from string, before time.Time) (count int, latest time.Time, err error)
	// ShortCallsBetween is the history the spam rule for repeated short
	// calls reads ([journey.ShortCallHistory]): how many finished calls
	// from the number, filed in [since, before), lasted less than shorter
	// by [journey.CallLength]. A withheld (empty) number has none.
	ShortCallsBetween(ctx context.Context, from string, since, before time.Time, shorter time.Duration) (int, error)
}

// CallRecords stores what a call produces.
type CallRecords interface {
	// PutCallRecord writes, in one transaction, the record's attribution
	// (as PutAttribution), the caller link (as Link), the touchpoint (as
	// AddTouchpoint) and, when set, the conversion with msgs (as
	// PutConversionWithOutbox; msgs must be empty without a conversion):
	// all of it is stored or none. Repeating it with the same record
	// changes nothing. When the touchpoint has an outcome set by hand
	// ([Outcomes]), the record is written as that outcome says
	// ([journey.ApplyStoredOutcome]: its conversion at the outcome's value,
	// or none) and msgs are dropped, so a record derived before the
	// outcome was set does not undo it. The call (the attribution's
	// Provider and CallID) must be stored: a record of a call not stored,
	// such as one erased by [Retention.ErasePerson] while the record was
	// derived, writes nothing and is [ErrNotFound] naming the call, so an
	// erasure racing a call's recording never brings the person back. An
	// erasure and PutCallRecord are ordered: each happens wholly before
	// the other.
	PutCallRecord(ctx context.Context, rec journey.CallRecord, msgs ...OutboxMessage) error
}

// Attributions stores the result of stitching a call to a session.
type Attributions interface {
	// PutAttribution stores a's attribution of its call, replacing any
	// previous one for the same (Provider, CallID): re-stitching is
	// deterministic and the latest answer is the answer.
	PutAttribution(ctx context.Context, a journey.Attribution) error
	// Attribution returns the call's attribution, or [ErrNotFound].
	Attribution(ctx context.Context, providerName, callID string) (journey.Attribution, error)
}

// Identities is the identity graph: which identifiers name the same person.
// It behaves as a persisted union-find.
type Identities interface {
	// Link records that a and b name the same person and returns that
	// person's id. Unknown identifiers join the other's person (or a new
	// person when both are unknown). When a and b belong to two persons,
	// they are merged: every identifier of both keeps its history and now
	// answers to the person created first, whose id survives; the other id
	// is [ErrNotFound] from then on. Linking twice is a no-op.
	Link(ctx context.Context, a, b journey.Identifier) (personID string, err error)
	// Attach links id to the person of to when id is unknown (to joins a
	// new person first when it is unknown too) and returns that person with
	// attached true. When id already belongs to a person, even to's, it
	// changes nothing and returns that person with attached false. It never
	// merges two persons, and it is atomic: of concurrent Attach calls for
	// one unknown id, exactly one attaches it, and the others return its
	// person. Use it where an identifier may join a person but must not
	// merge one (what a browser wrote may have led to to).
	Attach(ctx context.Context, id, to journey.Identifier) (personID string, attached bool, err error)
	// Resolve returns the person of id, creating a person for an identifier
	// never seen before.
	Resolve(ctx context.Context, id journey.Identifier) (personID string, err error)
	// PersonOf returns the person of id, or [ErrNotFound] for an identifier
	// never linked or resolved. The id is stable until a merge folds the
	// person into an older one.
	PersonOf(ctx context.Context, id journey.Identifier) (personID string, err error)
	// Identifiers returns every identifier of the person ordered by kind,
	// then value, or [ErrNotFound] for an unknown person.
	Identifiers(ctx context.Context, personID string) ([]journey.Identifier, error)
}

// Claims keeps identifiers a browser session said were its own (a chat
// platform's contact or conversation id the tracker reported). A claim
// never merges persons: it is not in the identity graph, and any number
// of sessions may claim one identifier.
type Claims interface {
	// PutClaim is keyed by (ID, SessionID); repeating it keeps the
	// earliest At.
	PutClaim(ctx context.Context, c journey.Claim) error
	// ClaimsOf returns id's claims ordered by At, then SessionID; an
	// identifier never claimed has none.
	ClaimsOf(ctx context.Context, id journey.Identifier) ([]journey.Claim, error)
}

// Touchpoints stores the interactions attribution models credit.
type Touchpoints interface {
	// AddTouchpoint inserts or replaces the touchpoint with tp.ID. An
	// existing id with another Kind is [ErrConflict].
	AddTouchpoint(ctx context.Context, tp journey.Touchpoint) error
	// TouchpointsOf returns the person's touchpoints with At in [from, to),
	// ordered by At, then ID. A touchpoint belongs to the person when its
	// VisitorID, or the VisitorID of its session, is one of the person's
	// visitor identifiers. An unknown person has no touchpoints.
	TouchpointsOf(ctx context.Context, personID string, from, to time.Time) ([]journey.Touchpoint, error)
	// Touchpoint returns the touchpoint with id, or [ErrNotFound].
	Touchpoint(ctx context.Context, id string) (journey.Touchpoint, error)
}

// Conversions is the transactions table.
type Conversions interface {
	// PutConversion inserts or replaces the conversion with c.ID, so a call
	// qualified twice is still one transaction. An existing id with another
	// Type is [ErrConflict].
	PutConversion(ctx context.Context, c journey.Conversion) error
	// ConversionsBetween returns the conversions with At in [from, to),
	// ordered by At, then ID.
	ConversionsBetween(ctx context.Context, from, to time.Time) ([]journey.Conversion, error)
	// ConversionsOf returns the person's conversions (linked like
	// touchpoints: by visitor id or by their session's visitor id), ordered
	// by At, then ID.
	ConversionsOf(ctx context.Context, personID string) ([]journey.Conversion, error)
}

// Journeys reads the paths attribution models credit.
type Journeys interface {
	// JourneysBetween returns the journeys of [from, to), built in one pass
	// without writing anything:
	//   - one converting journey per conversion with At in [from, to),
	//     however it was made (with or without a session, with or without
	//     value), of its person's touchpoints with At in [At-lookback, At]
	//     (lookback < 0: no limit);
	//   - one journey without a conversion per person whose touchpoints
	//     with At in [from, to) come after their last conversion in
	//     [from, to) (or who has none there), of those touchpoints.
	// A person is who [Identities] says their visitor ids belong to; a
	// visitor never linked to anything is a person of its own. Touchpoints
	// and conversions belong to a person as in [Touchpoints.TouchpointsOf].
	// Converting journeys come first, ordered by their conversion's At,
	// then ID, and carry the conversion's ID; the others follow, ordered by
	// ID, "open:" + the person's id ("open:visitor:" + the visitor id for
	// a visitor never linked). Each journey's touchpoints are
	// ordered by At, then ID.
	JourneysBetween(ctx context.Context, from, to time.Time, lookback time.Duration) ([]attribution.Journey, error)
}

// AttrClaimedEmailHash is the touchpoint attribute that keeps an email
// hash ([journey.IDEmailHash] value) a browser event claimed: a claim, not
// a link, which [Retention.ErasePerson] removes when the hash is the
// erased person's.
const AttrClaimedEmailHash = "claimed_email_hash"

// Retention deletes data for retention policies and erasure requests.
type Retention interface {
	// DeleteBefore deletes everything that ended before cutoff: sessions
	// last seen (or, without LastSeenAt, started) before it, holds that
	// ended before it (open holds stay), calls filed before
	// it with their attributions, touchpoints and conversions before it,
	// and claims made before it or by a session it deletes, and the
	// memory of calls erased before it (a carrier does not call back
	// months later: after that, an event of such a call is recorded as a
	// new call). Identity links are kept. It returns how many records it
	// deleted.
	DeleteBefore(ctx context.Context, cutoff time.Time) (int64, error)
	// ErasePerson deletes the person and every record that names them, in
	// one transaction:
	//   - every identifier of the person, and the person;
	//   - the sessions of their visitor ids (the "caller-…" visitor a call
	//     no session explains is filed under among them) and the holds of
	//     those sessions;
	//   - their calls, with each call's attribution, touchpoint,
	//     conversion and outbox messages: a call is theirs when its From
	//     is one of their phone identifiers (E.164 or keyed, as stored), it
	//     is attributed to one of their visitors or sessions, or its
	//     touchpoint or conversion belongs to them;
	//   - the touchpoints, conversions and claims of their visitors and
	//     sessions, and the outbox messages of those conversions ([Outbox]); a
	//     message reporting an erased call alone is found by its id
	//     ([CallOutboxID]);
	//   - every claim of one of their identifiers, whichever session made
	//     it (anyone may claim any id, and a claim left behind would still
	//     name them);
	//   - their traces in other people's records: a remaining call
	//     forwarded from one of their numbers loses its ForwardedFrom and
	//     its raw body, a remaining attribution loses the candidates
	//     that are their sessions, whose ids its reason then shows as
	//     [ErasedSession], and a remaining touchpoint whose
	//     [AttrClaimedEmailHash] is one of their email hashes loses that
	//     attribute.
	// Each call it erases is remembered, by provider and
	// [ErasedCallDigest] of its id only, for [Calls.RecordCall] to refuse
	// its later events ([ErrErased]).
	// Erasing an unknown person is a no-op that returns nil, so erasure may
	// be retried.
	ErasePerson(ctx context.Context, personID string) error
}
