package provider_test

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/attriqs/calltrack/provider"
)

func TestCleanText(t *testing.T) {
	cases := []struct {
		name, in string
		max      int
		want     string
	}{
		{"plain", "ALICE SMITH", 256, "ALICE SMITH"},
		{"NUL removed", "ALICE\x00SMITH", 256, "ALICESMITH"},
		{"C0 and DEL removed", "A\x01B\x1fC\x7fD\rE", 256, "ABCDE"},
		{"tab and newline kept", "A\tB\nC", 256, "A\tB\nC"},
		{"invalid UTF-8 replaced", "caf\xe9", 256, "caf\uFFFD"},
		{"runs of invalid bytes become one U+FFFD", "a\xff\xfeb", 256, "a\uFFFDb"},
		{"non-ASCII kept", "Zoë Müller", 256, "Zoë Müller"},
		{"cut at a rune boundary", "aéé", 4, "aé"},
		{"cut never splits a rune", "éé", 3, "é"},
		{"no cap", strings.Repeat("x", 1000), 0, strings.Repeat("x", 1000)},
		{"empty", "", 10, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := provider.CleanText(c.in, c.max); got != c.want {
				t.Fatalf("CleanText(%q, %d) = %q, want %q", c.in, c.max, got, c.want)
			}
		})
	}
}

func FuzzCleanText(f *testing.F) {
	f.Add("ALICE\x00 \xffSMITH", 8)
	f.Add("é\x01é", 3)
	f.Fuzz(func(t *testing.T, s string, max int) {
		got := provider.CleanText(s, max)
		if !utf8.ValidString(got) || (max > 0 && len(got) > max) ||
			strings.ContainsFunc(got, func(r rune) bool { return r < 0x20 && r != '\t' && r != '\n' || r == 0x7f }) {
			t.Fatalf("CleanText(%q, %d) = %q, which is not storable", s, max, got)
		}
		if again := provider.CleanText(got, max); again != got {
			t.Fatalf("CleanText is not idempotent: %q then %q", got, again)
		}
	})
}

func TestCheckCallID(t *testing.T) {
	for _, id := range []string{"CA0123456789abcdef", "v3:AgDIxmoRX6QMuaIj", strings.Repeat("x", provider.MaxCallIDLen), "appel-é"} {
		if err := provider.CheckCallID("CallSid", id); err != nil {
			t.Errorf("CheckCallID(%q) = %v", id, err)
		}
	}
	for _, id := range []string{"", strings.Repeat("x", provider.MaxCallIDLen+1), "CA\x00", "CA\xff", "CA\n1", "CA\t1", "CA\x7f"} {
		err := provider.CheckCallID("CallSid", id)
		if !errors.Is(err, provider.ErrMalformedPayload) || !strings.Contains(err.Error(), "CallSid") {
			t.Errorf("CheckCallID(%q) = %v; want ErrMalformedPayload naming CallSid", id, err)
		}
	}
}

func TestParseSeconds(t *testing.T) {
	cases := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"0", 0, true},
		{"93", 93 * time.Second, true},
		{`"93"`, 93 * time.Second, true}, // a JSON string
		{" 93 ", 93 * time.Second, true},
		{"93.5", 93500 * time.Millisecond, true},
		{"604800", provider.MaxCallDuration, true},
		{"604800.001", 0, false},
		{"604801", 0, false},
		{"9300000000", 0, false}, // overflowed to a negative duration before
		{"99999999999999999999999", 0, false},
		{"-3", 0, false},
		{"-0.5", 0, false},
		{"+3", 0, false},
		{"1e3", 0, false},
		{"0x10", 0, false},
		{"Inf", 0, false},
		{"NaN", 0, false},
		{"3.", 0, false},
		{".5", 0, false},
		{"", 0, false},
		{"abc", 0, false},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			got, err := provider.ParseSeconds("CallDuration", c.in)
			if got != c.want || (err == nil) != c.ok {
				t.Fatalf("ParseSeconds(%q) = %v, %v; want %v, ok %v", c.in, got, err, c.want, c.ok)
			}
			if err != nil && (!errors.Is(err, provider.ErrMalformedPayload) || !strings.Contains(err.Error(), "CallDuration")) {
				t.Fatalf("error %v does not wrap ErrMalformedPayload and name the field", err)
			}
		})
	}
}

func FuzzParseSeconds(f *testing.F) {
	for _, s := range []string{"93", "9300000000", "-3", "93.5", `"12"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := provider.ParseSeconds("d", s)
		if d < 0 || d > provider.MaxCallDuration || (err != nil && d != 0) {
			t.Fatalf("ParseSeconds(%q) = %v, %v", s, d, err)
		}
	})
}

func TestElapsed(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name       string
		start, end time.Time
		want       time.Duration
	}{
		{"normal", t0, t0.Add(93500 * time.Millisecond), 93 * time.Second},
		{"no start", time.Time{}, t0, 0},
		{"no end", t0, time.Time{}, 0},
		{"end before start", t0, t0.Add(-time.Second), 0},
		{"longer than a week", t0, t0.Add(provider.MaxCallDuration + time.Second), 0},
		{"centuries (saturates)", time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), 0},
	} {
		if got := provider.Elapsed(c.start, c.end); got != c.want {
			t.Errorf("%s: Elapsed = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestSaneTime(t *testing.T) {
	for _, c := range []struct {
		in   time.Time
		keep bool
	}{
		{time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), true},
		{time.Unix(0, 0), true},
		{time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), true},
		{time.Time{}, false},
		{time.Unix(-1, 0), false},
		{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), false},
	} {
		want := time.Time{}
		if c.keep {
			want = c.in
		}
		if got := provider.SaneTime(c.in); !got.Equal(want) {
			t.Errorf("SaneTime(%v) = %v, want %v", c.in, got, want)
		}
	}
}
