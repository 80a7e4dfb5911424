package attribution

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/attriqs/calltrack/journey"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// mixed is a paid visit, a direct visit, an organic call and a direct
// visit; 1001 cents makes the linear split uneven.
func mixed() []Journey {
	return []Journey{converted("j", 1001,
		tp("s1", journey.TouchSession, paid, 10*day),
		tp("s2", journey.TouchSession, direct, 5*day),
		tp("c1", journey.TouchCall, organic, 2*day),
		tp("s3", journey.TouchSession, direct, 1*day),
	)}
}

func TestSingleTouchRules(t *testing.T) {
	tests := []struct {
		model Model
		want  []string
	}{
		{FirstTouch{}, []string{"s1=1001"}},
		{LastTouch{}, []string{"s3=1001"}},
		// Direct is skipped: the organic call is the last non-direct touch.
		{LastNonDirect{}, []string{"c1=1001"}},
		// 1001/4 = 250.25: each gets 250, the one unit left goes to the
		// earliest of the equal remainders.
		{Linear{}, []string{"s1=251", "s2=250", "c1=250", "s3=250"}},
	}
	for _, tt := range tests {
		t.Run(tt.model.Name(), func(t *testing.T) {
			r, err := tt.model.Attribute(mixed(), Options{})
			require.NoError(t, err)
			assert.Equal(t, tt.want, touchValues(r))
			assert.Equal(t, int64(1001), r.Value)
			assert.Equal(t, 1.0, r.Conversions)
		})
	}
}

func TestLinearGroupsAddOccurrences(t *testing.T) {
	r, err := Linear{}.Attribute(mixed(), Options{})
	require.NoError(t, err)
	// Direct appears twice, so it earns two shares: 250 + 250.
	assert.Equal(t, map[string]int64{"Paid Search": 251, "Direct": 500, "Organic Search": 250}, values(r))
	g, ok := r.Group("Direct")
	require.True(t, ok)
	assert.InDelta(t, 0.5, g.Conversions, 1e-12)
	_, ok = r.Group("Email")
	assert.False(t, ok)
}

func TestLastNonDirectAllDirect(t *testing.T) {
	js := []Journey{converted("j", 500,
		tp("a", journey.TouchSession, direct, 3*day),
		tp("b", journey.TouchCall, direct, 1*day),
	)}
	r, err := LastNonDirect{}.Attribute(js, Options{})
	require.NoError(t, err)
	// All direct: GA4 keeps the last touch.
	assert.Equal(t, []string{"b=500"}, touchValues(r))
}

func TestTimeDecay(t *testing.T) {
	js := []Journey{converted("j", 700,
		tp("a", journey.TouchSession, paid, 14*day),
		tp("b", journey.TouchSession, email, 7*day),
		tp("c", journey.TouchCall, organic, 0),
	)}
	r, err := TimeDecay{}.Attribute(js, Options{})
	require.NoError(t, err)
	// Weights 1/4, 1/2, 1 of 1.75: 700 × (1/7, 2/7, 4/7).
	assert.Equal(t, []string{"a=100", "b=200", "c=400"}, touchValues(r))

	js = []Journey{converted("j", 300,
		tp("a", journey.TouchSession, paid, 10*day),
		tp("b", journey.TouchSession, email, 3*day),
	)}
	r, err = TimeDecay{Step: true}.Attribute(js, Options{})
	require.NoError(t, err)
	// Weekly steps: 10 days is one whole week (weight 1/2), 3 days none (1).
	assert.Equal(t, []string{"a=100", "b=200"}, touchValues(r))
	r, err = TimeDecay{}.Attribute(js, Options{})
	require.NoError(t, err)
	// Continuous: 2^(-10/7) = 0.3715 and 2^(-3/7) = 0.7430; 300 × 0.3333 = 100.
	assert.Equal(t, []string{"a=100", "b=200"}, touchValues(r))
	r, err = TimeDecay{HalfLife: 3 * day}.Attribute(js, Options{})
	require.NoError(t, err)
	// Half-life 3 days: 2^(-10/3) = 0.0992, 2^(-1) = 0.5; 300 × 0.0992/0.5992 = 49.7.
	assert.Equal(t, []string{"a=50", "b=250"}, touchValues(r))

	// A one-minute half-life over days: 2^(-4320) underflows, but only
	// the ratios matter, so the youngest touch simply takes everything
	// (a touch that earns nothing is not listed).
	r, err = TimeDecay{HalfLife: time.Minute}.Attribute(js, Options{})
	require.NoError(t, err)
	assert.Equal(t, []string{"b=300"}, touchValues(r))
	assert.InDelta(t, 1.0, r.Touchpoints[0].Conversions, 1e-12)

	_, err = TimeDecay{HalfLife: -time.Hour}.Attribute(js, Options{})
	assert.ErrorIs(t, err, ErrInvalidOptions)
}

