package report

import (
	"cmp"
	"encoding/csv"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/journey/attribution"
	"github.com/attriqs/calltrack/provider"
)

// SourceRow is one key of a sources report: what its traffic did, what it
// cost and what each attribution model credits it with. Money is in minor
// units of Currency.
type SourceRow struct {
	Key string `json:"key"`
	// Calls counts every call, spam included, as dni's CallsBySource does;
	// MissedCalls and SpamCalls are among them, and a spam call is never
	// counted missed.
	Calls          int `json:"calls"`
	QualifiedCalls int `json:"qualified_calls"`
	MissedCalls    int `json:"missed_calls"`
	SpamCalls      int `json:"spam_calls"`
	// Chats counts conversations, each once however many events it had
	// ([ChatConversations]); Forms counts submissions.
	Chats int `json:"chats"`
	Forms int `json:"forms"`
	// Revenue is the value of the qualified calls: call conversions whose
	// call came from the key.
	Revenue  int64  `json:"revenue"`
	Currency string `json:"currency"`
	// Spend is what was spent on the key; zero for the keyword and landing
	// page dimensions, which cost reports do not give.
	Spend int64 `json:"spend"`
	// CostPerCall and CostPerQualifiedCall are Spend over Calls and over
	// QualifiedCalls, rounded to the nearest minor unit; zero when either
	// side is.
	CostPerCall          int64         `json:"cost_per_call"`
	CostPerQualifiedCall int64         `json:"cost_per_qualified_call"`
	Models               []ModelCredit `json:"models,omitempty"`
}

// ModelCredit is what one attribution model credits one key with:
// conversions of every type (calls, chats, forms, purchases), not calls
// alone.
type ModelCredit struct {
	Model       string  `json:"model"`
	Conversions float64 `json:"conversions"`
	Value       int64   `json:"value"`
	// ROAS is Value over the key's Spend; zero without spend.
	ROAS float64 `json:"roas"`
}

// BySource summarises journeys per key of dim: BySourceBetween without a
// period, so every touchpoint and conversion of the journeys counts.
func BySource(journeys []attribution.Journey, comparison *attribution.Comparison, spend []journey.Spend, dim Dimension) []SourceRow {
	return BySourceBetween(journeys, comparison, spend, dim, time.Time{}, time.Time{})
}

// BySourceBetween summarises journeys per key of dim (keys as
// dim.Key() gives them, an empty one as [attribution.UnknownKey]).
//
//   - Touchpoints count once each, however many journeys hold them, and
//     only when their time is in [from, to) (a zero from or to leaves that
//     side open): journeys carry touchpoints from before the period, which
//     the models need and the counts must not see.
//   - Chats are conversations, not events ([ChatConversations]): a
//     conversation counts once, under the key of its earliest event in
//     the period, however many events (opened, started, messages) it had.
//   - A call is missed when its outcome says so ([journey.AttrOutcome]),
//     or, without one, when it ended without a talk time; spam calls are
//     those with [journey.AttrSpam].
//   - Qualified calls and revenue are the call conversions with time in
//     the period, each under the key of its call's touchpoint (unknown
//     when the journey does not hold it).
//   - Currency is the comparison's, else that of the first conversion;
//     conversions and spend in other currencies are left out.
//   - Spend rows are matched by channel, "source / medium" or campaign;
//     a spend row whose key no touchpoint has still makes a row, so total
//     spend is the sum of the rows. Keyword and landing page rows carry
//     no spend.
//   - Models: one credit per result of comparison, which must be made with
//     dim.Key(); a nil comparison gives none.
//
// Rows are ordered by key.
func BySourceBetween(journeys []attribution.Journey, comparison *attribution.Comparison, spend []journey.Spend, dim Dimension, from, to time.Time) []SourceRow {
	in := func(t time.Time) bool { return (from.IsZero() || !t.Before(from)) && (to.IsZero() || t.Before(to)) }
	currency := ""
	if comparison != nil && len(comparison.Results) > 0 {
		currency = comparison.Results[0].Currency
	}
	rows := map[string]*SourceRow{}
	row := func(key string) *SourceRow {
		r, ok := rows[key]
		if !ok {
			r = &SourceRow{Key: key}
			rows[key] = r
		}
		return r
	}
	seenTP := map[string]bool{}
	seenConv := map[string]bool{}
	var chats []journey.Touchpoint
	for _, j := range journeys {
		for _, tp := range j.Touchpoints {
			if seenTP[tp.ID] || !in(tp.At) {
				continue
			}
			seenTP[tp.ID] = true
			switch tp.Kind {
			case journey.TouchCall:
				r := row(dim.key(tp))
				r.Calls++
				switch {
				case tp.Attrs[journey.AttrSpam] != "":
					r.SpamCalls++
				case callMissed(tp):
					r.MissedCalls++
				}
			case journey.TouchChat:
				chats = append(chats, tp)
			case journey.TouchForm:
				row(dim.key(tp)).Forms++
			}
		}
		c := j.Conversion
		if c == nil || c.Type != journey.ConversionCall || seenConv[c.ID] || !in(c.At) {
			continue
		}
		if currency == "" {
			currency = c.Currency
		}
		if c.Currency != currency {
			continue
		}
		seenConv[c.ID] = true
		key := attribution.UnknownKey
		id := journey.CallTouchpointID(c.CallProvider, c.CallID)
		if i := slices.IndexFunc(j.Touchpoints, func(t journey.Touchpoint) bool { return t.ID == id }); i >= 0 {
			key = dim.key(j.Touchpoints[i])
		}
		r := row(key)
		r.QualifiedCalls++
		r.Revenue += c.Value
	}
	for _, chat := range ChatConversations(chats) {
		row(dim.key(chat[0])).Chats++
	}
	for _, s := range spend {
		if currency == "" {
			currency = s.Currency
		}
		key, ok := dim.spendKey(s)
		if !ok || s.Currency != currency || !in(s.Day) {
			continue
		}
		row(key).Spend += s.Amount
	}
	if comparison != nil {
		for _, res := range comparison.Results {
			for _, g := range res.Groups {
				row(g.Key)
			}
		}
	}
	out := make([]SourceRow, 0, len(rows))
	for _, r := range rows {
		r.Currency = currency
		r.CostPerCall = perUnit(r.Spend, r.Calls)
		r.CostPerQualifiedCall = perUnit(r.Spend, r.QualifiedCalls)
		if comparison != nil {
			for _, res := range comparison.Results {
				g, _ := res.Group(r.Key)
				mc := ModelCredit{Model: res.Model, Conversions: g.Conversions, Value: g.Value}
				if r.Spend > 0 {
					mc.ROAS = float64(g.Value) / float64(r.Spend)
				}
				r.Models = append(r.Models, mc)
			}
		}
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b SourceRow) int { return cmp.Compare(a.Key, b.Key) })
	return out
}

