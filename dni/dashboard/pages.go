package dashboard

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/attriqs/calltrack/dni"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/journey/attribution"
	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/report"
)

// notStitched names the calls not yet credited to a source.
const notStitched = "(not stitched yet)"

// callRow is one call of the period with what it earned.
type callRow struct {
	dni.CallReport
	At        time.Time
	Qualified bool
	Value     int64
	Currency  string
}

// Channel is the channel the call is credited to.
func (c callRow) Channel() string {
	if c.Attribution == nil || c.Attribution.Source.Channel == "" {
		return notStitched
	}
	return string(c.Attribution.Source.Channel)
}

// callsOf reads the period's calls, newest first, each with the value of
// its call conversion. Every page counts calls and revenue from here, so
// their totals agree.
func (h *handler) callsOf(ctx context.Context, p period) ([]callRow, error) {
	calls, err := h.svc.Calls(ctx, p.From, p.To)
	if err != nil {
		return nil, err
	}
	convs, err := h.svc.Store().ConversionsBetween(ctx, p.From, p.To)
	if err != nil {
		return nil, err
	}
	byCall := map[string]journey.Conversion{}
	for _, c := range convs {
		if c.Type == journey.ConversionCall {
			byCall[c.CallProvider+"/"+c.CallID] = c
		}
	}
	rows := make([]callRow, 0, len(calls))
	for _, c := range calls {
		r := callRow{CallReport: c}
		r.At, _ = journey.CallTime(c.Call)
		if conv, ok := byCall[c.Call.Key()]; ok { // a hand-set outcome may qualify a call the filter took for spam
			r.Qualified, r.Value, r.Currency = true, conv.Value, conv.Currency
		}
		rows = append(rows, r)
	}
	slices.SortStableFunc(rows, func(a, b callRow) int { return b.At.Compare(a.At) })
	return rows, nil
}

// totals are the figures of a set of calls.
type totals struct {
	Calls, Answered, Qualified, Missed, Spam int
	Revenue                                  amounts
}

func (t *totals) add(c callRow) {
	if t.Revenue == nil {
		t.Revenue = amounts{}
	}
	t.Calls++
	switch {
	case c.Spam != "":
		t.Spam++
	case c.Missed:
		t.Missed++
	case journey.Answered(c.Call):
		t.Answered++
	}
	if c.Qualified {
		t.Qualified++
		t.Revenue.add(c.Currency, c.Value)
	}
}

// overviewData is the overview page.
type overviewData struct {
	Totals totals
	// Chats and Forms are the period's conversations and submissions, as
	// the leads page and the sources report count them.
	Chats, Forms int
	Revenue      string
	Chart        template.HTML
	Table        *table
	Empty        string
}

func (h *handler) overview(r *http.Request, p period) (string, any, *table, error) {
	calls, err := h.callsOf(r.Context(), p)
	if err != nil {
		return "", nil, nil, err
	}
	var all totals
	by := map[string]*totals{}
	for _, c := range calls {
		all.add(c)
		t := by[c.Channel()]
		if t == nil {
			t = &totals{}
			by[c.Channel()] = t
		}
		t.add(c)
	}
	channels := sortedKeys(by)
	slices.SortStableFunc(channels, func(a, b string) int { return cmp.Compare(by[b].Calls, by[a].Calls) })
	tbl := &table{Name: "calls-by-channel", ID: "by-channel",
		Head: headsNum(1, "Channel", "Calls", "Answered", "Qualified", "Missed", "Spam", "Call revenue")}
	var bars []bar
	for _, ch := range channels {
		t := by[ch]
		tbl.Rows = append(tbl.Rows, []cell{link(ch, h.callsHref(p, "", ch)), num(t.Calls), num(t.Answered), num(t.Qualified),
			num(t.Missed), num(t.Spam), numText(t.Revenue.text(h.cfg.Currency))})
		bars = append(bars, bar{Label: ch, Value: float64(t.Calls), Text: fmt.Sprint(t.Calls)})
	}
	tbl.Foot = []cell{txt("Total"), num(all.Calls), num(all.Answered), num(all.Qualified), num(all.Missed), num(all.Spam),
		numText(all.Revenue.text(h.cfg.Currency))}
	d := overviewData{Totals: all, Revenue: all.Revenue.text(h.cfg.Currency), Table: tbl,
		Chart: barChart("Calls by channel", bars)}
	// Counted as the leads page counts them, without reading outcomes.
	chats, forms, err := h.leadTouchpoints(r.Context(), p)
	if err != nil {
		return "", nil, nil, err
	}
	d.Chats, d.Forms = len(chats), len(forms)
	if len(calls) == 0 {
		d.Empty = h.cfg.NoCalls
	}
	return fmt.Sprintf("Overview · last %d days", p.Days), d, tbl, nil
}