func TestPositionBased(t *testing.T) {
	s := func(id string, before time.Duration) journey.Touchpoint {
		return tp(id, journey.TouchSession, paid, before)
	}
	tests := []struct {
		name string
		j    Journey
		want []string
	}{
		{"one touch gets all", converted("j", 1000, s("a", day)), []string{"a=1000"}},
		// 101 / 2 = 50.5 each: the earlier touch gets the odd unit.
		{"two touches half each", converted("j", 101, s("a", 2*day), s("b", day)), []string{"a=51", "b=50"}},
		{"four touches 40/10/10/40", converted("j", 1000, s("a", 4*day), s("b", 3*day), s("c", 2*day), s("d", day)),
			[]string{"a=400", "b=100", "c=100", "d=400"}},
		// The middle 200 over three is 66.67 each: two units left over go
		// to the earliest of the equal remainders.
		{"five touches", converted("j", 1000, s("a", 5*day), s("b", 4*day), s("c", 3*day), s("d", 2*day), s("e", day)),
			[]string{"a=400", "b=67", "c=67", "d=66", "e=400"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := PositionBased{}.Attribute([]Journey{tt.j}, Options{})
			require.NoError(t, err)
			assert.Equal(t, tt.want, touchValues(r))
		})
	}
	r, err := PositionBased{First: 0.3, Last: 0.6}.Attribute([]Journey{tests[2].j}, Options{})
	require.NoError(t, err)
	assert.Equal(t, []string{"a=300", "b=50", "c=50", "d=600"}, touchValues(r))
	_, err = PositionBased{First: 0.7, Last: 0.6}.Attribute([]Journey{tests[2].j}, Options{})
	assert.ErrorIs(t, err, ErrInvalidOptions)
}

func TestWShaped(t *testing.T) {
	js := []Journey{converted("j", 1000,
		tp("first", journey.TouchSession, paid, 20*day),
		tp("social", journey.TouchSession, social, 15*day),
		tp("lead", journey.TouchForm, organic, 12*day),
		tp("mail", journey.TouchSession, email, 8*day),
		tp("opp", journey.TouchCall, direct, 5*day, "qualified", "true"),
		tp("ref", journey.TouchSession, referral, 1*day),
	)}
	r, err := WShaped{}.Attribute(js, Options{})
	require.NoError(t, err)
	// 300 each to first, lead (the form) and opportunity (the qualified
	// call); 100/3 = 33.33 to each of the other three, the odd unit first.
	assert.Equal(t, []string{"first=300", "social=34", "lead=300", "mail=33", "opp=300", "ref=33"}, touchValues(r))
}

func TestWShapedDegenerate(t *testing.T) {
	tests := []struct {
		name string
		j    Journey
		want []string
	}{
		// No lead, no opportunity: the first touch carries all 90 %.
		{"no milestones", converted("j", 1000,
			tp("a", journey.TouchSession, paid, 2*day), tp("b", journey.TouchSession, email, day)),
			[]string{"a=900", "b=100"}},
		// The first touch is also the lead: 45 + 45; no opportunity.
		{"first is lead", converted("j", 1000,
			tp("a", journey.TouchCall, paid, 2*day), tp("b", journey.TouchSession, email, day)),
			[]string{"a=900", "b=100"}},
		// Lead and opportunity on separate touches, no others: 1/3 each.
		{"only milestones", converted("j", 1000,
			tp("a", journey.TouchSession, paid, 3*day), tp("b", journey.TouchChat, email, 2*day),
			tp("c", journey.TouchSession, direct, day, "opportunity", "true")),
			[]string{"a=334", "b=333", "c=333"}},
		{"single touch", converted("j", 10, tp("a", journey.TouchSession, paid, day)), []string{"a=10"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := WShaped{}.Attribute([]Journey{tt.j}, Options{})
			require.NoError(t, err)
			assert.Equal(t, tt.want, touchValues(r))
		})
	}
}

func TestFullPath(t *testing.T) {
	js := []Journey{converted("j", 1000,
		tp("first", journey.TouchSession, paid, 20*day),
		tp("lead", journey.TouchChat, organic, 12*day),
		tp("mail", journey.TouchSession, email, 8*day),
		tp("opp", journey.TouchCall, direct, 5*day, "qualified", "true"),
		tp("close", journey.TouchSession, referral, 1*day),
	)}
	r, err := FullPath{}.Attribute(js, Options{})
	require.NoError(t, err)
	// 22.5 % each to first, lead, opportunity and close; 10 % to the one other.
	assert.Equal(t, []string{"first=225", "lead=225", "mail=100", "opp=225", "close=225"}, touchValues(r))

	// A custom opportunity rule: the email visit.
	m := FullPath{Milestones: Milestones{Opportunity: func(t journey.Touchpoint) bool { return t.Source.Channel == email }}}
	r, err = m.Attribute(js, Options{})
	require.NoError(t, err)
	// first, lead, mail (opportunity), close = 225 each; the call gets 100.
	assert.Equal(t, []string{"first=225", "lead=225", "mail=225", "opp=100", "close=225"}, touchValues(r))
}

