package journey

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/provider"
)

// shortLog answers ShortCallHistory from earlier calls' times and lengths
// per caller.
type shortLog map[string][]struct {
	at     time.Time
	length time.Duration
}

func (l shortLog) ShortCallsBetween(_ context.Context, from string, since, before time.Time, shorter time.Duration) (int, error) {
	n := 0
	for _, c := range l[from] {
		if !c.at.Before(since) && c.at.Before(before) && c.length < shorter {
			n++
		}
	}
	return n, nil
}

func TestSpamFilter(t *testing.T) {
	robo := "+14155550199"
	history := shortLog{robo: {{t0.Add(-time.Hour), 3 * time.Second}, {t0.Add(-30 * time.Minute), 2 * time.Second}}}
	f, err := NewSpamFilter(SpamConfig{
		Block:            []string{"+14155550111"},
		Allow:            []string{"+14155550122"},
		UnattestedIsSpam: true,
		ShortCalls:       ShortCallRule{Count: 3, Shorter: 10 * time.Second, Within: 24 * time.Hour},
		Labels:           []string{"spam", "robocall"},
	}, nil, history)
	require.NoError(t, err)
	call := func(from string, length time.Duration, edit func(*provider.CallEvent)) provider.CallEvent {
		c := provider.CallEvent{Provider: "fake", CallID: "C1", From: from, To: "+18005551212", Status: provider.StatusCompleted,
			StartedAt: t0, EndedAt: t0.Add(length), Duration: length}
		if edit != nil {
			edit(&c)
		}
		return c
	}
	for _, tc := range []struct {
		name string
		call provider.CallEvent
		want string // part of the reason; "" for not spam
	}{
		{"a caller on the block list", call("+14155550111", time.Minute, nil), "block list"},
		{"a gateway attestation", call(callerJane, time.Minute, func(c *provider.CallEvent) { c.Attestation = provider.AttestationGateway }), "STIR/SHAKEN C"},
		{"full attestation is not spam", call(callerJane, time.Minute, func(c *provider.CallEvent) { c.Attestation = provider.AttestationFull }), ""},
		{"the analyzer's label", call(callerJane, time.Minute, func(c *provider.CallEvent) { c.Labels = []string{"booked", "robocall"} }), `"robocall"`},
		{"the third short call in a day", call(robo, 4*time.Second, nil), "3 calls shorter than 10s"},
		{"a long call after two short ones", call(robo, time.Minute, nil), ""},
		{"a caller on the allow list, whatever else", call("+14155550122", time.Second, func(c *provider.CallEvent) {
			c.Attestation, c.Labels = provider.AttestationGateway, []string{"spam"}
		}), ""},
		{"an ordinary call", call(callerJane, time.Minute, nil), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := f.Check(context.Background(), tc.call)
			require.NoError(t, err)
			if tc.want == "" {
				assert.Empty(t, got)
			} else {
				assert.Contains(t, got, tc.want)
			}
		})
	}
	assert.True(t, f.Blocked("+14155550111", nil))
	assert.False(t, f.Blocked("+14155550122", nil))
	var none *SpamFilter
	got, err := none.Check(context.Background(), call("+14155550111", time.Second, nil))
	assert.NoError(t, err)
	assert.Empty(t, got, "a nil filter marks nothing")
}

func TestSpamFilterKeyedNumbers(t *testing.T) {
	key := []byte("identity key")
	f, err := NewSpamFilter(SpamConfig{Block: []string{"+14155550111"}}, key, nil)
	require.NoError(t, err)
	keyed := RedactCall(provider.CallEvent{Provider: "fake", CallID: "C1", From: "+14155550111", To: "+18005551212"}, key)
	got, err := f.Check(context.Background(), keyed)
	require.NoError(t, err)
	assert.Contains(t, got, "block list", "a keyed call from a blocked number is spam")
	assert.True(t, f.Blocked("+14155550111", key))
}

func TestNewSpamFilterNamesEveryProblem(t *testing.T) {
	_, err := NewSpamFilter(SpamConfig{Block: []string{"not a number"}, Allow: []string{"12"}, ShortCalls: ShortCallRule{Count: 2}}, nil, nil)
	require.Error(t, err)
	for _, field := range []string{"spam.block[0]", "spam.allow[0]", "short_calls.shorter", "short_calls.within", "no history"} {
		assert.True(t, strings.Contains(err.Error(), field), "error does not name %s: %v", field, err)
	}
}

