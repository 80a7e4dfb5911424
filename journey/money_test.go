package journey

import (
	"math"
	"testing"
)

func TestFormatMinor(t *testing.T) {
	for _, tc := range []struct {
		minor    int64
		currency string
		want     string
	}{
		{12345, "USD", "123.45"}, {5, "usd", "0.05"}, {500, "JPY", "500"}, {1234, "KWD", "1.234"},
		{-1250, "EUR", "-12.50"}, {0, "USD", "0.00"}, {math.MinInt64, "JPY", "-9223372036854775808"},
	} {
		if got := FormatMinor(tc.minor, tc.currency); got != tc.want {
			t.Errorf("FormatMinor(%d, %s) = %q, want %q", tc.minor, tc.currency, got, tc.want)
		}
	}
}
