package journey

import (
	"strconv"
	"strings"
)

// MinorDigits is the number of minor-unit digits of an ISO 4217 currency:
// 2 for most, 0 for the yen and its like, 3 for the dinars.
func MinorDigits(currency string) int {
	switch strings.ToUpper(currency) {
	case "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF":
		return 0
	case "BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND":
		return 3
	}
	return 2
}

// FormatMinor writes an amount in minor units as a decimal in the
// currency's unit: 12345 USD is "123.45", 500 JPY is "500", 1234 KWD is
// "1.234".
func FormatMinor(minor int64, currency string) string {
	exp := MinorDigits(currency)
	neg := minor < 0
	u := uint64(minor)
	if neg {
		u = -u
	}
	s := strconv.FormatUint(u, 10)
	if exp > 0 {
		if len(s) <= exp {
			s = strings.Repeat("0", exp-len(s)+1) + s
		}
		s = s[:len(s)-exp] + "." + s[len(s)-exp:]
	}
	if neg {
		s = "-" + s
	}
	return s
}