func TestSpamCallNeverQualifies(t *testing.T) {
	q, err := NewQualifier(QualifierConfig{})
	require.NoError(t, err)
	f, err := NewSpamFilter(SpamConfig{Block: []string{callerJane}}, nil, nil)
	require.NoError(t, err)
	st, err := NewStitcher(testCatalog(t), fakeHolds{}, fakeSessions{}, StitcherConfig{Clock: func() time.Time { return t0 }})
	require.NoError(t, err)
	p := &CallPipeline{Stitcher: st, Qualifier: q, Spam: f}
	call := finishedCall(printAd, true, 5*time.Minute)
	rec, err := p.Process(context.Background(), call)
	require.NoError(t, err)
	assert.False(t, rec.Decision.Qualified)
	assert.Nil(t, rec.Conversion, "a spam call has no conversion, so nothing is exported")
	assert.Contains(t, rec.Touchpoint.Attrs[AttrSpam], "block list")
	p.Spam = nil
	rec, err = p.Process(context.Background(), call)
	require.NoError(t, err)
	assert.True(t, rec.Decision.Qualified, "the same call qualifies without the filter")
}

func TestQualifyByOutcomeAndLabels(t *testing.T) {
	answered := finishedCall("+18005551212", true, 5*time.Minute)
	answered.Outcome, answered.TalkTime = provider.OutcomeAnswered, 4*time.Minute
	voicemail := finishedCall("+18005551212", false, 0)
	voicemail.Status, voicemail.Outcome = provider.StatusCompleted, provider.OutcomeVoicemail
	booked := answered
	booked.Labels = []string{"booked"}
	for _, tc := range []struct {
		name string
		rule QualifyRule
		call provider.CallEvent
		want bool
	}{
		{"answered by the default rule", QualifyRule{Currency: "USD"}, answered, true},
		{"voicemail is not answered by the default rule", QualifyRule{Currency: "USD"}, voicemail, false},
		{"voicemail counted when the rule names it", QualifyRule{Currency: "USD", Outcomes: []provider.Outcome{provider.OutcomeAnswered, provider.OutcomeVoicemail}}, voicemail, true},
		{"no outcome yet under a rule that names outcomes", QualifyRule{Currency: "USD", Outcomes: []provider.Outcome{provider.OutcomeAnswered}}, finishedCall("+18005551212", true, 5*time.Minute), false},
		{"a required label missing", QualifyRule{Currency: "USD", RequireLabels: []string{"booked"}}, answered, false},
		{"a required label present", QualifyRule{Currency: "USD", RequireLabels: []string{"booked"}}, booked, true},
		{"an excluding label", QualifyRule{Currency: "USD", ExcludeLabels: []string{"booked"}}, booked, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, err := NewQualifier(QualifierConfig{Rules: []QualifyRule{tc.rule}})
			require.NoError(t, err)
			d, err := q.Qualify(context.Background(), tc.call, Attribution{}, "")
			require.NoError(t, err)
			assert.Equal(t, tc.want, d.Qualified, d.Reason)
		})
	}
	_, err := NewQualifier(QualifierConfig{Rules: []QualifyRule{{Currency: "USD", Outcomes: []provider.Outcome{"hung-up"}}}})
	assert.ErrorContains(t, err, "outcomes[0]")
}

// The business line's talk time, not the caller's billed minutes (which
// include the ring), is what a rule's minimum measures; a missed forward
// has none however long the caller waited.
func TestTalkTimeIsTheAnsweringLegs(t *testing.T) {
	c := finishedCall("+18005551212", true, 70*time.Second)
	c.Outcome, c.TalkTime = provider.OutcomeAnswered, 50*time.Second
	assert.Equal(t, 50*time.Second, TalkTime(c))
	missed := finishedCall("+18005551212", true, 70*time.Second)
	missed.Outcome = provider.OutcomeNoAnswer
	assert.Zero(t, TalkTime(missed))
	assert.False(t, Answered(missed), "the caller's call completed, but the business did not pick up")
}
