package attribution

import (
	"fmt"
	"time"

	"github.com/attriqs/calltrack/classify"
	"github.com/attriqs/calltrack/journey"
)

// t0 is the conversion time of the hand-built journeys.
var t0 = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

// tp builds a touchpoint of the given kind and channel, `before` ahead of t0.
func tp(id string, kind journey.TouchKind, channel classify.Channel, before time.Duration, attrs ...string) journey.Touchpoint {
	t := journey.Touchpoint{
		ID: id, Kind: kind, At: t0.Add(-before), VisitorID: "v1",
		Source: classify.Source{Channel: channel, Source: "src-" + string(channel), Medium: "med"},
	}
	for i := 0; i+1 < len(attrs); i += 2 {
		if t.Attrs == nil {
			t.Attrs = map[string]string{}
		}
		t.Attrs[attrs[i]] = attrs[i+1]
	}
	return t
}

// converted builds a journey converting at t0 for value cents of USD.
func converted(id string, value int64, tps ...journey.Touchpoint) Journey {
	return Journey{ID: id, Touchpoints: tps, Conversion: &journey.Conversion{
		ID: "conv-" + id, Type: journey.ConversionPurchase, At: t0, Value: value, Currency: "USD",
	}}
}

func open(id string, tps ...journey.Touchpoint) Journey {
	return Journey{ID: id, Touchpoints: tps}
}

// values maps group key to credited value.
func values(r *Result) map[string]int64 {
	m := map[string]int64{}
	for _, g := range r.Groups {
		m[g.Key] = g.Value
	}
	return m
}

// touchValues lists the touchpoint credits as "id=value".
func touchValues(r *Result) []string {
	var out []string
	for _, c := range r.Touchpoints {
		out = append(out, fmt.Sprintf("%s=%d", c.TouchpointID, c.Value))
	}
	return out
}

const (
	paid     = classify.ChannelPaidSearch
	organic  = classify.ChannelOrganicSearch
	direct   = classify.ChannelDirect
	email    = classify.ChannelEmail
	social   = classify.ChannelOrganicSocial
	referral = classify.ChannelReferral
)

// allModels is every model and variant the property tests cover.
func allModels() []Model {
	return append(DefaultModels(), TimeDecay{Step: true})
}
