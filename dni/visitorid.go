package dni

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
)

// Visitor ids are issued by the service in the answer to a visitor's first
// visit and signed, so that a client can neither make one up nor choose one:
// not another visitor's, and not one of the ids dni files calls under when
// no session explains them (journey's caller-…), which would credit such a
// call to whatever source the forger's visit had.
//
// An id is
//
//	v1_<random>_<mac>
//
// where random is 16 random bytes and mac the first 16 bytes of
// HMAC-SHA256(key, "calltrack visitor id v1\x00" || random), both in
// unpadded URL-safe base64 (22 characters each): 48 characters of
// [A-Za-z0-9_-], the shape validID, the stores and the tracker accept.
// Fields are found by position, not by the underscores, since base64url
// uses '_' itself. Both parts must be canonical base64 (strict decoding), so
// one signed id cannot be respelt into others.
const (
	visitorIDPrefix   = "v1_"
	visitorRandomSize = 16
	visitorMACSize    = 16
	visitorPartLen    = 22 // base64url of 16 bytes, unpadded
	visitorIDLen      = len(visitorIDPrefix) + visitorPartLen + 1 + visitorPartLen
	visitorMACDomain  = "calltrack visitor id v1\x00"

	// MinVisitorKeyLen is the shortest key Config.VisitorKeys accepts.
	MinVisitorKeyLen = 32

	// callerVisitorPrefix starts the visitor ids journey files calls under
	// when no session explains them (journey.WithheldCaller too). A client
	// may never send one.
	callerVisitorPrefix = "caller-"
)

var visitorB64 = base64.RawURLEncoding.Strict()

// visitorIDs issues and verifies signed visitor ids (Config.VisitorKeys).
type visitorIDs struct {
	keys [][]byte // the first signs; every one verifies
	// generated: no keys were configured and keys[0] was made for this
	// process.
	generated bool
}

// newVisitorIDs signs with keys; without keys it makes a random key for
// the process.
func newVisitorIDs(keys [][]byte) *visitorIDs {
	v := &visitorIDs{}
	for _, k := range keys {
		v.keys = append(v.keys, append([]byte(nil), k...))
	}
	if len(v.keys) == 0 {
		key := make([]byte, MinVisitorKeyLen)
		_, _ = rand.Read(key) // never fails (crypto/rand crashes the program instead)
		v.keys, v.generated = [][]byte{key}, true
	}
	return v
}

// issue returns a new visitor id, signed with the first key.
func (v *visitorIDs) issue() string {
	random := make([]byte, visitorRandomSize)
	_, _ = rand.Read(random)
	return v.sign(random)
}

// sign is the id of random, signed with the first key.
func (v *visitorIDs) sign(random []byte) string {
	var b strings.Builder
	b.Grow(visitorIDLen)
	b.WriteString(visitorIDPrefix)
	b.WriteString(visitorB64.EncodeToString(random))
	b.WriteByte('_')
	b.WriteString(visitorB64.EncodeToString(visitorMAC(v.keys[0], random)))
	return b.String()
}

// verify accepts the ids issue made under any of the keys; every other id
// is an error wrapping ErrInvalidID that says why.
func (v *visitorIDs) verify(id string) error {
	if _, err := validID(id); err != nil {
		return err
	}
	if strings.HasPrefix(strings.ToLower(id), callerVisitorPrefix) {
		return fmt.Errorf("%w: the prefix %q is reserved for callers no session explains", ErrInvalidID, callerVisitorPrefix)
	}
	if len(id) != visitorIDLen || !strings.HasPrefix(id, visitorIDPrefix) || id[len(visitorIDPrefix)+visitorPartLen] != '_' {
		return fmt.Errorf("%w: not a visitor id this site issued", ErrInvalidID)
	}
	random, err1 := visitorB64.DecodeString(id[len(visitorIDPrefix) : len(visitorIDPrefix)+visitorPartLen])
	mac, err2 := visitorB64.DecodeString(id[len(id)-visitorPartLen:])
	if err1 != nil || err2 != nil {
		return fmt.Errorf("%w: not a visitor id this site issued", ErrInvalidID)
	}
	for _, key := range v.keys {
		if hmac.Equal(mac, visitorMAC(key, random)) {
			return nil
		}
	}
	return fmt.Errorf("%w: the signature does not verify (not issued by this site, or under a key no longer in VisitorKeys)", ErrInvalidID)
}

func visitorMAC(key, random []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(visitorMACDomain))
	m.Write(random)
	return m.Sum(nil)[:visitorMACSize]
}
