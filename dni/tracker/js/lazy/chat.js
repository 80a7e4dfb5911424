/* Chat detection: finds the chat widget a site runs (Intercom, Drift,
   HubSpot, Zendesk, Crisp, Tawk.to, Tidio, LiveChat), subscribes to its
   documented JavaScript API and reports chat_opened, chat_started,
   chat_message (visitor messages only) and chat_lead, once each per
   conversation, with the platform's own conversation and contact ids. It
   writes our session id into the widget where the API allows, so that the
   platform's webhooks can be joined to the session. It never reads message
   text, names or email addresses. */
{
  let K = "attriqs_session", seen = {}, got = {}, conv = {}, site = {};
  // Zendesk conversation fields are addressed by id: the site names its field.
  let zf = script && script.getAttribute("data-zendesk-field");
  let o = function (s) { let x = {}; x[K] = s; return x; };

  // report sends one event of platform p, t one of opened, started, message,
  // lead; c is the conversation id when the payload carries one.
  let report = function (p, t, c) {
    let a = [], u, k, e;
    try { a = P[p][3](got[p]) || a; } catch (x) {}
    c = String(c || a[0] || conv[p] || "").slice(0, 128);
    u = String(a[1] || "").slice(0, 128);
    if (c) conv[p] = c;
    k = p + t + c;
    if (seen[k]) return;
    seen[k] = 1;
    e = { type: "chat_" + t, platform: p };
    if (c) e.conversation_id = c;
    if (u) e.contact_id = u;
    send(e);
  };
  // on returns a guarded callback reporting t; the conversation id is read
  // from the payload's usual places.
  let on = function (p, t, test) {
    return guard(function (x) {
      x = x || {};
      if (!test || test(x)) report(p, t, x.conversationId || x.chatId || (x.data || {}).conversationId || (x.conversation || {}).conversationId);
    });
  };
  // chain makes o[k], a plain callback property, call f and then whatever
  // the site set, before or after us.
  let chain = function (o, k, f) {
    let old = o[k];
    let all = function () {
      guard(f).apply(this, arguments);
      if (typeof old == "function") return old.apply(this, arguments);
    };
    Object.defineProperty(o, k, { configurable: true, enumerable: true, get: function () { return all; }, set: function (v) { old = v; } });
  };
  let tell = function (p) {
    let i = ids();
    if (i && i.session_id) for (p in got) guard(P[p][2])(got[p], i.session_id);
  };

  // One entry per platform: [global, subscribe(api, p), write(api, session), ids(api) -> [conversation, contact]].
  let P = {
    intercom: ["Intercom", function (I, p) {
      I("onShow", on(p, "opened"));
      I("onUserEmailSupplied", on(p, "lead"));
    }, function (I, s) { I("update", o(s)); }, function (I) { return [0, I("getVisitorId")]; }],

    drift: ["drift", function (D, p) {
      D.on("chatOpen", on(p, "opened"));
      D.on("sidebarOpen", on(p, "opened")); // the legacy widget's name for it
      D.on("startConversation", on(p, "started"));
      D.on("message:sent", on(p, "message"));
      D.on("emailCapture", on(p, "lead"));
      D.on("phoneCapture", on(p, "lead"));
    }, function (D, s) {
      D.api ? D.api.setUserAttributes(o(s)) : D.on("ready", function (a) { a.setUserAttributes(o(s)); });
    }],

    hubspot: ["HubSpotConversations", function (H, p) {
      H.on("userInteractedWithWidget", on(p, "opened"));
      H.on("conversationStarted", on(p, "started"));
      H.on("contactAssociated", on(p, "lead"));
    }, function (H, s) { (w._hsq = w._hsq || []).push(["identify", o(s)]); }],

    zendesk: ["zE", function (Z, p) {
      Z("messenger:on", "open", on(p, "opened"));
      Z("webWidget:on", "open", on(p, "opened"));
      Z("webWidget:on", "chat:start", on(p, "started"));
      Z("webWidget:on", "userEvent", on(p, "lead", function (x) { return /Form Submitted/.test(x.action); }));
    }, function (Z, s) {
      if (zf) Z("messenger:set", "conversationFields", [{ id: zf, value: s }]);
      Z("webWidget", "chat:addTags", ["attriqs_" + s]);
    }],

    // Crisp keeps one handler per event: a second "on" replaces the first.
    // So our handler stays bound and calls the site's, which we take out of
    // the queue and out of every later push.
    crisp: ["$crisp", function (C, p) {
      let E = { "chat:opened": "opened", "chat:initiated": "started", "message:sent": "message", "user:email:changed": "lead", "user:phone:changed": "lead" };
      // A chatbox that loaded before us may hold handlers of the site that
      // we cannot see: then we bind nothing and only write the session.
      if (C.length >= 0) site.o = 1;
      if (!site.o) return;
      let push = C.push, i, e;
      let mine = function (c) { return c && E[c[1]] && (c[0] == "on" || c[0] == "off"); };
      for (i = C.length; i-- > 0;) if (mine(C[i])) site[C[i][1]] = C.splice(i, 1)[0][2];
      C.push = function (c) {
        if (!mine(c)) return push.apply(C, arguments);
        site[c[1]] = c[2];
      };
      C.push.q = 1;
      for (e in E) push.call(C, ["on", e, (function (e, f) {
        return function () {
          f();
          if (typeof site[e] == "function") return site[e].apply(this, arguments);
        };
      })(e, on(p, E[e]))]);
    }, function (C, s) { C.push(["set", "session:data", [[[K, s]]]]); }, function (C) { return [C.get("session:identifier")]; }],

    tawk: ["Tawk_API", function (T, p) {
      chain(T, "onLoad", function () { tell(); });
      chain(T, "onChatMaximized", on(p, "opened"));
      chain(T, "onChatStarted", on(p, "started"));
      chain(T, "onChatMessageVisitor", on(p, "message"));
      chain(T, "onPrechatSubmit", on(p, "lead"));
      chain(T, "onOfflineSubmit", on(p, "lead"));
    }, function (T, s) { if (T.setAttributes) T.setAttributes({ "attriqs-session": s }, function () {}); }],

    tidio: ["tidioChatApi", function (T, p) {
      T.on("open", on(p, "opened"));
      T.on("conversationStart", on(p, "started"));
      T.on("messageFromVisitor", on(p, "message"));
      T.on("preFormFilled", on(p, "lead"));
    // Tidio keeps only contact properties created in its panel.
    }, function (T, s) { T.setContactProperties(o(s)); }],

    livechat: ["LiveChatWidget", function (L, p) {
      L.on("visibility_changed", on(p, "opened", function (x) { return x.visibility == "maximized"; }));
      L.on("new_event", guard(function (x) {
        if (x && x.author && x.author.type == "customer") { report(p, "started"); report(p, "message"); }
      }));
      L.on("form_submitted", on(p, "lead", function (x) { return x.type != "postchat"; }));
    // update_, not set_session_variables, which would wipe the site's own.
    }, function (L, s) { L.call("update_session_variables", o(s)); }, function (L) {
      return [L.get("chat_data").chatId, L.get("customer_data").id];
    }]
  };

  // check hooks every platform whose global is there and new (a loader may
  // replace its queue stub with the real object), or whose push lost our wrapper.
  let check = guard(function () {
    for (let p in P) {
      let g = w[P[p][0]];
      if (g && (got[p] !== g || p == "crisp" && site.o && !g.push.q)) {
        got[p] = g;
        guard(P[p][1])(g, p);
        tell();
      }
    }
  });
  onStart(function () {
    check();
    onSession(tell);
    // Widgets injected late (tag managers, consent tools): every insertion
    // (an inline snippet has run by then, its loader has not: Crisp's queue
    // is still ours to take), every script that loads (an element's load
    // event stops at the document: a capturing listener there sees it),
    // Tidio's and HubSpot's ready hooks, and a poll at 1, 4, 9, 16 and 25 s.
    if (w.MutationObserver) new MutationObserver(check).observe(d.documentElement, { childList: true, subtree: true });
    d.addEventListener("load", check, true);
    d.addEventListener("tidioChat-ready", check);
    (w.hsConversationsOnReady = w.hsConversationsOnReady || []).push(check);
    for (let i = 1; i < 6; i++) setTimeout(check, 1e3 * i * i);
  });
}
