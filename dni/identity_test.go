package dni

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/store"
)

var identityKey = []byte("identity-key-identity-key-identi")

func visitorOf(id string) journey.Identifier {
	return journey.Identifier{Kind: journey.IDVisitor, Value: id}
}

// The attack: a visitor posts someone else's email hash with an event.
// Before, the hash was linked to the attacker's visitor, which merged the
// attacker with the victim the host had identified by that address, and
// erasing the attacker erased the victim. Now the hash is a claim kept on
// the attacker's own touchpoint: no one is merged.
func TestClaimedEmailHashMergesNoOne(t *testing.T) {
	cfg := testConfig()
	cfg.IdentityKey = identityKey
	h := newHarness(t, cfg)
	ctx := context.Background()
	email, err := journey.EmailHashID("jane@example.com", identityKey)
	require.NoError(t, err)

	victim := h.visit(t, VisitRequest{URL: "https://example-plumbing.com/?utm_source=newsletter&utm_medium=email"})
	require.NoError(t, h.svc.Identify(ctx, victim.VisitorID, email), "the host signed Jane in")
	attacker := h.visit(t, VisitRequest{URL: "https://example-plumbing.com/?gclid=x"})
	res, body := h.post(t, "v1/events", EventsRequest{VisitorID: attacker.VisitorID, SessionID: attacker.SessionID,
		Events: []Event{{Type: EventForm, Name: "quote", At: h.clock.now(), EmailHash: email.Value}}})
	require.Equal(t, http.StatusAccepted, res.StatusCode, string(body))

	jane, err := h.svc.Store().PersonOf(ctx, email)
	require.NoError(t, err)
	ids, err := h.svc.Store().Identifiers(ctx, jane)
	require.NoError(t, err)
	assert.ElementsMatch(t, []journey.Identifier{email, visitorOf(victim.VisitorID)}, ids, "the attacker did not join Jane")
	_, err = h.svc.Store().PersonOf(ctx, visitorOf(attacker.VisitorID))
	assert.ErrorIs(t, err, store.ErrNotFound, "the attacker's visitor was linked to nothing")

	tps, _, err := h.svc.Journey(ctx, visitorOf(attacker.VisitorID), h.clock.now().Add(-time.Hour), h.clock.now().Add(time.Hour))
	require.NoError(t, err)
	var claimed []string
	for _, tp := range tps {
		if v, ok := tp.Attrs[store.AttrClaimedEmailHash]; ok {
			claimed = append(claimed, v)
			assert.Equal(t, attacker.SessionID, tp.SessionID)
		}
	}
	assert.Equal(t, []string{email.Value}, claimed, "the claim is kept on the attacker's own touchpoint")
}

// Erasing the attacker after the attack erases the attacker only.
func TestErasingTheClaimantLeavesTheVictim(t *testing.T) {
	cfg := testConfig()
	cfg.IdentityKey = identityKey
	h := newHarness(t, cfg)
	ctx := context.Background()
	email, err := journey.EmailHashID("jane@example.com", identityKey)
	require.NoError(t, err)
	victim := h.visit(t, VisitRequest{URL: "https://example-plumbing.com/"})
	require.NoError(t, h.svc.Identify(ctx, victim.VisitorID, email))
	attacker := h.visit(t, VisitRequest{URL: "https://example-plumbing.com/"})
	res, body := h.post(t, "v1/events", EventsRequest{VisitorID: attacker.VisitorID, SessionID: attacker.SessionID,
		Events: []Event{{Type: EventCustom, Name: "newsletter", At: h.clock.now(), EmailHash: email.Value}}})
	require.Equal(t, http.StatusAccepted, res.StatusCode, string(body))
	require.NoError(t, h.svc.Close(), "the visits' writes reach the store")

	person, err := h.svc.Store().Resolve(ctx, visitorOf(attacker.VisitorID))
	require.NoError(t, err)
	require.NoError(t, h.svc.Store().ErasePerson(ctx, person))

	_, err = h.svc.Store().Session(ctx, attacker.SessionID)
	assert.ErrorIs(t, err, store.ErrNotFound, "the attacker is erased")
	_, err = h.svc.Store().Session(ctx, victim.SessionID)
	assert.NoError(t, err, "the victim's session stays")
	_, err = h.svc.Store().PersonOf(ctx, email)
	assert.NoError(t, err, "and so does the victim's identity")
}

