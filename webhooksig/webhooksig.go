package webhooksig

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DefaultTolerance is how far from now a signed timestamp may lie, in
// either direction, when [Verify] is given a tolerance of zero.
const DefaultTolerance = 5 * time.Minute

// Signature failures, one per cause.
var (
	// ErrNoSecret: the verifier was given no secret. Nothing is accepted
	// without one, since anyone can compute an HMAC under an empty key.
	ErrNoSecret = errors.New("webhooksig: no signing secret configured")
	// ErrMissingSignature: the request carries no signature: no header, or a
	// header without a v1 entry.
	ErrMissingSignature = errors.New("webhooksig: missing signature")
	// ErrMissingTimestamp: the signature arrived without its timestamp.
	ErrMissingTimestamp = errors.New("webhooksig: missing signature timestamp")
	// ErrMalformedSignature: the signature is present but cannot be read (a
	// part without '=', a repeated t, a t that is not a number, a v1 that is
	// not 64 hex digits).
	ErrMalformedSignature = errors.New("webhooksig: malformed signature")
	// ErrBadSignature: the signature is well formed but matches neither the
	// body nor the secret (a tampered body or timestamp, or another secret).
	ErrBadSignature = errors.New("webhooksig: signature mismatch")
	// ErrStaleTimestamp: the signature is genuine but its timestamp lies
	// outside the tolerance.
	ErrStaleTimestamp = errors.New("webhooksig: stale signature timestamp")
)

// Sign returns the header value signing body at time t under secret:
// "t=<unix seconds>,v1=<hex HMAC-SHA256 of "<unix seconds>.<body>">".
func Sign(secret, body []byte, t time.Time) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

// Verify checks header, the signature header's value, against body, the raw
// request body (verify before decoding it), under secret at time now. It
// returns nil when one of the header's v1 entries matches and its timestamp
// lies within tolerance of now in either direction (zero or less means
// [DefaultTolerance]); otherwise an error wrapping exactly one of the
// package's sentinels. Signatures are compared in constant time.
//
// A request that verifies may still be a duplicate: senders retry, so
// receivers dedupe on an id the body carries.
func Verify(secret []byte, header string, body []byte, now time.Time, tolerance time.Duration) error {
	if len(secret) == 0 {
		return ErrNoSecret
	}
	h, err := parseHeader(header)
	if err != nil {
		return err
	}
	want := mac(secret, h.ts, body)
	match := false
	for _, sig := range h.sigs {
		if hmac.Equal(sig, want) {
			match = true
		}
	}
	if !match {
		return ErrBadSignature
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	if age := now.Sub(time.Unix(h.unix, 0)); age > tolerance || age < -tolerance {
		return fmt.Errorf("%w: signed at %s, tolerance %v", ErrStaleTimestamp,
			time.Unix(h.unix, 0).UTC().Format(time.RFC3339), tolerance)
	}
	return nil
}

// header is a parsed signature header.
type header struct {
	ts   string // the t value exactly as sent: it is what was signed
	unix int64
	sigs [][]byte // every v1 entry, each sha256.Size bytes
}

// parseHeader reads "t=<unix>,v1=<hex>[,v1=<hex>...]". Each failure is one
// sentinel: nothing at all is ErrMissingSignature; a part that cannot be
// read is ErrMalformedSignature; a header without t or without v1 is
// ErrMissingTimestamp or ErrMissingSignature.
func parseHeader(s string) (header, error) {
	var h header
	if strings.TrimSpace(s) == "" {
		return h, ErrMissingSignature
	}
	seenT := false
	for part := range strings.SplitSeq(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return h, fmt.Errorf("%w: a part is not key=value", ErrMalformedSignature)
		}
		switch k {
		case "t":
			if seenT {
				return h, fmt.Errorf("%w: t given twice", ErrMalformedSignature)
			}
			seenT = true
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return h, fmt.Errorf("%w: t is not a number of seconds", ErrMalformedSignature)
			}
			h.ts, h.unix = v, n
		case "v1":
			sig, err := hex.DecodeString(v)
			if err != nil || len(sig) != sha256.Size {
				return h, fmt.Errorf("%w: v1 is not %d hex digits", ErrMalformedSignature, 2*sha256.Size)
			}
			h.sigs = append(h.sigs, sig)
		}
	}
	if !seenT {
		return h, ErrMissingTimestamp
	}
	if len(h.sigs) == 0 {
		return h, fmt.Errorf("%w: no v1 entry", ErrMissingSignature)
	}
	return h, nil
}

func mac(secret []byte, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}
