package phone

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// MaxDigits is E.164's limit on a number's digits, country code included.
const MaxDigits = 15

// maxInput bounds the text Parse reads: room for a formatted number
// ("+44 (0) 20 7946 0958"), short enough that nothing long reaches the
// parser.
const maxInput = 32

// Why a number is refused. [Parse] and [ParseValid] return an [*Error]
// that wraps exactly one of these.
var (
	// ErrNotANumber: empty, withheld ("anonymous"), or not written with
	// digits and the usual separators.
	ErrNotANumber = errors.New("phone: not a phone number")
	// ErrNoCountryCode: no leading + and country code, and no region to
	// read the number in.
	ErrNoCountryCode = errors.New("phone: missing leading + and country code")
	// ErrUnknownCountryCode: the number starts with a country calling code
	// that no country or service has.
	ErrUnknownCountryCode = errors.New("phone: unknown country calling code")
	// ErrTooLong: more than [MaxDigits] digits, or too much text.
	ErrTooLong = errors.New("phone: too long")
	// ErrImpossible: no number of its country has that length.
	ErrImpossible = errors.New("phone: impossible length for its country")
	// ErrUnassigned ([ParseValid] only): the length is possible but the
	// country's numbering plan assigns no such number.
	ErrUnassigned = errors.New("phone: not a number its country assigns")
)

// Error is a refused number: the input and why.
type Error struct {
	Input string
	// Err is one of the package's Err* sentinels.
	Err error
	// Detail narrows Err down, e.g. "unexpected 'O'"; may be empty.
	Detail string
}

// Reason is the error without the "phone:" prefix and the input, for
// callers that name the input themselves.
func (e *Error) Reason() string {
	r := strings.TrimPrefix(e.Err.Error(), "phone: ")
	if e.Detail != "" {
		r += ": " + e.Detail
	}
	return r
}

func (e *Error) Error() string {
	in := e.Input
	if len(in) > 40 {
		in = in[:40] + "..."
	}
	return fmt.Sprintf("phone: %q: %s", in, e.Reason())
}

func (e *Error) Unwrap() error { return e.Err }

func refuse(s string, err error, detail string) (string, error) {
	return "", &Error{Input: s, Err: err, Detail: detail}
}

// Normalize returns s in E.164, or "" when s is not a dialable number
// under [Parse]'s rule: withheld caller ids ("anonymous", "Restricted",
// "+266696687", "") and anything else Parse refuses. It is the wire
// normaliser provider adapters use; its result is always accepted by
// [IsE164].
func Normalize(s, defaultRegion string) string {
	n, err := Parse(s, defaultRegion)
	if err != nil {
		return ""
	}
	return n
}

// Parse reads a number from a webhook or from configuration and returns
// its E.164 form. Accepted spellings, tried in this order:
//
//   - "+" and digits ("+14155550100"): checked without the full parser;
//   - international digits without "+" ("14155550100", as Vonage and
//     Plivo send them): read as country code first;
//   - anything else, or digits that are not a possible international
//     number: read by libphonenumber, with "+" required unless
//     defaultRegion (an ISO 3166 code such as "US") says which country a
//     national number ("(415) 555-0100", "06 1234 5678") belongs to.
//
// The number is refused, with an [*Error] wrapping the reason's sentinel,
// unless its country code exists, it has at most [MaxDigits] digits and
// its length is possible for its country. Withheld caller ids are refused
// too (see the package documentation).
func Parse(s, defaultRegion string) (string, error) {
	in := s
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return refuse(in, ErrNotANumber, "empty")
	case len(s) > maxInput:
		return refuse(in, ErrTooLong, "")
	case isWithheld(s):
		return refuse(in, ErrNotANumber, "withheld caller id")
	case s[0] == '+' && isDigits(s[1:]):
		return international(in, s[1:])
	case isDigits(s):
		n, err := international(in, s)
		if defaultRegion == "" {
			return n, err
		}
		national, nerr := parseCanonical(in, s, defaultRegion)
		switch {
		case err != nil:
			return national, nerr
		case nerr != nil || national == n:
			return n, nil
		}
		// Both readings are possible: "2025550100" is a US number and
		// an Egyptian one. The reading the numbering plan assigns wins;
		// when both or neither are assigned, the international one (what
		// Vonage and Plivo send).
		if isValid(national) && !isValid(n) {
			return national, nil
		}
		return n, nil
	case s[0] != '+' && defaultRegion == "":
		if !strings.ContainsAny(s, "0123456789") {
			return refuse(in, ErrNotANumber, "")
		}
		return refuse(in, ErrNoCountryCode, "")
	}
	return parseCanonical(in, s, defaultRegion)
}

