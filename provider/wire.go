package provider

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits on what a webhook may put into a CallEvent. Stores keep these
// values in text columns (PostgreSQL refuses NUL bytes and invalid UTF-8
// there), so adapters make every string storable before it leaves Parse.
const (
	// MaxTextLen bounds free text from the wire (caller name, city,
	// region, country), in bytes.
	MaxTextLen = 256
	// MaxCallIDLen bounds a call id, in bytes.
	MaxCallIDLen = 128
	// MaxCallDuration is the longest duration calltrack believes. Longer,
	// negative or unreadable durations are vendor bugs or forgeries.
	MaxCallDuration = 7 * 24 * time.Hour
)

// CleanText makes a free-text field from the wire storable: invalid UTF-8
// becomes U+FFFD, control characters other than tab and newline (NUL,
// the rest of C0, DEL) are removed, and the result is cut to at most max
// bytes at a rune boundary (max <= 0: no cap). Adapters apply it to every
// free-text field (CallerName, CallerCity, ...), never to a call id: see
// [CheckCallID].
func CleanText(s string, max int) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' && c != '\n' || c == 0x7f || c >= utf8.RuneSelf {
			clean = false
			break
		}
	}
	if !clean {
		s = strings.Map(func(r rune) rune {
			if r < 0x20 && r != '\t' && r != '\n' || r == 0x7f {
				return -1
			}
			return r
		}, strings.ToValidUTF8(s, "\uFFFD"))
	}
	if max > 0 && len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return s
}

// CheckCallID returns nil if id can be the call id of a CallEvent, and
// otherwise an error wrapping [ErrMalformedPayload] that names field (the
// vendor's parameter, e.g. "CallSid"). A call id is the key stores
// deduplicate on, so it is refused rather than cleaned: altering it
// silently could merge two calls or split one. It must be non-empty, at
// most [MaxCallIDLen] bytes of valid UTF-8, and free of control
// characters.
func CheckCallID(field, id string) error {
	switch {
	case id == "":
		return fmt.Errorf("%w: %s is missing", ErrMalformedPayload, field)
	case len(id) > MaxCallIDLen:
		return fmt.Errorf("%w: %s is longer than %d bytes", ErrMalformedPayload, field, MaxCallIDLen)
	case !utf8.ValidString(id):
		return fmt.Errorf("%w: %s %q is not valid UTF-8", ErrMalformedPayload, field, id)
	case strings.ContainsFunc(id, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return fmt.Errorf("%w: %s %q holds control characters", ErrMalformedPayload, field, id)
	}
	return nil
}

// ParseSeconds reads a duration the vendor writes as seconds: a
// non-negative integer ("93") or decimal ("93.5"), optionally quoted as
// JSON strings are. The result is at most [MaxCallDuration]; anything
// else (negative, too long, not a number) is an error wrapping
// [ErrMalformedPayload] that names field.
//
// Adapters treat that error as an unknown duration (0) and still return
// the event: refusing the webhook would make the vendor retry a payload
// that can never parse and lose the call's status, while the absurd value
// stays in CallEvent.Raw for audit.
func ParseSeconds(field, s string) (time.Duration, error) {
	v := strings.Trim(strings.TrimSpace(s), `"`)
	if strings.HasPrefix(v, "-") && isDecimal(v[1:]) {
		return 0, fmt.Errorf("%w: %s %q is negative", ErrMalformedPayload, field, s)
	}
	if !isDecimal(v) {
		return 0, fmt.Errorf("%w: %s %q is not a number of seconds", ErrMalformedPayload, field, s)
	}
	secs, err := strconv.ParseFloat(v, 64)
	if err != nil || secs > MaxCallDuration.Seconds() {
		return 0, fmt.Errorf("%w: %s %q is outside 0..%d seconds", ErrMalformedPayload, field, s, int64(MaxCallDuration.Seconds()))
	}
	return time.Duration(math.Round(secs * float64(time.Second))), nil
}

// isDecimal reports whether s is digits with at most one inner '.'.
func isDecimal(s string) bool {
	whole, frac, dot := strings.Cut(s, ".")
	return whole != "" && strings.Trim(whole, "0123456789") == "" &&
		(!dot || frac != "" && strings.Trim(frac, "0123456789") == "")
}

// Elapsed is end − start, truncated to the second, for vendors that report
// a call's times but not its duration. It is 0 (unknown) when either time
// is missing, end is not after start, or the span exceeds
// [MaxCallDuration].
func Elapsed(start, end time.Time) time.Duration {
	if start.IsZero() || end.IsZero() || !end.After(start) {
		return 0
	}
	d := end.Sub(start) // saturates instead of overflowing
	if d > MaxCallDuration {
		return 0
	}
	return d.Truncate(time.Second)
}

// maxUnix is the last second of the year 9999.
const maxUnix = 253402300799

// SaneTime returns t, or the zero time (unknown) when t lies before the
// Unix epoch or after the year 9999: webhook times outside that range are
// vendor bugs, and stores and reports should not have to handle them. The
// event that carries one is still accepted.
func SaneTime(t time.Time) time.Time {
	if u := t.Unix(); u < 0 || u > maxUnix {
		return time.Time{}
	}
	return t
}