// Only the keyed form is an email hash; the 400 names the field, and
// nothing of the batch is written.
func TestEmailHashMustBeKeyed(t *testing.T) {
	h := newHarness(t, testConfig())
	ctx := context.Background()
	a := h.visit(t, VisitRequest{URL: "https://example-plumbing.com/"})
	hex64 := strings.Repeat("0123456789abcdef", 4)
	for name, v := range map[string]string{
		"an address":           "jane@example.com",
		"bare hex":             hex64,
		"upper case":           "h:" + strings.ToUpper(hex64),
		"short":                "h:" + hex64[:63],
		"long":                 "h:" + hex64 + "0",
		"not hex":              "h:" + strings.Repeat("g", 64),
		"another identifier":   "visitor:" + a.VisitorID,
		"a keyed phone prefix": "p:" + hex64,
	} {
		t.Run(name, func(t *testing.T) {
			res, body := h.post(t, "v1/events", EventsRequest{VisitorID: a.VisitorID, SessionID: a.SessionID, Events: []Event{
				{Type: EventForm, Name: "first", At: h.clock.now()},
				{Type: EventForm, Name: "quote", At: h.clock.now(), EmailHash: v},
			}})
			assert.Equal(t, http.StatusBadRequest, res.StatusCode)
			assert.Contains(t, string(body), "events[1]: dni: invalid event: email_hash: not a keyed hash")
		})
	}
	tps, _, err := h.svc.Journey(ctx, visitorOf(a.VisitorID), h.clock.now().Add(-time.Hour), h.clock.now().Add(time.Hour))
	require.NoError(t, err)
	for _, tp := range tps {
		assert.Equal(t, journey.TouchSession, tp.Kind, "no event of a refused batch was written: %s", tp.ID)
	}

	res, body := h.post(t, "v1/events", EventsRequest{VisitorID: a.VisitorID, SessionID: a.SessionID,
		Events: []Event{{Type: EventForm, Name: "quote", At: h.clock.now(), EmailHash: "h:" + hex64}}})
	assert.Equal(t, http.StatusAccepted, res.StatusCode, string(body))
}

// The host's word merges: a user signed in on a phone and on a laptop is
// one person with one journey, and a number they confirmed joins the
// calls from it, keyed as the call pipeline keys it.
func TestIdentifyMerges(t *testing.T) {
	cfg := testConfig()
	cfg.IdentityKey = identityKey
	h := newHarness(t, cfg)
	ctx := context.Background()
	phone := h.visit(t, VisitRequest{URL: "https://example-plumbing.com/?utm_source=newsletter&utm_medium=email"})
	h.clock.add(time.Hour)
	laptop := h.visit(t, VisitRequest{URL: "https://example-plumbing.com/?gclid=x"})
	user := journey.Identifier{Kind: journey.IDUser, Value: "u-42"}

	require.NoError(t, h.svc.Identify(ctx, phone.VisitorID, user))
	require.NoError(t, h.svc.Identify(ctx, laptop.VisitorID, user, journey.Identifier{Kind: journey.IDPhone, Value: caller}))
	require.NoError(t, h.svc.Identify(ctx, laptop.VisitorID, user), "identifying twice changes nothing")
	require.NoError(t, h.svc.Close())

	p1, err := h.svc.Store().PersonOf(ctx, visitorOf(phone.VisitorID))
	require.NoError(t, err)
	p2, err := h.svc.Store().PersonOf(ctx, visitorOf(laptop.VisitorID))
	require.NoError(t, err)
	assert.Equal(t, p1, p2, "one person")
	keyed, err := journey.PhoneID(caller, identityKey)
	require.NoError(t, err)
	p3, err := h.svc.Store().PersonOf(ctx, keyed)
	require.NoError(t, err, "the number is linked as the call pipeline keys a caller")
	assert.Equal(t, p1, p3)
	_, err = h.svc.Store().PersonOf(ctx, journey.Identifier{Kind: journey.IDPhone, Value: caller})
	assert.ErrorIs(t, err, store.ErrNotFound, "never in the clear under a key")

	tps, _, err := h.svc.Journey(ctx, user, h.clock.now().Add(-2*time.Hour), h.clock.now().Add(time.Hour))
	require.NoError(t, err)
	var sessions []string
	for _, tp := range tps {
		sessions = append(sessions, tp.SessionID)
	}
	assert.Equal(t, []string{phone.SessionID, laptop.SessionID}, sessions, "one journey of both devices")
}

