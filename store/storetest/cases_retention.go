package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/store"
)

func (s *suite) deleteBeforeRemovesEverythingOlderKeepsNewerAndOpenHolds(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	cut := at(24 * time.Hour)
	old, recent := -time.Hour, 48*time.Hour
	require.NoError(t, st.PutSession(ctx, session("old", "v1", old)))
	straddling := session("straddling", "v1", 0)
	straddling.LastSeenAt = at(25 * time.Hour) // started before, seen after: kept
	require.NoError(t, st.PutSession(ctx, straddling))
	require.NoError(t, st.PutSession(ctx, session("new", "v1", recent)))
	recordAll(t, st,
		hold(numA, "old", old, old+time.Minute),
		hold(numA, "openOld", old, open),
		hold(numA, "new", recent, recent+time.Minute),
	)
	for id, d := range map[string]time.Duration{"CAold": old, "CAnew": recent} {
		ev := call(id)
		ev.StartedAt = at(d)
		require.NoError(t, recordErr(st.RecordCall(ctx, ev)))
		require.NoError(t, st.PutAttribution(ctx, attribution(id, "s1")))
	}
	p, err := st.Resolve(ctx, visitor("v1"))
	require.NoError(t, err)
	require.NoError(t, st.AddTouchpoint(ctx, touch("tOld", journey.TouchSession, "v1", "", old)))
	require.NoError(t, st.AddTouchpoint(ctx, touch("tNew", journey.TouchSession, "v1", "", recent)))
	require.NoError(t, st.PutConversion(ctx, conversion("cOld", "v1", old, 1)))
	require.NoError(t, st.PutConversion(ctx, conversion("cNew", "v1", recent, 1)))

	n, err := st.DeleteBefore(ctx, cut)
	require.NoError(t, err)
	require.Equal(t, int64(6), n, "session, hold, call, attribution, touchpoint, conversion")

	ss, err := st.SessionsOfVisitor(ctx, "v1")
	require.NoError(t, err)
	require.Equal(t, []string{"straddling", "new"}, sessionIDs(ss))
	hs := allHolds(t, st)
	require.Equal(t, []string{"openOld", "new"}, ids(hs, func(h poolHold) string { return h.SessionID }))
	_, err = st.Call(ctx, "twilio", "CAold")
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = st.Attribution(ctx, "twilio", "CAold")
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = st.Call(ctx, "twilio", "CAnew")
	require.NoError(t, err)
	_, err = st.Attribution(ctx, "twilio", "CAnew")
	require.NoError(t, err)
	tps, err := st.TouchpointsOf(ctx, p, time.Time{}, at(1000*time.Hour))
	require.NoError(t, err)
	require.Equal(t, []string{"tNew"}, touchIDs(tps))
	cs, err := st.ConversionsBetween(ctx, time.Time{}, at(1000*time.Hour))
	require.NoError(t, err)
	require.Equal(t, []string{"cNew"}, convIDs(cs))
	require.Equal(t, p, personOf(t, st, visitor("v1")), "identity links are kept")

	n, err = st.DeleteBefore(ctx, cut)
	require.NoError(t, err)
	require.Zero(t, n, "a second run deletes nothing")
}

