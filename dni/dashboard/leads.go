package dashboard

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/attriqs/calltrack/dni"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/report"
	"github.com/attriqs/calltrack/store"
)

// lead is a chat conversation or a form submission of the period: what
// the outcome form on its page sets.
type lead struct {
	// Touchpoint is the one the outcome is set on: a form's own; for a
	// chat, the event that already has an outcome set by hand when it is
	// one of the lead's, else the chat's start, else its first event.
	Touchpoint journey.Touchpoint
	First      time.Time            // the first event's time
	Events     []string             // a chat's events, in the order a chat goes
	events     []journey.Touchpoint // the lead's touchpoints: a chat's events, or the form
	chats      []string             // a chat's conversations (report.ChatConversation)
	Manual     *journey.ManualOutcome
	Value      amounts // the value of its conversions
	Converted  bool
}

// Chat reports whether the lead is a chat.
func (l lead) Chat() bool { return l.Touchpoint.Kind == journey.TouchChat }

// leadTouchpoints reads the period's chats (one per conversation, as the
// sources report counts them: report.ChatConversations of the events in
// the period) and forms, without reading their outcomes.
func (h *handler) leadTouchpoints(ctx context.Context, p period) (chats [][]journey.Touchpoint, forms []journey.Touchpoint, err error) {
	// A look-back of the period's length reaches from for every
	// conversion in it; the default 90 days would read touchpoints from
	// before the period only to drop them.
	journeys, err := h.svc.Journeys(ctx, p.From, p.To, p.To.Sub(p.From))
	if err != nil {
		return nil, nil, err
	}
	in := func(t time.Time) bool { return !t.Before(p.From) && t.Before(p.To) }
	seen := map[string]bool{}
	var events []journey.Touchpoint
	for _, j := range journeys {
		for _, tp := range j.Touchpoints {
			if seen[tp.ID] || !in(tp.At) {
				continue
			}
			seen[tp.ID] = true
			switch tp.Kind {
			case journey.TouchChat:
				events = append(events, tp)
			case journey.TouchForm:
				forms = append(forms, tp)
			}
		}
	}
	return report.ChatConversations(events), forms, nil
}

