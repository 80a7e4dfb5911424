package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/store"
)

func TestValidateCallNamesEveryBadField(t *testing.T) {
	err := store.ValidateCall(provider.CallEvent{From: "x", Duration: -1, Status: "??"})
	require.ErrorIs(t, err, store.ErrInvalid)
	for _, f := range []string{"provider", "call_id", "from", "duration", "status"} {
		require.Contains(t, err.Error(), f)
	}
	require.NoError(t, store.ValidateCall(provider.CallEvent{Provider: "twilio", CallID: "CA1"}))
}

func TestValidateCallAcceptsAKeyedCallerNumberOnlyWhereTheCallerIs(t *testing.T) {
	keyed, err := journey.PhoneID("+14155550123", []byte("key"))
	require.NoError(t, err)
	ev := provider.CallEvent{Provider: "twilio", CallID: "CA1", From: keyed.Value, ForwardedFrom: keyed.Value, To: "+14155550100"}
	require.NoError(t, store.ValidateCall(ev))
	ev.To = keyed.Value
	err = store.ValidateCall(ev)
	require.ErrorIs(t, err, store.ErrInvalid)
	require.Contains(t, err.Error(), "call: to")
	for _, bad := range []string{"h:", "h:abc", keyed.Value[:len(keyed.Value)-1] + "X", "H" + keyed.Value[1:]} {
		err := store.ValidateCall(provider.CallEvent{Provider: "twilio", CallID: "CA1", From: bad})
		require.ErrorIs(t, err, store.ErrInvalid, bad)
		require.Contains(t, err.Error(), "neither an E.164 number nor a keyed caller identifier")
	}
}

func TestValidateHoldNamesEveryBadField(t *testing.T) {
	err := store.ValidateHold(pool.HoldRecord{Number: "555"})
	require.ErrorIs(t, err, store.ErrInvalid)
	for _, f := range []string{"pool", "session_id", "number", "from"} {
		require.Contains(t, err.Error(), f)
	}
	ok := pool.HoldRecord{Pool: "p", Number: "+14155550100", SessionID: "s", From: time.Now()}
	require.NoError(t, store.ValidateHold(ok))
}

func TestMicroIsUTCMicroseconds(t *testing.T) {
	in := time.Date(2026, 1, 2, 3, 4, 5, 6007, time.FixedZone("X", 3600))
	got := store.Micro(in)
	require.Equal(t, time.UTC, got.Location())
	require.Equal(t, 6000, got.Nanosecond())
	require.True(t, got.Equal(in.Truncate(time.Microsecond)))
	require.True(t, store.Micro(time.Time{}).IsZero())
}

func TestSentinelsArePrefixed(t *testing.T) {
	for _, err := range []error{store.ErrNotFound, store.ErrConflict, store.ErrInvalid} {
		require.Regexp(t, "^store: ", err.Error())
		require.True(t, errors.Is(err, err))
	}
}

func TestWithoutSessionsReplacesEveryIDLongestFirst(t *testing.T) {
	got := store.WithoutSessions("held by s1; others: s12, s1, keep", []string{"s1", "s12", ""})
	require.Equal(t, "held by "+store.ErasedSession+"; others: "+store.ErasedSession+", "+store.ErasedSession+", keep", got)
	require.Equal(t, "untouched", store.WithoutSessions("untouched", nil))
}

// Only the levels Merge ranks are stored: "a" would rank as no
// attestation at all and be replaced by any other report.
func TestValidateCallAttestationIsExactlyAOrBOrC(t *testing.T) {
	for _, ok := range []provider.Attestation{"", "A", "B", "C"} {
		require.NoError(t, store.ValidateCall(provider.CallEvent{Provider: "twilio", CallID: "CA1", Attestation: ok}), ok)
	}
	for _, bad := range []provider.Attestation{"a", "b", " C", "D", "AA"} {
		err := store.ValidateCall(provider.CallEvent{Provider: "twilio", CallID: "CA1", Attestation: bad})
		require.ErrorIs(t, err, store.ErrInvalid, bad)
		require.Contains(t, err.Error(), "attestation", bad)
	}
}
