package attribution_test

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/attriqs/calltrack/classify"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/journey/attribution"
)

// exampleJourneys are three people: one clicks an ad, comes back from
// search and calls (a qualified call converts for $250); one opens an
// email, then chats and buys for $100; one clicks an ad and leaves.
func exampleJourneys() []attribution.Journey {
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	touch := func(id string, kind journey.TouchKind, ch classify.Channel, before time.Duration, attrs map[string]string) journey.Touchpoint {
		return journey.Touchpoint{ID: id, Kind: kind, At: at.Add(-before), VisitorID: "v",
			Source: classify.Source{Channel: ch}, Attrs: attrs}
	}
	return []attribution.Journey{
		{
			ID: "ann",
			Touchpoints: []journey.Touchpoint{
				touch("session:1", journey.TouchSession, classify.ChannelPaidSearch, 10*day, nil),
				touch("session:2", journey.TouchSession, classify.ChannelOrganicSearch, 4*day, nil),
				touch("call:twilio/CA1", journey.TouchCall, classify.ChannelOrganicSearch, 4*day-time.Minute,
					map[string]string{"qualified": "true"}),
			},
			Conversion: &journey.Conversion{ID: "call:twilio/CA1", Type: journey.ConversionCall, At: at,
				Value: 25000, Currency: "USD", CallProvider: "twilio", CallID: "CA1"},
		},
		{
			ID: "bob",
			Touchpoints: []journey.Touchpoint{
				touch("session:3", journey.TouchSession, classify.ChannelEmail, 3*day, nil),
				touch("chat:intercom/7", journey.TouchChat, classify.ChannelDirect, day, nil),
			},
			Conversion: &journey.Conversion{ID: "order:9", Type: journey.ConversionPurchase, At: at,
				Value: 10000, Currency: "USD"},
		},
		{
			ID:          "cy",
			Touchpoints: []journey.Touchpoint{touch("session:4", journey.TouchSession, classify.ChannelPaidSearch, 2*day, nil)},
		},
	}
}

// Every model side by side, in cents: the call's $250 flows through each.
// W-shaped: Ann's call is both lead and opportunity (60 %), her ad click
// is first (30 %), her search visit the rest (10 %); Bob's chat is his
// lead and there is no opportunity, so his two touches share evenly.
// Markov: removing any one channel halves P(conv) = 2/3, so all four
// removal effects are 1/2 and each channel gets a quarter of $350.
func ExampleCompare() {
	cmp, err := attribution.Compare(exampleJourneys(), attribution.Options{},
		attribution.FirstTouch{}, attribution.LastNonDirect{}, attribution.Linear{},
		attribution.PositionBased{}, attribution.WShaped{}, attribution.Markov{}, attribution.Shapley{})
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = cmp.WriteTable(os.Stdout)
	// Output:
	// key (USD)       first_touch  last_non_direct  linear  position_based  w_shaped  markov  shapley
	// Direct          0            0                5000    5000            5000      8750    5000
	// Email           10000        10000            5000    5000            5000      8750    5000
	// Organic Search  0            25000            16666   15000           17500     8750    12500
	// Paid Search     25000        0                8334    10000           7500      8750    12500
}

// The credit of each touchpoint of one conversion adds up to its value.
func ExampleLinear() {
	r, err := attribution.Linear{}.Attribute(exampleJourneys()[:1], attribution.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range r.Touchpoints {
		fmt.Printf("%-16s %-15s %5d %.3f\n", c.TouchpointID, c.Key, c.Value, c.Conversions)
	}
	// Output:
	// session:1        Paid Search      8334 0.333
	// session:2        Organic Search   8333 0.333
	// call:twilio/CA1  Organic Search   8333 0.333
}

// Markov removal effects on grouped paths in ChannelAttribution's file
// format (the three-path example of Bryl, analyzecore.com, 2016).
func ExampleMarkov_AttributePaths() {
	data := `path,total_conversions,total_conversion_value,total_null
C1 > C2 > C3,1,1000,0
C1,0,0,1
C2 > C3,0,0,1
`
	paths, err := attribution.ReadPathsCSV(strings.NewReader(data))
	if err != nil {
		fmt.Println(err)
		return
	}
	r, err := attribution.Markov{}.AttributePaths(paths)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, g := range r.Groups {
		fmt.Printf("%s removal effect %.2f, %.1f conversions, value %d\n", g.Key, g.Score, g.Conversions, g.Value)
	}
	// Output:
	// C1 removal effect 0.50, 0.2 conversions, value 200
	// C2 removal effect 1.00, 0.4 conversions, value 400
	// C3 removal effect 1.00, 0.4 conversions, value 400
}

// Ordered Shapley shows where in the journeys each channel earns.
func ExampleOrderedShapley() {
	r, err := attribution.OrderedShapley{}.Attribute(exampleJourneys(), attribution.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range r.Positions {
		fmt.Printf("%s at %d: %.2f conversions, %d\n", p.Key, p.Position, p.Conversions, p.Value)
	}
	// Output:
	// Direct at 2: 0.50 conversions, 5000
	// Email at 1: 0.50 conversions, 5000
	// Organic Search at 2: 0.25 conversions, 6250
	// Organic Search at 3: 0.25 conversions, 6250
	// Paid Search at 1: 0.50 conversions, 12500
}

// A file in ChannelAttribution's layout: ';' between fields, values in
// dollars. At order 2 its states remember that b was repeated after a and
// after c, so b > b forgets which came first and c shares the credit; by
// default repeats collapse, a > b converts and c > b does not.
func ExamplePathsCSV_Read() {
	const data = `path;total_conversions;total_conversion_value;total_null
a > b > b;1;6.00;0
c > b > b > b;0;0;1
`
	paths, err := attribution.PathsCSV{ValueScale: 100}.Read(strings.NewReader(data))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, m := range []attribution.Markov{{Order: 2, States: attribution.StatesChannelAttribution}, {Order: 2}} {
		r, err := m.AttributePaths(paths)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Print(r.Model, ":")
		for _, g := range r.Groups {
			fmt.Printf(" %s %.2f (%d¢)", g.Key, g.Conversions, g.Value)
		}
		fmt.Println()
	}
	// Output:
	// markov_order2_ca: a 0.25 (150¢) b 0.50 (300¢) c 0.25 (150¢)
	// markov_order2: a 0.50 (300¢) b 0.50 (300¢)
}
