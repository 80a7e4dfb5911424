package dni

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/chat"
	"github.com/attriqs/calltrack/classify"
	"github.com/attriqs/calltrack/internal/logbuf"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/store"
)

// The attack on chat ids: v1/events is unauthenticated, so an attacker
// can post the contact and conversation ids of someone else's chat (seen
// over a shoulder, in a shared link, or guessed) as their own. These
// tests are the attack; each failed before chat ids were claims.

const (
	victimChat    = "session_0b9f4c1e-victim" // Crisp's session id: the conversation
	victimContact = "user-victim-42"
)

// chatAttack is a victim who chatted from a newsletter visit and an
// attacker from a paid-search visit who, a minute later, posted the
// victim's chat ids as their own.
type chatAttack struct {
	h                *harness
	victim, attacker Assignment
}

func newChatAttack(t *testing.T, cfg Config, opts ...Option) chatAttack {
	t.Helper()
	h := newHarness(t, cfg, opts...)
	victim := h.visit(t, VisitRequest{URL: "https://example-plumbing.com/?utm_source=newsletter&utm_medium=email&utm_campaign=spring"})
	postChat(t, h, victim)
	h.clock.add(time.Minute)
	attacker := h.visit(t, VisitRequest{URL: "https://example-plumbing.com/?gclid=attacker"})
	postChat(t, h, attacker)
	h.clock.add(time.Minute)
	return chatAttack{h: h, victim: victim, attacker: attacker}
}

// postChat reports, as the tracker does, that a's session started the
// victim's Crisp chat.
func postChat(t *testing.T, h *harness, a Assignment) {
	t.Helper()
	res, body := h.post(t, "v1/events", EventsRequest{VisitorID: a.VisitorID, SessionID: a.SessionID, Events: []Event{
		{Type: EventChatStarted, Platform: chat.Crisp, ConversationID: victimChat, ContactID: victimContact, At: h.clock.now()}}})
	require.Equal(t, http.StatusAccepted, res.StatusCode, string(body))
}

