package pool

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// ParseNumber validates a phone number written in E.164 form ("+14155550100")
// and returns its canonical E.164 spelling. ASCII digits plus spaces, dashes,
// dots and parentheses are accepted (the separators are removed); the leading "+" and country code are
// required because tracking numbers are dialled from anywhere. The error wraps
// [ErrInvalidNumber].
func ParseNumber(s string) (string, error) {
	canonical, reason := checkNumber(s)
	if reason != "" {
		return "", fmt.Errorf("%w: %q: %s", ErrInvalidNumber, s, reason)
	}
	return canonical, nil
}

// checkNumber returns the canonical E.164 form, or why s is not one.
func checkNumber(s string) (canonical, reason string) {
	trimmed := strings.TrimSpace(s)
	if !strings.HasPrefix(trimmed, "+") {
		return "", "not a valid E.164 number: missing leading + and country code"
	}
	if len(trimmed) > 32 {
		return "", "not a valid E.164 number: too long"
	}
	for _, r := range trimmed[1:] {
		if (r < '0' || r > '9') && !strings.ContainsRune(" -.()", r) {
			return "", "not a valid E.164 number: unexpected " + strconv.QuoteRune(r)
		}
	}
	parsed, err := phonenumbers.Parse(trimmed, "")
	if err != nil || !phonenumbers.IsValidNumber(parsed) {
		return "", "not a valid E.164 number"
	}
	return phonenumbers.Format(parsed, phonenumbers.E164), ""
}
