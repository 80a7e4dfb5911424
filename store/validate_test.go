package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/store"
)

func TestIsE164(t *testing.T) {
	for _, c := range []struct {
		in   string
		want bool
	}{
		{"+14155550100", true},
		{"+442071838750", true},
		{"+12", true},
		{"+1", false},
		{"14155550100", false},
		{"+04155550100", false},
		{"+1415555010a", false},
		{"+1234567890123456", false}, // 16 digits
		{"", false},
		{"+1 415 555 0100", false},
	} {
		t.Run(c.in, func(t *testing.T) { require.Equal(t, c.want, store.IsE164(c.in)) })
	}
}

func TestValidateCallNamesEveryBadField(t *testing.T) {
	err := store.ValidateCall(provider.CallEvent{From: "x", Duration: -1, Status: "??"})
	require.ErrorIs(t, err, store.ErrInvalid)
	for _, f := range []string{"provider", "call_id", "from", "duration", "status"} {
		require.Contains(t, err.Error(), f)
	}
	require.NoError(t, store.ValidateCall(provider.CallEvent{Provider: "twilio", CallID: "CA1"}))
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
