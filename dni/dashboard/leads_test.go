package dashboard_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/chat"
	"github.com/attriqs/calltrack/dni"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/store"
	"github.com/attriqs/calltrack/store/memstore"
)

// chatAndCall is a visitor from a Google ad who chats on Tawk.to (the
// widget opened before the conversation existed, so keyed by the session;
// then the chat started and a message, the message stamped a second before
// the start, as a platform's clock may), sends the quote form, then calls
// twice: first nobody answers, then the call is answered (qualified,
// $250). It returns the chat's conversation id.
func (f *fixture) chatAndCall(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	a := f.visit(t, "", "https://www.example-plumbing.com/?utm_source=google&utm_medium=cpc&utm_campaign=emergency&gclid=x")
	f.now = f.now.Add(time.Minute)
	start := f.now
	var events []chat.Event
	for typ, at := range map[chat.Type]time.Time{chat.Opened: start, chat.Started: start.Add(2 * time.Second), chat.Message: start.Add(time.Second)} {
		ev := chat.Event{Platform: "tawk", Type: typ, ConversationID: "conv-1", SessionID: a.SessionID, At: at}
		if typ == chat.Opened {
			ev.ConversationID = ""
		}
		events = append(events, ev)
	}
	f.now = f.now.Add(time.Minute)
	require.NoError(t, f.svc.RecordChat(ctx, events))
	require.NoError(t, f.svc.RecordForm(ctx, a.SessionID, dni.FormSubmission{ID: "lead-7", Name: "quote"}))
	f.now = f.now.Add(time.Minute)
	f.call(t, "first", "+12125550123", a.Swaps[0].Number, 0)
	f.now = f.now.Add(5 * time.Minute)
	f.call(t, "again", "+12125550123", a.Swaps[0].Number, 90*time.Second)
	return "conv-1"
}

// sessionOf is the session of the fixture's one chat.
func sessionOf(t *testing.T, f *fixture) string {
	t.Helper()
	tp, err := f.svc.Store().Touchpoint(context.Background(), journey.ChatTouchpointID("tawk", "conv-1", "chat_started"))
	require.NoError(t, err)
	return tp.SessionID
}

var uuidPattern = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// A journey reads as words: outcomes without codes, a chat's events in the
// order a chat goes, the confidence with the number as its country writes
// it and the visit by its source, never a session id.
func TestJourneyReadsAsWords(t *testing.T) {
	f := newFixture(t)
	f.chatAndCall(t)
	require.NoError(t, f.svc.Close())
	page := f.get(t, "/dashboard/calls/fake/again")
	steps := text(page[strings.Index(page, `id="journey-steps"`):])
	assert.Contains(t, steps, "no answer", "the first call's outcome in words")
	assert.NotContains(t, steps, "no-answer")
	opened, started, message := strings.Index(steps, "Chat opened"), strings.Index(steps, "Chat started"), strings.Index(steps, "Chat message")
	require.True(t, opened >= 0 && started >= 0 && message >= 0, steps)
	assert.Less(t, opened, started, "opened, then started")
	assert.Less(t, started, message, "started, then the message, though the message is stamped earlier")
	assert.Contains(t, page, `href="/dashboard/leads/lead?id=chat%3Atawk%2Fconv-1%2Fchat_started"`, "each chat event leads to its outcome form")

	call := html.UnescapeString(text(page))
	assert.Contains(t, call, "Confidence exact: one visit held (415) 555-0111 at the call: the visit from Paid Search (google / cpc), holding it from 15:00 through the call")
	assert.NotContains(t, call, "+1415", "no E.164 number in the confidence")
	assert.False(t, uuidPattern.MatchString(call), "no session id on the page: %s", uuidPattern.FindString(call))
	calls := html.UnescapeString(f.get(t, "/dashboard/calls"))
	assert.Contains(t, calls, `title="one visit held (415) 555-0111 at the call`)
	assert.NotContains(t, calls, "+1415")
	assert.False(t, uuidPattern.MatchString(calls), "no session id in the calls log")
}