// parseCanonical runs the parser and gives its answer the form the fast
// path gives that number, so that a normalised number normalises to
// itself.
func parseCanonical(in, s, region string) (string, error) {
	n, err := parse(in, s, region)
	if err != nil {
		return n, err
	}
	return international(in, n[1:])
}

// isWithheld reports the keypad spellings Twilio sends instead of a
// withheld caller's number. Three are impossible lengths anyway;
// UNAVAILABLE spells a possible Chinese number, so the list is what keeps
// it out of reports.
func isWithheld(s string) bool {
	switch s {
	case "+266696687", // ANONYMOUS
		"+86282452253", // UNAVAILABLE
		"+7378742833",  // RESTRICTED
		"+2562533":     // BLOCKED
		return true
	}
	return false
}

// ParseValid is [Parse] with two more checks, for numbers a host
// configures or a person types in (tracking numbers, business lines)
// rather than numbers a carrier reports:
//
//   - the text holds only ASCII digits, a leading "+" and the separators
//     space, "-", ".", "(" and ")": no letters ("1-800-FLOWERS"), no
//     other scripts' digits;
//   - the number is valid, not just of a possible length: its country's
//     numbering plan assigns it (libphonenumber's IsValidNumber), so a
//     typo such as a US number with area code 555 is caught at startup.
//
// Without defaultRegion the number must start with "+" and its country
// code: tracking numbers are dialled from anywhere.
func ParseValid(s, defaultRegion string) (string, error) {
	in := s
	s = strings.TrimSpace(s)
	if s == "" {
		return refuse(in, ErrNotANumber, "empty")
	}
	if defaultRegion == "" && s[0] != '+' {
		return refuse(in, ErrNoCountryCode, "")
	}
	if len(s) > maxInput {
		return refuse(in, ErrTooLong, "")
	}
	for i, r := range s {
		if (r < '0' || r > '9') && !strings.ContainsRune(" -.()", r) && (r != '+' || i != 0) {
			return refuse(in, ErrNotANumber, "unexpected "+strconv.QuoteRune(r))
		}
	}
	n, err := Parse(s, defaultRegion)
	if err != nil {
		err.(*Error).Input = in
		return "", err
	}
	num, err := phonenumbers.Parse(n, "")
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return refuse(in, ErrUnassigned, "")
	}
	return n, nil
}

// international checks digits (country code first, no formatting) against
// the numbering plan's possible lengths without the full parser.
func international(in, digits string) (string, error) {
	switch {
	case len(digits) > MaxDigits:
		return refuse(in, ErrTooLong, fmt.Sprintf("%d digits, E.164 allows %d", len(digits), MaxDigits))
	case digits[0] == '0':
		return refuse(in, ErrUnknownCountryCode, "country codes do not start with 0")
	}
	for ccLen := 1; ccLen <= 3 && ccLen < len(digits); ccLen++ {
		cc := 0
		for _, d := range digits[:ccLen] {
			cc = cc*10 + int(d-'0')
		}
		if len(phonenumbers.GetRegionCodesForCountryCode(cc)) == 0 {
			continue
		}
		// Country calling codes are prefix-free: the first match is the one.
		if digits[ccLen] == '0' {
			// A trunk prefix written after the country code ("+49 030…")
			// is dropped by libphonenumber, and Italy's leading zero kept:
			// only the parser knows which, so one number has one form.
			// Its answer is taken when it is its own answer again (an
			// all-zero national number would lose a zero per reading).
			if n, err := parse(in, "+"+digits, ""); err == nil {
				if again, err := parse(n, n, ""); err == nil && again == n {
					return n, nil
				}
			}
		}
		if !phonenumbers.IsPossibleNumber(fromDigits(cc, digits[ccLen:])) {
			return refuse(in, ErrImpossible, "")
		}
		return "+" + digits, nil
	}
	return refuse(in, ErrUnknownCountryCode, "")
}

