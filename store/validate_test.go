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
