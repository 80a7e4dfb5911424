package tracker

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// chatCase is one chat platform: a stand-in of its widget (the JavaScript
// API surface its documentation describes: global, queue stub, event names,
// payload shapes), the site's own install snippet with a handler the site
// set itself, and what the tracker must report.
//
// Every stand-in records the session-id writes it receives in
// window.__writes and exposes window.__chat, which plays the visitor's and
// the agent's actions through the platform's own events: open, agent (an
// agent message, never to be reported), start, visitor (a visitor message
// carrying text and an email address, neither of which may leave the page)
// and lead.
type chatCase struct {
	name     string
	platform string
	snippet  string // the site's install code, run before the widget script
	widget   string // the vendor's script, served as /w/<name>.js
	after    string // site code run once the widget is up
	attrs    string // attributes of the tracker's script tag
	want     []string
	conv     string // conversation id of chat_started and later events
	contact  string // contact id of every event
	selfLoad bool   // the snippet inserts the widget's script tag itself
}

// chatCases are the stand-ins. Each is a few lines of JavaScript written
// from the platform's public JavaScript API documentation.
var chatCases = []chatCase{
	{
		name: "intercom", platform: "intercom",
		// The documented snippet: a queue function that the widget replays.
		snippet: `(function(){var i=function(){i.c(arguments)};i.q=[];i.c=function(a){i.q.push(a)};window.Intercom=i})();
			Intercom("boot", {app_id: "abc123"});
			Intercom("onShow", function () { window.siteFired = 1; });`,
		widget: `(function () {
			var h = {}, q = window.Intercom && window.Intercom.q || [];
			window.__writes = window.__writes || [];
			function I(cmd, a) {
				if (/^on(Show|Hide|UnreadCountChange|UserEmailSupplied)$/.test(cmd)) (h[cmd] = h[cmd] || []).push(a);
				else if (cmd == "update") window.__writes.push(a);
				else if (cmd == "getVisitorId") return "ic-visitor-1";
			}
			window.Intercom = I;
			q.forEach(function (a) { I.apply(null, a); });
			function fire(n, x) { (h[n] || []).forEach(function (f) { f(x); }); }
			window.__chat = {
				open: function () { fire("onShow"); },
				agent: function () { fire("onUnreadCountChange", 1); },
				start: function () {}, visitor: function () {},
				lead: function () { fire("onUserEmailSupplied"); }
			};
		})();`,
		want: []string{"chat_opened", "chat_lead"}, contact: "ic-visitor-1",
	},
	{
		name: "drift", platform: "drift",
		// The documented snippet: drift is an array whose methods queue calls.
		snippet: `(function(){var t=window.driftt=window.drift=window.driftt||[];t.methods=["identify","config","track","reset","debug","show","ping","page","hide","off","on"];
			t.factory=function(e){return function(){var n=Array.prototype.slice.call(arguments);n.unshift(e);t.push(n);return t}};t.methods.forEach(function(e){t[e]=t.factory(e)})})();
			drift.on("startConversation", function () { window.siteFired = 1; });`,
		widget: `(function () {
			var t = window.drift, h = {}, ready = 0;
			window.__writes = window.__writes || [];
			var api = { setUserAttributes: function (a) { window.__writes.push(a); } };
			t.on = function (e, f) { (h[e] = h[e] || []).push(f); if (e == "ready" && ready) f(api, {}); return t; };
			var q = t.splice(0, t.length);
			q.forEach(function (a) { if (t[a[0]]) t[a[0]].apply(t, a.slice(1)); });
			function fire(e, x) { (h[e] || []).forEach(function (f) { f(x); }); }
			setTimeout(function () { ready = 1; t.api = api; fire("ready", api); }, 20);
			var c = {conversationId: 123, inboxId: 1};
			window.__chat = {
				open: function () { fire("chatOpen", {}); },
				agent: function () { fire("message", {conversationId: 123, inboxId: 1, teamMember: {id: 7, name: "Agent"}}); },
				start: function () { fire("startConversation", c); },
				visitor: function () { fire("message:sent", {conversationId: 123, inboxId: 1, data: {sidebarOpen: true, widgetVisible: true, isReplyToDriftMessage: false}}); },
				lead: function () { fire("emailCapture", {data: {email: "jane@example.com", conversationId: 123}}); }
			};
		})();`,
		want: []string{"chat_opened", "chat_started", "chat_message", "chat_lead"}, conv: "123",
	},
	{
		name: "hubspot", platform: "hubspot",
		// The documented ready hook: an array of functions the widget calls.
		snippet: `window.hsConversationsOnReady = [function () {
				window.HubSpotConversations.on("conversationStarted", function () { window.siteFired = 1; });
			}];`,
		widget: `(function () {
			var h = {};
			function fire(e, x) { (h[e] || []).forEach(function (f) { f(x); }); }
			setTimeout(function () {
				window.HubSpotConversations = {
					on: function (e, f) { (h[e] = h[e] || []).push(f); },
					off: function () {},
					widget: { load: function () {}, open: function () {}, status: function () { return {loaded: true}; } }
				};
				(window.hsConversationsOnReady || []).forEach(function (f) { f(); });
			}, 20);
			window.__chat = {
				open: function () { fire("userInteractedWithWidget", {}); },
				agent: function () { fire("unreadConversationCountChanged", {unreadCount: 1}); },
				start: function () { fire("conversationStarted", {conversation: {conversationId: 4242}}); },
				visitor: function () {},
				lead: function () { fire("contactAssociated", {message: "Contact jane@example.com associated"}); }
			};
		})();`,
		want: []string{"chat_opened", "chat_started", "chat_lead"}, conv: "4242",
	},
	{
		name: "zendesk-messaging", platform: "zendesk",
		attrs: ` data-zendesk-field="360001234"`,
		// The Web Widget (Messaging) snippet is a script tag; zE comes with it.
		snippet: ``,
		widget: `(function () {
			var h = {};
			window.__writes = window.__writes || [];
			window.zE = function (ns, e, a) {
				if (ns == "messenger:on") (h[e] = h[e] || []).push(a);
				else if (ns == "messenger:set" && e == "conversationFields") window.__writes.push(a);
			};
			function fire(e, x) { (h[e] || []).forEach(function (f) { f(x); }); }
			window.__chat = {
				open: function () { fire("open"); },
				agent: function () { fire("unreadMessages", 1); },
				start: function () {}, visitor: function () {}, lead: function () {}
			};
			window.zE("messenger:on", "open", function () { window.siteFired = 1; });
		})();`,
		want: []string{"chat_opened"},
	},
	{
		name: "zendesk-classic", platform: "zendesk",
		snippet: ``,
		widget: `(function () {
			var h = {};
			window.__writes = window.__writes || [];
			window.zE = function (ns, e, a) {
				if (ns == "webWidget:on") (h[e] = h[e] || []).push(a);
				else if (ns == "webWidget" && e == "chat:addTags") window.__writes.push(a);
			};
			function fire(e, x) { (h[e] || []).forEach(function (f) { f(x); }); }
			window.__chat = {
				open: function () { fire("open"); },
				agent: function () { fire("chat:unreadMessages", 1); },
				start: function () { fire("chat:start"); },
				visitor: function () { fire("userEvent", {category: "Zendesk Web Widget", action: "Chat Shown", properties: {}}); },
				lead: function () { fire("userEvent", {category: "Zendesk Web Widget", action: "Pre-chat Form Submitted", properties: {}}); }
			};
			window.zE("webWidget:on", "chat:start", function () { window.siteFired = 1; });
		})();`,
		want: []string{"chat_opened", "chat_started", "chat_lead"},
	},
	{
		name: "crisp", platform: "crisp",
		// The documented snippet: $crisp is an array until the chatbox loads.
		snippet: `window.$crisp = []; window.CRISP_WEBSITE_ID = "site-1";
			` + crispLoader + `
			$crisp.push(["on", "message:sent", function () { window.siteFired = 1; }]);`,
		selfLoad: true,
		// Crisp keeps one handler per event: "on" replaces the previous one.
		widget: `(function () {
			var h = {}, q = window.$crisp || [];
			window.__writes = window.__writes || [];
			var C = {
				push: function (c) {
					if (c[0] == "on") h[c[1]] = c[2];
					else if (c[0] == "off") delete h[c[1]];
					else if (c[0] == "set" && c[1] == "session:data") window.__writes.push(c[2]);
				},
				get: function (k) { if (k == "session:identifier") return "session_abc"; },
				is: function () { return false; }
			};
			q.forEach(function (c) { C.push(c); });
			window.$crisp = C;
			function fire(e, x) { if (h[e]) h[e](x); }
			window.__chat = {
				open: function () { fire("chat:opened"); },
				agent: function () { fire("message:received", {type: "text", content: "agent text", origin: "chat"}); },
				start: function () { fire("chat:initiated"); },
				visitor: function () { fire("message:sent", {type: "text", content: "secret text jane@example.com", origin: "chat"}); },
				lead: function () { fire("user:email:changed", "jane@example.com"); }
			};
		})();`,
		// A handler the site binds after the chatbox loaded must still fire.
		after: `$crisp.push(["on", "chat:opened", function () { window.siteOpened = 1; }]);`,
		want:  []string{"chat_opened", "chat_started", "chat_message", "chat_lead"}, conv: "session_abc",
	},
	{
		name: "tawk", platform: "tawk",
		// The documented snippet: Tawk_API callbacks are plain properties.
		snippet: `var Tawk_API = window.Tawk_API || {}, Tawk_LoadStart = new Date();
			Tawk_API.onChatStarted = function () { window.siteFired = 1; };`,
		widget: `(function () {
			var T = window.Tawk_API;
			window.__writes = window.__writes || [];
			setTimeout(function () {
				T.setAttributes = function (a, cb) { window.__writes.push(a); if (cb) cb(); };
				T.getStatus = function () { return "online"; };
				if (T.onLoad) T.onLoad();
			}, 20);
			function fire(e, x) { if (typeof T[e] == "function") T[e](x); }
			window.__chat = {
				open: function () { fire("onChatMaximized"); },
				agent: function () { fire("onChatMessageAgent", "agent text"); },
				start: function () { fire("onChatStarted", {chatId: "tawk-chat-9"}); },
				visitor: function () { fire("onChatMessageVisitor", "secret text jane@example.com"); },
				lead: function () { fire("onPrechatSubmit", [{label: "Email", answer: "jane@example.com"}]); }
			};
		})();`,
		// A callback the site sets after the tracker hooked Tawk_API still fires.
		after: `Tawk_API.onChatMaximized = function () { window.siteOpened = 1; };`,
		want:  []string{"chat_opened", "chat_started", "chat_message", "chat_lead"}, conv: "tawk-chat-9",
	},
	{
		name: "tidio", platform: "tidio",
		// The documented ready event.
		snippet: `document.addEventListener("tidioChat-ready", function () {
				window.tidioChatApi.on("messageFromVisitor", function () { window.siteFired = 1; });
			});`,
		widget: `(function () {
			var h = {};
			window.__writes = window.__writes || [];
			function fire(e, x) { (h[e] || []).forEach(function (f) { f(x); }); }
			setTimeout(function () {
				window.tidioChatApi = {
					on: function (e, f) { (h[e] = h[e] || []).push(f); },
					setVisitorData: function () { window.__writes.push("visitor data is for Tidio's fixed fields"); },
					setContactProperties: function (a) { window.__writes.push(a); },
					open: function () {}
				};
				document.dispatchEvent(new Event("tidioChat-ready"));
			}, 20);
			window.__chat = {
				open: function () { fire("open"); },
				agent: function () { fire("messageFromOperator", {message: "agent text"}); },
				start: function () { fire("conversationStart"); },
				visitor: function () { fire("messageFromVisitor", {message: "secret text jane@example.com"}); },
				lead: function () { fire("preFormFilled", {form_data: {email: "jane@example.com"}}); }
			};
		})();`,
		want: []string{"chat_opened", "chat_started", "chat_message", "chat_lead"},
	},
	{
		name: "livechat", platform: "livechat",
		// The documented tracking code: a LiveChatWidget stub queueing calls
		// in _q until the widget sets _h; getters throw before load.
		snippet: `window.__lc = window.__lc || {}; window.__lc.license = 12345678;
			;(function(n,t,c){function i(n){return e._h?e._h.apply(null,n):e._q.push(n)}var e={_q:[],_h:null,_v:"2.0",on:function(){i(["on",c.call(arguments)])},once:function(){i(["once",c.call(arguments)])},off:function(){i(["off",c.call(arguments)])},get:function(){if(!e._h)throw new Error("[LiveChatWidget] You can't use getters before load.");return i(["get",c.call(arguments)])},call:function(){i(["call",c.call(arguments)])},init:function(){}};n.LiveChatWidget=n.LiveChatWidget||e}(window,document,[].slice));
			LiveChatWidget.on("new_event", function (e) { if (e.author.type == "customer") window.siteFired = 1; });`,
		widget: `(function () {
			var L = window.LiveChatWidget, h = {};
			window.__writes = window.__writes || [];
			function fire(e, x) { (h[e] || []).forEach(function (f) { f(x); }); }
			setTimeout(function () {
				L._h = function (m, a) {
					if (m == "on") (h[a[0]] = h[a[0]] || []).push(a[1]);
					else if (m == "call" && a[0] == "update_session_variables") window.__writes.push(a[1]);
					else if (m == "get" && a[0] == "chat_data") return {chatId: "LC-CHAT-1", threadId: "T1"};
					else if (m == "get" && a[0] == "customer_data") return {id: "lc-customer-1", name: "", email: "", isReturning: false, status: "browsing", sessionVariables: {}};
				};
				L._q.splice(0).forEach(function (c) { L._h.apply(null, c); });
			}, 20);
			function ev(type) { return {timestamp: Date.now(), type: "message", author: {id: type == "customer" ? "lc-customer-1" : "agent@example.com", type: type}}; }
			window.__chat = {
				open: function () { fire("visibility_changed", {visibility: "maximized"}); },
				agent: function () { fire("new_event", ev("agent")); },
				start: function () {},
				visitor: function () { fire("new_event", ev("customer")); },
				lead: function () { fire("form_submitted", {type: "prechat"}); }
			};
		})();`,
		want: []string{"chat_opened", "chat_started", "chat_message", "chat_lead"}, conv: "LC-CHAT-1", contact: "lc-customer-1",
	},
}