func (s *suite) erasePersonRemovesEveryLinkedIDAndEverythingKeyedByThem(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	const caller = "+14155550123"
	p, err := st.Link(ctx, visitor("v1"), phone(caller))
	require.NoError(t, err)
	_, err = st.Link(ctx, visitor("v1"), journey.Identifier{Kind: journey.IDEmailHash, Value: "e1"})
	require.NoError(t, err)
	other, err := st.Link(ctx, visitor("v2"), phone("+14155550999"))
	require.NoError(t, err)

	require.NoError(t, st.PutSession(ctx, session("s1", "v1", 0)))
	require.NoError(t, st.PutSession(ctx, session("s2", "v2", 0)))
	recordAll(t, st, hold(numA, "s1", 0, 10*time.Minute), hold(numA, "s2", 20*time.Minute, 30*time.Minute))
	byCaller := call("CAcaller")
	byCaller.From = caller
	byCaller.StartedAt = at(time.Minute)
	withheld := call("CAwithheld") // attributed to s1 though the caller is unknown
	withheld.From = ""
	withheld.StartedAt = at(2 * time.Minute)
	stranger := call("CAstranger")
	stranger.From = "+14155550999"
	stranger.StartedAt = at(25 * time.Minute)
	for _, ev := range []provider.CallEvent{byCaller, withheld, stranger} {
		require.NoError(t, recordErr(st.RecordCall(ctx, ev)))
	}
	require.NoError(t, st.PutAttribution(ctx, attribution("CAwithheld", "s1")))
	a2 := attribution("CAstranger", "s2")
	a2.VisitorID = "v2"
	require.NoError(t, st.PutAttribution(ctx, a2))
	require.NoError(t, st.AddTouchpoint(ctx, touch("t1", journey.TouchSession, "v1", "s1", 0)))
	require.NoError(t, st.AddTouchpoint(ctx, touch("t1s", journey.TouchForm, "", "s1", time.Minute)))
	require.NoError(t, st.AddTouchpoint(ctx, touch("t2", journey.TouchSession, "v2", "s2", 0)))
	require.NoError(t, st.PutConversion(ctx, conversion("o1", "v1", time.Minute, 1)))
	require.NoError(t, st.PutConversion(ctx, callConversion("CAcaller", "", time.Minute)))
	require.NoError(t, st.PutConversion(ctx, conversion("o2", "v2", time.Minute, 1)))

	require.NoError(t, st.ErasePerson(ctx, p))

	for _, id := range []journey.Identifier{visitor("v1"), phone(caller), {Kind: journey.IDEmailHash, Value: "e1"}} {
		_, err := st.PersonOf(ctx, id)
		require.ErrorIs(t, err, store.ErrNotFound, id.String())
	}
	_, err = st.Identifiers(ctx, p)
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = st.Session(ctx, "s1")
	require.ErrorIs(t, err, store.ErrNotFound)
	for _, id := range []string{"CAcaller", "CAwithheld"} {
		_, err = st.Call(ctx, "twilio", id)
		require.ErrorIs(t, err, store.ErrNotFound, id)
	}
	_, err = st.Attribution(ctx, "twilio", "CAwithheld")
	require.ErrorIs(t, err, store.ErrNotFound)
	hs := allHolds(t, st)
	require.Equal(t, []string{"s2"}, ids(hs, func(h poolHold) string { return h.SessionID }))
	cs, err := st.ConversionsBetween(ctx, time.Time{}, at(1000*time.Hour))
	require.NoError(t, err)
	require.Equal(t, []string{"o2"}, convIDs(cs))
	tps, err := st.TouchpointsOf(ctx, p, time.Time{}, at(1000*time.Hour))
	require.NoError(t, err)
	require.Empty(t, tps)

	// The other person is untouched.
	require.Equal(t, other, personOf(t, st, visitor("v2")))
	_, err = st.Session(ctx, "s2")
	require.NoError(t, err)
	_, err = st.Call(ctx, "twilio", "CAstranger")
	require.NoError(t, err)
	_, err = st.Attribution(ctx, "twilio", "CAstranger")
	require.NoError(t, err)
	tps, err = st.TouchpointsOf(ctx, other, time.Time{}, at(1000*time.Hour))
	require.NoError(t, err)
	require.Equal(t, []string{"t2"}, touchIDs(tps))

	// A retried erasure is a no-op.
	require.NoError(t, st.ErasePerson(ctx, p))

	// Nothing of theirs is left to find: their visitor id, seen again, is
	// a new person with no history, and all that retention still finds is
	// the other person's session, hold, call, attribution, touchpoint and
	// conversion.
	again, err := st.Resolve(ctx, visitor("v1"))
	require.NoError(t, err)
	tps, err = st.TouchpointsOf(ctx, again, time.Time{}, at(1000*time.Hour))
	require.NoError(t, err)
	require.Empty(t, tps)
	convs, err := st.ConversionsOf(ctx, again)
	require.NoError(t, err)
	require.Empty(t, convs)
	n, err := st.DeleteBefore(ctx, at(1000*time.Hour))
	require.NoError(t, err)
	require.Equal(t, int64(6), n, "only the other person's six records remain")
}

