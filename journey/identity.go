package journey

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/attriqs/calltrack/phone"
	"github.com/attriqs/calltrack/provider"
)

// Hashed identifiers are written "h:" followed by the hex HMAC-SHA256 of the
// normalised value under the host's key: equal inputs give equal ids, so
// people still join up, while the store never holds the raw number or
// address. Without a key the raw normalised value is the id.

// keyedPrefix starts every keyed value; 64 hex digits follow.
const keyedPrefix = "h:"

// IsKeyed reports whether v is in the keyed form [PhoneID] and
// [EmailHashID] give under a key: "h:" and 64 lower-case hex digits. A
// number in this form is already an identifier: it carries no number.
func IsKeyed(v string) bool {
	if len(v) != len(keyedPrefix)+2*sha256.Size || !strings.HasPrefix(v, keyedPrefix) {
		return false
	}
	for _, c := range v[len(keyedPrefix):] {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// PhoneID makes the identifier of a caller number. The number must carry
// its country code (E.164, as providers send it) and pass [phone.Parse];
// key, when not empty, hashes its E.164 form. A number already in the
// keyed form ([IsKeyed], as [RedactCall] leaves a call's number) is its
// own identifier, whatever key is given: calls recorded under a key keep
// their caller link and caller history.
func PhoneID(number string, key []byte) (Identifier, error) {
	if IsKeyed(number) {
		return Identifier{Kind: IDPhone, Value: number}, nil
	}
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
	return keyedPrefix + hex.EncodeToString(m.Sum(nil))
}

// RedactCall returns ev as calltrack keeps it when the host keys caller
// identities (dni.Config.IdentityKey): nothing in it names the caller in
// the clear.
//
//   - From and ForwardedFrom become the keyed form [PhoneID] gives, so the
//     caller link, the "caller-…" visitor and the caller history
//     ([CallerHistory]) work on them as on E.164; a number PhoneID refuses
//     is dropped, as a withheld one.
//   - CallerName (the carrier's caller id name) is dropped.
//   - Raw, the provider's body, is sealed ([SealRaw]): it names the caller
//     in spellings no redaction can be sure to find (form-encoded, national
//     digits, vendor fields calltrack does not read), and an operator who
//     holds the key can still open it to debug a webhook.
//
// To (the tracking number dialled) and the caller's city, region and
// country are kept. With an empty key ev is returned unchanged; redacting
// twice changes nothing more. ev itself, and the bytes of its Raw, are
// not modified, so a handler may still answer from its own copy.
func RedactCall(ev provider.CallEvent, key []byte) provider.CallEvent {
	if len(key) == 0 {
		return ev
	}
	ev.From = keyedNumber(ev.From, key)
	ev.ForwardedFrom = keyedNumber(ev.ForwardedFrom, key)
	ev.CallerName = ""
	if len(ev.Raw) > 0 && !IsSealed(ev.Raw) {
		ev.Raw = SealRaw(ev.Raw, key)
	}
	return ev
}

func keyedNumber(number string, key []byte) string {
	if number == "" {
		return ""
	}
	id, err := PhoneID(number, key)
	if err != nil {
		return ""
	}
	return id.Value
}

// sealedPrefix starts a sealed body, so that it is recognised (and not
// sealed twice) and an operator sees at once what it is.
const sealedPrefix = "calltrack-sealed:v1:"

// sealInfo separates the sealing key derived from the identity key from
// every other use of that key (the HMAC of identifiers uses it directly).
const sealInfo = "calltrack raw webhook body v1"

// IsSealed reports whether raw was sealed by [SealRaw].
func IsSealed(raw []byte) bool { return bytes.HasPrefix(raw, []byte(sealedPrefix)) }

// SealRaw encrypts a provider's raw webhook body under key with AES-256-GCM,
// with a key derived from key by HKDF-SHA256, and a random nonce. The
// result is text: "calltrack-sealed:v1:" and the base64 of nonce and
// ciphertext. [OpenRaw] with the same key returns the body.
func SealRaw(raw, key []byte) []byte {
	aead := sealer(key)
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(raw)+aead.Overhead())
	_, _ = rand.Read(nonce) // never fails (crypto/rand)
	sealed := aead.Seal(nonce, nonce, raw, []byte(sealedPrefix))
	out := make([]byte, len(sealedPrefix)+base64.RawStdEncoding.EncodedLen(len(sealed)))
	copy(out, sealedPrefix)
	base64.RawStdEncoding.Encode(out[len(sealedPrefix):], sealed)
	return out
}

// ErrNotSealed is returned by [OpenRaw] for a body [SealRaw] did not seal
// under that key, or one altered since.
var ErrNotSealed = errors.New("journey: not a body sealed under this key")

// OpenRaw returns the body [SealRaw] sealed under key, for an operator
// debugging a webhook. A body that is not sealed, was sealed under another
// key or was altered is [ErrNotSealed].
func OpenRaw(sealed, key []byte) ([]byte, error) {
	if !IsSealed(sealed) || len(key) == 0 {
		return nil, ErrNotSealed
	}
	b, err := base64.RawStdEncoding.DecodeString(string(sealed[len(sealedPrefix):]))
	aead := sealer(key)
	if err != nil || len(b) < aead.NonceSize() {
		return nil, ErrNotSealed
	}
	raw, err := aead.Open(nil, b[:aead.NonceSize()], b[aead.NonceSize():], []byte(sealedPrefix))
	if err != nil {
		return nil, ErrNotSealed
	}
	return raw, nil
}

func sealer(key []byte) cipher.AEAD {
	k, err := hkdf.Key(sha256.New, key, nil, sealInfo, 32)
	if err != nil {
		panic(err) // only for lengths HKDF-SHA256 cannot give; 32 it can
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		panic(err) // only for a key length other than 16, 24 or 32
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err) // only for a block size other than 16
	}
	return aead
}
