package dni

import (
	"bytes"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// trackerID is the shape the tracker keeps an id in (js/core.js, ID).
var trackerID = regexp.MustCompile(`^[\w-]{1,64}$`)

func TestIssuedVisitorIDsVerifyAndFitEveryStore(t *testing.T) {
	ids := newVisitorIDs([][]byte{testVisitorKey})
	seen := map[string]bool{}
	for range 1000 {
		id := ids.issue(time.Now())
		require.NoError(t, ids.verify(id))
		_, err := validID(id)
		require.NoError(t, err, "validID accepts %q", id)
		require.Regexp(t, trackerID, id, "the tracker keeps it")
		require.Len(t, id, visitorIDLen)
		require.True(t, strings.HasPrefix(id, visitorIDPrefix))
		require.False(t, seen[id], "ids are unique")
		seen[id] = true
	}
}

// Ids issued close together share their start, so that the rows of new
// visitors land together in the indexes keyed by visitor id; the rest
// stays random, so ids issued in the same millisecond still differ.
func TestIssuedVisitorIDsStartWithTheirTime(t *testing.T) {
	ids := newVisitorIDs([][]byte{testVisitorKey})
	at := time.Date(2026, 12, 6, 15, 0, 0, 0, time.UTC)
	a, b := ids.issue(at), ids.issue(at)
	require.NotEqual(t, a, b)
	timePart := len(visitorIDPrefix) + 8 // six bytes are eight base64 characters
	require.Equal(t, a[:timePart], b[:timePart], "the same millisecond, the same start")
	random, err := visitorB64.DecodeString(a[len(visitorIDPrefix) : len(visitorIDPrefix)+visitorPartLen])
	require.NoError(t, err)
	ms := uint64(0)
	for _, c := range random[:visitorTimeSize] {
		ms = ms<<8 | uint64(c)
	}
	require.Equal(t, uint64(at.UnixMilli()), ms)
	later := ids.issue(at.Add(time.Second))
	require.NotEqual(t, a[:timePart], later[:timePart])
	require.Equal(t, a[:len(visitorIDPrefix)+5], later[:len(visitorIDPrefix)+5], "a second later shares the first 30 bits")
	require.NoError(t, ids.verify(later))
}

func TestVisitorIDVerificationRefuses(t *testing.T) {
	ids := newVisitorIDs([][]byte{testVisitorKey})
	id := ids.issue(time.Now())
	flip := func(i int) string {
		b := []byte(id)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	// The last character of each part carries 4 bits of padding, which
	// strict decoding requires to be zero: this spelling decodes to the
	// same bytes under a lenient decoder.
	last := strings.IndexByte(visitorAlphabet, id[len(id)-1])
	respelt := id[:len(id)-1] + string(visitorAlphabet[last^1])

	for _, tc := range []struct{ name, id string }{
		{"empty", ""},
		{"a UUID", "2f1e6a3c-5b7d-4e8f-9a0b-1c2d3e4f5a6b"},
		{"a caller", "caller-14155558888"},
		{"a withheld caller", "caller-withheld"},
		{"a caller in capitals", "Caller-14155558888"},
		{"another version", "v2" + id[2:]},
		{"the random part changed", flip(len(visitorIDPrefix) + 3)},
		{"the signature changed", flip(len(id) - 5)},
		{"the separator changed", id[:len(visitorIDPrefix)+visitorPartLen] + "-" + id[len(visitorIDPrefix)+visitorPartLen+1:]},
		{"respelt padding bits", respelt},
		{"truncated", id[:len(id)-1]},
		{"extended", id + "A"},
		{"another key's", newVisitorIDs([][]byte{bytes.Repeat([]byte("x"), 32)}).issue(time.Now())},
		{"a process key's", newVisitorIDs(nil).issue(time.Now())},
		{"bad characters", "v1_<script>"},
		{"too long", strings.Repeat("a", 65)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ids.verify(tc.id)
			require.Error(t, err)
			assert.True(t, errors.Is(err, ErrInvalidID), "%v wraps ErrInvalidID", err)
		})
	}
}

func TestVisitorKeysRotate(t *testing.T) {
	oldKey, newKey := bytes.Repeat([]byte("o"), 32), bytes.Repeat([]byte("n"), 32)
	before := newVisitorIDs([][]byte{oldKey})
	during := newVisitorIDs([][]byte{newKey, oldKey})
	after := newVisitorIDs([][]byte{newKey})

	old := before.issue(time.Now())
	assert.NoError(t, during.verify(old), "the old key still verifies")
	fresh := during.issue(time.Now())
	assert.NoError(t, after.verify(fresh), "the first key signs")
	assert.Error(t, before.verify(fresh))
	assert.Error(t, after.verify(old), "a dropped key verifies nothing")
}

func TestWithoutVisitorKeysEachProcessHasItsOwn(t *testing.T) {
	a, b := newVisitorIDs(nil), newVisitorIDs(nil)
	assert.True(t, a.generated)
	assert.NoError(t, a.verify(a.issue(time.Now())))
	assert.Error(t, b.verify(a.issue(time.Now())), "another instance does not accept them")
}

func TestNewChecksVisitorKeysAndHoldLimits(t *testing.T) {
	cfg := testConfig()
	cfg.VisitorKeys = [][]byte{testVisitorKey, []byte("short")}
	cfg.HoldLimits = HoldLimits{PerAddressPercent: 101, PerNetworkPercent: 150, Beyond: 7}
	_, err := New(cfg)
	require.Error(t, err)
	for _, want := range []string{"VisitorKeys[1] is 5 bytes", "HoldLimits.PerAddressPercent 101", "HoldLimits.PerNetworkPercent 150", "HoldLimits.Beyond 7"} {
		assert.Contains(t, err.Error(), want)
	}
	assert.NotContains(t, err.Error(), "VisitorKeys[0]")
}

// FuzzVisitorID: verification never panics, and accepts nothing but the
// one id issued under its key.
func FuzzVisitorID(f *testing.F) {
	ids := newVisitorIDs([][]byte{testVisitorKey})
	issued := ids.sign(bytes.Repeat([]byte{7}, visitorRandomSize)) // the same in every fuzzing process
	for _, seed := range []string{issued, issued[:len(issued)-1] + "B", "", "caller-1", "v1_", strings.Repeat("_", visitorIDLen)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if err := ids.verify(id); err == nil && id != issued {
			t.Fatalf("%q verifies", id)
		}
	})
}

const visitorAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
