package webhooksig

import (
	"errors"
	"testing"
	"time"
)

// FuzzParseHeader feeds arbitrary headers and bodies through the parser and
// Verify: nothing panics, every failure is exactly one of the parser's
// sentinels, Verify accepts only a header holding the body's MAC with a
// timestamp inside the tolerance, and a fresh signature always verifies.
func FuzzParseHeader(f *testing.F) {
	secret := []byte("whsec_fuzz")
	now := time.Date(2026, 3, 14, 15, 0, 0, 0, time.UTC)
	body := []byte(`{"id":"x"}`)
	f.Add(Sign(secret, body, now), body, now.Unix())
	f.Add(Sign(secret, body, now)+","+Sign([]byte("old"), body, now), body, int64(0))
	f.Add("t=1,v1=00", []byte{}, int64(1))
	f.Add("t=-9223372036854775808,v1=abababababababababababababababababababababababababababababababab", body, int64(-1))
	f.Add(" t = 1 , v1= ,", []byte("x"), int64(42))
	f.Add("v1=,t=,t=", []byte(nil), int64(7))
	parserSentinels := []error{ErrMissingSignature, ErrMissingTimestamp, ErrMalformedSignature}
	f.Fuzz(func(t *testing.T, header string, body []byte, unix int64) {
		h, err := parseHeader(header)
		if err == nil {
			if len(h.sigs) == 0 {
				t.Fatalf("%q parsed without a v1 entry", header)
			}
			for _, sig := range h.sigs {
				if len(sig) != 32 {
					t.Fatalf("%q parsed a v1 of %d bytes", header, len(sig))
				}
			}
		} else {
			n := 0
			for _, s := range parserSentinels {
				if errors.Is(err, s) {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("parseHeader(%q) = %v: matches %d sentinels, want 1", header, err, n)
			}
		}

		if Verify(secret, header, body, now, 0) == nil {
			if err != nil {
				t.Fatalf("Verify accepted %q, which does not parse: %v", header, err)
			}
			if age := now.Sub(time.Unix(h.unix, 0)); age > DefaultTolerance || age < -DefaultTolerance {
				t.Fatalf("Verify accepted %q, signed %v before now", header, age)
			}
		}

		// A fresh signature verifies and parses back to its timestamp.
		at := time.Unix(unix%(1<<40), 0)
		signed := Sign(secret, body, at)
		if err := Verify(secret, signed, body, at, 0); err != nil {
			t.Fatalf("Verify(Sign(..., %v)) = %v", at, err)
		}
		if h, err := parseHeader(signed); err != nil || h.unix != at.Unix() || len(h.sigs) != 1 {
			t.Fatalf("parseHeader(%q) = %+v, %v", signed, h, err)
		}
		if err := Verify(secret, signed, append(body, '!'), at, 0); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("Verify of a longer body = %v, want ErrBadSignature", err)
		}
	})
}
