/* calltrack browser tracker: first-party ids, the visit request and phone
   number swapping. Plain ES2017, no dependencies, one IIFE. The Go package
   replaces the config placeholder with the site's configuration and inserts
   optional modules (chat detection, ...) at the modules marker, so they share
   this scope: they may call send(events), ids(), onStart(fn), onSession(fn)
   and guard(fn) (see the package documentation, "Adding a module").
   Every entry point is guarded: a failure here must never break the page. */
(function (w, d) {
  "use strict";
  var cfg = __ATTRIQS_CONFIG__;
  var prev = w.attriqs;
  if (prev && prev.v) return; // included twice: the first copy stays in charge

  var KEY = "_attriqs", CKEY = "_attriqs_v", MIN = 6e4;
  var E164 = /^\+[1-9]\d{6,14}$/, ID = /^[\w-]{1,64}$/;
  // Country codes of two digits; 1 and 7 are the one-digit ones, all others have three.
  // (20 27 30-34 36 39 40 41 43-49 51-58 60-66 81 82 84 86 90-95 98)
  var CC2 = /^(2[07]|3[0-469]|4[013-9]|5[1-8]|6[0-6]|8[1246]|9[0-58])/;
  // Separators a page may put between the digits of a phone number.
  var SEP = "[\\s().\\-/\\u00a0\\u2010-\\u2015]*";
  // TAGS: 1 for inline elements (a number may run across them), 2 for
  // elements whose text is never swapped; other elements end a run of text.
  var TAGS = {}, SKIPTAGS = "SCRIPT NOSCRIPT STYLE TEXTAREA INPUT SELECT TEMPLATE";
  "A ABBR B BDI BDO BIG CITE CODE DATA DFN EM FONT I KBD LABEL MARK NOBR Q S SAMP SMALL SPAN STRONG SUB SUP TIME TT U VAR".split(" ").forEach(function (t) { TAGS[t] = 1; });
  SKIPTAGS.split(" ").forEach(function (t) { TAGS[t] = 2; });
  var NOSEL = "[data-attriqs-noswap],[contenteditable]";
  var SKIPSEL = SKIPTAGS.toLowerCase().split(" ").concat(NOSEL).join(",");
  var TELSEL = 'a[href^="tel:" i],[data-attriqs-phone][href]';

  var consent = 1; // 0 pending, 1 granted, 2 denied
  var ads = 0, adsSent = 0, vurl; // ads consent as consent; the last visit carried ad ids; its URL
  var started = 0, gen = 0, hooks = [], ran = 0, sessionHooks = [], told = "";
  var st = {}; // persisted: v visitor, vx its expiry, s session, sl last activity, sw swaps, sx lease expiry
  var shown = {}; // target -> swap currently shown on the page
  var hist = {}; // target -> {number: 1} shown earlier in this page view (re-swapped if met again)
  var rules = [], re = null, mo = null;
  var hbT, hbMs = cfg.hb * 1e3, lastBeat = 0, hideT, hidden = 0, oldOpacity = "", beaconed = 0;
  var queue = [], qT, booting = 1, renewed = 0;

  var script = d.currentScript || d.querySelector('script[src*="tracker.js"]');
  var src = ((script && script.src) || "").split(/[?#]/)[0];
  // Endpoints: the configured prefix, else the script's own directory; a
  // path is resolved against the script's origin.
  var base = cfg.p || (src ? src.replace(/[^/]*$/, "") : "/dni/");
  try { base = new URL(base, src || location.href).href; } catch (e) {}
  var sels = (cfg.sel || []).filter(function (s) {
    try { d.querySelector(s); return 1; } catch (e) { return 0; }
  });
  var XSEL = ["[data-attriqs-phone]"].concat(sels).join(",");

  function guard(f) {
    return function () {
      try { return f.apply(this, arguments); } catch (e) { /* never break the page */ }
    };
  }
  function now() { return Date.now(); }

  /* ---- storage: one localStorage entry plus the visitor cookie ---- */

  function load() {
    try { return JSON.parse(localStorage.getItem(KEY)) || {}; } catch (e) { return {}; }
  }
  // setCookie writes the visitor cookie, on cfg.cd unless h (host only).
  function setCookie(v, age, h) {
    try {
      d.cookie = CKEY + "=" + v + ";path=/;max-age=" + age + ";samesite=lax" + (location.protocol == "https:" ? ";secure" : "") + (cfg.cd && !h ? ";domain=" + cfg.cd : "");
    } catch (e) {}
  }
  function persist() {
    if (consent != 1) return;
    st.vx = now() + cfg.vd * 864e5;
    try { localStorage.setItem(KEY, JSON.stringify(st)); } catch (e) {}
    if (st.v) setCookie(st.v, cfg.vd * 86400);
  }
  // cookie returns the first capture of v (default: the whole value) in
  // the first cookie named n that matches it.
  function cookie(n, v) {
    return (RegExp("(?:^|; *)" + n + "=" + (v || "([^;]+)")).exec(d.cookie) || 0)[1];
  }
  function forget() {
    try { localStorage.removeItem(KEY); } catch (e) {}
    setCookie("", 0);
    // and the host's own, written before CookieDomain was set
    setCookie("", 0, 1);
    st = {};
    // Consent withdrawn or denied: the backend deletes its HttpOnly cookie,
    // which no script can.
    if (cfg.sc && consent - 1 && w.fetch) post("v1/forget", {});
  }
  function ids() {
    return consent == 1 && st.v ? { visitor_id: st.v, session_id: st.s || "" } : null;
  }
  // deco adds the visitor id to a link clicked to another of the site's
  // domains (cfg.ld and their subdomains), whose tracker adopts it.
  function deco(e) {
    var a = e.target.closest("a[href]"), u, h;
    if (!a || consent != 1 || !st.v) return;
    u = new URL(a.href);
    h = u.hostname;
    if (h != location.hostname && cfg.ld.some(function (x) { return h == x || h.slice(-x.length - 1) == "." + x; })) {
      u.searchParams.set(KEY, st.v);
      a.href = u.href;
    }
  }

  /* ---- number matching ---- */

  function split(e) {
    var s = e.slice(1), a = s[0], c = a == "1" || a == "7" ? 1 : CC2.test(s) ? 2 : 3;
    return { c: s.slice(0, c), n: s.slice(c) };
  }
  function dig(s) { return s.split("").join(SEP); }
  // One number in every common written form: bare national significant
  // number, trunk prefix (0, or 1 in the NANP), country code with +, 00 or 011,
  // and the "+44 (0)20" style.
  function pattern(p) {
    return "((?:(?:(?:\\+|00|011)" + SEP + ")?" + dig(p.c) + SEP + "(?:0" + SEP + ")?|" + (p.c == "1" ? "1" : p.c == "7" ? "8" : "0") + SEP + ")?" + dig(p.n) + ")";
  }
  function isD(s, i) { var c = s.charCodeAt(i); return c > 47 && c < 58; }
  // The digits to write over the matched ones, or undefined when the page's
  // layout cannot hold the new number digit for digit.
  function digits(D, r) {
    var f = r.f, t = r.t, P = D.slice(0, D.length - f.n.length), i;
    if (f.n.length != t.n.length) return;
    if (f.c != t.c) {
      i = P.lastIndexOf(f.c);
      if (i < 0 || f.c.length != t.c.length) return;
      P = P.slice(0, i) + t.c + P.slice(i + f.c.length);
    }
    return P + t.n;
  }

  function rebuild() {
    var t, all = {};
    rules = [];
    for (t in shown) all[t] = 1;
    for (t in hist) all[t] = 1;
    for (t in all) {
      var to = shown[t] ? shown[t].number : t, disp = (shown[t] && shown[t].display) || to;
      [t].concat(Object.keys(hist[t] || {})).forEach(function (f) {
        if (f != to) rules.push({ f: split(f), t: split(to), d: disp });
      });
    }
    re = rules.length ? new RegExp(rules.map(function (r) { return pattern(r.f); }).join("|"), "g") : null;
  }

  // swapRun rewrites the numbers found in the concatenated text of nodes
  // (adjacent text nodes of one block, or {data} holders for attributes),
  // digit by digit, keeping every separator. It returns how many nodes changed.
  function swapRun(nodes) {
    var S = "", at = [], ep = [], ec = [], i, j, k, m, x, n = 0;
    for (i = 0; i < nodes.length; i++) { at.push(S.length); S += nodes[i].data; }
    if (S.length < 7) return 0;
    re.lastIndex = 0;
    // Collect the edits (position in S, new text) in ascending order.
    while ((m = re.exec(S))) {
      var a = m.index, b = a + m[0].length, D = "", r, nd;
      if (isD(S, a - 1) || isD(S, b)) { re.lastIndex = a + 1; continue; }
      for (k = 1; m[k] == null; k++);
      r = rules[k - 1];
      for (i = a; i < b; i++) if (isD(S, i)) D += S[i];
      nd = digits(D, r);
      if (nd) {
        for (i = a, x = 0; i < b; i++) if (isD(S, i)) { if (S[i] != nd[x]) { ep.push(i); ec.push(nd[x]); } x++; }
      } else {
        // Not writable digit for digit: the display text replaces the whole
        // number, with an opening parenthesis just before it.
        if (S[a - 1] == "(" && m[0].indexOf(")") > 0) a--;
        for (i = a; i < b; i++) { ep.push(i); ec.push(i == a ? r.d : ""); }
      }
    }
    // Rebuild only the nodes that hold an edit.
    for (j = 0, k = 0; j < nodes.length && k < ep.length; j++) {
      var end = j + 1 < nodes.length ? at[j + 1] : S.length, pos = at[j], out = "";
      if (ep[k] >= end) continue;
      for (; k < ep.length && ep[k] < end; k++) { out += S.slice(pos, ep[k]) + ec[k]; pos = ep[k] + 1; }
      nodes[j].data = out + S.slice(pos, end);
      n++;
    }
    return n;
  }

  function tel(e) {
    var h = e.getAttribute("href");
    if (h && /^tel:/i.test(h)) {
      var o = { data: h };
      if (swapRun([o])) { e.setAttribute("href", o.data); return 1; }
    }
    return 0;
  }
  // all returns root (if it matches sel) and its descendants matching sel.
  function all(root, sel) {
    var a = [].slice.call(root.querySelectorAll(sel));
    if (root.matches(sel)) a.unshift(root);
    return a;
  }
  function blockOf(e) {
    while (e && TAGS[e.tagName] == 1) e = e.parentNode;
    return e;
  }

  // scan swaps every number under root (an element): tel: links, explicit
  // phone elements (their whole text as one piece), and the text of every
  // block as runs of adjacent text nodes, so that
  // <span>800</span>-<span>555</span>-<span>1212</span> is one number.
  // It walks with a native TreeWalker and skips excluded subtrees whole.
  // With from and to (children of root, in order), only that range of
  // children is walked; the tel: and explicit passes still cover root.
  function scan(root, from, to) {
    if (!re || !root || root.nodeType != 1 || root.closest(SKIPSEL)) return 0;
    var n = 0, run = [], blk, lp, lb, t, node, no = new Set(root.querySelectorAll(NOSEL));
    var tw = d.createTreeWalker(root, 5), stop = to ? to.nextSibling : null;
    function end() {
      if (run.length) { n += swapRun(run); run = []; }
    }
    all(root, TELSEL).forEach(function (e) { if (!e.closest(SKIPSEL)) n += tel(e); });
    all(root, XSEL).forEach(function (e) {
      if (e.closest(SKIPSEL)) return;
      var w2 = d.createTreeWalker(e, 4), x;
      while ((x = w2.nextNode())) if (!x.parentNode.closest(SKIPSEL)) run.push(x);
      end();
      // An empty placeholder naming its line, <span data-attriqs-phone="+1...">
      // </span>, shows the tracking number's display text.
      x = shown[e.getAttribute("data-attriqs-phone")];
      if (x && !e.firstElementChild && !/\d/.test(e.textContent)) { e.textContent = x.display || x.number; n++; }
    });
    // Cheap pre-check: every number of a run is also in root's whole text.
    re.lastIndex = 0;
    if (!re.test(root.textContent)) return n;
    node = from ? (tw.currentNode = from) : tw.nextNode();
    while (node && node != stop) {
      if (node.nodeType == 3) {
        if (node.parentNode !== lp) { lp = node.parentNode; lb = blockOf(lp); }
        if (lb !== blk) { end(); blk = lb; }
        run.push(node);
      } else {
        t = TAGS[node.tagName];
        if (t != 1) end();
        if (t == 2 || no.has(node)) {
          // Skip the subtree: on to the next sibling, or an ancestor's.
          while (!(node = tw.nextSibling()) && tw.parentNode());
          continue;
        }
      }
      node = tw.nextNode();
    }
    end();
    return n;
  }

  var OPTS = { childList: true, subtree: true, characterData: true, attributes: true, attributeFilter: ["href"] };
  // write runs fn (which changes the DOM) and drops the mutation records our
  // own writes caused, so the observer never reacts to itself. Records the
  // page queued before are handled afterwards.
  function write(fn) {
    var pend = mo ? mo.takeRecords() : [];
    fn();
    if (mo) mo.takeRecords();
    if (pend.length) onMut(pend);
  }
  function onMut(recs) {
    if (!re) return;
    var set = new Set(), groups = new Map(), added = new Set();
    function add(e) { if (e && e.nodeType == 1) set.add(e); }
    // covered: e is gone, or inside another root or an added block.
    function covered(e) {
      for (var p = e; p; p = p.parentNode) if (set.has(p) && p != e || groupedIn(p)) return 1;
      return !e.isConnected;
    }
    function groupedIn(p) { return added.has(p) && p.nodeType == 1 && TAGS[p.tagName] != 1 && groups.has(p.parentNode); }
    // What to re-scan: the block around a change (a number may have been
    // completed across nodes); added block elements, which no number runs
    // across, as one range of children per parent (the parser adds many).
    // A change inside a node added in this batch is covered by that node's
    // own scan.
    recs.forEach(function (r) {
      var t = r.target, g;
      if (added.has(t)) return;
      if (r.type == "attributes") add(t);
      else if (r.type == "characterData") add(blockOf(t.parentNode));
      else r.addedNodes.forEach(function (a) {
        added.add(a);
        if (a.nodeType == 1 && TAGS[a.tagName] != 1) {
          if (!(g = groups.get(t))) groups.set(t, g = []);
          g.push(a);
        } else if (a.nodeType == 1 || /\d/.test(a.data)) add(blockOf(t)); // added text without digits completes no number
      });
    });
    write(function () {
      groups.forEach(function (g, p) {
        if (p.nodeType != 1 || covered(p)) return;
        // The range from the first to the last of them, found by walking
        // siblings (compareDocumentPosition is linear in the siblings too).
        var want = new Set(g.filter(function (a) { return a.parentNode == p; })), first, last, c;
        if (!want.size) return;
        first = last = want.values().next().value;
        for (c = first; c && want.size; c = c.nextSibling) if (want.delete(c)) last = c;
        for (c = first.previousSibling; c && want.size; c = c.previousSibling) if (want.delete(c)) first = c;
        scan(p, first, last);
      });
      set.forEach(function (e) { if (!covered(e)) scan(e); });
    });
  }

  // apply shows list (the server's swaps) on the page: new numbers are
  // swapped in, numbers no longer leased go back to the original.
  function apply(list) {
    var next = {}, changed = 0, t;
    (list || []).forEach(function (s) {
      if (s && E164.test(s.target) && E164.test(s.number) && s.target != s.number) next[s.target] = s;
    });
    for (t in shown) {
      (hist[t] = hist[t] || {})[shown[t].number] = 1;
      if (!next[t] || next[t].number != shown[t].number) changed = 1;
    }
    for (t in next) if (!shown[t]) changed = 1;
    shown = next;
    rebuild();
    if (changed) write(function () { scan(d.documentElement); });
    // Observe after the first scan, so that its writes queue no records.
    if (re && !mo && w.MutationObserver) {
      mo = new MutationObserver(guard(onMut));
      mo.observe(d.documentElement, OPTS);
    }
  }

  /* ---- hide until swapped ---- */

  function hide() {
    var s = d.documentElement.style;
    oldOpacity = s.opacity;
    s.opacity = "0";
    hidden = 1;
    hideT = setTimeout(guard(unhide), cfg.hide);
  }
  function unhide() {
    clearTimeout(hideT);
    if (hidden) { hidden = 0; d.documentElement.style.opacity = oldOpacity; }
  }

  /* ---- requests ---- */

  // post sends body as JSON in a text/plain request (a CORS "simple" request:
  // no preflight) and calls cb with the parsed answer, {} for an empty 2xx
  // answer, or null on any failure or timeout; after a 400, the second
  // argument is the answer's error text.
  function post(path, body, cb) {
    var g = gen, ctl = w.AbortController && new AbortController(), code = 0;
    var tm = setTimeout(function () { if (ctl) ctl.abort(); }, cfg.rt);
    function done(j, e) {
      clearTimeout(tm);
      if (cb && g == gen && consent == 1) cb(j, e);
    }
    fetch(base + path, { method: "POST", body: JSON.stringify(body), credentials: "same-origin", signal: ctl && ctl.signal })
      .then(function (r) { code = r.status; return code == 200 || code == 400 ? r.json() : r.ok ? {} : null; })
      .then(guard(function (j) {
        j = j && typeof j == "object" ? j : null;
        if (code == 400) done(null, String((j && j.error) || ""));
        else done(j);
      }), guard(function () { done(null); }));
  }
  function beacon(path, body) {
    try { navigator.sendBeacon(base + path, JSON.stringify(body)); } catch (e) {}
  }

  // got takes the answer of visit or heartbeat. An answer refusing the
  // visitor id (one kept from before the backend signed its ids, or made
  // for another site) drops the stored ids and visits again without them:
  // once per page view, so a backend that keeps refusing is not asked
  // again and again.
  function got(j, e) {
    if (!j && /^visitor_id\b/.test(e || "") && !renewed) {
      renewed = 1;
      forget();
      return visit();
    }
    unhide();
    if (!j) {
      // Failed: a known session still beats (and so retries) every interval.
      lastBeat = now();
      return schedule();
    }
    if (ID.test(j.visitor_id)) st.v = j.visitor_id;
    if (ID.test(j.session_id)) st.s = j.session_id;
    // An empty answer (204) renewed the lease by the time since the last answer.
    if (!Array.isArray(j.swaps) && st.sx && st.sl) st.sx += now() - st.sl;
    st.sl = lastBeat = now();
    if (j.heartbeat_s > 0) hbMs = Math.max(1, j.heartbeat_s) * 1e3;
    if (Array.isArray(j.swaps)) {
      st.sw = j.swaps;
      st.sx = Date.parse(j.expires_at) || 0;
      apply(j.swaps);
    }
    persist();
    if (st.s && st.s != told) {
      told = st.s;
      sessionHooks.forEach(function (f) { guard(f)(ids()); });
    }
    flush();
    schedule();
    if (late()) revisit();
  }

  /* ---- ad platforms' ids, with ads consent only ---- */

  // gcm is Google Consent Mode's state of key k from the gtag() commands in
  // dataLayer: the last update, else a regional default's denial (the
  // visitor may be in that region), else the last default.
  function gcm(k) {
    var u, r, f;
    (w.dataLayer || []).forEach(function (e) {
      var o = e && e[0] == "consent" && e[2], v = o && o[k];
      if (!v) return;
      if (e[1] == "update") u = v;
      else if (e[1] == "default") o.region ? v == "denied" && (r = v) : f = v;
    });
    return u || r || f;
  }
  // adsOn: attriqs.adsConsent decides; unset, Consent Mode's ad_user_data.
  var adsOn = guard(function () { return ads == 1 || !ads && gcm("ad_user_data") == "granted"; });
  // revisit sends the page view's visit (again, when ads consent came after
  // it: a visit of a live session adds the ids to it). Without ads consent
  // no cookie is read and ad_ids is left out.
  function revisit(useBeacon) {
    var b = { visitor_id: st.v || "", session_id: st.s || "", url: vurl, referrer: d.referrer };
    // Consent withdrawn after ids went with this page's visit: the server
    // forgets the session's ids.
    if (adsSent && !adsOn()) b.ads_withdrawn = true;
    // Sent again after this page view's visit was answered: no new page view.
    if (told) b.again = true;
    if ((adsSent = adsOn())) guard(function () {
      b.ad_ids = {
        consent: true,
        // _ga is "GA1.<domain depth>.<random>.<first visit>": the client id is the last two.
        ga_client_id: cookie("_ga", "GA\\d\\.[\\d-]+\\.(\\d+\\.\\d+)(;|$)"),
        // _ga_<stream> is "GS1.1.<session id>.<count>..." or "GS2.1.s<session id>$o<count>$..." (in any order).
        ga_session_id: cookie("_ga_" + (cfg.ga || "\\w+"), "GS(?:1\\.[\\d-]+\\.|2\\.[\\d-]+\\.(?:[^;]*\\$)?s)(\\d+)"),
        fbp: cookie("_fbp"),
        fbc: cookie("_fbc"),
        ad_user_data: gcm("ad_user_data"),
        ad_personalization: gcm("ad_personalization")
      };
    })();
    if (useBeacon) beacon("v1/visit", b);
    else post("v1/visit", b, got);
  }
  function visit() {
    vurl = location.href;
    revisit();
  }
  // late: ads consent came, or went, after this page view's visit was
  // answered.
  function late() { return consent == 1 && told && adsSent != adsOn(); }
  function schedule() {
    clearTimeout(hbT);
    if (consent == 1 && st.s && d.visibilityState != "hidden")
      hbT = setTimeout(guard(beat), Math.max(0, lastBeat + hbMs - now()));
  }
  function beat() {
    lastBeat = now();
    if (late()) revisit();
    else post("v1/heartbeat", { visitor_id: st.v, session_id: st.s }, got);
  }
  // bye runs when the page is hidden or left: it stops the heartbeat and
  // sends one last heartbeat and any queued events as beacons.
  function bye() {
    clearTimeout(hbT);
    if (consent != 1 || !st.s || beaconed) return;
    beaconed = 1;
    flush(1);
    if (late()) revisit(1);
    else beacon("v1/heartbeat", { visitor_id: st.v, session_id: st.s });
    st.sl = now();
    persist();
  }

  /* ---- events, for modules ---- */

  // send queues events ({type, at?, ...}) for v1/events; they leave within
  // a second, or as a beacon when the page is hidden.
  function send(evs) {
    if (consent != 1) return;
    [].concat(evs).forEach(function (e) {
      if (e && e.type) {
        if (!e.at) e.at = new Date().toISOString();
        if (queue.length < 100) queue.push(e);
      }
    });
    clearTimeout(qT);
    qT = setTimeout(guard(flush), 500);
  }
  function flush(useBeacon) {
    if (!queue.length || !st.s || !st.v || consent != 1) return;
    var b = { visitor_id: st.v, session_id: st.s, events: queue.splice(0, 50) };
    if (useBeacon) beacon("v1/events", b);
    // Failed in transit: queued again. Refused (400): dropped, or it would
    // block every later event of the page view.
    else post("v1/events", b, function (j, e) { if (!j && e == null) queue = b.events.concat(queue).slice(0, 100); });
  }
  // onStart registers fn to run once, when tracking starts (consent given;
  // now, if it has started). The ids may still be empty then.
  function onStart(fn) {
    hooks.push(fn);
    if (ran) guard(fn)();
  }
  // onSession registers fn(ids()) to run whenever the backend gives a new
  // session id (the first answer of a page view included); now, if known.
  function onSession(fn) {
    sessionHooks.push(fn);
    if (consent == 1 && told) guard(fn)(ids());
  }

  /* ---- life cycle and consent ---- */

  function start() {
    if (started || consent != 1 || !w.fetch) return;
    started = 1;
    var t = now(), c, q = RegExp("[?&]" + KEY + "=([^&#]*)").exec(location.search);
    st = load();
    if (!(st.vx > t && ID.test(st.v))) {
      c = cookie(CKEY) || ""; // localStorage cleared: the cookie may remain
      st.v = ID.test(c) ? c : "";
    }
    // A decorated link (deco) brings the visitor id of another domain: a
    // visitor new here adopts it. The parameter leaves the address bar.
    if (q) {
      if (!st.v && ID.test(q[1])) st.v = q[1];
      try { history.replaceState(history.state, "", location.href.replace(RegExp("([?&])" + KEY + "=[^&#]*&?"), "$1").replace(/[?&](#|$)/, "$1")); } catch (e) {}
    }
    if (!(st.sl + cfg.sm * MIN > t && ID.test(st.s))) st = { v: st.v };
    // The session's cached lease swaps synchronously, as the page is parsed.
    if (st.sx > t && Array.isArray(st.sw) && st.sw.length) apply(st.sw);
    else if (cfg.hide && booting) hide(); // never hide a page already shown (late consent)
    visit();
    if (!ran) {
      ran = 1;
      if (cfg.ld) d.addEventListener("click", guard(deco), true);
      hooks.forEach(function (f) { guard(f)(); });
    }
  }
  function stop() {
    gen++;
    started = 0;
    told = "";
    clearTimeout(hbT);
    clearTimeout(qT);
    queue = [];
    forget();
    unhide();
    apply([]);
    if (mo) mo.disconnect();
    mo = null;
  }
  function setConsent(v) {
    if (v) {
      if (consent != 1) { consent = 1; start(); }
    } else if (consent != 2) {
      consent = 2;
      stop();
    }
  }

  var api = {
    v: 1,
    // m(f) runs a lazily loaded module (js/lazy/): f gets the core's names
    // that a module compiled in would see.
    m: guard(function (f) { f(send, ids, onStart, onSession, guard, cfg, w, d, script); }),
    // swap re-scans root (default: the whole document) and returns how many
    // text nodes and links it changed.
    swap: guard(function (root) {
      var n = 0;
      if (consent == 1) write(function () { n = scan(root || d.documentElement); });
      return n;
    }),
    // consent(true) starts (or resumes) tracking, consent(false) stops it,
    // deletes the ids and puts the original numbers back.
    consent: guard(setConsent),
    // adsConsent(true|false): the visitor's consent to their conversions
    // being reported to ad platforms (see the package documentation).
    adsConsent: guard(function (v) {
      ads = v ? 1 : 2;
      if (late()) revisit();
    }),
    // ids returns {visitor_id, session_id}, or null when there is none (yet)
    // or tracking is denied: for forms that pass them to the backend.
    ids: guard(ids),
    // track(name, props) queues a custom event and returns true; false, and
    // nothing sent, without consent or beyond the documented bounds.
    track: guard(function (n, p) {
      var o = {}, r = /^[\w.:-]{1,64}$/, ok = consent == 1 && typeof n == "string" && r.test(n) &&
        (p == null || typeof p == "object" && !Array.isArray(p) && Object.keys(p).length < 11);
      if (ok) Object.keys(p || o).forEach(function (k) {
        var v = p[k], t = typeof v;
        if (k.length < 33 && r.test(k) && (t == "string" ? v.length < 101 : t == "number" ? isFinite(v) : t == "boolean")) o[k] = v;
        else ok = false;
      });
      if (ok) send({ type: "custom", name: n, props: o });
      return ok;
    }),
    // push runs a queued command: ["consent", false], ["swap", el] or fn(attriqs).
    push: guard(function (c) {
      if (typeof c == "function") c(api);
      else if (c && c[0] != "push" && typeof api[c[0]] == "function") api[c[0]].apply(api, c.slice(1));
    })
  };

  try {
    w.attriqs = api;
    if (script && script.getAttribute("data-consent") == "pending") consent = 0;
    if (script && script.getAttribute("data-ads-consent") == "granted") ads = 1;
    if (Array.isArray(prev)) prev.forEach(api.push);
    d.addEventListener("visibilitychange", guard(function () {
      if (d.visibilityState == "hidden") bye();
      else { beaconed = 0; schedule(); }
    }));
    w.addEventListener("pagehide", guard(bye));
    // At DOMContentLoaded, before any listener of the page runs (capture on
    // window), the observer's pending records are handled: page code that
    // reads a number then already sees the tracking number.
    w.addEventListener("DOMContentLoaded", guard(function () { if (mo) onMut(mo.takeRecords()); }), true);
    // Chat detection is a script of its own, next to this one, loaded once
    // tracking starts: the swap never waits for it, and without consent it
    // is never fetched.
    if (cfg.ch) onStart(function () {
      var e = d.createElement("script");
      e.src = (src ? src.replace(/[^/]*$/, "") : base) + cfg.ch;
      e.nonce = (script && script.nonce) || "";
      (d.head || d.documentElement).appendChild(e);
    });
    /*@modules@*/
    start();
  } catch (e) { /* never break the page */ }
  booting = 0;
})(window, document);
