package journey

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/provider"
)

var identityKey = []byte("host identity key")

func TestIsKeyed(t *testing.T) {
	id, err := PhoneID(callerJane, identityKey)
	require.NoError(t, err)
	email, err := EmailHashID("jane@example.com", identityKey)
	require.NoError(t, err)
	assert.True(t, IsKeyed(id.Value))
	assert.True(t, IsKeyed(email.Value))
	for _, v := range []string{"", callerJane, "h:", "h:" + strings.Repeat("a", 63), "h:" + strings.Repeat("A", 64),
		"h:" + strings.Repeat("g", 64), "x:" + strings.Repeat("a", 64), id.Value + "0"} {
		assert.False(t, IsKeyed(v), v)
	}
}

func TestPhoneIDOfAKeyedNumberIsItself(t *testing.T) {
	id, err := PhoneID(callerJane, identityKey)
	require.NoError(t, err)
	for _, key := range [][]byte{identityKey, nil, []byte("another key")} {
		again, err := PhoneID(id.Value, key)
		require.NoError(t, err)
		assert.Equal(t, id, again, "keying is not applied twice, whatever the key")
	}
}

func TestRedactCallKeepsNothingThatNamesTheCaller(t *testing.T) {
	body := []byte("From=%2B12125550123&CallerName=JANE+DOE&FromZip=10001&To=%2B14155550101")
	ev := provider.CallEvent{Provider: "twilio", CallID: "CA1", Kind: provider.KindInbound, From: callerJane, To: poolNum1,
		ForwardedFrom: "+12125550199", CallerName: "JANE DOE", CallerCity: "NEW YORK", CallerRegion: "NY", CallerCountry: "US",
		Status: provider.StatusRinging, StartedAt: t0, Raw: body}
	orig := ev
	orig.Raw = bytes.Clone(body)

	r := RedactCall(ev, identityKey)
	phone, err := PhoneID(callerJane, identityKey)
	require.NoError(t, err)
	fwd, err := PhoneID("+12125550199", identityKey)
	require.NoError(t, err)
	assert.Equal(t, phone.Value, r.From)
	assert.Equal(t, fwd.Value, r.ForwardedFrom)
	assert.Empty(t, r.CallerName)
	assert.True(t, IsSealed(r.Raw))
	for _, s := range []string{"2125550123", "JANE", "10001"} {
		assert.NotContains(t, string(r.Raw), s)
	}
	// What calltrack reads of the call is kept.
	assert.Equal(t, poolNum1, r.To)
	assert.Equal(t, "NEW YORK", r.CallerCity)
	assert.Equal(t, ev.Provider+ev.CallID, r.Provider+r.CallID)
	assert.Equal(t, orig, ev, "the caller's copy (the handler's, which answers) is untouched")

	again := RedactCall(r, identityKey)
	assert.Equal(t, r, again, "redacting twice changes nothing more")
	opened, err := OpenRaw(r.Raw, identityKey)
	require.NoError(t, err)
	assert.Equal(t, body, opened, "an operator with the key can still read the body")

	assert.Equal(t, ev, RedactCall(ev, nil), "no key, no redaction")

	bad := ev
	bad.From = "+1" // not a number PhoneID takes: dropped, as withheld
	assert.Empty(t, RedactCall(bad, identityKey).From)
}

func TestSealedBodiesOpenOnlyWithTheKeyAndUnaltered(t *testing.T) {
	body := []byte(`{"from":"+12125550123"}`)
	sealed := SealRaw(body, identityKey)
	assert.NotEqual(t, sealed, SealRaw(body, identityKey), "each seal has its own nonce")
	_, err := OpenRaw(sealed, []byte("another key"))
	assert.ErrorIs(t, err, ErrNotSealed)
	_, err = OpenRaw(body, identityKey)
	assert.ErrorIs(t, err, ErrNotSealed)
	_, err = OpenRaw(sealed, nil)
	assert.ErrorIs(t, err, ErrNotSealed)
	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-2] ^= 1
	if tampered[len(tampered)-2] == sealed[len(sealed)-2] {
		t.Fatal("not altered")
	}
	_, err = OpenRaw(tampered, identityKey)
	assert.ErrorIs(t, err, ErrNotSealed)
	empty := SealRaw(nil, identityKey)
	got, err := OpenRaw(empty, identityKey)
	require.NoError(t, err)
	assert.Empty(t, got)
}

// history records the numbers qualification asks about.
type history struct {
	mu    sync.Mutex
	asked []string
}

func (h *history) CallsBefore(_ context.Context, from string, _ time.Time) (int, time.Time, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.asked = append(h.asked, from)
	return 0, time.Time{}, nil
}

// A redacted call derives the record the call itself derives under the
// key: the same caller link, "caller-…" visitor, touchpoint and
// conversion, and its caller history is read under the keyed number.
func TestPipelineDerivesTheSameRecordFromARedactedCall(t *testing.T) {
	for _, to := range []string{printAd, poolNum1} { // dedicated; a pool number no session held
		hist := &history{}
		st, err := NewStitcher(testCatalog(t), fakeHolds{}, fakeSessions{}, StitcherConfig{Clock: func() time.Time { return t0 }})
		require.NoError(t, err)
		q, err := NewQualifier(QualifierConfig{Rules: []QualifyRule{{Name: "new caller", FirstTimeOnly: true, Value: 100, Currency: "USD"}},
			History: hist})
		require.NoError(t, err)
		p := &CallPipeline{Stitcher: st, Qualifier: q, IdentityKey: identityKey}
		call := provider.CallEvent{Provider: "twilio", CallID: "CA1", From: callerJane, To: to, Status: provider.StatusCompleted,
			StartedAt: t0, AnsweredAt: t0.Add(5 * time.Second), EndedAt: t0.Add(3 * time.Minute), Duration: 175 * time.Second}

		want, err := p.Process(t.Context(), call)
		require.NoError(t, err)
		got, err := p.Process(t.Context(), RedactCall(call, identityKey))
		require.NoError(t, err)
		assert.Equal(t, want, got, to)
		require.NotNil(t, got.Caller)
		phone, err := PhoneID(callerJane, identityKey)
		require.NoError(t, err)
		assert.Equal(t, phone, got.Caller.Phone)
		assert.Equal(t, "caller-"+strings.TrimPrefix(phone.Value, "h:"), got.Caller.Visitor.Value)
		require.NotNil(t, got.Conversion)
		assert.Equal(t, got.Caller.Visitor.Value, got.Conversion.VisitorID)
		assert.Equal(t, []string{callerJane, phone.Value}, hist.asked,
			"the store is asked under what it holds: E.164 for the clear call, the keyed number for the redacted one")

		// Without the key (a host that turned it off), a call recorded
		// keyed still links its caller.
		p.IdentityKey = nil
		old, err := p.Process(t.Context(), RedactCall(call, identityKey))
		require.NoError(t, err)
		assert.Equal(t, phone, old.Caller.Phone)
	}
}

func TestParseCallTouchpointID(t *testing.T) {
	p, c, ok := ParseCallTouchpointID(CallTouchpointID("twilio", "CA/1"))
	assert.True(t, ok)
	assert.Equal(t, "twilio", p)
	assert.Equal(t, "CA/1", c)
	for _, bad := range []string{"", "call:", "call:twilio", "call:/CA1", "call:twilio/", "chat:intercom/c1/x"} {
		_, _, ok := ParseCallTouchpointID(bad)
		assert.False(t, ok, bad)
	}
}