func (s *suite) deleteBeforeJudgesSessionWithoutLastSeenByStart(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	for id, start := range map[string]time.Duration{"old": -time.Hour, "new": 48 * time.Hour} {
		sess := session(id, "v1", start)
		sess.LastSeenAt = time.Time{}
		require.NoError(t, st.PutSession(ctx, sess))
	}
	n, err := st.DeleteBefore(ctx, at(24*time.Hour))
	require.NoError(t, err)
	require.Equal(t, int64(1), n)
	ss, err := st.SessionsOfVisitor(ctx, "v1")
	require.NoError(t, err)
	require.Equal(t, []string{"new"}, sessionIDs(ss))
}

func (s *suite) deleteBeforeKeepsWhatEndsAtTheCutoff(t *testing.T) {
	// Everything here ends exactly at the cut-off, which is not before it.
	st := s.newStore(t)
	ctx := t.Context()
	cut := 24 * time.Hour
	require.NoError(t, st.PutSession(ctx, session("s1", "v1", cut-5*time.Minute))) // last seen at the cut-off
	recordAll(t, st, hold(numA, "s1", cut-time.Hour, cut))
	ev := call("CA1")
	ev.StartedAt = at(cut)
	require.NoError(t, recordErr(st.RecordCall(ctx, ev)))
	require.NoError(t, st.PutAttribution(ctx, attribution("CA1", "s1")))
	require.NoError(t, st.AddTouchpoint(ctx, touch("t1", journey.TouchSession, "v1", "s1", cut)))
	require.NoError(t, st.PutConversion(ctx, conversion("c1", "v1", cut, 1)))

	n, err := st.DeleteBefore(ctx, at(cut))
	require.NoError(t, err)
	require.Zero(t, n)
	_, err = st.Session(ctx, "s1")
	require.NoError(t, err)
	require.Len(t, allHolds(t, st), 1)
	_, err = st.Call(ctx, "twilio", "CA1")
	require.NoError(t, err)
	_, err = st.Attribution(ctx, "twilio", "CA1")
	require.NoError(t, err)
	cs, err := st.ConversionsBetween(ctx, time.Time{}, at(1000*time.Hour))
	require.NoError(t, err)
	require.Equal(t, []string{"c1"}, convIDs(cs))
	p, err := st.Resolve(ctx, visitor("v1"))
	require.NoError(t, err)
	tps, err := st.TouchpointsOf(ctx, p, time.Time{}, at(1000*time.Hour))
	require.NoError(t, err)
	require.Equal(t, []string{"t1"}, touchIDs(tps))
}

func (s *suite) erasePersonUnknownIsNoOp(t *testing.T) {
	st := s.newStore(t)
	require.NoError(t, st.ErasePerson(t.Context(), "p_nobody"))
}

// The person erased by erasePersonLeavesNothingThatNamesThemInAnyTable:
// every value below names them, and none may be left anywhere.
const (
	erNumber   = "+14155550177"
	erName     = "ERASE ME PERSONA"
	erVisitor  = "v-erase-7f3a"
	erVisitor2 = "v-erase-7f3a-phone"
	erSession1 = "s-erase-7f3a-1"
	erSession2 = "s-erase-7f3a-2"
	erUser     = "user-erase-7f3a"
	erContact  = "contact-erase-7f3a"
	erCalls    = "CA-erase-" // every call of theirs starts so
)

// erRaw is a provider body naming the caller, as vendors write them.
const erRaw = `From=%2B14155550177&CallerName=ERASE+ME+PERSONA&FromZip=94107&national=(415) 555-0177`

