package attribution

import (
	"math"
	"testing"
	"time"

	"github.com/attriqs/calltrack/classify"

	"github.com/attriqs/calltrack/journey"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBadInputIsRejected(t *testing.T) {
	good := converted("ok", 100, tp("a", journey.TouchSession, paid, day))
	withValue := func(v int64) Journey {
		j := converted("bad", v, tp("a", journey.TouchSession, paid, day))
		return j
	}
	eur := converted("eur", 100, tp("a", journey.TouchSession, paid, day))
	eur.Conversion.Currency = "EUR"
	noTime := converted("notime", 100, journey.Touchpoint{ID: "x", Kind: journey.TouchSession})
	tests := []struct {
		name     string
		journeys []Journey
		opts     Options
		want     error
	}{
		{"no journeys", nil, Options{}, ErrNoJourneys},
		{"empty journey", []Journey{good, {ID: "empty"}}, Options{}, ErrEmptyJourney},
		{"negative value", []Journey{withValue(-5)}, Options{}, ErrInvalidValue},
		{"mixed currencies", []Journey{good, eur}, Options{}, ErrCurrency},
		{"other currency", []Journey{good}, Options{Currency: "EUR"}, ErrCurrency},
		{"touchpoint without time", []Journey{noTime}, Options{}, ErrInvalidJourney},
	}
	for _, tt := range tests {
		for _, m := range allModels() {
			t.Run(tt.name+"/"+m.Name(), func(t *testing.T) {
				r, err := m.Attribute(tt.journeys, tt.opts)
				assert.ErrorIs(t, err, tt.want)
				assert.Nil(t, r)
			})
		}
	}
}

func TestSplitByCurrency(t *testing.T) {
	usd := converted("usd", 100, tp("a", journey.TouchSession, paid, day))
	eur := converted("eur", 300, tp("b", journey.TouchSession, email, day))
	eur.Conversion.Currency = "EUR"
	lost := open("open", tp("c", journey.TouchSession, organic, day))
	byCur := SplitByCurrency([]Journey{usd, eur, lost})
	require.Len(t, byCur, 2)
	for cur, js := range byCur {
		r, err := Linear{}.Attribute(js, Options{})
		require.NoError(t, err, cur)
		assert.Equal(t, cur, r.Currency)
		assert.Len(t, js, 2, "the open journey goes to every currency")
	}
}

func TestLookbackAndKinds(t *testing.T) {
	j := converted("j", 900,
		tp("old", journey.TouchSession, paid, 91*day),
		tp("visit", journey.TouchSession, email, 30*day),
		tp("chat", journey.TouchChat, organic, 2*day),
		tp("custom", journey.TouchCustom, social, day),
		tp("after", journey.TouchCall, referral, -day), // after the conversion
	)
	r, err := Linear{}.Attribute([]Journey{j}, Options{})
	require.NoError(t, err)
	// 91 days is outside the default 90; custom kinds and touches after
	// the conversion never count.
	assert.Equal(t, []string{"visit=450", "chat=450"}, touchValues(r))

	r, err = Linear{}.Attribute([]Journey{j}, Options{Lookback: 7 * day})
	require.NoError(t, err)
	assert.Equal(t, []string{"chat=900"}, touchValues(r))

	r, err = Linear{}.Attribute([]Journey{j}, Options{Lookback: -1, Kinds: []journey.TouchKind{journey.TouchSession, journey.TouchCustom}})
	require.NoError(t, err)
	assert.Equal(t, []string{"old=300", "visit=300", "custom=300"}, touchValues(r))

	// Nothing counts: the conversion is reported as unattributed.
	r, err = Linear{}.Attribute([]Journey{j}, Options{Kinds: []journey.TouchKind{journey.TouchForm}})
	require.NoError(t, err)
	assert.Empty(t, r.Touchpoints)
	assert.Equal(t, Unattributed{Conversions: 1, Value: 900}, r.Unattributed)
	assert.Zero(t, r.Value)
}

func TestKeysAndDuplicateTimes(t *testing.T) {
	a := tp("a", journey.TouchSession, paid, day)
	a.Source.Campaign = "spring"
	b := tp("b", journey.TouchCall, organic, day) // same time as a
	j := converted("j", 100, a, b)
	r, err := FirstTouch{}.Attribute([]Journey{j}, Options{Key: ByCampaign})
	require.NoError(t, err)
	// Equal times keep input order, so a is first.
	assert.Equal(t, map[string]int64{"spring": 100}, values(r))
	r, err = LastTouch{}.Attribute([]Journey{j}, Options{Key: ByCampaign})
	require.NoError(t, err)
	// b has no campaign: its group is UnknownKey.
	assert.Equal(t, map[string]int64{UnknownKey: 100}, values(r))
	r, err = LastTouch{}.Attribute([]Journey{j}, Options{Key: BySourceMedium})
	require.NoError(t, err)
	assert.Equal(t, map[string]int64{"src-Organic Search / med": 100}, values(r))
	// Input order of touchpoints does not matter beyond ties.
	r, err = FirstTouch{}.Attribute([]Journey{converted("k", 100, tp("late", journey.TouchSession, email, day), tp("early", journey.TouchSession, paid, 3*day))}, Options{})
	require.NoError(t, err)
	assert.Equal(t, []string{"early=100"}, touchValues(r))
	assert.Equal(t, 1, r.Touchpoints[0].Index)
}

func TestSplitExact(t *testing.T) {
	tests := []struct {
		total   int64
		weights []float64
		want    []int64
	}{
		{100, []float64{0.4, 0.2, 0.4}, []int64{40, 20, 40}},
		{1, []float64{1, 1, 1}, []int64{1, 0, 0}},
		{2, []float64{1, 1, 1}, []int64{1, 1, 0}},
		{10, []float64{0, 0}, []int64{5, 5}},
		{7, []float64{0.1, 0.6, 0.3}, []int64{1, 4, 2}}, // 0.7, 4.2, 2.1: the 0.7 remainder wins
		{0, []float64{1, 2}, []int64{0, 0}},
		{1 << 40, []float64{1, 2}, []int64{366503875925, 733007751851}},
	}
	for _, tt := range tests {
		got := make([]int64, len(tt.weights))
		splitExact(tt.total, tt.weights, got)
		assert.Equal(t, tt.want, got, "%d by %v", tt.total, tt.weights)
	}
}

// A conversion without value is still a conversion, and one no touchpoint
// explains (a call no session explains) is unattributed, not an error:
// every model accounts for every conversion and every cent.
func TestZeroValueAndUnexplainedConversionsAreCounted(t *testing.T) {
	at := time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
	tp := func(id string, ch classify.Channel, d time.Duration) journey.Touchpoint {
		return journey.Touchpoint{ID: id, Kind: journey.TouchSession, At: at.Add(d), Source: classify.Source{Channel: ch}}
	}
	conv := func(id string, value int64) *journey.Conversion {
		return &journey.Conversion{ID: id, Type: journey.ConversionCall, At: at.Add(time.Hour), Value: value, Currency: "USD"}
	}
	journeys := []Journey{
		{ID: "paid", Touchpoints: []journey.Touchpoint{tp("a", classify.ChannelPaidSearch, 0), tp("b", classify.ChannelEmail, time.Minute)}, Conversion: conv("paid", 25000)},
		{ID: "free", Touchpoints: []journey.Touchpoint{tp("c", classify.ChannelOrganicSearch, 0)}, Conversion: conv("free", 0)},
		{ID: "flyer", Conversion: conv("flyer", 9000)},
		{ID: "browsing", Touchpoints: []journey.Touchpoint{tp("d", classify.ChannelEmail, 0)}},
	}
	cmp, err := Compare(journeys, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range cmp.Results {
		var value int64
		var conversions float64
		for _, g := range r.Groups {
			value += g.Value
			conversions += g.Conversions
		}
		if got := value + r.Unattributed.Value; got != 34000 {
			t.Errorf("%s: credited %d + unattributed %d, want 34000", r.Model, value, r.Unattributed.Value)
		}
		if got := conversions + float64(r.Unattributed.Conversions); math.Abs(got-3) > 1e-9 {
			t.Errorf("%s: %v conversions credited + %d unattributed, want 3", r.Model, conversions, r.Unattributed.Conversions)
		}
	}
}