// callsHref is the calls log filtered by outcome and channel.
func (h *handler) callsHref(p period, outcome, channel string) string {
	q := url.Values{"days": {fmt.Sprint(p.Days)}}
	if outcome != "" {
		q.Set("outcome", outcome)
	}
	if channel != "" {
		q.Set("source", channel)
	}
	return h.cfg.Prefix + "/calls?" + q.Encode()
}

// callHref is one call's page.
func (h *handler) callHref(c dni.CallReport, days int) string {
	return fmt.Sprintf("%s/calls/%s/%s?days=%d", h.cfg.Prefix, url.PathEscape(c.Call.Provider), url.PathEscape(c.Call.CallID), days)
}

// outcomeFilters are the calls log's outcome filter, value and label.
var outcomeFilters = []Link{{"every call", ""}, {"answered", "answered"}, {"missed only", "missed"},
	{"qualified", "qualified"}, {"spam only", "spam"}, {"all but spam", "not-spam"}}

func keep(c callRow, outcome, channel string) bool {
	if channel != "" && c.Channel() != channel {
		return false
	}
	switch outcome {
	case "answered":
		return c.Spam == "" && !c.Missed && journey.Answered(c.Call)
	case "missed":
		return c.Spam == "" && c.Missed
	case "qualified":
		return c.Qualified
	case "spam":
		return c.Spam != ""
	case "not-spam":
		return c.Spam == ""
	}
	return true
}

// callsData is the calls log.
type callsData struct {
	Totals           totals
	Revenue          string
	Outcomes         []Link
	Outcome, Channel string
	Channels         []string
	Table            *table
	Empty            string
	Filtered         bool
}

func (h *handler) calls(r *http.Request, p period) (string, any, *table, error) {
	all, err := h.callsOf(r.Context(), p)
	if err != nil {
		return "", nil, nil, err
	}
	outcome, channel := r.URL.Query().Get("outcome"), r.URL.Query().Get("source")
	d := callsData{Outcomes: outcomeFilters, Outcome: outcome, Channel: channel, Filtered: outcome != "" || channel != ""}
	seen := map[string]bool{}
	tbl := &table{Name: "calls", ID: "calls",
		Head: []cell{txt("When"), txt("Caller"), txt("Number dialled"), txt("Outcome"), {Text: "Talk", Num: true},
			txt("Credited to"), txt("Confidence"), {Text: "Value", Num: true}}}
	for _, c := range all {
		seen[c.Channel()] = true
		if !keep(c, outcome, channel) {
			continue
		}
		d.Totals.add(c)
		credited, confidence, why := notStitched, "", ""
		if a := c.Attribution; a != nil {
			credited = c.Channel()
			if a.Source.Campaign != "" {
				credited += " · " + a.Source.Campaign
			}
			confidence, why = words(string(a.Confidence)), h.confidenceWhy(c.CallReport)
		}
		value := "not qualified"
		if c.Qualified {
			value = money(c.Value, c.Currency)
		}
		when := c.At.In(h.cfg.Location).Format("Jan 2 15:04")
		tbl.Rows = append(tbl.Rows, []cell{link(when, h.callHref(c.CallReport, p.Days)), txt(number(c.Call.From)),
			txt(number(c.Call.To)), txt(callOutcome(c.Call, c.Missed, c.Spam) + labels(c.Call.Labels)),
			numText(duration(c.TalkSeconds)), txt(credited), {Text: confidence, Title: why}, numText(value)})
	}
	d.Revenue = d.Totals.Revenue.text(h.cfg.Currency)
	d.Channels = sortedKeys(seen)
	d.Table = tbl
	switch {
	case len(all) == 0:
		d.Empty = h.cfg.NoCalls
	case len(tbl.Rows) == 0:
		d.Empty = "No call matches these filters in this period: choose every call, or a longer period."
	}
	return fmt.Sprintf("Calls · last %d days", p.Days), d, tbl, nil
}

