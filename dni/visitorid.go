package dni

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"hash"
	"strings"
	"sync"
	"time"
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
// where random is 16 bytes (the time of issue in milliseconds in the first
// six, as in a UUIDv7, then ten random bytes) and mac the first 16 bytes of
// HMAC-SHA256(key, "calltrack visitor id v1\x00" || random), both in
// unpadded URL-safe base64 (22 characters each): 48 characters of
// [A-Za-z0-9_-], the shape validID, the stores and the tracker accept.
// Fields are found by position, not by the underscores, since base64url
// uses '_' itself. Both parts must be canonical base64 (strict decoding), so
// one signed id cannot be respelt into others.
const (
	visitorIDPrefix   = "v1_"
	visitorRandomSize = 16
	visitorTimeSize   = 6 // of the random part's bytes: milliseconds, big-endian
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
	// macs[i] holds HMACs keyed with keys[i], reset after each use: a new
	// one costs five allocations, on every new visitor and every visit.
	macs []sync.Pool
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
	v.macs = make([]sync.Pool, len(v.keys))
	for i, key := range v.keys {
		v.macs[i].New = func() any { return hmac.New(sha256.New, key) }
	}
	return v
}

// issue returns a new visitor id, signed with the first key. Its first
// six bytes are the time in milliseconds, as a UUIDv7's are, and the other
// ten random: new visitors' rows then land together in the indexes that
// start with the visitor id (a session's, a touchpoint's) instead of on a
// random page each, which a growing store writes whole at every commit.
func (v *visitorIDs) issue(now time.Time) string {
	var random [visitorRandomSize]byte
	ms := uint64(now.UnixMilli())
	for i := range visitorTimeSize {
		random[i] = byte(ms >> (8 * (visitorTimeSize - 1 - i)))
	}
	_, _ = rand.Read(random[visitorTimeSize:])
	return v.sign(random[:])
}

// sign is the id of random (visitorRandomSize bytes), signed with the
// first key.
func (v *visitorIDs) sign(random []byte) string {
	var id [visitorIDLen]byte
	n := copy(id[:], visitorIDPrefix)
	visitorB64.Encode(id[n:], random)
	n += visitorPartLen
	id[n] = '_'
	var mac [sha256.Size]byte
	visitorB64.Encode(id[n+1:], v.mac(0, random, mac[:0]))
	return string(id[:])
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
	var buf [sha256.Size]byte
	for i := range v.keys {
		if hmac.Equal(mac, v.mac(i, random, buf[:0])) {
			return nil
		}
	}
	return fmt.Errorf("%w: the signature does not verify (not issued by this site, or under a key no longer in VisitorKeys)", ErrInvalidID)
}

// mac is the MAC of random under keys[i], appended to dst.
func (v *visitorIDs) mac(i int, random, dst []byte) []byte {
	m := v.macs[i].Get().(hash.Hash)
	m.Write([]byte(visitorMACDomain))
	m.Write(random)
	dst = m.Sum(dst)[:len(dst)+visitorMACSize]
	m.Reset()
	v.macs[i].Put(m)
	return dst
}
