package report

import (
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/journey/attribution"
	"github.com/attriqs/calltrack/journey/touch"
)

// Granularity is the length of a series' periods.
type Granularity string

const (
	// Daily periods are UTC days.
	Daily Granularity = "day"
	// Weekly periods are ISO weeks, Monday to Sunday in UTC, each dated by
	// its Monday.
	Weekly Granularity = "week"
)

// Errors of [BuildSeries], wrapped with what they concern.
var (
	// ErrSeriesOptions: the options are incomplete or invalid.
	ErrSeriesOptions = errors.New("report: invalid series options")
	// ErrSeveralCurrencies: the period's conversions and spend are in
	// several currencies and the options chose none.
	ErrSeveralCurrencies = errors.New("report: several currencies")
)

// SeriesOptions choose a series. From and To are required; the zero value
// of the others means daily, by channel, in the period's one currency.
type SeriesOptions struct {
	// From and To bound the events counted: from <= t < to. The series'
	// dates run from the period holding From to the one holding the last
	// instant before To.
	From, To    time.Time
	Granularity Granularity
	// ByCampaign splits every channel by campaign.
	ByCampaign bool
	// Currency is the currency of the money columns; conversions and spend
	// in others are left out. Empty means the one currency the period's
	// conversions and spend share, and an error when they have several.
	Currency string
}

// SeriesKey names one column group of a series: a channel, or a channel
// and campaign when the series is by campaign. Empty parts read
// [attribution.UnknownKey].
type SeriesKey struct {
	Channel  string `json:"channel"`
	Campaign string `json:"campaign,omitempty"`
}

// SeriesPoint is what one key did in one period. Money is in minor units
// of the series' currency.
type SeriesPoint struct {
	Calls          int   `json:"calls"`
	QualifiedCalls int   `json:"qualified_calls"`
	CallRevenue    int64 `json:"call_revenue"`
	// Chats counts conversations ([ChatConversations]), not chat events.
	Chats int   `json:"chats"`
	Forms int   `json:"forms"`
	Spend int64 `json:"spend"`
}

func (p *SeriesPoint) add(q SeriesPoint) {
	p.Calls += q.Calls
	p.QualifiedCalls += q.QualifiedCalls
	p.CallRevenue += q.CallRevenue
	p.Chats += q.Chats
	p.Forms += q.Forms
	p.Spend += q.Spend
}

// seriesMetrics are the per-key metrics, in column order.
var seriesMetrics = []string{"calls", "qualified_calls", "call_revenue", "chats", "forms", "spend"}

func (p SeriesPoint) values(currency string) []string {
	return []string{strconv.Itoa(p.Calls), strconv.Itoa(p.QualifiedCalls), FormatMoney(p.CallRevenue, currency),
		strconv.Itoa(p.Chats), strconv.Itoa(p.Forms), FormatMoney(p.Spend, currency)}
}

// Series is a mix-model input: per period and key, the traffic's calls,
// chats, forms, call revenue and spend, plus every conversion of the
// period (of any type) as the model's outcome.
type Series struct {
	Granularity Granularity `json:"granularity"`
	ByCampaign  bool        `json:"by_campaign"`
	Currency    string      `json:"currency"`
	// Dates are the first day of each period, UTC midnight, every period
	// present even when nothing happened in it.
	Dates  []time.Time     `json:"dates"`
	Keys   []SeriesKey     `json:"keys"`   // sorted by channel, then campaign
	Points [][]SeriesPoint `json:"points"` // [date][key]
	// Conversions and Revenue are, per date, every conversion of the
	// period in the currency and their value.
	Conversions []int   `json:"conversions"`
	Revenue     []int64 `json:"revenue"`
}

// SeriesTotals sums a series over its dates and keys.
type SeriesTotals struct {
	SeriesPoint
	Conversions int   `json:"conversions"`
	Revenue     int64 `json:"revenue"`
}

