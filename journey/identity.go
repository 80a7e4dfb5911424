package journey

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/attriqs/calltrack/phone"
)

// Hashed identifiers are written "h:" followed by the hex HMAC-SHA256 of the
// normalised value under the host's key: equal inputs give equal ids, so
// people still join up, while the store never holds the raw number or
// address. Without a key the raw normalised value is the id.

// PhoneID makes the identifier of a caller number. The number must carry
// its country code (E.164, as providers send it) and pass [phone.Parse];
// key, when not empty, hashes its E.164 form.
func PhoneID(number string, key []byte) (Identifier, error) {
	n, err := phone.Parse(number, "")
	if err != nil {
		return Identifier{}, fmt.Errorf("journey: caller number %q is not an E.164 number: %w", number, err)
	}
	return Identifier{Kind: IDPhone, Value: keyed(n, key)}, nil
}

// EmailHashID makes the identifier of an email address: trimmed and lower
// case, then hashed under key, which is required so that no address is
// stored in the clear.
func EmailHashID(email string, key []byte) (Identifier, error) {
	e := strings.ToLower(strings.TrimSpace(email))
	at := strings.LastIndexByte(e, '@')
	if at <= 0 || at == len(e)-1 || strings.ContainsAny(e, " \t\r\n") {
		return Identifier{}, fmt.Errorf("journey: %q is not an email address", email)
	}
	if len(key) == 0 {
		return Identifier{}, errors.New("journey: an email identifier needs a hashing key")
	}
	return Identifier{Kind: IDEmailHash, Value: keyed(e, key)}, nil
}

// ChatContactID makes the identifier of a chat platform's contact.
func ChatContactID(platform, contactID string) (Identifier, error) {
	if platform == "" || contactID == "" {
		return Identifier{}, fmt.Errorf("journey: chat contact needs a platform and an id, got %q and %q", platform, contactID)
	}
	return Identifier{Kind: IDChatContact, Value: strings.ToLower(platform) + ":" + contactID}, nil
}

func keyed(value string, key []byte) string {
	if len(key) == 0 {
		return value
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(value))
	return "h:" + hex.EncodeToString(m.Sum(nil))
}