// TestChatBrowser runs every stand-in widget in Chromium, once loaded
// before the tracker and once injected late through a script tag, and
// checks what reaches v1/events, the session-id write-back, that the
// site's own handlers still fire, and that nothing private leaves the page.
func TestChatBrowser(t *testing.T) {
	browser := startBrowser(t)
	for _, c := range chatCases {
		for _, late := range []bool{false, true} {
			if late && c.name == "crisp-loaded-first" {
				continue // injected late, it cannot have loaded first
			}
			name := c.name + "/before the tracker"
			if late {
				name = c.name + "/injected late"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				testChatWidget(t, browser, c, late)
			})
		}
	}
}

func testChatWidget(t *testing.T, browser context.Context, c chatCase, late bool) {
	tag := `<script src="{{src}}"` + c.attrs + `></script>`
	widget := "/w/" + c.name + ".js"
	var head string
	if late {
		// As a tag manager does: the snippet and the widget's script tag
		// arrive after the page loaded.
		load := ""
		if !c.selfLoad {
			load = `s = document.createElement("script"); s.src = "` + widget + `"; document.head.appendChild(s);`
		}
		b, _ := json.Marshal(c.snippet)
		head = tag + `<script>addEventListener("load", function () { setTimeout(function () {
			var s = document.createElement("script"); s.text = ` + string(b) + `; document.head.appendChild(s);` + load + `
		}, 300); });</script>`
	} else {
		head = `<script>` + c.snippet + `</script>`
		if !c.selfLoad {
			head += `<script src="` + widget + `"></script>`
		}
		head += tag
	}
	s := newSite(t, browser, Config{}, map[string]string{"/": page(head, "<p>Call (800) 555-1212</p>"), widget: c.widget})
	s.navigate("/")
	s.waitFor("the widget and a session", `!!(window.__chat && window.attriqs && attriqs.ids() && attriqs.ids().session_id)`)
	sid := eval[string](s, `attriqs.ids().session_id`)
	// The widget's asynchronous part (ready callbacks) has run once the
	// session id is written back.
	s.waitFor("our session id written into the widget", fmt.Sprintf(`JSON.stringify([window.__writes, window._hsq]).includes(%q)`, sid))
	if c.after != "" {
		eval[any](s, c.after+`; 0`)
	}

	// An agent's message alone reports nothing but what opening reports.
	eval[any](s, `__chat.open(); __chat.agent(); 0`)
	if len(c.want) > 0 {
		s.waitRequests("v1/events", 1)
	}
	for _, e := range chatEvents(s.stub.requests("v1/events")) {
		if e["type"] != "chat_opened" {
			t.Errorf("after opening and an agent message: %v reported", e)
		}
	}

	eval[any](s, `__chat.start(); __chat.visitor(); __chat.visitor(); __chat.lead(); __chat.agent(); 0`)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for len(chatEvents(s.stub.requests("v1/events"))) < len(c.want) {
		select {
		case <-s.ctx.Done():
			t.Fatalf("reported %v by the tab's deadline, want %v", chatEvents(s.stub.requests("v1/events")), c.want)
		case <-tick.C:
		}
	}
	// Let any duplicate arrive. On a loaded machine one may come later and
	// go unseen: this wait can miss a bug, never invent one.
	time.Sleep(600 * time.Millisecond)
	evs := chatEvents(s.stub.requests("v1/events"))
	var types []string
	for _, e := range evs {
		types = append(types, e["type"].(string))
		if e["platform"] != c.platform {
			t.Errorf("%v: platform, want %q", e, c.platform)
		}
		if c.conv != "" && e["type"] != "chat_opened" && e["conversation_id"] != c.conv {
			t.Errorf("%v: conversation_id, want %q", e, c.conv)
		}
		if c.contact != "" && e["contact_id"] != c.contact {
			t.Errorf("%v: contact_id, want %q", e, c.contact)
		}
		for k := range e {
			if !slices.Contains([]string{"type", "at", "platform", "conversation_id", "contact_id"}, k) {
				t.Errorf("%v: field %q", e, k)
			}
		}
	}
	if !slices.Equal(types, c.want) {
		t.Errorf("reported %v, want each of %v once, in order", types, c.want)
	}
	for _, r := range s.stub.requests("v1/events") {
		if r.SessionID != sid {
			t.Errorf("events of session %q, want %q", r.SessionID, sid)
		}
		b, _ := json.Marshal(r.Events)
		if strings.Contains(string(b), "secret") || strings.Contains(string(b), "@") {
			t.Errorf("events carry message text or an email address: %s", b)
		}
	}
	if !eval[bool](s, `window.siteFired === 1`) {
		t.Error("the site's own handler did not fire")
	}
	if c.after != "" && !eval[bool](s, `window.siteOpened === 1`) {
		t.Error("the handler the site set after the tracker hooked the widget did not fire")
	}
	s.noConsoleErrors()
}

// chatEvents returns the events of requests.
func chatEvents(rs []request) []map[string]any {
	var out []map[string]any
	for _, r := range rs {
		out = append(out, r.Events...)
	}
	return out
}

// crispLoader is Crisp's snippet loading the chatbox asynchronously. The
// real chatbox arrives over the network well after a tracker in the head
// has run; the stand-in is served locally, so it waits a moment to keep
// that order on a loaded machine (which one runs first is the difference
// between the "crisp" and "crisp-loaded-first" cases).
const crispLoader = `setTimeout(function () { var s = document.createElement("script"); s.src = "/w/crisp.js"; s.async = 1; document.head.appendChild(s); }, 200);`

func init() {
	// A Crisp chatbox that loaded before the tracker may already hold the
	// site's handlers, which Crisp keeps one per event and does not expose:
	// the tracker binds none (it would replace them) and only writes the
	// session.
	for _, c := range chatCases {
		if c.name == "crisp" {
			c.name, c.selfLoad, c.want, c.conv = "crisp-loaded-first", false, nil, ""
			c.snippet = strings.Replace(c.snippet, crispLoader, "", 1)
			c.after = ""
			chatCases = append(chatCases, c)
			break
		}
	}
}