// fromDigits builds the number libphonenumber's parser would build from a
// country code and national significant digits, leading zeros (Italy's
// "06...") included. It must match the parser's rule exactly: when the
// national number is all zeros, the last zero is the number and not a
// leading zero. Getting that wrong made "+598" followed by eleven zeros,
// which the parser produces and calls possible, impossible here, so
// normalising a normalised number gave "".
func fromDigits(cc int, national string) *phonenumbers.PhoneNumber {
	var nn uint64
	for _, d := range national {
		nn = nn*10 + uint64(d-'0')
	}
	num := &phonenumbers.PhoneNumber{CountryCode: proto32(int32(cc)), NationalNumber: &nn}
	if len(national) >= 2 && national[0] == '0' {
		yes := true
		num.ItalianLeadingZero = &yes
		zeros := 1
		for zeros < len(national)-1 && national[zeros] == '0' {
			zeros++
		}
		if zeros != 1 {
			num.NumberOfLeadingZeros = proto32(int32(zeros))
		}
	}
	return num
}

func proto32(v int32) *int32 { return &v }

// isValid reports whether libphonenumber says the E.164 number e is one
// its country assigns.
func isValid(e string) bool {
	num, err := phonenumbers.Parse(e, "")
	return err == nil && phonenumbers.IsValidNumber(num)
}

// parse runs libphonenumber's parser: formatted or national input.
func parse(in, s, region string) (string, error) {
	num, err := phonenumbers.Parse(s, region)
	switch {
	case errors.Is(err, phonenumbers.ErrInvalidCountryCode):
		if s[0] != '+' {
			return refuse(in, ErrNoCountryCode, "")
		}
		return refuse(in, ErrUnknownCountryCode, "")
	case errors.Is(err, phonenumbers.ErrTooShortNSN), errors.Is(err, phonenumbers.ErrTooShortAfterIDD):
		return refuse(in, ErrImpossible, "too short")
	case errors.Is(err, phonenumbers.ErrNumTooLong):
		return refuse(in, ErrTooLong, "")
	case err != nil:
		return refuse(in, ErrNotANumber, "")
	case !phonenumbers.IsPossibleNumber(num):
		return refuse(in, ErrImpossible, "")
	}
	out := phonenumbers.Format(num, phonenumbers.E164)
	if !IsE164(out) {
		// More than 15 digits: libphonenumber allows some countries
		// (Germany, Austria) national numbers that E.164 does not.
		return refuse(in, ErrTooLong, fmt.Sprintf("%d digits, E.164 allows %d", len(out)-1, MaxDigits))
	}
	return out, nil
}

// IsE164 reports whether s has the E.164 shape: '+', a non-zero digit and
// up to 14 more digits. It is the cheap check stores run on every number
// they are given; it does not consult the numbering plan.
func IsE164(s string) bool {
	if len(s) < 3 || len(s) > 1+MaxDigits || s[0] != '+' || s[1] < '1' || s[1] > '9' {
		return false
	}
	return isDigits(s[2:])
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// National writes an E.164 number the way its country writes it
// ("(415) 555-0100", "020 7946 0958"); input it cannot read comes back
// unchanged.
func National(e164 string) string { return format(e164, phonenumbers.NATIONAL) }

// International writes an E.164 number for readers abroad
// ("+1 415-555-0100", "+44 20 7946 0958"); input it cannot read comes
// back unchanged.
func International(e164 string) string { return format(e164, phonenumbers.INTERNATIONAL) }

func format(e164 string, f phonenumbers.PhoneNumberFormat) string {
	n, err := phonenumbers.Parse(e164, "")
	if err != nil {
		return e164
	}
	return phonenumbers.Format(n, f)
}