func labels(ls []string) string {
	if len(ls) == 0 {
		return ""
	}
	return " · " + strings.Join(ls, ", ")
}

// step is one step of a journey.
type step struct {
	At           string
	Kind         string // a CSS class: session, call, chat, form, conversion
	Title        string
	Detail       string
	ThisCall     bool
	TouchpointID string
	Href         string // a chat's or form's page, where its outcome is set
}

// callData is one call's page.
type callData struct {
	Call       callRow
	When       string
	Caller     string
	Dialled    string
	Outcome    string
	Credited   string
	Confidence string
	Reason     string
	Value      string
	Journey    []step
	NoJourney  string
	Table      *table
	Outcome2   any // the outcome form, when the service has one (see extras.go)
}

func (h *handler) call(r *http.Request, p period) (string, any, *table, error) {
	prov, id := r.PathValue("provider"), r.PathValue("id")
	c, err := h.findCall(r.Context(), prov, id, p)
	if err != nil {
		return "", nil, nil, err
	}
	d := callData{Call: c, When: c.At.In(h.cfg.Location).Format("Mon Jan 2 2006, 15:04"), Caller: number(c.Call.From),
		Dialled: number(c.Call.To), Outcome: callOutcome(c.Call, c.Missed, c.Spam) + labels(c.Call.Labels),
		Credited: notStitched, Value: "not qualified"}
	if a := c.Attribution; a != nil {
		d.Credited = sourceName(journey.Touchpoint{Source: a.Source})
		if a.Source.Campaign != "" {
			d.Credited += " · campaign " + a.Source.Campaign
		}
		if a.Source.Term != "" {
			d.Credited += " · keyword " + a.Source.Term
		}
		d.Confidence, d.Reason = words(string(a.Confidence)), h.confidenceWhy(c.CallReport)
	}
	if c.Qualified {
		d.Value = money(c.Value, c.Currency)
	}
	if d.Journey, err = h.journeyOf(r.Context(), c); err != nil {
		return "", nil, nil, err
	}
	if len(d.Journey) <= 1 {
		d.NoJourney = "This caller has no other touchpoint: no visit held the number dialled, or the visit was not linked to the caller."
	}
	tbl := &table{Name: "journey", ID: "journey", Head: heads("When", "Step", "Detail")}
	for _, s := range d.Journey {
		tbl.Rows = append(tbl.Rows, []cell{txt(s.At), txt(s.Title), txt(s.Detail)})
	}
	d.Table = tbl
	d.Outcome2 = h.outcomeForm(r, c)
	return "Call of " + d.When, d, tbl, nil
}

// findCall finds a call among the period's; a call outside it is looked
// for over the last year, so a link keeps working when the period changes.
func (h *handler) findCall(ctx context.Context, prov, id string, p period) (callRow, error) {
	for _, span := range []period{p, {From: p.To.Add(-366 * 24 * time.Hour), To: p.To}} {
		calls, err := h.callsOf(ctx, span)
		if err != nil {
			return callRow{}, err
		}
		for _, c := range calls {
			if c.Call.Provider == prov && c.Call.CallID == id {
				return c, nil
			}
		}
	}
	return callRow{}, errNotFound("No call " + prov + "/" + id + " in the last year.")
}