// Under any key, direct means the touchpoint's channel is Direct; the
// credit is reported under the key. Here the key renames channels, so
// that the direct touch is keyed "Paid" and the paid one "Direct": the
// paid touch still earns the conversion, under "Direct".
func TestLastNonDirectKey(t *testing.T) {
	a := tp("a", journey.TouchSession, paid, 3*day)
	a.Source.Campaign = "spring"
	b := tp("b", journey.TouchCall, organic, 2*day) // no campaign
	c := tp("c", journey.TouchSession, direct, day)
	js := []Journey{converted("j", 100, a, b, c), converted("k", 40, a, c)}
	tests := []struct {
		name    string
		key     KeyFunc
		touches []string
		groups  map[string]int64
	}{
		{"channel", nil, []string{"b=100", "a=40"}, map[string]int64{"Organic Search": 100, "Paid Search": 40}},
		{"campaign", ByCampaign, []string{"b=100", "a=40"}, map[string]int64{UnknownKey: 100, "spring": 40}},
		{"swapped names", func(t journey.Touchpoint) string {
			return map[string]string{"a": "Direct", "b": "Organic", "c": "Paid"}[t.ID]
		}, []string{"b=100", "a=40"}, map[string]int64{"Organic": 100, "Direct": 40}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := LastNonDirect{}.Attribute(js, Options{Key: tt.key})
			require.NoError(t, err)
			assert.Equal(t, tt.touches, touchValues(r))
			assert.Equal(t, tt.groups, values(r))
		})
	}
}

var _ PathModel = LastNonDirect{}

// On paths a step is direct when its key is "Direct". Paid Search >
// Direct converts once for 100: Paid Search. Direct > Direct converts
// once for 50: all direct, so the last, Direct. Direct > Email > Direct
// converts twice for 300: Email. Email alone does not convert.
func TestLastNonDirectPaths(t *testing.T) {
	paths := pathSet(t,
		row{"Paid Search > Direct", 1, 100, 2},
		row{"Direct > Direct", 1, 50, 0},
		row{"Direct > Email > Direct", 2, 300, 1},
		row{"Email", 0, 0, 4},
	)
	r, err := LastNonDirect{}.AttributePaths(paths)
	require.NoError(t, err)
	conv, value, _ := groupsOf(r)
	assert.Equal(t, map[string]float64{"Paid Search": 1, "Direct": 1, "Email": 2}, conv)
	assert.Equal(t, map[string]int64{"Paid Search": 100, "Direct": 50, "Email": 300}, value)
	assert.Equal(t, 4.0, r.Conversions)
	assert.Equal(t, int64(450), r.Value)
	assert.Equal(t, "last_non_direct", r.Model)

	// Without a channel named Direct it is last touch.
	paths = pathSet(t, row{"A > B", 1, 10, 0}, row{"B > A", 1, 20, 0})
	r, err = LastNonDirect{}.AttributePaths(paths)
	require.NoError(t, err)
	_, value, _ = groupsOf(r)
	assert.Equal(t, map[string]int64{"A": 20, "B": 10}, value)

	_, err = LastNonDirect{}.AttributePaths(nil)
	assert.ErrorIs(t, err, ErrNoJourneys)
}

// The journey form and the path form agree, to the cent, whenever the
// key names direct touches "Direct": the default channel key, or a key
// that keeps that name for them.
func TestLastNonDirectJourneysAndPathsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	js := randomJourneys(rng, 400)
	byCampaignOrDirect := func(t journey.Touchpoint) string {
		if t.Source.Channel == direct {
			return string(direct)
		}
		return "campaign of " + t.ID[len(t.ID)-1:] // a key unrelated to the channel
	}
	for _, opts := range []Options{{}, {Key: byCampaignOrDirect}, {Lookback: 30 * day}} {
		byJourney, err := LastNonDirect{}.Attribute(js, opts)
		require.NoError(t, err)
		paths, err := GroupPaths(js, opts)
		require.NoError(t, err)
		byPath, err := LastNonDirect{}.AttributePaths(paths)
		require.NoError(t, err)
		assert.Equal(t, byJourney.Groups, byPath.Groups)
		assert.Equal(t, byJourney.Conversions, byPath.Conversions)
		assert.Equal(t, byJourney.Value, byPath.Value)
		_, ok := byJourney.Group(string(direct))
		assert.True(t, ok, "some journeys are all direct")
	}
}
