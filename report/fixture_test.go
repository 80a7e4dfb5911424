package report

import (
	"time"

	"github.com/attriqs/calltrack/classify"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/journey/attribution"
)

var (
	paidSearch = classify.Source{Channel: classify.ChannelPaidSearch, Source: "google", Medium: "cpc",
		Campaign: "spring_sale", Term: "emergency plumber", Paid: true}
	paidSocial = classify.Source{Channel: classify.ChannelPaidSocial, Source: "facebook", Medium: "paid",
		Campaign: "brand", Paid: true}
	organic = classify.Source{Channel: classify.ChannelOrganicSearch, Source: "google", Medium: "organic"}
)

func at(d, h int) time.Time { return day(d).Add(time.Duration(h) * time.Hour) }

func session(id string, src classify.Source, t time.Time, landing string) journey.Touchpoint {
	return journey.Touchpoint{ID: "session:" + id, Kind: journey.TouchSession, At: t, VisitorID: "v-" + id,
		SessionID: id, Source: src, Attrs: map[string]string{AttrLandingPage: landing}}
}

func callTP(id string, src classify.Source, t time.Time, attrs map[string]string) journey.Touchpoint {
	return journey.Touchpoint{ID: journey.CallTouchpointID("twilio", id), Kind: journey.TouchCall, At: t,
		VisitorID: "v-" + id, Source: src, Attrs: attrs}
}

func callConv(id string, t time.Time, value int64) *journey.Conversion {
	return &journey.Conversion{ID: journey.CallTouchpointID("twilio", id), Type: journey.ConversionCall, At: t,
		Value: value, Currency: "USD", CallProvider: "twilio", CallID: id}
}

// fixture is a period of four days (day 0 to 3) and what happened in it:
//   - a paid-search visitor calls twice: the first call qualifies for
//     $50.00, the second (a day later, the same person) for $30.00, so the
//     first call is in both journeys and must count once;
//   - a paid-social visitor calls and is missed (busy), then chats;
//   - an organic visitor sends a form worth $10.00;
//   - a spam call from paid social;
//   - a call from before the period, in the first journey's lookback.
func fixture() []attribution.Journey {
	s1 := session("s1", paidSearch, at(0, 9), "/emergency")
	before := callTP("CA0", paidSearch, at(-2, 9), map[string]string{"status": "completed", "talk_s": "30"})
	c1 := callTP("CA1", paidSearch, at(0, 10), map[string]string{"status": "completed", "talk_s": "200", journey.AttrOutcome: "answered"})
	c2 := callTP("CA2", paidSearch, at(1, 10), map[string]string{"status": "completed", "talk_s": "95"})
	s2 := session("s2", paidSocial, at(1, 8), "/pricing")
	c3 := callTP("CA3", paidSocial, at(1, 9), map[string]string{"status": "completed", journey.AttrOutcome: "busy"})
	chat := journey.Touchpoint{ID: "chat:crisp/1/started", Kind: journey.TouchChat, At: at(1, 11), VisitorID: "v-s2", Source: paidSocial}
	spam := callTP("CA4", paidSocial, at(2, 3), map[string]string{"status": "completed", "talk_s": "2", journey.AttrSpam: "blocked number"})
	s3 := session("s3", organic, at(2, 9), "/")
	form := journey.Touchpoint{ID: "form:contact/1", Kind: journey.TouchForm, At: at(2, 10), VisitorID: "v-s3", Source: organic}
	// dni fills each touchpoint's landing page from its session.
	for tp, page := range map[*journey.Touchpoint]string{&c1: "/emergency", &c2: "/emergency", &c3: "/pricing",
		&chat: "/pricing", &spam: "/pricing", &form: "/"} {
		if tp.Attrs == nil {
			tp.Attrs = map[string]string{}
		}
		tp.Attrs[AttrLandingPage] = page
	}
	return []attribution.Journey{
		{ID: c1.ID, Touchpoints: []journey.Touchpoint{before, s1, c1}, Conversion: callConv("CA1", at(0, 10), 5000)},
		{ID: c2.ID, Touchpoints: []journey.Touchpoint{before, s1, c1, c2}, Conversion: callConv("CA2", at(1, 10), 3000)},
		{ID: "form:contact/1", Touchpoints: []journey.Touchpoint{s3, form}, Conversion: &journey.Conversion{
			ID: "form:contact/1", Type: journey.ConversionForm, At: at(2, 10), Value: 1000, Currency: "USD", VisitorID: "v-s3"}},
		{ID: "open:v-s2", Touchpoints: []journey.Touchpoint{s2, c3, chat, spam}},
	}
}

func fixtureSpend() []journey.Spend {
	return []journey.Spend{
		{Day: day(0), Channel: "Paid Search", Source: "google", Medium: "cpc", Campaign: "spring_sale", Currency: "USD", Amount: 2000},
		{Day: day(1), Channel: "Paid Search", Source: "google", Medium: "cpc", Campaign: "spring_sale", Currency: "USD", Amount: 2001},
		{Day: day(1), Channel: "Paid Social", Source: "facebook", Medium: "paid", Campaign: "brand", Currency: "USD", Amount: 1500},
		{Day: day(2), Channel: "Display", Source: "gdn", Medium: "display", Currency: "USD", Amount: 700},
		{Day: day(9), Channel: "Paid Search", Source: "google", Medium: "cpc", Campaign: "spring_sale", Currency: "USD", Amount: 99999},
		{Day: day(1), Channel: "Paid Search", Source: "google", Medium: "cpc", Campaign: "spring_sale", Currency: "EUR", Amount: 99999},
	}
}