func (s *suite) erasePersonLeavesNothingThatNamesThemInAnyTable(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	key := []byte("storetest identity key")
	keyed, err := journey.PhoneID(erNumber, key)
	require.NoError(t, err)
	email, err := journey.EmailHashID("erase.me@example.com", key)
	require.NoError(t, err)
	chatContact, err := journey.ChatContactID("intercom", erContact)
	require.NoError(t, err)
	// The visitor a call no session explains is filed under (see
	// journey.CallPipeline), for their keyed number.
	callerVisitor := "caller-" + strings.TrimPrefix(keyed.Value, "h:")

	// Identities: a user, two devices, an email, a chat contact.
	p, err := st.Link(ctx, visitor(erVisitor), user(erUser))
	require.NoError(t, err)
	for _, id := range []journey.Identifier{visitor(erVisitor2), email, chatContact} {
		_, err = st.Link(ctx, visitor(erVisitor), id)
		require.NoError(t, err)
	}
	// Sessions and holds, theirs and another person's.
	require.NoError(t, st.PutSessions(ctx, []journey.Session{
		session(erSession1, erVisitor, 0), session(erSession2, erVisitor2, time.Hour), session("s-keep", "v-keep", 0)}))
	recordAll(t, st, hold(numA, erSession1, 0, 30*time.Minute), hold(numB, erSession2, time.Hour, 2*time.Hour),
		hold(numB, "s-keep", 0, 20*time.Minute))
	// Touchpoints and a conversion of the visit alone.
	tpChat := touch("chat:intercom/c-erase-7f3a/chat_started", journey.TouchChat, erVisitor, erSession1, time.Minute)
	tpChat.Attrs = map[string]string{"contact": erContact}
	for _, tp := range []journey.Touchpoint{touch("t-erase-7f3a-1", journey.TouchSession, erVisitor, erSession1, 0),
		touch("t-erase-7f3a-form", journey.TouchForm, "", erSession2, time.Hour), tpChat,
		touch("t-keep", journey.TouchSession, "v-keep", "s-keep", 0)} {
		require.NoError(t, st.AddTouchpoint(ctx, tp))
	}
	require.NoError(t, st.PutConversion(ctx, conversion("o-erase-7f3a", erVisitor, time.Minute, 100)))
	// Chat ids their browser claimed, by visitor and by session.
	for _, c := range []journey.Claim{
		{ID: chatContact, SessionID: erSession1, VisitorID: erVisitor, At: at(time.Minute)},
		{ID: journey.Identifier{Kind: journey.IDChatContact, Value: "intercom:conversation/c-erase-7f3a"},
			SessionID: erSession2, VisitorID: erVisitor2, At: at(time.Hour)},
	} {
		require.NoError(t, st.PutClaim(ctx, c))
	}
	// Another person's session claiming their chat contact (anyone may
	// claim any id), and another person's form claiming their email hash:
	// both name them. The other person's own claim stays.
	keepContact, err := journey.ChatContactID("intercom", "contact-keep")
	require.NoError(t, err)
	for _, c := range []journey.Claim{
		{ID: chatContact, SessionID: "s-keep", VisitorID: "v-keep", At: at(2 * time.Minute)},
		{ID: keepContact, SessionID: "s-keep", VisitorID: "v-keep", At: at(2 * time.Minute)},
	} {
		require.NoError(t, st.PutClaim(ctx, c))
	}
	tpKeepForm := touch("t-keep-form", journey.TouchForm, "v-keep", "s-keep", 2*time.Minute)
	tpKeepForm.Attrs = map[string]string{"name": "signup", store.AttrClaimedEmailHash: email.Value}
	require.NoError(t, st.AddTouchpoint(ctx, tpKeepForm))

	// Their calls, through every path a call takes.
	type theirCall struct {
		id, from string
		rec      journey.CallRecord
	}
	withSession := erCalls + "session"
	noSession := erCalls + "nosession"
	legacy := erCalls + "legacy" // recorded in E.164 before the host keyed numbers
	withheld := erCalls + "withheld"
	callRec := func(id, sessionID, visitorID string, caller *journey.Identifier) journey.CallRecord {
		a := journey.Attribution{Provider: "twilio", CallID: id, SessionID: sessionID, VisitorID: visitorID,
			Source: src("call"), Confidence: journey.ConfidencePoolOnly, Reason: "no session held the number", StitchedAt: at(time.Hour)}
		filed := visitorID
		if sessionID != "" {
			a.Confidence, a.Reason = journey.ConfidenceExact, "held by session "+sessionID
			a.Candidates = []journey.Candidate{{SessionID: sessionID, HeldFrom: at(0), HeldUntil: at(30 * time.Minute)}}
		} else {
			filed = callerVisitor
		}
		rec := journey.CallRecord{Attribution: a,
			Touchpoint: touch(journey.CallTouchpointID("twilio", id), journey.TouchCall, filed, sessionID, time.Hour)}
		if caller != nil {
			rec.Caller = &journey.CallerLink{Phone: *caller, Visitor: visitor(filed)}
		}
		c := conversion(journey.CallConversionID("twilio", id), filed, time.Hour, 5000)
		c.Type, c.SessionID, c.CallProvider, c.CallID = journey.ConversionCall, sessionID, "twilio", id
		rec.Conversion = &c
		return rec
	}
	raw := phone(erNumber)
	calls := []theirCall{
		{withSession, keyed.Value, callRec(withSession, erSession1, erVisitor, &keyed)},
		{noSession, keyed.Value, callRec(noSession, "", "", &keyed)},
		{legacy, erNumber, callRec(legacy, erSession2, erVisitor2, &raw)},
		{withheld, "", callRec(withheld, erSession1, erVisitor, nil)},
	}
	for _, c := range calls {
		ev := call(c.id)
		ev.From, ev.CallerName, ev.Raw, ev.StartedAt = c.from, erName, []byte(erRaw), at(time.Hour)
		ev.CallerCity = "San Francisco"
		require.NoError(t, recordErr(st.RecordCall(ctx, ev)))
		payload := []byte(`{"call":{"from":"` + c.from + `","caller_name":"` + erName + `"},"conversion":{"visitor_id":"` +
			c.rec.Conversion.VisitorID + `"}}`)
		m := msg("crm/"+c.rec.Conversion.ID, "crm", c.rec.Conversion.ID, 0)
		m.Payload = payload
		require.NoError(t, st.PutCallRecord(ctx, c.rec, m))
		if s.features.Outbox {
			alone := msg(store.CallOutboxID("webhook", "twilio", c.id), "webhook", "", 0)
			alone.Kind, alone.Payload = "call", payload
			require.NoError(t, outboxOf(t, st).EnqueueOutbox(ctx, alone))
		}
	}

	// Another person's call, forwarded from their number, to a number one
	// of their sessions also held.
	keep := call("CA-keep")
	keep.From, keep.ForwardedFrom, keep.Raw, keep.StartedAt = "+14155550999", erNumber, []byte(erRaw), at(10*time.Minute)
	require.NoError(t, recordErr(st.RecordCall(ctx, keep)))
	keepRec := callRec("CA-keep", "s-keep", "v-keep", &journey.Identifier{Kind: journey.IDPhone, Value: "+14155550999"})
	keepRec.Attribution.Confidence = journey.ConfidenceReused
	keepRec.Attribution.Reason = "held by session s-keep; 1 other sessions held it in the window (" + erSession1 +
		"), the most recently active was chosen"
	keepRec.Attribution.Candidates = []journey.Candidate{
		{SessionID: "s-keep", HeldFrom: at(0), HeldUntil: at(20 * time.Minute)},
		{SessionID: erSession1, HeldFrom: at(0), HeldUntil: at(30 * time.Minute)},
	}
	require.NoError(t, st.PutCallRecord(ctx, keepRec, msg("crm/keep", "crm", keepRec.Conversion.ID, 0)))
	other := personOf(t, st, visitor("v-keep"))

	require.NoError(t, st.ErasePerson(ctx, p))

	needles := []string{erNumber, erNumber[2:], "(415) 555-0177", "%2B14155550177", erName, "ERASE+ME",
		strings.TrimPrefix(keyed.Value, "h:"), strings.TrimPrefix(email.Value, "h:"), erVisitor, erSession1, erSession2,
		erUser, erContact, erCalls, "erase-7f3a", p}
	if s.features.Dump == nil {
		t.Log("storetest: Features.Dump is not set: the store's tables are not searched for the erased person's values")
	} else {
		var left []string
		for _, v := range s.features.Dump(t, st) {
			for _, n := range needles {
				if strings.Contains(v, n) {
					left = append(left, fmt.Sprintf("%s (names them by %q)", v, n))
				}
			}
		}
		require.Empty(t, left, "erased, yet still stored")
	}

	// Through the API: nothing of theirs answers.
	for _, id := range []journey.Identifier{visitor(erVisitor), visitor(erVisitor2), visitor(callerVisitor), keyed, raw,
		email, chatContact, user(erUser)} {
		_, err := st.PersonOf(ctx, id)
		require.ErrorIs(t, err, store.ErrNotFound, id.String())
	}
	for _, c := range calls {
		_, err := st.Call(ctx, "twilio", c.id)
		require.ErrorIs(t, err, store.ErrNotFound, c.id)
		_, err = st.Attribution(ctx, "twilio", c.id)
		require.ErrorIs(t, err, store.ErrNotFound, c.id)
	}
	n, _, err := st.CallsBefore(ctx, keyed.Value, at(1000*time.Hour))
	require.NoError(t, err)
	require.Zero(t, n, "no caller history is left under their keyed number")

	// The other person keeps their records, without the traces of the
	// erased one.
	require.Equal(t, other, personOf(t, st, visitor("v-keep")))
	got, err := st.Call(ctx, "twilio", "CA-keep")
	require.NoError(t, err)
	require.Empty(t, got.ForwardedFrom, "the number it was forwarded from is theirs")
	require.Empty(t, got.Raw, "the raw body names them")
	require.Equal(t, "+14155550999", got.From)
	a, err := st.Attribution(ctx, "twilio", "CA-keep")
	require.NoError(t, err)
	require.Equal(t, []string{"s-keep"}, ids(a.Candidates, func(c journey.Candidate) string { return c.SessionID }))
	require.Equal(t, "held by session s-keep; 1 other sessions held it in the window ("+store.ErasedSession+
		"), the most recently active was chosen", a.Reason)
	_, err = st.Session(ctx, "s-keep")
	require.NoError(t, err)
	require.Equal(t, []string{"s-keep"}, ids(allHolds(t, st), func(h poolHold) string { return h.SessionID }))
	tps, err := st.TouchpointsOf(ctx, other, time.Time{}, at(1000*time.Hour))
	require.NoError(t, err)
	require.Equal(t, []string{"call:twilio/CA-keep", "t-keep", "t-keep-form"}, sortedIDs(touchIDs(tps)))
	for _, tp := range tps {
		if tp.ID == "t-keep-form" {
			require.Equal(t, map[string]string{"name": "signup"}, tp.Attrs, "the email hash it claimed is theirs")
		}
	}
	claims, err := st.ClaimsOf(ctx, chatContact)
	require.NoError(t, err)
	require.Empty(t, claims, "a claim of their identifier, whoever made it, names them")
	claims, err = st.ClaimsOf(ctx, keepContact)
	require.NoError(t, err)
	require.Equal(t, []string{"s-keep"}, ids(claims, func(c journey.Claim) string { return c.SessionID }))
	cs, err := st.ConversionsBetween(ctx, time.Time{}, at(1000*time.Hour))
	require.NoError(t, err)
	require.Equal(t, []string{keepRec.Conversion.ID}, convIDs(cs))
	if s.features.Outbox {
		msgs, err := outboxOf(t, st).OutboxOfConversion(ctx, keepRec.Conversion.ID)
		require.NoError(t, err)
		require.Equal(t, []string{"crm/keep"}, msgIDs(msgs))
	}
}