// journeyOf is the caller's touchpoints and conversions up to the call's
// day's end, from the attribution lookback before the call.
func (h *handler) journeyOf(ctx context.Context, c callRow) ([]step, error) {
	var id journey.Identifier
	if pid, err := journey.PhoneID(c.Call.From, nil); err == nil {
		id = pid
	} else if c.Attribution != nil && c.Attribution.VisitorID != "" {
		id = journey.Identifier{Kind: journey.IDVisitor, Value: c.Attribution.VisitorID}
	} else {
		return []step{h.callStep(c)}, nil
	}
	from, to := c.At.Add(-attribution.DefaultLookback), c.At.Add(24*time.Hour)
	tps, convs, err := h.svc.Journey(ctx, id, from, to)
	if err != nil {
		if errors.Is(err, errNoPerson) {
			return []step{h.callStep(c)}, nil
		}
		return nil, err
	}
	thisCall := journey.CallTouchpointID(c.Call.Provider, c.Call.CallID)
	// Steps go by time, then by kind (the visit before what was done on
	// it, the call before its conversion). A chat conversation's events
	// go together at the time of its first, in the order a chat goes:
	// opened, started, messages, lead.
	type at struct {
		t     time.Time
		order int
		group string // the chat conversation
		s     step
	}
	type chatGroup struct {
		first time.Time
		key   string
	}
	chatOf := map[string]chatGroup{}
	for _, g := range report.ChatConversations(tps) {
		for _, tp := range g {
			chatOf[tp.ID] = chatGroup{g[0].At, g[0].ID}
		}
	}
	var steps []at
	found := false
	for _, tp := range tps {
		s := step{At: tp.At.In(h.cfg.Location).Format("Jan 2 15:04:05"), Kind: string(tp.Kind), Title: touchpointTitle(tp),
			Detail: touchpointDetail(tp), TouchpointID: tp.ID}
		if tp.Kind == journey.TouchChat || tp.Kind == journey.TouchForm {
			s.Href = h.cfg.Prefix + "/leads/lead?" + url.Values{"id": {tp.ID}}.Encode()
		}
		when, order, group := tp.At, kindOrder[tp.Kind]*10, ""
		if g, ok := chatOf[tp.ID]; ok {
			group, when = g.key, g.first
			if o, ok := chatOrder[tp.Attrs["event"]]; ok {
				order += o
			} else {
				order += len(chatOrder)
			}
		}
		if tp.Kind == journey.TouchCall {
			if cn := tp.Attrs["to"]; cn != "" {
				s.Title = "Phone call to " + number(cn)
			}
		}
		if tp.ID == thisCall {
			s = h.callStep(c)
			s.At = tp.At.In(h.cfg.Location).Format("Jan 2 15:04:05")
			found = true
		}
		steps = append(steps, at{when, order, group, s})
	}
	if !found {
		steps = append(steps, at{c.At, kindOrder[journey.TouchCall] * 10, "", h.callStep(c)})
	}
	for _, cv := range convs {
		steps = append(steps, at{cv.At, 100, "", step{At: cv.At.In(h.cfg.Location).Format("Jan 2 15:04:05"), Kind: "conversion",
			Title: conversionName(cv.Type), Detail: "worth " + money(cv.Value, cv.Currency)}})
	}
	slices.SortStableFunc(steps, func(a, b at) int {
		return cmp.Or(a.t.Compare(b.t), cmp.Compare(a.order/10, b.order/10), strings.Compare(a.group, b.group), cmp.Compare(a.order, b.order))
	})
	out := make([]step, len(steps))
	for i, s := range steps {
		out[i] = s.s
	}
	return out, nil
}