func TestLeadsCountConversationsAndSetTheirOutcomes(t *testing.T) {
	f := newFixture(t)
	f.chatAndCall(t)
	require.NoError(t, f.svc.Close())

	overview := f.get(t, "/dashboard/")
	assert.Equal(t, "1", kpi(t, overview, "kpi-chats"), "one conversation of three events, one of them from before it existed")
	assert.Equal(t, "1", kpi(t, overview, "kpi-forms"))
	rows := f.csv(t, "/dashboard/sources?format=csv")
	assert.Equal(t, "1", rows[len(rows)-1][column(t, rows, "Chats")], "the sources report counts what the overview does")
	leads := f.csv(t, "/dashboard/leads?format=csv")
	require.Len(t, leads, 1+2, "a header, the form and the chat")
	assert.Contains(t, text(f.get(t, "/dashboard/leads")), "1 chat · 1 form · $0.00")

	// The chat: its page names it by any event, and the form sets the
	// outcome on its start.
	page := f.get(t, "/dashboard/leads/lead?id="+url.QueryEscape(journey.ChatTouchpointID("tawk", "conv-1", "chat_message")))
	assert.Contains(t, text(page), "Lead Chat (Tawk.to)")
	assert.Contains(t, text(page), "Events opened, started, message")
	action := `action="/dashboard/leads/outcome?days=30&amp;id=chat%3Atawk%2Fconv-1%2Fchat_started"`
	require.Contains(t, page, action)
	path := "/dashboard/leads/outcome?days=30&id=" + url.QueryEscape(journey.ChatTouchpointID("tawk", "conv-1", "chat_started"))

	res, _ := f.post(t, path, url.Values{"status": {"won"}, "value": {"80"}, "currency": {"USD"}}, "https://attacker.example")
	assert.Equal(t, http.StatusForbidden, res.StatusCode, "same origin only, as the call's form")
	res, body := f.post(t, path, url.Values{"status": {"won"}, "value": {"8.123"}, "currency": {"USD"}}, f.srv.URL)
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
	assert.Contains(t, body, "Not saved")
	res, _ = f.post(t, path, url.Values{"status": {"won"}, "value": {"80"}, "currency": {"USD"}, "note": {"booked by chat"}}, f.srv.URL)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, "/dashboard/leads/lead?days=30&id=chat%3Atawk%2Fconv-1%2Fchat_started&saved=1", res.Header.Get("Location"))

	saved := text(f.get(t, res.Header.Get("Location")))
	assert.Contains(t, saved, "Saved")
	assert.Contains(t, saved, "Outcome won, set by hand")
	assert.Contains(t, saved, "Value $80.00")
	for _, id := range []string{journey.ChatTouchpointID("tawk", "conv-1", "chat_message"),
		journey.ChatTouchpointID("tawk", "session-"+sessionOf(t, f), "chat_opened")} {
		assert.Contains(t, f.get(t, "/dashboard/leads/lead?id="+url.QueryEscape(id)), `value="booked by chat"`,
			"any event's page shows the conversation's outcome: %s", id)
	}

	// The form.
	form := ""
	for _, r := range leads[1:] {
		if strings.HasPrefix(r[1], "Form sent") {
			form = r[1]
		}
	}
	assert.Equal(t, "Form sent: quote", form)
	formPage := f.get(t, "/dashboard/leads")
	m := regexp.MustCompile(`href="(/dashboard/leads/lead\?days=30&amp;id=form[^"]*)"`).FindStringSubmatch(formPage)
	require.NotNil(t, m, "the form's row links to its page")
	formID, err := url.QueryUnescape(strings.TrimPrefix(m[1], "/dashboard/leads/lead?days=30&amp;id="))
	require.NoError(t, err)
	res, _ = f.post(t, "/dashboard/leads/outcome?id="+url.QueryEscape(formID), url.Values{"status": {"qualified"}, "value": {"40.00"}, "currency": {"USD"}}, f.srv.URL)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)

	assert.Contains(t, text(f.get(t, "/dashboard/leads")), "1 chat · 1 form · $120.00")
	attribution := f.csv(t, "/dashboard/attribution?format=csv")
	for i, v := range attribution[len(attribution)-1][1:] {
		assert.Equal(t, "$370.00", v, "the %s column: the call's $250, the chat's $80 and the form's $40", attribution[0][i+1])
	}

	res, _ = f.post(t, "/dashboard/leads/outcome?id="+url.QueryEscape(journey.CallTouchpointID("fake", "again")),
		url.Values{"status": {"won"}, "value": {"1"}, "currency": {"USD"}}, f.srv.URL)
	assert.Equal(t, http.StatusNotFound, res.StatusCode, "a call's outcome is set on the call's page")
	res, err = http.Get(f.srv.URL + "/dashboard/leads/lead?id=nope")
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
}

