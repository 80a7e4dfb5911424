package store

import (
	"crypto/sha256"
	"encoding/hex"
)

// ErasedCallDigest is how a store keeps the id of a call it erased
// ([Retention.ErasePerson]) to refuse the call's later events
// ([ErrErased]): the hex SHA-256 of callID. A carrier's call id is random
// enough that the digest names no call to anyone who does not already
// hold its id, so the record of an erasure keeps nothing of what it
// erased.
func ErasedCallDigest(callID string) string {
	sum := sha256.Sum256([]byte(callID))
	return hex.EncodeToString(sum[:])
}
