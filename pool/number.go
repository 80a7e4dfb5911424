package pool

import (
	"errors"
	"fmt"

	"github.com/attriqs/calltrack/phone"
)

// ParseNumber validates a phone number written in E.164 form ("+14155550100")
// and returns its canonical E.164 spelling. It applies [phone.ParseValid]:
// ASCII digits plus spaces, dashes, dots and parentheses are accepted (the
// separators are removed); the leading "+" and country code are required
// because tracking numbers are dialled from anywhere, and the number must be
// one its country assigns. The error wraps [ErrInvalidNumber].
func ParseNumber(s string) (string, error) {
	canonical, reason := checkNumber(s)
	if reason != "" {
		return "", fmt.Errorf("%w: %q: %s", ErrInvalidNumber, s, reason)
	}
	return canonical, nil
}

// checkNumber returns the canonical E.164 form, or why s is not one.
func checkNumber(s string) (canonical, reason string) {
	n, err := phone.ParseValid(s, "")
	var pe *phone.Error
	switch {
	case errors.As(err, &pe):
		return "", "not a valid E.164 number: " + pe.Reason()
	case err != nil:
		return "", "not a valid E.164 number"
	}
	return n, ""
}