// A chat conversation has one outcome, on the event it was first set on:
// its pages and the leads list show it from any of its events, also when
// that event is outside the period or before the day the page reads.
func TestChatOutcomeShowsFromEveryEvent(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a := f.visit(t, "", "https://www.example-plumbing.com/?utm_source=google&utm_medium=cpc&gclid=x")
	require.NoError(t, f.svc.RecordChat(ctx, []chat.Event{{Platform: "tawk", Type: chat.Started, ConversationID: "conv-2", SessionID: a.SessionID, At: f.now}}))
	started := journey.ChatTouchpointID("tawk", "conv-2", "chat_started")
	require.NoError(t, f.svc.SetOutcome(ctx, started, dni.Outcome{Status: dni.OutcomeWon, Value: 8000, Currency: "USD", Note: "booked"}))
	f.now = f.now.Add(8 * 24 * time.Hour)
	require.NoError(t, f.svc.RecordChat(ctx, []chat.Event{{Platform: "tawk", Type: chat.Message, ConversationID: "conv-2", SessionID: a.SessionID, At: f.now}}))
	require.NoError(t, f.svc.Close())

	message := journey.ChatTouchpointID("tawk", "conv-2", "chat_message")
	page := f.get(t, "/dashboard/leads/lead?id="+url.QueryEscape(message))
	assert.Contains(t, text(page), "Outcome won, set by hand", "the message's page, a week after the outcome was set on the start")
	assert.Contains(t, text(page), "Value $80.00")
	assert.Contains(t, page, `value="booked"`)
	assert.Contains(t, text(page), "reaches the exports as a conversion of its own")
	assert.NotContains(t, page, "not exported")

	leads := f.csv(t, "/dashboard/leads?days=7&format=csv")
	require.Len(t, leads, 1+1, "the chat, by its message: its start is before the week")
	assert.Equal(t, "won, set by hand", leads[1][column(t, leads, "Outcome")])
	assert.Equal(t, "$80.00", leads[1][column(t, leads, "Value")])
}

// outcomeReads is a store that counts its reads of outcomes set by hand.
type outcomeReads struct {
	store.Store
	n atomic.Int64
}

func (s *outcomeReads) ManualOutcome(ctx context.Context, touchpointID string) (journey.ManualOutcome, error) {
	s.n.Add(1)
	return s.Store.ManualOutcome(ctx, touchpointID)
}

// The overview counts chats and forms without reading their outcomes; the
// leads page reads them only for the leads it shows.
func TestOverviewCountsLeadsWithoutReadingOutcomes(t *testing.T) {
	st := &outcomeReads{Store: memstore.New()}
	f := newFixtureWith(t, st, nil)
	f.chatAndCall(t)
	require.NoError(t, f.svc.Close())

	st.n.Store(0)
	overview := f.get(t, "/dashboard/")
	assert.Equal(t, "1", kpi(t, overview, "kpi-chats"))
	assert.Equal(t, "1", kpi(t, overview, "kpi-forms"))
	assert.Zero(t, st.n.Load(), "outcome reads for the overview")

	st.n.Store(0)
	f.get(t, "/dashboard/leads")
	assert.Positive(t, st.n.Load(), "the leads page shows outcomes")
}