// leadsOf reads the period's chats and forms (leadTouchpoints), newest
// first, each with its conversions and any outcome set by hand.
func (h *handler) leadsOf(ctx context.Context, p period) ([]lead, error) {
	chats, forms, err := h.leadTouchpoints(ctx, p)
	if err != nil {
		return nil, err
	}
	leads := make([]lead, 0, len(chats)+len(forms))
	for _, tp := range forms {
		leads = append(leads, lead{Touchpoint: tp, First: tp.At, events: []journey.Touchpoint{tp}})
	}
	for _, events := range chats {
		leads = append(leads, h.chatLead(events))
	}
	convs, err := h.svc.Store().ConversionsBetween(ctx, p.From, p.To)
	if err != nil {
		return nil, err
	}
	byLead := conversionsByLead(convs)
	for i := range leads {
		if err := h.fill(ctx, &leads[i], byLead); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(leads, func(a, b lead) int {
		if c := b.First.Compare(a.First); c != 0 {
			return c
		}
		return strings.Compare(a.Touchpoint.ID, b.Touchpoint.ID)
	})
	return leads, nil
}

// conversionsByLead indexes conversions by the lead they belong to
// (leadKey), so each lead finds its own without going through them all.
func conversionsByLead(convs []journey.Conversion) map[string][]journey.Conversion {
	by := map[string][]journey.Conversion{}
	for _, c := range convs {
		k := conversionLead(c.ID)
		by[k] = append(by[k], c)
	}
	return by
}

// conversionLead is the key of the lead conversion id belongs to: a
// chat's conversions are the rules' and the hand's on any of its events
// (chat:platform/conversation/..., outcome:chat:platform/conversation/...),
// keyed by the conversation; a form's the form rules' and the hand's
// (journey.FormConversionID, journey.ManualConversionID), keyed by the
// form's touchpoint.
func conversionLead(id string) string {
	id = strings.TrimPrefix(id, journey.ManualConversionID(""))
	if rest, ok := strings.CutPrefix(id, "chat:"); ok {
		if i := strings.LastIndexByte(rest, '/'); i > 0 {
			return "chat:" + rest[:i]
		}
	}
	return id
}

// keys are the conversionLead keys of the lead's conversions.
func (l lead) keys() []string {
	if !l.Chat() {
		return []string{journey.FormConversionID(l.Touchpoint.ID)}
	}
	keys := make([]string, len(l.chats))
	for i, conv := range l.chats {
		keys[i] = "chat:" + conv
	}
	return keys
}

// chatLead makes a lead of a conversation's events. Its outcome is set
// on the chat's start, else on its first event of a platform's
// conversation (not a widget's from before it), else on its first; fill
// moves it to an event that has one set by hand already.
func (h *handler) chatLead(events []journey.Touchpoint) lead {
	events = slices.Clone(events)
	slices.SortStableFunc(events, func(a, b journey.Touchpoint) int { return chatRank(a) - chatRank(b) })
	l := lead{Touchpoint: events[0], First: events[0].At}
	rank := func(tp journey.Touchpoint) int {
		switch {
		case tp.Attrs["event"] == "chat_started" && !widgetOnly(tp):
			return 0
		case !widgetOnly(tp):
			return 1
		}
		return 2
	}
	for _, tp := range events {
		l.events = append(l.events, tp)
		if conv := report.ChatConversation(tp); !slices.Contains(l.chats, conv) {
			l.chats = append(l.chats, conv)
		}
		l.First = minTime(l.First, tp.At)
		l.Events = append(l.Events, strings.ToLower(strings.TrimPrefix(chatEventName(tp), "Chat ")))
		if rank(tp) < rank(l.Touchpoint) {
			l.Touchpoint = tp
		}
	}
	return l
}

// fill reads the lead's outcome set by hand and sums its conversions. A
// chat's outcome is its conversation's, on whichever event it was set,
// inside the period or not: dni.Service.SetOutcome keeps one per
// conversation. An outcome set by hand is the lead's value (the rules'
// conversions give way to it), whether or not its conversion falls in
// convs (conversionsByLead).
func (h *handler) fill(ctx context.Context, l *lead, convs map[string][]journey.Conversion) error {
	mo, on, err := h.outcomeOf(ctx, *l)
	if err != nil {
		return err
	}
	l.Value = amounts{}
	if mo != nil {
		l.Manual = mo
		if i := slices.IndexFunc(l.events, func(e journey.Touchpoint) bool { return e.ID == on }); i >= 0 {
			l.Touchpoint = l.events[i]
		}
		if l.Converted = mo.Status.Converts(); l.Converted {
			l.Value.add(mo.Currency, mo.Value)
		}
		return nil
	}
	for _, k := range l.keys() {
		for _, c := range convs[k] {
			l.Converted = true
			l.Value.add(c.Currency, c.Value)
		}
	}
	return nil
}

// outcomeOf reads the outcome set by hand on the lead, nil when none, and
// the touchpoint it is set on: a form's own; for a chat, the first of each
// of its conversations' events (journey.ChatTouchpointID) that has one,
// a platform's conversation before a widget's from before it existed.
func (h *handler) outcomeOf(ctx context.Context, l lead) (*journey.ManualOutcome, string, error) {
	if !l.Chat() {
		mo, err := h.svc.Store().ManualOutcome(ctx, l.Touchpoint.ID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return nil, "", nil
		case err != nil:
			return nil, "", err
		}
		return &mo, l.Touchpoint.ID, nil
	}
	convs := slices.Clone(l.chats)
	slices.SortStableFunc(convs, func(a, b string) int { return cmpBool(widgetConversation(a), widgetConversation(b)) })
	for _, conv := range convs {
		platform, conversation, _ := strings.Cut(conv, "/")
		switch id, mo, err := h.svc.ChatOutcome(ctx, platform, conversation); {
		case err != nil:
			return nil, "", err
		case id != "":
			return &mo, id, nil
		}
	}
	return nil, "", nil
}

// widgetConversation reports whether a conversation
// (report.ChatConversation) is a widget's from before its platform's
// conversation existed, keyed by its session.
func widgetConversation(conv string) bool {
	_, c, _ := strings.Cut(conv, "/")
	return strings.HasPrefix(c, "session-")
}

// cmpBool orders false before true.
func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// widgetOnly reports whether a chat event came before its conversation
// existed, keyed by its session.
func widgetOnly(tp journey.Touchpoint) bool { return widgetConversation(report.ChatConversation(tp)) }

func chatRank(tp journey.Touchpoint) int {
	if o, ok := chatOrder[tp.Attrs["event"]]; ok {
		return o
	}
	return len(chatOrder)
}

func chatEventName(tp journey.Touchpoint) string {
	if n, ok := chatEvents[tp.Attrs["event"]]; ok {
		return n
	}
	return "Chat event"
}

// plural writes a count of things: "1 chat", "2 chats".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// title names the lead: "Chat (Tawk.to)", "Form sent: quote".
func (l lead) title() string {
	if l.Chat() {
		return "Chat (" + platformName(l.Touchpoint.Attrs["platform"]) + ")"
	}
	return touchpointTitle(l.Touchpoint)
}

// status says where the lead stands: the outcome set by hand, else
// whether a rule made it a conversion.
func (l lead) status() string {
	switch {
	case l.Manual != nil:
		return string(l.Manual.Status) + ", set by hand"
	case l.Converted:
		return "converted by a rule"
	}
	return "no outcome yet"
}

// leadHref is a lead's page.
func (h *handler) leadHref(l lead, days int) string {
	return h.cfg.Prefix + "/leads/lead?" + url.Values{"id": {l.Touchpoint.ID}, "days": {fmt.Sprint(days)}}.Encode()
}

// leadsData is the leads page.
type leadsData struct {
	Count string // "1 chat · 2 forms · $80.00"
	Table *table
	Empty string
}

func (h *handler) leads(r *http.Request, p period) (string, any, *table, error) {
	leads, err := h.leadsOf(r.Context(), p)
	if err != nil {
		return "", nil, nil, err
	}
	d := leadsData{}
	chats, forms := 0, 0
	tbl := &table{Name: "leads", ID: "leads", Head: []cell{txt("When"), txt("Lead"), txt("Source"), txt("Events"), txt("Outcome"),
		{Text: "Value", Num: true}, txt("")}}
	total := amounts{}
	for _, l := range leads {
		if l.Chat() {
			chats++
		} else {
			forms++
		}
		for c, v := range l.Value {
			total.add(c, v)
		}
		source := sourceName(l.Touchpoint)
		if c := l.Touchpoint.Source.Campaign; c != "" {
			source += " · " + c
		}
		href := h.leadHref(l, p.Days)
		tbl.Rows = append(tbl.Rows, []cell{link(l.First.In(h.cfg.Location).Format("Jan 2 15:04"), href), txt(l.title()), txt(source),
			txt(strings.Join(l.Events, ", ")), txt(l.status()), numText(l.Value.text(h.cfg.Currency)), link("set outcome", href)})
	}
	d.Count = plural(chats, "chat") + " · " + plural(forms, "form") + " · " + total.text(h.cfg.Currency)
	d.Table = tbl
	if len(leads) == 0 {
		d.Empty = "No chats or forms in this period yet: they show here as visitors chat on the site or send its forms."
	}
	return fmt.Sprintf("Leads · last %d days", p.Days), d, tbl, nil
}

// leadData is one lead's page.
type leadData struct {
	Title, When, Source, Events, Status, Value string
	Outcome                                    *outcomeView
}

// lead is one chat's or form's page, with its outcome form. It names the
// lead by any of its touchpoints (?id=), and is not bound to the period.
func (h *handler) lead(r *http.Request, p period) (string, any, *table, error) {
	l, err := h.findLead(r.Context(), r.URL.Query().Get("id"))
	if err != nil {
		return "", nil, nil, err
	}
	d := leadData{Title: l.title(), When: l.First.In(h.cfg.Location).Format("Mon Jan 2 2006, 15:04"),
		Source: sourceName(l.Touchpoint), Events: strings.Join(l.Events, ", "), Status: l.status(), Value: l.Value.text(h.cfg.Currency)}
	if c := l.Touchpoint.Source.Campaign; c != "" {
		d.Source += " · campaign " + c
	}
	v := &outcomeView{Action: h.cfg.Prefix + "/leads/outcome?" + url.Values{"id": {l.Touchpoint.ID}, "days": {fmt.Sprint(p.Days)}}.Encode(),
		Statuses: outcomeStatuses, Currency: h.cfg.Currency, Saved: r.URL.Query().Get("saved") == "1", Problem: problemOf(r),
		Explain: "A value set here wins over the form rules, also when they run again, and reaches the exports as an adjustment"}
	if l.Chat() {
		v.Explain = "A value set here is the conversation's one outcome, whichever of its events you set it from: it wins over the chat conversion rules, also when the conversation's events come again, reaches the exports as a conversion of its own (an adjustment when changed), and the rules' conversions of the conversation are retracted at the exports that had them"
	}
	if len(l.Value) == 1 {
		for c, val := range l.Value {
			v.Status, v.Value, v.Currency = string(dni.OutcomeQualified), major(val, c), c
		}
	}
	if mo := l.Manual; mo != nil {
		v.Status, v.Value, v.Currency, v.Note = string(mo.Status), major(mo.Value, mo.Currency), or(mo.Currency, v.Currency), mo.Note
		v.SetAt = mo.SetAt.In(h.cfg.Location).Format("Jan 2 15:04")
	}
	if pr, ok := r.Context().Value(problemKey{}).(problem); ok {
		v.Status, v.Value, v.Currency, v.Note = pr.form.Get("status"), pr.form.Get("value"), pr.form.Get("currency"), pr.form.Get("note")
	}
	d.Outcome = v
	return d.Title + " of " + d.When, d, nil, nil
}

// findLead reads the lead id names: a form, or any event of a chat.
func (h *handler) findLead(ctx context.Context, id string) (lead, error) {
	notFound := errNotFound("No chat or form " + id + ".")
	if id == "" {
		return lead{}, notFound
	}
	tp, err := h.svc.Store().Touchpoint(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return lead{}, notFound
	case err != nil:
		return lead{}, err
	}
	var l lead
	switch tp.Kind {
	case journey.TouchForm:
		l = lead{Touchpoint: tp, First: tp.At, events: []journey.Touchpoint{tp}}
	case journey.TouchChat:
		events, err := h.chatOf(ctx, tp)
		if err != nil {
			return lead{}, err
		}
		l = h.chatLead(events)
	default:
		return lead{}, notFound
	}
	last := l.First
	for _, e := range l.events {
		if e.At.After(last) {
			last = e.At
		}
	}
	// A lead's conversions are dated by its events (stores keep
	// microseconds: the second after the last takes it in).
	convs, err := h.svc.Store().ConversionsBetween(ctx, l.First, last.Add(time.Second))
	if err != nil {
		return lead{}, err
	}
	if err := h.fill(ctx, &l, conversionsByLead(convs)); err != nil {
		return lead{}, err
	}
	return l, nil
}

// chatOf reads the events of tp's chat: its visitor's chat events of the
// day before it to now, grouped as report.ChatConversations groups them.
func (h *handler) chatOf(ctx context.Context, tp journey.Touchpoint) ([]journey.Touchpoint, error) {
	if tp.VisitorID == "" {
		return []journey.Touchpoint{tp}, nil
	}
	to := h.cfg.Now().Add(time.Minute)
	if !to.After(tp.At) {
		to = tp.At.Add(time.Minute)
	}
	tps, _, err := h.svc.Journey(ctx, journey.Identifier{Kind: journey.IDVisitor, Value: tp.VisitorID}, tp.At.Add(-24*time.Hour), to)
	switch {
	case errors.Is(err, errNoPerson):
		return []journey.Touchpoint{tp}, nil
	case err != nil:
		return nil, err
	}
	for _, g := range report.ChatConversations(tps) {
		if slices.ContainsFunc(g, func(e journey.Touchpoint) bool { return e.ID == tp.ID }) {
			return g, nil
		}
	}
	return []journey.Touchpoint{tp}, nil
}

// setLeadOutcome takes a lead's outcome form, as setOutcome takes a
// call's: a mistake goes back to the lead's page, named; the form is
// same-origin only (New wraps it).
func (h *handler) setLeadOutcome(w http.ResponseWriter, r *http.Request) {
	if !parseOutcomeForm(w, r) {
		return
	}
	l, err := h.findLead(r.Context(), r.URL.Query().Get("id"))
	if err != nil {
		h.fail(w, r, "lead", err)
		return
	}
	o, err := outcomeOf(r.PostForm)
	if err == nil {
		err = h.svc.SetOutcome(r.Context(), l.Touchpoint.ID, o)
	}
	h.outcomeSaved(w, r, err, "lead", h.lead, h.cfg.Prefix+"/leads/lead", url.Values{"id": {l.Touchpoint.ID}})
}