// Totals sums the series over every date and key.
func (s *Series) Totals() SeriesTotals {
	var t SeriesTotals
	for i := range s.Dates {
		for _, p := range s.Points[i] {
			t.add(p)
		}
		t.Conversions += s.Conversions[i]
		t.Revenue += s.Revenue[i]
	}
	return t
}

// BuildSeries counts journeys and spend into periods. Touchpoints and
// conversions count once each, however many journeys hold them, when their
// time is in [From, To); spend when its day is.
//   - calls and forms are touchpoints of those kinds, under their own
//     source's channel (and campaign); chats are conversations
//     ([ChatConversations]), each counted once, by its earliest event in
//     [From, To) and under that event's channel;
//   - qualified calls and call revenue are call conversions, dated by the
//     conversion and keyed by its call's touchpoint (unknown when the
//     journey does not hold it);
//   - spend is keyed by its row's channel (and campaign).
//
// Conversions and Revenue count every conversion, calls included.
func BuildSeries(journeys []attribution.Journey, spend []journey.Spend, opts SeriesOptions) (*Series, error) {
	var errs []error
	if opts.From.IsZero() || opts.To.IsZero() {
		errs = append(errs, errors.New("series: from and to are required"))
	} else if !opts.From.Before(opts.To) {
		errs = append(errs, errors.New("series: from must be before to"))
	}
	switch opts.Granularity {
	case "":
		opts.Granularity = Daily
	case Daily, Weekly:
	default:
		errs = append(errs, fmt.Errorf("series: granularity %q is neither day nor week", opts.Granularity))
	}
	if opts.Currency != "" && !touch.ValidCurrency(opts.Currency) {
		errs = append(errs, fmt.Errorf("series: currency %q is not an ISO 4217 code", opts.Currency))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSeriesOptions, err)
	}
	in := func(t time.Time) bool { return !t.Before(opts.From) && t.Before(opts.To) }
	currency, err := seriesCurrency(journeys, spend, opts, in)
	if err != nil {
		return nil, err
	}
	s := &Series{Granularity: opts.Granularity, ByCampaign: opts.ByCampaign, Currency: currency}
	index := map[time.Time]int{}
	for d := periodStart(opts.From, opts.Granularity); d.Before(opts.To); d = nextPeriod(d, opts.Granularity) {
		index[d] = len(s.Dates)
		s.Dates = append(s.Dates, d)
	}
	s.Conversions = make([]int, len(s.Dates))
	s.Revenue = make([]int64, len(s.Dates))
	points := map[SeriesKey][]SeriesPoint{}
	at := func(key SeriesKey, t time.Time) *SeriesPoint {
		ps, ok := points[key]
		if !ok {
			ps = make([]SeriesPoint, len(s.Dates))
			points[key] = ps
		}
		return &ps[index[periodStart(t, opts.Granularity)]]
	}
	keyOf := func(channel, campaign string) SeriesKey {
		k := SeriesKey{Channel: orUnknown(channel)}
		if opts.ByCampaign {
			k.Campaign = orUnknown(campaign)
		}
		return k
	}
	tpKey := func(tp journey.Touchpoint) SeriesKey { return keyOf(string(tp.Source.Channel), tp.Source.Campaign) }
	seenTP, seenConv := map[string]bool{}, map[string]bool{}
	var chats []journey.Touchpoint
	for _, j := range journeys {
		for _, tp := range j.Touchpoints {
			if seenTP[tp.ID] || !in(tp.At) {
				continue
			}
			seenTP[tp.ID] = true
			switch tp.Kind {
			case journey.TouchCall:
				at(tpKey(tp), tp.At).Calls++
			case journey.TouchChat:
				chats = append(chats, tp)
			case journey.TouchForm:
				at(tpKey(tp), tp.At).Forms++
			}
		}
		c := j.Conversion
		if c == nil || seenConv[c.ID] || !in(c.At) || c.Currency != currency {
			continue
		}
		seenConv[c.ID] = true
		i := index[periodStart(c.At, opts.Granularity)]
		s.Conversions[i]++
		s.Revenue[i] += c.Value
		if c.Type != journey.ConversionCall {
			continue
		}
		key := keyOf("", "")
		id := journey.CallTouchpointID(c.CallProvider, c.CallID)
		if k := slices.IndexFunc(j.Touchpoints, func(t journey.Touchpoint) bool { return t.ID == id }); k >= 0 {
			key = tpKey(j.Touchpoints[k])
		}
		p := at(key, c.At)
		p.QualifiedCalls++
		p.CallRevenue += c.Value
	}
	for _, chat := range ChatConversations(chats) {
		at(tpKey(chat[0]), chat[0].At).Chats++
	}
	for _, sp := range spend {
		if sp.Currency == currency && in(sp.Day) {
			at(keyOf(sp.Channel, sp.Campaign), sp.Day).Spend += sp.Amount
		}
	}
	for k := range points {
		s.Keys = append(s.Keys, k)
	}
	slices.SortFunc(s.Keys, func(a, b SeriesKey) int {
		return cmp.Or(cmp.Compare(a.Channel, b.Channel), cmp.Compare(a.Campaign, b.Campaign))
	})
	s.Points = make([][]SeriesPoint, len(s.Dates))
	for i := range s.Dates {
		s.Points[i] = make([]SeriesPoint, len(s.Keys))
		for k, key := range s.Keys {
			s.Points[i][k] = points[key][i]
		}
	}
	return s, nil
}

