package phone_test

import (
	"errors"
	"testing"

	"github.com/attriqs/calltrack/phone"
)

func TestParse(t *testing.T) {
	cases := []struct {
		name, in, region, want string
		err                    error
	}{
		{"E.164", "+14158675309", "", "+14158675309", nil},
		{"international digits (Vonage)", "14158675309", "", "+14158675309", nil},
		{"formatted international", "+44 20 7946 0958", "", "+442079460958", nil},
		{"national with region", "(415) 867-5309", "US", "+14158675309", nil},
		{"national without region", "(415) 867-5309", "", "", phone.ErrNoCountryCode},
		{"Italy keeps its leading zero", "+390612345678", "", "+390612345678", nil},
		{"Italy national with region", "06 1234 5678", "IT", "+390612345678", nil},
		{"Italy national digits with region", "0612345678", "IT", "+390612345678", nil},
		{"UK national drops trunk zero", "020 7946 0958", "GB", "+442079460958", nil},
		{"all-zero national number", "+59800000000000", "", "+59800000000000", nil},
		{"national digits with region are not read as another country", "2025550173", "US", "+12025550173", nil},
		{"international digits with region stay international", "4930123456", "US", "+4930123456", nil},
		{"international digits with region (Plivo)", "442071838750", "US", "+442071838750", nil},
		{"trunk zero after the country code is dropped", "+49030123456", "", "+4930123456", nil},
		{"the same number with spaces", "+49 030 123456", "", "+4930123456", nil},
		{"UK trunk zero after the country code", "+4402079460958", "", "+442079460958", nil},
		{"15 digits", "+493012345678901", "", "+493012345678901", nil},
		{"16-digit caller id", "+4930123456789012", "", "", phone.ErrTooLong},
		{"17-digit caller id", "+49301234567890123", "", "", phone.ErrTooLong},
		{"17 digits without plus", "49301234567890123", "", "", phone.ErrTooLong},
		{"17 digits formatted", "+49 30 1234567890123", "", "", phone.ErrTooLong},
		{"16 digits with region", "4930123456789012", "DE", "", phone.ErrTooLong},
		{"anonymous", "anonymous", "US", "", phone.ErrNotANumber},
		{"Restricted", "Restricted", "US", "", phone.ErrNotANumber},
		{"Twilio ANONYMOUS", "+266696687", "", "", phone.ErrNotANumber},
		{"Twilio UNAVAILABLE", "+86282452253", "", "", phone.ErrNotANumber},
		{"Twilio RESTRICTED", "+7378742833", "", "", phone.ErrNotANumber},
		{"Twilio BLOCKED", "+2562533", "", "", phone.ErrNotANumber},
		{"empty", "", "US", "", phone.ErrNotANumber},
		{"blank", "   ", "US", "", phone.ErrNotANumber},
		{"country code only", "+1", "", "", phone.ErrUnknownCountryCode},
		{"unknown country code", "+999123456", "", "", phone.ErrUnknownCountryCode},
		{"leading zero country code", "+0123456789", "", "", phone.ErrUnknownCountryCode},
		{"impossible length", "+1415867530", "", "", phone.ErrImpossible},
		{"too much text", "+1 415 867 5309 ext 1234 and more text", "", "", phone.ErrTooLong},
		{"letters", "call me", "US", "", phone.ErrNotANumber},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := phone.Parse(c.in, c.region)
			if got != c.want || !errors.Is(err, c.err) || (c.err == nil) != (err == nil) {
				t.Fatalf("Parse(%q, %q) = %q, %v; want %q, %v", c.in, c.region, got, err, c.want, c.err)
			}
			var pe *phone.Error
			if err != nil && (!errors.As(err, &pe) || pe.Input != c.in) {
				t.Fatalf("error %v is not a *phone.Error naming the input", err)
			}
			if n := phone.Normalize(c.in, c.region); n != c.want {
				t.Fatalf("Normalize(%q, %q) = %q, want %q", c.in, c.region, n, c.want)
			}
			if c.want != "" && !phone.IsE164(c.want) {
				t.Fatalf("IsE164(%q) = false for a parsed number", c.want)
			}
		})
	}
}

