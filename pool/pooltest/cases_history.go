package pooltest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/pool"
)

func (s *suite) holdersAtCoversCallGrace(t *testing.T) {
	a := s.newAllocator(t, config(1, nil))
	l, err := a.Lease(ctx, poolName, session(1), at(0))
	require.NoError(t, err)
	require.NoError(t, a.Release(ctx, poolName, session(1), l.Token, at(10)))
	grace := 60 * time.Minute
	for _, tc := range []struct {
		minute float64
		want   int
	}{
		{-1, 0}, // before the hold
		{5, 1},  // during it
		{40, 1}, // 30 minutes after it ended: within grace
		{70, 1}, // exactly at the edge of grace
		{71, 0}, // past grace
	} {
		hs, err := a.HoldersAt(ctx, l.Number, at(tc.minute), grace)
		require.NoError(t, err)
		require.Len(t, hs, tc.want, "minute %v", tc.minute)
		if tc.want == 1 {
			assert.Equal(t, session(1), hs[0].SessionID)
			assert.Equal(t, at(0), hs[0].From)
			assert.Equal(t, at(10), hs[0].Until)
			assert.Equal(t, poolName, hs[0].Pool)
			assert.Equal(t, l.Number, hs[0].Number)
		}
	}
	// Any E.164 spelling of the number finds it.
	spaced := l.Number[:2] + " " + l.Number[2:5] + " " + l.Number[5:]
	hs, err := a.HoldersAt(ctx, spaced, at(5), 0)
	require.NoError(t, err)
	assert.Len(t, hs, 1)
}

func (s *suite) holdersAtUnknownNumberIsAnError(t *testing.T) {
	a := s.newAllocator(t, config(1, nil))
	_, err := a.HoldersAt(ctx, "+14159999999", at(0), 0)
	assert.ErrorIs(t, err, pool.ErrUnknownNumber)
}

func (s *suite) sweepEndsExpiredLeases(t *testing.T) {
	a := s.newAllocator(t, config(3, nil))
	ls := leaseAll(t, a, 3, 0)
	_, err := a.Renew(ctx, poolName, session(2), ls[2].Token, at(20))
	require.NoError(t, err)
	ended, err := a.Sweep(ctx, at(31))
	require.NoError(t, err)
	assert.Equal(t, 2, ended)
	ended, err = a.Sweep(ctx, at(32))
	require.NoError(t, err)
	assert.Zero(t, ended, "sweeping twice ends nothing more")
	_, err = a.Renew(ctx, poolName, session(2), ls[2].Token, at(33))
	assert.NoError(t, err, "the renewed lease survived")
	st, err := a.Stats(ctx, poolName, at(33))
	require.NoError(t, err)
	assert.Equal(t, 1, st.Leased)
	assert.Equal(t, 2, st.Cooling)
}

func (s *suite) statsCountsAddUp(t *testing.T) {
	a := s.newAllocator(t, config(10, nil))
	ls := leaseAll(t, a, 6, 0)
	for i := range 3 {
		require.NoError(t, a.Release(ctx, poolName, session(i), ls[i].Token, at(1)))
	}
	st, err := a.Stats(ctx, poolName, at(2))
	require.NoError(t, err)
	assert.Equal(t, 10, st.Size)
	assert.Equal(t, 3, st.Leased)
	assert.Equal(t, 3, st.Cooling)
	assert.Equal(t, 4, st.Free)
	assert.Equal(t, 3, st.Holds)
	assert.InDelta(t, 0.3, st.Utilisation, 1e-9)
	assert.GreaterOrEqual(t, st.PeakConcurrency, 6)
	// Two hours on everything has expired and cooled.
	st, err = a.Stats(ctx, poolName, at(120))
	require.NoError(t, err)
	assert.Equal(t, 10, st.Free)
	assert.Equal(t, st.Size, st.Leased+st.Free+st.Cooling)
}
