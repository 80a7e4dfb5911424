package webhooksig_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/attriqs/calltrack/webhooksig"
)

var (
	t0     = time.Date(2026, 3, 14, 15, 0, 0, 0, time.UTC)
	secret = []byte("whsec_test")
)

var sentinels = []error{
	webhooksig.ErrNoSecret, webhooksig.ErrMissingSignature, webhooksig.ErrMissingTimestamp,
	webhooksig.ErrMalformedSignature, webhooksig.ErrBadSignature, webhooksig.ErrStaleTimestamp,
}

func TestVerifyHasOneSentinelPerFailure(t *testing.T) {
	body := []byte(`{"id":"webhook/c1"}`)
	good := webhooksig.Sign(secret, body, t0)
	other := webhooksig.Sign([]byte("another"), body, t0)
	ts, v1, _ := strings.Cut(good, ",")
	hex64 := strings.Repeat("ab", 32)
	cases := []struct {
		name      string
		secret    []byte
		header    string
		body      []byte
		now       time.Time
		tolerance time.Duration
		want      error // nil: accepted
	}{
		{"Valid", secret, good, body, t0, 0, nil},
		{"ValidAtTheOldEdge", secret, good, body, t0.Add(webhooksig.DefaultTolerance), 0, nil},
		{"ValidAtTheNewEdge", secret, good, body, t0.Add(-webhooksig.DefaultTolerance), 0, nil},
		{"RotatedSecretsEitherMatches", secret, other + "," + v1, body, t0, 0, nil},
		{"RotatedSecretsFirstMatches", secret, good + ",v1=" + hex64, body, t0, 0, nil},
		{"SpacesAroundParts", secret, strings.ReplaceAll(good, ",", " , "), body, t0, 0, nil},
		{"PartsInAnyOrder", secret, v1 + "," + ts, body, t0, 0, nil},
		{"OtherKeysIgnored", secret, good + ",v0=whatever,x=", body, t0, 0, nil},
		{"WiderTolerance", secret, good, body, t0.Add(time.Hour), 2 * time.Hour, nil},
		{"NegativeToleranceIsTheDefault", secret, good, body, t0.Add(webhooksig.DefaultTolerance), -time.Second, nil},

		{"NoSecret", nil, good, body, t0, 0, webhooksig.ErrNoSecret},
		{"EmptySecret", []byte{}, good, body, t0, 0, webhooksig.ErrNoSecret},

		{"Empty", secret, "", body, t0, 0, webhooksig.ErrMissingSignature},
		{"Blank", secret, " \t ", body, t0, 0, webhooksig.ErrMissingSignature},
		{"NoV1", secret, ts, body, t0, 0, webhooksig.ErrMissingSignature},
		{"OnlyAnotherVersion", secret, ts + ",v0=" + hex64, body, t0, 0, webhooksig.ErrMissingSignature},

		{"NoTimestamp", secret, v1, body, t0, 0, webhooksig.ErrMissingTimestamp},

		{"NoEquals", secret, "garbage", body, t0, 0, webhooksig.ErrMalformedSignature},
		{"TrailingComma", secret, good + ",", body, t0, 0, webhooksig.ErrMalformedSignature},
		{"TwoTimestamps", secret, "t=1," + good, body, t0, 0, webhooksig.ErrMalformedSignature},
		{"TimestampNotANumber", secret, "t=x," + v1, body, t0, 0, webhooksig.ErrMalformedSignature},
		{"TimestampEmpty", secret, "t=," + v1, body, t0, 0, webhooksig.ErrMalformedSignature},
		{"TimestampOverflows", secret, "t=99999999999999999999," + v1, body, t0, 0, webhooksig.ErrMalformedSignature},
		{"V1Empty", secret, ts + ",v1=", body, t0, 0, webhooksig.ErrMalformedSignature},
		{"V1TooShort", secret, ts + ",v1=abcd", body, t0, 0, webhooksig.ErrMalformedSignature},
		{"V1NotHex", secret, ts + ",v1=" + strings.Repeat("zz", 32), body, t0, 0, webhooksig.ErrMalformedSignature},
		{"OneOfTwoV1Malformed", secret, good + ",v1=zz", body, t0, 0, webhooksig.ErrMalformedSignature},

		{"TamperedBody", secret, good, []byte(`{"id":"webhook/c2"}`), t0, 0, webhooksig.ErrBadSignature},
		{"OtherSecret", secret, other, body, t0, 0, webhooksig.ErrBadSignature},
		{"TimestampAltered", secret, "t=" + strconv.FormatInt(t0.Unix()+1, 10) + "," + v1, body, t0, 0, webhooksig.ErrBadSignature},
		{"ForgedAndOld", secret, "t=1," + v1, body, t0, 0, webhooksig.ErrBadSignature},

		{"TooOld", secret, good, body, t0.Add(webhooksig.DefaultTolerance + time.Second), 0, webhooksig.ErrStaleTimestamp},
		{"FromTheFuture", secret, good, body, t0.Add(-webhooksig.DefaultTolerance - time.Second), 0, webhooksig.ErrStaleTimestamp},
		{"NarrowerTolerance", secret, good, body, t0.Add(2 * time.Second), time.Second, webhooksig.ErrStaleTimestamp},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := webhooksig.Verify(c.secret, c.header, c.body, c.now, c.tolerance)
			if c.want == nil {
				if err != nil {
					t.Fatalf("Verify = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("Verify = %v, want %v", err, c.want)
			}
			for _, s := range sentinels {
				if s != c.want && errors.Is(err, s) {
					t.Fatalf("Verify = %v: also %v; want one sentinel per failure", err, s)
				}
			}
		})
	}
}

func TestSignFormat(t *testing.T) {
	// A vector computed independently:
	// printf '1773500400.{}' | openssl dgst -sha256 -hmac whsec_test
	got := webhooksig.Sign(secret, []byte(`{}`), t0)
	want := "t=1773500400,v1=d0bf853d686f1bd47251f3a1ad3dd7965657bcb42e68b0c443465f5911de5c29"
	if got != want {
		t.Fatalf("Sign = %q, want %q", got, want)
	}
}
