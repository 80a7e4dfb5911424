/* Form tracking: each submission (the submit event, caught on the document
   in the capture phase so that forms inserted later count too, and
   form.submit(), which fires none) becomes a "form" event with the form's
   name and the page; with ads consent also the SHA-256 of the normalised
   email and phone fields. No other field is ever read. See the package
   documentation, "Forms". */
{
  let last = new Map(), // form name -> its last submission's event, for formOutcome
    seen = new WeakSet(); // forms submitted in this page view
  // name: the form's id, else its name, else its action's path. Attributes,
  // not properties: a field named "id" or "action" shadows those. Control
  // characters become spaces: the backend refuses them, and its 400 would
  // keep the whole queue from leaving.
  let name = function (f) {
    let a = function (n) { return f.getAttribute(n); };
    return (a("id") || a("name") || a("action") && guard(function () { return new URL(a("action"), location.href).pathname; })() || "form").replace(/[\0-\x1f\x7f-\x9f]/g, " ").slice(0, 128);
  };
  // val is the trimmed value of the first input of f matching s that is not
  // hidden, a password or a card field (autocomplete cc-*, also after a
  // section or billing token); those are never read.
  let val = function (f, s) {
    let e = [].find.call(f.querySelectorAll(s), function (e) { return !e.matches("[type=hidden],[type=password],[autocomplete*=cc-]"); });
    return e ? e.value.trim() : "";
  };
  // e164: "+..." or "00..." as written; a national number only with the
  // configured country code (trunk 0, or 1 in the NANP, dropped; Italy keeps its 0).
  let e164 = function (v) {
    let n = v.replace(/\(0\)/, "").replace(/\D/g, ""), c = cfg.cc;
    n = "+" + (v[0] == "+" ? n : /^00/.test(n) ? n.slice(2) : c ? c + (c == "39" ? n : n.replace(c == "1" ? /^1(?=\d{10}$)/ : /^0/, "")) : "");
    return E164.test(n) && n;
  };
  // hash: the hex SHA-256 of s (a promise), or nothing without s or crypto.subtle.
  let hash = guard(function (s) {
    return s && crypto.subtle.digest("SHA-256", new TextEncoder().encode(s)).then(function (b) {
      return [].map.call(new Uint8Array(b), function (x) { return (x + 256).toString(16).slice(1); }).join("");
    });
  });
  // sub records a submission of f; k: by form.submit(), which counts only
  // for a form whose submit event did not (a page that validates, or waits
  // for a captcha, cancels the event and then calls submit()).
  let sub = guard(function (f, k) {
    if (consent != 1 || !f || k && seen.has(f) || f.closest("[data-attriqs-noform]")) return;
    seen.add(f);
    let n = name(f), e = { type: "form", name: n, page: location.pathname.slice(0, 512) }, h = [], m, g;
    last.set(n, e);
    send(e);
    if (adsOn()) {
      m = val(f, "input[type=email],input[autocomplete~=email i],input[name*=email i]").toLowerCase();
      // g: the address as Google Ads normalises it, the dots before the @
      // of a gmail.com or googlemail.com address removed; hashed too only
      // when that changes it. Other platforms keep the dots.
      g = m.replace(/\.(?=[^@]*@g(oogle)?mail\.com$)/g, "");
      m = /^[^\s@]+@[^\s@]+$/.test(m) && m;
      h = [hash(m), hash(e164(val(f, "input[type=tel],input[autocomplete~=tel i]"))), m && g != m && hash(g)];
    }
    // A beacon, not a fetch: a plain form post leaves the page at once.
    // Ads consent may have gone while the hashes were made.
    let go = guard(function (a) {
      if (a && adsOn()) {
        if (a[0]) e.email_sha256 = a[0];
        if (a[1]) e.phone_sha256 = a[1];
        if (a[2]) e.email_google_sha256 = a[2];
      }
      flush(1);
    });
    Promise.all(h).then(go, go);
  });
  onStart(function () {
    d.addEventListener("submit", function (v) { sub(v.target); }, true);
    let P = HTMLFormElement.prototype, s = P.submit;
    P.submit = function () { sub(this, 1); return s.apply(this, arguments); };
  });
  // formOutcome(form or its name, outcome) reports what became of the
  // form's last submission in this page view: the event goes again, same
  // time, with the outcome, so the backend updates its touchpoint.
  api.formOutcome = guard(function (f, o) {
    let e = last.get(f && f.nodeType ? name(f) : f);
    if (!e || consent != 1 || !/^[\w.:-]{1,32}$/.test(o)) return false;
    e.outcome = o;
    // Without ads consent (withdrawn since), the hashes do not go again.
    if (!adsOn()) delete e.email_sha256, delete e.email_google_sha256, delete e.phone_sha256;
    send(e);
    return true;
  });
}
