package vonage

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/url"

	"github.com/attriqs/calltrack/provider"
)

// MACParam is the query parameter LegEventURL adds next to ParentParam
// and MachineParam: a MAC over both under Config.SignatureSecret. Vonage's
// JWT signs the body, not the URL, so without it a signed leg report
// replayed within the tolerance could be filed under any call by editing
// ParentParam, or have machine detection ignored by dropping MachineParam.
const MACParam = "calltrack_mac"

// legMACLen is the MAC's length in bytes: HMAC-SHA256 truncated to 128
// bits, ample for a tag an attacker must guess online.
const legMACLen = 16

// legMAC is base64url(HMAC-SHA256(secret, "calltrack-leg|" + parent + "|"
// + amd))[:16 bytes], amd "1" or "0". The amd flag is one byte and last,
// so no parent can collide with another parent and flag.
func legMAC(secret []byte, parent string, machine bool) []byte {
	amd := "0"
	if machine {
		amd = "1"
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("calltrack-leg|" + parent + "|" + amd))
	return m.Sum(nil)[:legMACLen]
}

// LegEventURL is the eventUrl RenderForward gives the connect and record
// actions of callID's forward: callbackURL with ParentParam set to
// callID, MachineParam when machine detection runs on the leg, and
// MACParam binding both under secret (the account's signature secret).
// The query of callbackURL is kept.
func LegEventURL(secret []byte, callbackURL, callID string, machineDetection bool) (string, error) {
	if len(secret) == 0 {
		return "", provider.ErrNoSecret
	}
	u, err := url.Parse(callbackURL)
	if err != nil || !u.IsAbs() {
		return "", fmt.Errorf("%w: field CallbackURL: %q is not an absolute URL", provider.ErrInvalidForward, callbackURL)
	}
	q := u.Query()
	q.Set(ParentParam, callID)
	if machineDetection {
		q.Set(MachineParam, "1")
	} else {
		q.Del(MachineParam)
	}
	q.Set(MACParam, base64.RawURLEncoding.EncodeToString(legMAC(secret, callID, machineDetection)))
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// VerifyLegEventURL checks the query of a URL LegEventURL made and
// returns the caller's call id and machine flag it binds. isLeg is false
// when the query has no ParentParam (not a leg report; nothing to check).
// A report with more than one ParentParam, MachineParam or MACParam, or
// an empty parent, is ErrMalformedPayload; one whose MAC is missing or
// does not match is ErrBadSignature. The comparison takes constant time.
func VerifyLegEventURL(secret []byte, q url.Values) (parent string, machine, isLeg bool, err error) {
	parents, ok := q[ParentParam]
	if !ok {
		return "", false, false, nil
	}
	if len(secret) == 0 {
		return "", false, true, provider.ErrNoSecret
	}
	for _, name := range []string{ParentParam, MachineParam, MACParam} {
		if n := len(q[name]); n > 1 {
			return "", false, true, fmt.Errorf("%w: %s appears %d times", provider.ErrMalformedPayload, name, n)
		}
	}
	parent = parents[0]
	if err := provider.CheckCallID(ParentParam, parent); err != nil {
		return "", false, true, err
	}
	switch amd, set := q[MachineParam]; {
	case !set:
	case amd[0] == "1":
		machine = true
	default:
		return "", false, true, fmt.Errorf("%w: %s is %q, not 1", provider.ErrMalformedPayload, MachineParam, amd[0])
	}
	macs, ok := q[MACParam]
	if !ok {
		return "", false, true, fmt.Errorf("%w: %s is missing (an event URL this application did not render)", provider.ErrBadSignature, MACParam)
	}
	got, err := base64.RawURLEncoding.DecodeString(macs[0])
	if err != nil || !hmac.Equal(got, legMAC(secret, parent, machine)) {
		return "", false, true, fmt.Errorf("%w: %s does not match %s and %s", provider.ErrBadSignature, MACParam, ParentParam, MachineParam)
	}
	return parent, machine, true, nil
}