func sortedIDs(xs []string) []string {
	out := slices.Clone(xs)
	slices.Sort(out)
	return out
}

// A call recorded, its caller erased, then the record derived from the
// call before the erasure written: it is refused, and nothing of the
// person comes back.
func (s *suite) putCallRecordDerivedBeforeAnErasureBringsNothingBack(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	const number, vid, sid, callID = "+14155550166", "v-raced-4d1b", "s-raced-4d1b", "CA-raced-4d1b"
	require.NoError(t, st.PutSession(ctx, session(sid, vid, 0)))
	rec := callRecordOf(callID, number, vid, sid, true)
	recordCallOf(t, st, rec)
	// An earlier call linked the caller to the visitor.
	p, err := st.Link(ctx, rec.Caller.Phone, rec.Caller.Visitor)
	require.NoError(t, err)
	require.NoError(t, st.ErasePerson(ctx, p))

	err = st.PutCallRecord(ctx, rec, msg("crm/"+rec.Conversion.ID, "crm", rec.Conversion.ID, 0))
	require.ErrorIs(t, err, store.ErrNotFound)
	require.ErrorContains(t, err, "twilio/"+callID, "the error names the call")
	requireNothingOfCallRecord(t, s, st, rec)
	_, err = st.Call(ctx, "twilio", callID)
	require.ErrorIs(t, err, store.ErrNotFound)
	if s.features.Dump != nil {
		var left []string
		for _, v := range s.features.Dump(t, st) {
			for _, n := range []string{number, vid, sid, callID} {
				if strings.Contains(v, n) {
					left = append(left, v)
				}
			}
		}
		require.Empty(t, left, "erased, yet stored again")
	}
}