// crispLead posts Crisp's signed session:set_email for the victim's chat:
// the lead names only the conversation and the contact.
func crispLead(t *testing.T, h *harness, secret string) {
	t.Helper()
	now := h.clock.now()
	body := fmt.Appendf(nil, `{"event":"session:set_email","timestamp":%d,"data":{"session_id":%q,"timestamp":%d,"user":{"user_id":%q}}}`,
		now.UnixMilli(), victimChat, now.UnixMilli(), victimContact)
	ts := strconv.FormatInt(now.Unix(), 10)
	req, err := http.NewRequest(http.MethodPost, h.srv.URL+DefaultPrefix+"v1/chat/crisp", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("X-Crisp-Request-Timestamp", ts)
	req.Header.Set("X-Crisp-Signature", chat.SignCrisp(secret, ts, body))
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
}

func chatIdentifiers(t *testing.T) (contact, conversation journey.Identifier) {
	t.Helper()
	contact, err := journey.ChatContactID(chat.Crisp, victimContact)
	require.NoError(t, err)
	conversation, err = conversationID(chat.Crisp, victimChat)
	require.NoError(t, err)
	return contact, conversation
}

// Claimed chat ids merge no one: before, both browsers' ids were linked
// to their visitors, which made the attacker and the victim one person.
func TestClaimedChatIDsMergeNoOne(t *testing.T) {
	a := newChatAttack(t, testConfig())
	ctx := context.Background()
	st := a.h.svc.Store()
	pv, err := st.Resolve(ctx, visitorOf(a.victim.VisitorID))
	require.NoError(t, err)
	pa, err := st.Resolve(ctx, visitorOf(a.attacker.VisitorID))
	require.NoError(t, err)
	assert.NotEqual(t, pv, pa, "the attacker and the victim are two persons")

	contact, conversation := chatIdentifiers(t)
	for _, id := range []journey.Identifier{contact, conversation} {
		_, err := st.PersonOf(ctx, id)
		assert.ErrorIs(t, err, store.ErrNotFound, "a claimed %s is in no one's identity", id)
		claims, err := st.ClaimsOf(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, []string{a.victim.SessionID, a.attacker.SessionID},
			ids(claims, func(c journey.Claim) string { return c.SessionID }), "both claims are kept, the victim's first")
	}
}

// The victim's chat touchpoint stays the victim's: before, the attacker's
// event had the same natural id and overwrote it with the attacker's
// session and campaign.
func TestClaimedChatKeepsTheFirstClaimantsTouchpoint(t *testing.T) {
	a := newChatAttack(t, testConfig())
	ctx := context.Background()
	shared := journey.ChatTouchpointID(chat.Crisp, victimChat, string(chat.Started))
	chats := func(v Assignment) map[string]journey.Touchpoint {
		tps, _, err := a.h.svc.Journey(ctx, visitorOf(v.VisitorID), a.h.clock.now().Add(-time.Hour), a.h.clock.now().Add(time.Hour))
		require.NoError(t, err)
		out := map[string]journey.Touchpoint{}
		for _, tp := range tps {
			if tp.Kind == journey.TouchChat {
				out[tp.ID] = tp
			}
		}
		return out
	}
	victim := chats(a.victim)
	require.Contains(t, victim, shared)
	assert.Len(t, victim, 1)
	assert.Equal(t, a.victim.SessionID, victim[shared].SessionID)
	assert.Equal(t, classify.ChannelEmail, victim[shared].Source.Channel, "the victim's campaign")

	attacker := chats(a.attacker)
	assert.NotContains(t, attacker, shared)
	require.Len(t, attacker, 1, "the attacker's claim is a touchpoint of the attacker's own session")
	for _, tp := range attacker {
		assert.Equal(t, a.attacker.SessionID, tp.SessionID)
	}
}

// A lead the platform signed, naming only the chat's ids, credits the
// session that claimed them first: before, it joined the merged person's
// latest session, the attacker's.
func TestSignedChatLeadCreditsTheFirstClaimant(t *testing.T) {
	cfg := testConfig()
	cfg.ChatWebhooks = []chat.Webhook{chat.CrispWebhook{Secret: "whsec"}}
	cfg.ChatConversions = []chat.Rule{{Name: "chat_lead", Types: []chat.Type{chat.Lead}, Value: 5000, Currency: "USD"}}
	var logs logbuf.Buffer
	a := newChatAttack(t, cfg, WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	ctx := context.Background()
	crispLead(t, a.h, "whsec")

	convs, err := a.h.svc.Store().ConversionsBetween(ctx, a.h.clock.now().Add(-time.Hour), a.h.clock.now().Add(time.Hour))
	require.NoError(t, err)
	require.Len(t, convs, 1)
	assert.Equal(t, "chat_lead", convs[0].Type)
	assert.Equal(t, a.victim.SessionID, convs[0].SessionID, "the victim's lead")
	assert.Equal(t, a.victim.VisitorID, convs[0].VisitorID)
	_, victimConvs, err := a.h.svc.Journey(ctx, visitorOf(a.victim.VisitorID), a.h.clock.now().Add(-time.Hour), a.h.clock.now().Add(time.Hour))
	require.NoError(t, err)
	assert.Len(t, victimConvs, 1, "in the victim's journey")
	_, attackerConvs, err := a.h.svc.Journey(ctx, visitorOf(a.attacker.VisitorID), a.h.clock.now().Add(-time.Hour), a.h.clock.now().Add(time.Hour))
	require.NoError(t, err)
	assert.Empty(t, attackerConvs, "and not in the attacker's")
	assert.True(t, logs.Contains("several visitors claimed"), "the contested claim is logged: %s", logs.String())

	// The verified webhook linked the ids to the victim; a second lead
	// finds the victim through the identity graph, and the attacker is
	// still someone else.
	contact, _ := chatIdentifiers(t)
	p, err := a.h.svc.Store().PersonOf(ctx, contact)
	require.NoError(t, err)
	pv, err := a.h.svc.Store().PersonOf(ctx, visitorOf(a.victim.VisitorID))
	require.NoError(t, err)
	assert.Equal(t, pv, p)
	pa, err := a.h.svc.Store().Resolve(ctx, visitorOf(a.attacker.VisitorID))
	require.NoError(t, err)
	assert.NotEqual(t, pv, pa)
}

// Erasing the attacker erases the attacker only: before, the merge made
// the victim's sessions the attacker's.
func TestErasingTheChatClaimantLeavesTheVictim(t *testing.T) {
	a := newChatAttack(t, testConfig())
	ctx := context.Background()
	require.NoError(t, a.h.svc.Close(), "the visits' writes reach the store")
	st := a.h.svc.Store()
	person, err := st.Resolve(ctx, visitorOf(a.attacker.VisitorID))
	require.NoError(t, err)
	require.NoError(t, st.ErasePerson(ctx, person))

	_, err = st.Session(ctx, a.attacker.SessionID)
	assert.ErrorIs(t, err, store.ErrNotFound, "the attacker is erased")
	_, err = st.Session(ctx, a.victim.SessionID)
	assert.NoError(t, err, "the victim's session stays")
	_, conversation := chatIdentifiers(t)
	claims, err := st.ClaimsOf(ctx, conversation)
	require.NoError(t, err)
	assert.Equal(t, []string{a.victim.SessionID}, ids(claims, func(c journey.Claim) string { return c.SessionID }),
		"the attacker's claim went with them, the victim's stays")
}

func ids[T any](xs []T, id func(T) string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = id(x)
	}
	return out
}

// The session id a platform echoes was written into the widget by a
// browser, so an attacker can make a verified webhook name the victim's
// session together with the attacker's own contact. The event joins the
// session it names, but the contact stays the attacker's: a chat webhook
// never merges two persons.
func TestEchoedSessionNeverMergesTwoPersons(t *testing.T) {
	cfg := testConfig()
	cfg.ChatWebhooks = []chat.Webhook{chat.IntercomWebhook{ClientSecret: "whsec"}}
	h := newHarness(t, cfg)
	ctx := context.Background()
	victim := h.visit(t, VisitRequest{URL: "https://example-plumbing.com/?utm_source=newsletter&utm_medium=email"})
	attacker := h.visit(t, VisitRequest{URL: "https://example-plumbing.com/?gclid=attacker"})
	hook := func(conversation, sessionID string) {
		t.Helper()
		body := fmt.Appendf(nil, `{"type":"notification_event","topic":"conversation.user.created","created_at":%d,
			"data":{"item":{"type":"conversation","id":%q,"contacts":{"contacts":[{"id":"contact-attacker"}]},
			"custom_attributes":{%q:%q}}}}`, h.clock.now().Unix(), conversation, chat.SessionAttribute, sessionID)
		req, err := http.NewRequest(http.MethodPost, h.srv.URL+DefaultPrefix+"v1/chat/intercom", bytes.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("X-Hub-Signature", chat.SignIntercom("whsec", body))
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		require.Equal(t, http.StatusOK, res.StatusCode)
	}
	hook("conv-attacker", attacker.SessionID) // verified: the attacker's contact is the attacker's
	h.clock.add(time.Minute)
	hook("conv-forged", victim.SessionID) // the attacker's widget, carrying the victim's session id

	st := h.svc.Store()
	contact, err := journey.ChatContactID(chat.Intercom, "contact-attacker")
	require.NoError(t, err)
	owner, err := st.PersonOf(ctx, contact)
	require.NoError(t, err)
	pa, err := st.PersonOf(ctx, visitorOf(attacker.VisitorID))
	require.NoError(t, err)
	assert.Equal(t, pa, owner, "the contact stays the attacker's")
	pv, err := st.Resolve(ctx, visitorOf(victim.VisitorID))
	require.NoError(t, err)
	assert.NotEqual(t, pa, pv, "the attacker and the victim are two persons")
}