// confidenceWhy says why a call was credited as it was, in words a reader
// checks against the journey: numbers as their country writes them and
// visits by their source and time, never a session id (the stitcher's
// own Reason, for audits, names them).
func (h *handler) confidenceWhy(c dni.CallReport) string {
	a := c.Attribution
	if a == nil {
		return ""
	}
	dialled := number(c.Call.To)
	source := sourceName(journey.Touchpoint{Source: a.Source})
	clock := func(t time.Time) string { return t.In(h.cfg.Location).Format("15:04") }
	switch a.Confidence {
	case journey.ConfidenceDedicated:
		return fmt.Sprintf("%s is a number of its own, fixed to campaign %s from %s", dialled, or(a.Source.Campaign, "(none)"), source)
	case journey.ConfidenceExact, journey.ConfidenceReused:
		held := ""
		if len(a.Candidates) > 0 {
			cd := a.Candidates[0]
			held = ", holding it from " + clock(cd.HeldFrom)
			callAt, _ := journey.CallTime(c.Call)
			if cd.HeldUntil.IsZero() || !cd.HeldUntil.Before(callAt) {
				held += " through the call"
			} else {
				held += fmt.Sprintf(" to %s; the call came %s later, within the grace a number keeps after its visit", clock(cd.HeldUntil),
					duration(int(callAt.Sub(cd.HeldUntil).Round(time.Second).Seconds())))
			}
		}
		if a.Confidence == journey.ConfidenceExact || len(a.Candidates) < 2 {
			return fmt.Sprintf("one visit held %s at the call: the visit from %s%s", dialled, source, held)
		}
		return fmt.Sprintf("%d visits held %s around the call, as the pool had run out of free numbers; the most recently active was chosen: the visit from %s%s",
			len(a.Candidates), dialled, source, held)
	case journey.ConfidencePoolOnly:
		if info, ok := h.svc.Catalog().Number(c.Call.To); ok && info.Fallback {
			return fmt.Sprintf("%s is pool %s's fallback number, shown when every number was taken: credited to the pool's source, %s", dialled, info.Pool, source)
		}
		return fmt.Sprintf("no visit held %s at the call or shortly before: credited to its pool's source, %s", dialled, source)
	case journey.ConfidenceUnknown:
		return dialled + " is not one of the tracking numbers"
	}
	return readable(a.Reason)
}

