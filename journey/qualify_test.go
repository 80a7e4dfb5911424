package journey

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/classify"
	"github.com/attriqs/calltrack/provider"
)

// callerLog answers CallerHistory from a list of earlier call times per caller.
type callerLog map[string][]time.Time

func (l callerLog) CallsBefore(_ context.Context, from string, before time.Time) (int, time.Time, error) {
	var n int
	var latest time.Time
	for _, t := range l[from] {
		if t.Before(before) {
			n++
			if t.After(latest) {
				latest = t
			}
		}
	}
	return n, latest, nil
}

func finishedCall(to string, answered bool, talk time.Duration) provider.CallEvent {
	c := provider.CallEvent{Provider: "fake", CallID: "C1", From: callerJane, To: to, Status: provider.StatusCompleted,
		StartedAt: t0, EndedAt: t0.Add(10*time.Second + talk)}
	if answered {
		c.AnsweredAt = t0.Add(10 * time.Second)
		c.Duration = talk
	} else {
		c.Status = provider.StatusNoAnswer
	}
	return c
}

func TestQualify(t *testing.T) {
	rules := []QualifyRule{
		{Name: "general", Value: 5000, Currency: "USD"},
		{Name: "paid pool", Pool: "paid-search", MinTalk: 90 * time.Second, Value: 12000, Currency: "USD"},
		{Name: "print number", Number: printAd, MinTalk: 30 * time.Second, Value: 8000, Currency: "USD"},
		{Name: "brand campaign", Campaign: "Brand", FirstTimeOnly: true, Value: 20000, Currency: "USD"},
		{Name: "no repeats", Pool: "organic", ExcludeRepeatWithin: 7 * 24 * time.Hour, AllowUnanswered: true, MinTalk: time.Nanosecond, Value: 100, Currency: "EUR"},
	}
	history := callerLog{callerJane: {t0.Add(-48 * time.Hour)}}
	q, err := NewQualifier(QualifierConfig{Rules: rules, History: history})
	require.NoError(t, err)

	attributed := Attribution{Provider: "fake", CallID: "C1", SessionID: "S1", VisitorID: "V1", Confidence: ConfidenceExact}
	brand := attributed
	brand.Source = classify.Source{Campaign: "brand"}

	cases := []struct {
		name      string
		call      provider.CallEvent
		a         Attribution
		pool      string
		qualified bool
		rule      string
		value     int64
		reason    string
	}{
		{"default length qualifies", finishedCall(poolNum1, true, 61*time.Second), attributed, "", true, "general", 5000, "talk time 1m1s ≥ 1m0s"},
		{"too short", finishedCall(poolNum1, true, 59*time.Second), attributed, "", false, "general", 0, "under the 1m0s minimum"},
		{"unanswered", finishedCall(poolNum1, false, 0), attributed, "", false, "general", 0, "not answered"},
		{"pool rule is more specific", finishedCall(poolNum1, true, 80*time.Second), attributed, "paid-search", false, "paid pool", 0, "under the 1m30s minimum"},
		{"pool rule value", finishedCall(poolNum1, true, 95*time.Second), attributed, "paid-search", true, "paid pool", 12000, "≥ 1m30s"},
		{"number rule wins over pool", finishedCall(printAd, true, 31*time.Second), attributed, "paid-search", true, "print number", 8000, ""},
		{"campaign first-time only", finishedCall(poolNum1, true, 5*time.Minute), brand, "", false, "brand campaign", 0, "called 1 times before"},
		{"repeat within window", finishedCall(poolNum1, true, 5*time.Minute), attributed, "organic", false, "no repeats", 0, "within the 168h0m0s repeat window"},
		{"in progress is not yet", provider.CallEvent{Provider: "fake", CallID: "C1", To: poolNum1, Status: provider.StatusInProgress, StartedAt: t0}, attributed, "", false, "", 0, "not over yet"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, err := q.Qualify(context.Background(), tc.call, tc.a, tc.pool)
			require.NoError(t, err)
			assert.Equal(t, tc.qualified, d.Qualified, d.Reason)
			assert.Equal(t, tc.rule, d.Rule)
			assert.Contains(t, d.Reason, tc.reason)
			if tc.qualified {
				assert.Equal(t, tc.value, d.Conversion.Value)
				assert.Equal(t, "call:fake/C1", d.Conversion.ID)
				assert.Equal(t, "S1", d.Conversion.SessionID)
				require.NoError(t, d.Conversion.Validate())
			} else {
				assert.Zero(t, d.Conversion)
			}
		})
	}
}