func TestParseValid(t *testing.T) {
	for _, c := range []struct{ in, region, want string }{
		{"+14155550100", "", "+14155550100"},
		{" +1 (415) 555-0100 ", "", "+14155550100"},
		{"+44 20 7946 0000", "", "+442079460000"},
		{"+33 6 12 34 56 78", "", "+33612345678"},
		{"(415) 555-0100", "US", "+14155550100"},
	} {
		got, err := phone.ParseValid(c.in, c.region)
		if err != nil || got != c.want {
			t.Fatalf("ParseValid(%q, %q) = %q, %v; want %q", c.in, c.region, got, err, c.want)
		}
	}
	for _, c := range []struct {
		in     string
		err    error
		reason string
	}{
		{"", phone.ErrNotANumber, "not a phone number: empty"},
		{"4155550100", phone.ErrNoCountryCode, "missing leading + and country code"},
		{"14155550100", phone.ErrNoCountryCode, "missing leading + and country code"},
		{"+1555", phone.ErrImpossible, "impossible length for its country"},
		{"+15555550100", phone.ErrUnassigned, "not a number its country assigns"},
		{"+1415555010O", phone.ErrNotANumber, "not a phone number: unexpected 'O'"},
		{"++14155550100", phone.ErrNotANumber, "not a phone number: unexpected '+'"},
		{"+1-800-FLOWERS", phone.ErrNotANumber, "not a phone number: unexpected 'F'"},
		{"+٣٣٦١٢٣٤٥٦٧٨", phone.ErrNotANumber, "not a phone number: unexpected '٣'"},
		{"+4930123456789012", phone.ErrTooLong, "too long: 16 digits, E.164 allows 15"},
	} {
		_, err := phone.ParseValid(c.in, "")
		var pe *phone.Error
		if !errors.Is(err, c.err) || !errors.As(err, &pe) || pe.Reason() != c.reason || pe.Input != c.in {
			t.Fatalf("ParseValid(%q) error = %v; want %v with reason %q", c.in, err, c.err, c.reason)
		}
	}
}

func TestIsE164(t *testing.T) {
	for _, c := range []struct {
		in   string
		want bool
	}{
		{"+14155550100", true},
		{"+442071838750", true},
		{"+12", true},
		{"+123456789012345", true}, // 15 digits
		{"+1", false},
		{"14155550100", false},
		{"+04155550100", false},
		{"+1415555010a", false},
		{"+1234567890123456", false}, // 16 digits
		{"", false},
		{"+1 415 555 0100", false},
	} {
		if got := phone.IsE164(c.in); got != c.want {
			t.Errorf("IsE164(%q) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestFormat(t *testing.T) {
	for _, c := range []struct{ in, national, international string }{
		{"+14155550100", "(415) 555-0100", "+1 415-555-0100"},
		{"+442079460958", "020 7946 0958", "+44 20 7946 0958"},
		{"+390612345678", "06 1234 5678", "+39 06 1234 5678"},
		{"not a number", "not a number", "not a number"},
	} {
		if got := phone.National(c.in); got != c.national {
			t.Errorf("National(%q) = %q, want %q", c.in, got, c.national)
		}
		if got := phone.International(c.in); got != c.international {
			t.Errorf("International(%q) = %q, want %q", c.in, got, c.international)
		}
	}
}

// The fast path for international digits must agree with the full parser.
func TestFastPathAgreesWithParser(t *testing.T) {
	for _, n := range []string{
		"+14158675309", "+442079460958", "+390612345678", "+33123456789", "+8613812345678",
		"+61412345678", "+5511912345678", "+27211234567", "+266696687", "+1415867530", "+999123456",
		"+12", "+4420794609581234567", "+3900", "+390", "+4930123456789012",
	} {
		t.Run(n, func(t *testing.T) {
			// The space sends the number through libphonenumber's parser.
			if got, want := phone.Normalize(n, ""), phone.Normalize(n[:2]+" "+n[2:], ""); got != want {
				t.Fatalf("fast path %q, full parser %q", got, want)
			}
		})
	}
}

// FuzzNormalize holds the package to its invariant: whatever the wire
// normaliser returns is a stable E.164 number that stores accept.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"+14158675309", "14158675309", "(415) 867-5309", "anonymous", "+390612345678", "+266696687", "+49301234567890123", "06 1234 5678"} {
		f.Add(s, "US")
	}
	f.Fuzz(func(t *testing.T, s, region string) {
		out := phone.Normalize(s, region)
		if out == "" {
			return
		}
		if !phone.IsE164(out) {
			t.Fatalf("Normalize(%q, %q) = %q, which IsE164 refuses", s, region, out)
		}
		if again := phone.Normalize(out, ""); again != out {
			t.Fatalf("Normalize(%q, %q) = %q, but Normalize(%q) = %q", s, region, out, out, again)
		}
		if got, err := phone.Parse(s, region); got != out || err != nil {
			t.Fatalf("Parse(%q, %q) = %q, %v; Normalize gave %q", s, region, got, err, out)
		}
	})
}

func BenchmarkNormalize(b *testing.B) {
	for _, in := range []string{"+14158675309", "+1 415 867 5309"} {
		b.Run(in, func(b *testing.B) {
			for b.Loop() {
				phone.Normalize(in, "")
			}
		})
	}
}