// Identify names every identifier it refuses, and links nothing when one
// is refused.
func TestIdentifyRefuses(t *testing.T) {
	h := newHarness(t, testConfig())
	ctx := context.Background()
	a := h.visit(t, VisitRequest{URL: "https://example-plumbing.com/"})
	user := journey.Identifier{Kind: journey.IDUser, Value: "u-1"}
	hex64 := strings.Repeat("ab", 32)
	cases := []struct {
		name    string
		visitor string
		ids     []journey.Identifier
		want    []string
		is      error
	}{
		{"no identifiers", a.VisitorID, nil, []string{"ids: dni: invalid identifier: none given"}, ErrInvalidIdentifier},
		{"no visitor", "", []journey.Identifier{user}, []string{"visitorID: dni: invalid id: empty"}, ErrInvalidID},
		{"a visitor id that is no id", "<script>", []journey.Identifier{user}, []string{"visitorID: dni: invalid id"}, ErrInvalidID},
		{"another visitor", a.VisitorID, []journey.Identifier{user, visitorOf("v-other")}, []string{"ids[1]: dni: invalid identifier: kind visitor: not accepted"}, ErrInvalidIdentifier},
		{"an address in the clear", a.VisitorID, []journey.Identifier{{Kind: journey.IDEmailHash, Value: "jane@example.com"}}, []string{"ids[0]", "email_hash: not a keyed hash"}, ErrInvalidIdentifier},
		{"a hash without its prefix", a.VisitorID, []journey.Identifier{{Kind: journey.IDEmailHash, Value: hex64}}, []string{"ids[0]", "email_hash: not a keyed hash"}, ErrInvalidIdentifier},
		{"a phone that is no number", a.VisitorID, []journey.Identifier{{Kind: journey.IDPhone, Value: "call me"}}, []string{"ids[0]", "phone: want an E.164 number"}, ErrInvalidIdentifier},
		{"a chat contact without platform", a.VisitorID, []journey.Identifier{{Kind: journey.IDChatContact, Value: "5f1c"}}, []string{"ids[0]", `chat_contact: want "platform:id"`}, ErrInvalidIdentifier},
		{"an unknown kind", a.VisitorID, []journey.Identifier{{Kind: "cookie", Value: "x"}}, []string{"ids[0]", `kind "cookie" is not a known kind`}, ErrInvalidIdentifier},
		{"an empty value", a.VisitorID, []journey.Identifier{{Kind: journey.IDUser}}, []string{"ids[0]", "value is empty"}, ErrInvalidIdentifier},
		{"every problem at once", "", []journey.Identifier{{Kind: journey.IDUser}, user, {Kind: journey.IDPhone, Value: "x"}},
			[]string{"visitorID:", "ids[0]", "ids[2]"}, ErrInvalidIdentifier},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := h.svc.Identify(ctx, tc.visitor, tc.ids...)
			require.Error(t, err)
			assert.True(t, errors.Is(err, tc.is), "%v is not %v", err, tc.is)
			for _, want := range tc.want {
				assert.Contains(t, err.Error(), want)
			}
			if tc.name == "every problem at once" {
				assert.NotContains(t, err.Error(), "ids[1]", "the good identifier is not named")
			}
			_, err = h.svc.Store().PersonOf(ctx, user)
			assert.ErrorIs(t, err, store.ErrNotFound, "nothing was linked")
		})
	}

	for _, ok := range []journey.Identifier{
		{Kind: journey.IDEmailHash, Value: "h:" + hex64},
		{Kind: journey.IDPhone, Value: "h:" + hex64},
		{Kind: journey.IDChatContact, Value: "intercom:5f1c"},
	} {
		assert.NoError(t, h.svc.Identify(ctx, a.VisitorID, ok), "%s", ok)
	}
}
