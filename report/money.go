package report

import (
	"fmt"
	"math"
	"strings"

	"github.com/attriqs/calltrack/journey"
)

// minorDigits is the number of minor-unit digits of an ISO 4217 currency.
func minorDigits(currency string) int { return journey.MinorDigits(currency) }

// FormatMoney writes minor units as a decimal in the currency's major
// unit with its minor digits: 1250 USD is "12.50", 500 JPY is "500".
func FormatMoney(minor int64, currency string) string { return journey.FormatMinor(minor, currency) }

// parseMoney reads a non-negative decimal amount in major units with at
// most the currency's minor digits ("12.5", "12.50", "12") as minor units.
func parseMoney(s, currency string) (int64, error) {
	digits := minorDigits(currency)
	whole, frac, _ := strings.Cut(s, ".")
	if strings.HasPrefix(s, "-") {
		return 0, fmt.Errorf("%q is negative", s)
	}
	if whole == "" && frac == "" {
		return 0, fmt.Errorf("%q is not a decimal amount", s)
	}
	if len(frac) > digits {
		return 0, fmt.Errorf("%q has more than the %d decimal digits of %s", s, digits, currency)
	}
	var v int64
	for _, part := range []string{whole, frac + strings.Repeat("0", digits-len(frac))} {
		for _, c := range part {
			if c < '0' || c > '9' {
				return 0, fmt.Errorf("%q is not a decimal amount", s)
			}
			if v > (math.MaxInt64-int64(c-'0'))/10 {
				return 0, fmt.Errorf("%q is too large", s)
			}
			v = v*10 + int64(c-'0')
		}
	}
	return v, nil
}