// seriesCurrency is opts.Currency, else the one currency of the period's
// conversions and spend.
func seriesCurrency(journeys []attribution.Journey, spend []journey.Spend, opts SeriesOptions, in func(time.Time) bool) (string, error) {
	if opts.Currency != "" {
		return opts.Currency, nil
	}
	seen := map[string]bool{}
	for _, j := range journeys {
		if c := j.Conversion; c != nil && in(c.At) {
			seen[c.Currency] = true
		}
	}
	for _, sp := range spend {
		if in(sp.Day) {
			seen[sp.Currency] = true
		}
	}
	var all []string
	for c := range seen {
		all = append(all, c)
	}
	slices.Sort(all)
	if len(all) > 1 {
		return "", fmt.Errorf("series: currency: the period has conversions or spend in %s; choose one: %w",
			strings.Join(all, " and "), ErrSeveralCurrencies)
	}
	if len(all) == 1 {
		return all[0], nil
	}
	return "", nil
}

func orUnknown(s string) string {
	if s == "" {
		return attribution.UnknownKey
	}
	return s
}

// periodStart is the first day of the period holding t, UTC midnight.
func periodStart(t time.Time, g Granularity) time.Time {
	t = t.UTC()
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	if g == Weekly {
		back := (int(d.Weekday()) + 6) % 7 // days since Monday
		d = d.AddDate(0, 0, -back)
	}
	return d
}

func nextPeriod(d time.Time, g Granularity) time.Time {
	if g == Weekly {
		return d.AddDate(0, 0, 7)
	}
	return d.AddDate(0, 0, 1)
}

// Column names whose role mix-model tools ask for: the date, and the
// outcomes (dependent variables) over every channel.
var seriesTotalColumns = []string{"conversions", "revenue"}

// ColumnName is the wide layout's name of a key's metric: the key in
// snake case, then the metric, as Robyn's (search_S) and Meridian's
// (Channel0_spend) examples put the channel first: "paid_search_calls",
// "paid_search_spring_sale_spend".
func (k SeriesKey) ColumnName(metric string) string {
	name := snake(k.Channel)
	if k.Campaign != "" {
		name += "_" + snake(k.Campaign)
	}
	return name + "_" + metric
}