// callMissed reads a call touchpoint as dni's reports judge the call: the
// forward's outcome when the carrier gave one, else a finished call with
// no talk time.
func callMissed(tp journey.Touchpoint) bool {
	if o := provider.Outcome(tp.Attrs[journey.AttrOutcome]); o != provider.OutcomeUnknown {
		return o.Missed()
	}
	return provider.Status(tp.Attrs["status"]).Terminal() && tp.Attrs["talk_s"] == ""
}

// perUnit is total/n rounded to the nearest unit, halves up; zero when
// either is zero.
func perUnit(total int64, n int) int64 {
	if n == 0 || total == 0 {
		return 0
	}
	return (total + int64(n)/2) / int64(n)
}

// WriteSourcesCSV writes rows as CSV: one line per key with the counts,
// money in major units, and per model its conversions, value and ROAS
// (columns named "<model>_conversions", "<model>_value", "<model>_roas",
// from the first row's models). Keys come from visitors' URLs, so one a
// spreadsheet would run as a formula is quoted ([SpreadsheetSafe]).
func WriteSourcesCSV(w io.Writer, dim Dimension, rows []SourceRow) error {
	cw := csv.NewWriter(w)
	header := []string{string(dim), "calls", "qualified_calls", "missed_calls", "spam_calls", "chats", "forms",
		"revenue", "currency", "spend", "cost_per_call", "cost_per_qualified_call"}
	var models []string
	if len(rows) > 0 {
		for _, m := range rows[0].Models {
			models = append(models, m.Model)
			header = append(header, m.Model+"_conversions", m.Model+"_value", m.Model+"_roas")
		}
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, r := range rows {
		money := func(v int64) string { return FormatMoney(v, r.Currency) }
		rec := []string{SpreadsheetSafe(r.Key), strconv.Itoa(r.Calls), strconv.Itoa(r.QualifiedCalls), strconv.Itoa(r.MissedCalls),
			strconv.Itoa(r.SpamCalls), strconv.Itoa(r.Chats), strconv.Itoa(r.Forms), money(r.Revenue), r.Currency,
			money(r.Spend), money(r.CostPerCall), money(r.CostPerQualifiedCall)}
		for i := range models {
			var m ModelCredit
			if i < len(r.Models) {
				m = r.Models[i]
			}
			rec = append(rec, strconv.FormatFloat(m.Conversions, 'f', -1, 64), money(m.Value),
				strconv.FormatFloat(m.ROAS, 'f', 4, 64))
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