// Re-qualifying the same call after a rule change yields the same
// conversion id, so recording it replaces instead of duplicating.
func TestRequalifyKeepsConversionID(t *testing.T) {
	call := finishedCall(poolNum1, true, 2*time.Minute)
	a := Attribution{Provider: "fake", CallID: "C1", Confidence: ConfidenceExact}
	var ids []string
	for _, value := range []int64{1000, 2500} {
		q, err := NewQualifier(QualifierConfig{Rules: []QualifyRule{{Value: value, Currency: "USD"}}})
		require.NoError(t, err)
		d, err := q.Qualify(context.Background(), call, a, "")
		require.NoError(t, err)
		require.True(t, d.Qualified)
		assert.Equal(t, value, d.Conversion.Value)
		ids = append(ids, d.Conversion.ID)
	}
	assert.Equal(t, ids[0], ids[1])
}

func TestDefaultQualifier(t *testing.T) {
	q, err := NewQualifier(QualifierConfig{})
	require.NoError(t, err)
	d, err := q.Qualify(context.Background(), finishedCall(poolNum1, true, time.Minute), Attribution{}, "")
	require.NoError(t, err)
	assert.True(t, d.Qualified, "answered and exactly 60 s qualifies by default")
	assert.Equal(t, ConversionCall, d.Conversion.Type)
}

func TestNewQualifierNamesEveryProblem(t *testing.T) {
	_, err := NewQualifier(QualifierConfig{Rules: []QualifyRule{
		{Name: "ok", Currency: "USD"},
		{Name: "bad", MinTalk: -time.Second, ExcludeRepeatWithin: -time.Hour, Value: -1, Currency: "usd"},
		{FirstTimeOnly: true, Currency: "EUR"},
	}})
	require.Error(t, err)
	for _, want := range []string{
		`rules[1] "bad".min_talk: -1s is negative`,
		`rules[1] "bad".exclude_repeat_within: -1h0m0s is negative`,
		`rules[1] "bad".value: -1 is negative`,
		`rules[1] "bad".currency: "usd"`,
		"no History was given",
	} {
		assert.Contains(t, err.Error(), want)
	}
}

func TestIdentifiers(t *testing.T) {
	key := []byte("host secret")
	raw, err := PhoneID("+1 212-555-0123", nil)
	require.NoError(t, err)
	assert.Equal(t, Identifier{Kind: IDPhone, Value: "+12125550123"}, raw)

	a, err := PhoneID("+12125550123", key)
	require.NoError(t, err)
	b, err := PhoneID(" +1 (212) 555-0123 ", key)
	require.NoError(t, err)
	assert.Equal(t, a, b, "spellings of one number hash alike")
	assert.Regexp(t, `^h:[0-9a-f]{64}$`, a.Value)
	other, err := PhoneID("+12125550123", []byte("other key"))
	require.NoError(t, err)
	assert.NotEqual(t, a, other)

	_, err = PhoneID("212-555-0123", key)
	assert.ErrorContains(t, err, "not an E.164 number")

	e1, err := EmailHashID(" Jane@Example.com ", key)
	require.NoError(t, err)
	e2, err := EmailHashID("jane@example.com", key)
	require.NoError(t, err)
	assert.Equal(t, e1, e2)
	assert.NotContains(t, e1.Value, "example")
	_, err = EmailHashID("jane@example.com", nil)
	assert.ErrorContains(t, err, "needs a hashing key")
	for _, bad := range []string{"", "jane", "@example.com", "jane@", "ja ne@example.com"} {
		_, err = EmailHashID(bad, key)
		assert.Error(t, err, bad)
	}

	c, err := ChatContactID("Intercom", "u_123")
	require.NoError(t, err)
	assert.Equal(t, "intercom:u_123", c.Value)
	require.NoError(t, c.Validate())
	_, err = ChatContactID("", "x")
	assert.Error(t, err)
}