// columnKeys is each key's column prefix in the wide layout: its
// ColumnName without the metric, made unique by a suffix where two keys'
// names collide (with each other, or with the totals' columns).
func (s *Series) columnKeys() []string {
	used := map[string]bool{}
	for _, c := range append(slices.Clone(seriesTotalColumns), seriesMetrics...) {
		used[c] = true
	}
	taken := func(name string) bool {
		for _, m := range seriesMetrics {
			if used[name+"_"+m] {
				return true
			}
		}
		return false
	}
	out := make([]string, len(s.Keys))
	for i, k := range s.Keys {
		base := strings.TrimSuffix(k.ColumnName("x"), "_x")
		name := base
		for n := 2; taken(name); n++ {
			name = base + "_" + strconv.Itoa(n)
		}
		for _, m := range seriesMetrics {
			used[name+"_"+m] = true
		}
		out[i] = name
	}
	return out
}

// snake writes s in lower snake case: letters and digits kept, every run
// of anything else one underscore; "(unknown)" is "unknown".
func snake(s string) string {
	var b strings.Builder
	gap := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if gap && b.Len() > 0 {
				b.WriteByte('_')
			}
			b.WriteRune(r)
			gap = false
			continue
		}
		gap = true
	}
	if b.Len() == 0 {
		return "none"
	}
	return b.String()
}

// WriteWide writes the layout mix-model tools read: one row per date
// (YYYY-MM-DD, column "date"), then the period's conversions and revenue,
// the six metrics summed over every key (calls, qualified_calls,
// call_revenue, chats, forms, spend), then each key's six metrics
// ([SeriesKey.ColumnName]; keys whose names collide in snake case,
// "Spring Sale" and "spring-sale", are told apart by "_2", "_3", ... in key
// order, so every column is one key's). Money is in major units with the
// currency's minor digits.
func (s *Series) WriteWide(w io.Writer) error {
	header := []string{"date"}
	header = append(header, seriesTotalColumns...)
	header = append(header, seriesMetrics...)
	for _, name := range s.columnKeys() {
		for _, m := range seriesMetrics {
			header = append(header, name+"_"+m)
		}
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	for i, d := range s.Dates {
		var sum SeriesPoint
		for _, p := range s.Points[i] {
			sum.add(p)
		}
		rec := []string{d.Format(time.DateOnly), strconv.Itoa(s.Conversions[i]), FormatMoney(s.Revenue[i], s.Currency)}
		rec = append(rec, sum.values(s.Currency)...)
		for _, p := range s.Points[i] {
			rec = append(rec, p.values(s.Currency)...)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// AllChannels is the channel of the long layout's rows that hold the
// period's conversions and revenue, which belong to no channel.
const AllChannels = "(all)"

// WriteLong writes one row per date, key and metric:
// date,channel[,campaign],metric,value, the campaign column only in a
// series by campaign. Each date first has its conversions and revenue
// under the channel [AllChannels], then every key's six metrics, zeros
// included. A channel or campaign a spreadsheet would run as a formula is
// quoted ([SpreadsheetSafe]).
func (s *Series) WriteLong(w io.Writer) error {
	header := []string{"date", "channel"}
	if s.ByCampaign {
		header = append(header, "campaign")
	}
	header = append(header, "metric", "value")
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	write := func(date string, k SeriesKey, metric, value string) error {
		rec := []string{date, SpreadsheetSafe(k.Channel)}
		if s.ByCampaign {
			rec = append(rec, SpreadsheetSafe(k.Campaign))
		}
		return cw.Write(append(rec, metric, value))
	}
	for i, d := range s.Dates {
		date := d.Format(time.DateOnly)
		all := SeriesKey{Channel: AllChannels}
		if err := write(date, all, "conversions", strconv.Itoa(s.Conversions[i])); err != nil {
			return err
		}
		if err := write(date, all, "revenue", FormatMoney(s.Revenue[i], s.Currency)); err != nil {
			return err
		}
		for k, key := range s.Keys {
			for m, v := range s.Points[i][k].values(s.Currency) {
				if err := write(date, key, seriesMetrics[m], v); err != nil {
					return err
				}
			}
		}
	}
	cw.Flush()
	return cw.Error()
}