var (
	e164Pattern = regexp.MustCompile(`\+[1-9][0-9]{6,14}`)
	idPattern   = regexp.MustCompile(`(session )?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
)

// readable is a stitcher's reason for a reader: numbers as their country
// writes them, session ids as "a visit".
func readable(reason string) string {
	reason = e164Pattern.ReplaceAllStringFunc(reason, number)
	return idPattern.ReplaceAllString(reason, "a visit")
}

// errNoPerson stands for the store's not-found: a caller never linked.
var errNoPerson = storeNotFound

func (h *handler) callStep(c callRow) step {
	s := step{At: c.At.In(h.cfg.Location).Format("Jan 2 15:04:05"), Kind: "call", ThisCall: true,
		Title:  "This call, to " + number(c.Call.To),
		Detail: callOutcome(c.Call, c.Missed, c.Spam) + ", " + duration(c.TalkSeconds) + " talk"}
	if a := c.Attribution; a != nil {
		s.Detail += " · credited to " + sourceName(journey.Touchpoint{Source: a.Source}) + " (" + words(string(a.Confidence)) + ")"
	}
	return s
}

// groupings are what the attribution page can group credit by.
var groupings = []struct {
	Value, Label string
	Key          attribution.KeyFunc
}{
	// The sources report's keys, so both pages name the same rows.
	{"channel", "channel", report.DimChannel.Key()},
	{"source_medium", "source / medium", report.DimSourceMedium.Key()},
	{"campaign", "campaign", report.DimCampaign.Key()},
	{"keyword", "keyword", report.DimKeyword.Key()},
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// attributionData is the attribution page.
type attributionData struct {
	Models     []Link // label, model name
	Model      string
	By, ByName string
	Groupings  []Link
	Chart      template.HTML
	Table      *table
	Empty      string
	Total      string
	ByType     []Link // conversion type's human name, value
	CallValue  string
}

func (h *handler) attribution(r *http.Request, p period) (string, any, *table, error) {
	by := groupings[0]
	for _, g := range groupings {
		if g.Value == r.URL.Query().Get("by") {
			by = g
		}
	}
	d := attributionData{By: by.Value, ByName: by.Label, Model: r.URL.Query().Get("model")}
	for _, g := range groupings {
		d.Groupings = append(d.Groupings, Link{g.Label, g.Value})
	}
	for _, m := range attribution.DefaultModels() {
		d.Models = append(d.Models, Link{modelName(m.Name()), m.Name()})
	}
	if !slices.ContainsFunc(d.Models, func(l Link) bool { return l.Href == d.Model }) {
		d.Model = "markov"
	}
	heading := fmt.Sprintf("Attribution · last %d days", p.Days)
	tbl := &table{Name: "attribution-by-" + by.Value, ID: "models", Head: []cell{txt(strings.ToUpper(by.Label[:1]) + by.Label[1:])}}
	for _, m := range d.Models {
		tbl.Head = append(tbl.Head, cell{Text: m.Label, Num: true})
	}
	cmpd, err := h.svc.Attribute(r.Context(), p.From, p.To, attribution.Options{Key: by.Key})
	switch {
	case errors.Is(err, attribution.ErrNoJourneys), errors.Is(err, attribution.ErrNoConversions):
		d.Empty = "Nothing to attribute in this period yet: a qualified call (or a chat or form with a value) needs a visitor's journey behind it. " + h.cfg.NoCalls
		d.Table = tbl
		return heading, d, tbl, nil
	case err != nil:
		return "", nil, nil, err
	}
	currency := h.cfg.Currency
	chosen := 0
	for i, res := range cmpd.Results {
		if res.Currency != "" {
			currency = res.Currency
		}
		if res.Model == d.Model {
			chosen = i
		}
	}
	for _, k := range cmpd.Keys {
		row := []cell{txt(k)}
		for i := range cmpd.Results {
			row = append(row, numText(money(cmpd.Value(k, i), currency)))
		}
		tbl.Rows = append(tbl.Rows, row)
	}
	unexplained := []cell{{Text: "(no counted touchpoint)", Title: "conversions none of whose touchpoints fall in the lookback window"}}
	any := false
	total := []cell{txt("Total")}
	var sum int64
	for i, res := range cmpd.Results {
		unexplained = append(unexplained, numText(money(res.Unattributed.Value, currency)))
		any = any || res.Unattributed.Value != 0
		total = append(total, numText(money(res.Value+res.Unattributed.Value, currency)))
		if i == chosen {
			sum = res.Value + res.Unattributed.Value
		}
	}
	if any {
		tbl.Rows = append(tbl.Rows, unexplained)
	}
	tbl.Foot = total
	d.Total = money(sum, currency)
	var bars []bar
	for _, g := range cmpd.Results[chosen].Groups {
		bars = append(bars, bar{Label: g.Key, Value: float64(g.Value), Text: money(g.Value, currency)})
	}
	d.Chart = barChart(fmt.Sprintf("Value credited by %s, per %s", modelName(d.Model), by.Label), bars)
	d.Table = tbl
	// What the total is made of, so it can be checked against the
	// overview's call revenue.
	convs, err := h.svc.Store().ConversionsBetween(r.Context(), p.From, p.To)
	if err != nil {
		return "", nil, nil, err
	}
	byType := map[string]int64{}
	for _, c := range convs {
		byType[conversionName(c.Type)] += c.Value
	}
	for _, t := range sortedKeys(byType) {
		d.ByType = append(d.ByType, Link{t, money(byType[t], currency)})
	}
	return heading, d, tbl, nil
}

// poolData is the pools page.
type poolData struct {
	Chart   template.HTML
	Table   *table
	Reasons []Link // pool name, the recommended size's reasoning
	Empty   string
}

// minAuditHolds is the fewest ended holds a size is recommended from.
const minAuditHolds = 5

// verdictOf says what to do about a pool of size numbers when recommended
// are needed.
func verdictOf(recommended, size int) string {
	switch {
	case recommended > size:
		return fmt.Sprintf("add %d numbers", recommended-size)
	case recommended < size:
		return fmt.Sprintf("%d numbers could go", size-recommended)
	}
	return "the pool is the right size"
}

// recommendationReason is the recommended size's reasoning in words: the
// accuracy model of pool.Recommend (what the command line's audit prints
// line by line) with the pool's figures. The size is the smallest that
// stitches pool.DefaultAccuracy of calls to the visit that placed them;
// the chance that no number is out of cooldown is told as information,
// with the older cooldown rule's size for comparison, since a cooling
// number handed out costs a call only when its earlier holder calls late.
func recommendationReason(audit pool.AuditReport, cooldown time.Duration, verdict string) string {
	rec := audit.Recommended
	return fmt.Sprintf("At the busiest hour %d visitors were given a number; each held it for %s on average (the visit and its idle window), "+
		"and a number then cools for %s before it is handed out again: about %.1f numbers are held or cooling at once. "+
		"%d numbers stitch %s of calls to the visit that placed them (target %s), taking callers to call back at any moment of the idle window and the cooldown alike, the worst case while their delays are unknown: %s. "+
		"At %d numbers a visitor finds no number out of cooldown %s of the time at the busiest hour; that costs a call only when the number's earlier holder calls back late, which the accuracy counts. "+
		"The older cooldown rule, which takes every call back to come at the cooldown's very end, would need %d numbers. "+
		"Below %d numbers, visitors on the site at once would share numbers.",
		audit.PeakHourlyArrivals, duration(int(audit.AverageHold.Round(time.Second).Seconds())), duration(int(cooldown.Seconds())), rec.Busy,
		rec.Numbers, report.FormatShare(rec.Accuracy), report.FormatShare(pool.DefaultAccuracy), verdict,
		rec.Numbers, report.FormatShare(rec.ShortfallProbability),
		rec.CooldownNumbers, rec.NumbersWithoutCooldown)
}

func (h *handler) pools(r *http.Request, p period) (string, any, *table, error) {
	stats, err := h.svc.PoolStats(r.Context())
	if err != nil {
		return "", nil, nil, err
	}
	d := poolData{}
	tbl := &table{Name: "pools", ID: "pools", Head: headsNum(1, "Pool", "Numbers", "In use now", "Cooling", "Free",
		"Peak holders", "Reuses", "Holds ended", "Used over period", "Calls at risk", "Recommended size")}
	var bars []bar
	for _, name := range h.svc.Catalog().PoolNames() {
		st := stats[name]
		audit, err := h.svc.Audit(r.Context(), name, p.From, p.To)
		if err != nil {
			return "", nil, nil, err
		}
		row := []cell{txt(name), num(st.Size), num(st.Leased), num(st.Cooling), num(st.Free),
			{Text: fmt.Sprint(st.PeakConcurrency), Num: true, Title: "most visitors holding a number at once since start"},
			num(int(st.Reuses)), num(audit.Holds)}
		var reason string
		if audit.Holds < minAuditHolds {
			why := fmt.Sprintf("not enough history yet (%d holds)", audit.Holds)
			row = append(row, cell{Text: why, Num: true, Span: 3, Note: true})
			reason = fmt.Sprintf("Not enough history yet: %d visitor holds ended in the last %d days, and a size is recommended from %d or more. A hold ends when its visitor has been idle for the session window.",
				audit.Holds, p.Days, minAuditHolds)
		} else {
			rec := audit.Recommended
			cooldown := pool.DefaultCooldown
			if info, ok := h.svc.Catalog().Pool(name); ok && info.Cooldown > 0 {
				cooldown = info.Cooldown
			}
			verdict := verdictOf(rec.Numbers, st.Size)
			row = append(row, numText(fmt.Sprintf("%.0f%%", audit.Utilisation*100)), numText(fmt.Sprintf("%.1f%%", audit.CallsAtRisk*100)),
				cell{Text: fmt.Sprint(rec.Numbers), Num: true, Title: verdict})
			reason = recommendationReason(audit, cooldown, verdict)
		}
		tbl.Rows = append(tbl.Rows, row)
		d.Reasons = append(d.Reasons, Link{name, reason})
		bars = append(bars, bar{Label: name, Value: st.Utilisation * 100, Text: fmt.Sprintf("%.0f%% (%d of %d)", st.Utilisation*100, st.Leased, st.Size)})
	}
	d.Table = tbl
	d.Chart = barChart("Numbers in use now, of each pool", bars)
	if len(bars) == 0 {
		d.Empty = "No number pools are configured: add Config.Pools to the service."
	}
	return fmt.Sprintf("Number pools · last %d days", p.Days), d, tbl, nil
}
