package report

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestFormatShare(t *testing.T) {
	require.Equal(t, "0 %", FormatShare(0))
	require.Equal(t, "99.52 %", FormatShare(0.9952))
	require.Equal(t, "0.0042 %", FormatShare(0.000042), "a tiny share keeps two significant digits")
}

func TestPeriodEndIsTomorrowsStartInUTC(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	late := time.Date(2026, 12, 6, 22, 30, 0, 0, ny) // already Dec 7 in UTC
	require.Equal(t, time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC), PeriodEnd(late))
	require.Equal(t, time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC), PeriodEnd(time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)))
}
