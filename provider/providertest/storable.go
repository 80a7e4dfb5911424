package providertest

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/store"
)

// Hostile values for [CheckStorable] tests: what a buggy or forged webhook
// can carry that stores must never see.
const (
	// LongCallerID has 17 digits: libphonenumber calls it possible for
	// Germany, E.164 (and stores) allow 15.
	LongCallerID = "+49301234567890123"
	// HugeSeconds overflows time.Duration when multiplied by time.Second.
	HugeSeconds = "9300000000"
	// DirtyText holds a NUL byte and a byte that is not UTF-8.
	DirtyText = "ALICE\x00 \xffSMITH"
)

// CheckStorable reports every way ev breaks the promises Parse makes to
// stores: what [store.ValidateCall] refuses (numbers E.164 or empty, a
// non-negative duration, known values), and more: a call id
// [provider.CheckCallID] accepts, free text that is valid UTF-8 without
// control characters (other than tab and newline) and at most
// [provider.MaxTextLen] bytes, and a duration within
// 0..[provider.MaxCallDuration].
func CheckStorable(ev provider.CallEvent) error {
	errs := []error{store.ValidateCall(ev)}
	if err := provider.CheckCallID("CallID", ev.CallID); err != nil {
		errs = append(errs, err)
	}
	for _, f := range []struct{ name, v string }{
		{"CallerName", ev.CallerName}, {"CallerCity", ev.CallerCity},
		{"CallerRegion", ev.CallerRegion}, {"CallerCountry", ev.CallerCountry},
	} {
		if !utf8.ValidString(f.v) || len(f.v) > provider.MaxTextLen ||
			strings.ContainsFunc(f.v, func(r rune) bool { return r < 0x20 && r != '\t' && r != '\n' || r == 0x7f }) {
			errs = append(errs, fmt.Errorf("field %s: %q is not storable text", f.name, f.v))
		}
	}
	if ev.Duration < 0 || ev.Duration > provider.MaxCallDuration {
		errs = append(errs, fmt.Errorf("field Duration: %s is outside 0..%s", ev.Duration, provider.MaxCallDuration))
	}
	return errors.Join(errs...)
}
