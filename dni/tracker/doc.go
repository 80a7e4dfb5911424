// Package tracker builds and serves the browser tracker: the one script a
// site includes so that its phone numbers show the visitor's tracking
// numbers, digit for digit in the page's own format.
//
// The script is plain JavaScript (ES2017, no dependencies, one IIFE) in
// js/, minified ahead of time by go generate into tracker.min.js, which is
// committed and embedded. [Build] puts the site's [Config] into it and
// compresses it; [Script.Handler] serves it. Package dni mounts the handler
// at {prefix}tracker.js (prefix default /dni/) next to the endpoints the
// script calls.
//
//	s, err := tracker.Build(tracker.Config{})
//	mux.Handle("/dni/tracker.js", s.Handler())
//	// in the page's <head>, before the phone numbers:
//	// <script src="/dni/tracker.js?v=HASH"></script>   (s.Src("/dni/"))
//
// A synchronous tag in the head lets the second and later page views swap
// numbers as the page is parsed, before the first paint. async and defer
// work too, at the price of a possible flash of the original number.
//
// # Backend contract
//
// The script sends these requests, to the configured [Config.Prefix] or
// else to the directory it was loaded from. Each is a fetch POST with
// credentials "same-origin" (the site's cookies go to a backend on the
// page's own origin, none to another), a JSON body and, because the body
// is a string, the browser's default Content-Type
// "text/plain;charset=UTF-8": a CORS "simple" request that needs no
// preflight. The backend must accept that
// content type (as well as application/json) and decode the body as JSON;
// the script sends exactly the fields below and nothing else, so a strict
// decoder (DisallowUnknownFields) accepts it.
//
//	POST {prefix}v1/visit     {"visitor_id","session_id","url","referrer","ad_ids"?,"ads_withdrawn"?,"again"?}
//	POST {prefix}v1/heartbeat {"visitor_id","session_id"}
//	POST {prefix}v1/events    {"visitor_id","session_id","events":[{"type","at",...}]}
//	POST {prefix}v1/forget    {}   (only with Config.ServerCookie, when consent is withdrawn or denied)
//
// The ids are empty strings on a first visit. url is location.href (UTM
// parameters and click ids included), referrer is document.referrer.
// ad_ids is there only with ads consent (see "Ads consent and the ad
// platforms' ids"). visit and heartbeat answer 200 with
//
//	{"visitor_id","session_id","source":{...},
//	 "swaps":[{"target":"+18005551212","number":"+18005550199","display":"(800) 555-0199"}],
//	 "expires_at":"RFC3339","heartbeat_s":60}
//
// (a heartbeat may answer 204 instead); events answer 202 (an events batch
// answered 400 is dropped, the backend having refused it for good; any
// other failure keeps it for the next send). The script keeps
// whatever ids the answer carries (ids match [A-Za-z0-9_-]{1,64}), swaps
// each target (E.164) for its number (E.164), and puts the original back for
// a target that an answer no longer lists. An empty swaps list (crawlers, or
// the pool gave the original number) swaps nothing. A heartbeat answer with
// other swaps (the lease moved) re-swaps the page. Every request is aborted
// after [Config.RequestTimeout]; any failure, timeout or non-2xx answer leaves
// the numbers as they are and writes nothing to the console.
//
// The visitor id is the backend's to issue: one it refuses, a visit or
// heartbeat answered 400 with a JSON body whose "error" starts with
// "visitor_id" (an id kept from before the backend signed its ids, or one
// it no longer verifies), makes the script delete its stored ids and send
// the page's visit again without them, once per page view.
//
// When the page is hidden or left (visibilitychange to hidden, pagehide) the
// script sends a last heartbeat, and any queued events, with
// navigator.sendBeacon: also a text/plain JSON body, to the same endpoints.
//
// # Ids, sessions and the cached number
//
// The visitor id lives in the first-party cookie _attriqs_v (path /,
// SameSite=Lax, Secure on https, Max-Age [Config.VisitorLifetime], domain
// [Config.CookieDomain] when set) and in localStorage; both are renewed on
// each answer. With a CookieDomain such as "example.com", www.example.com
// and shop.example.com read the same cookie, so they share one visitor
// (localStorage stays per origin; the cookie is read when it has none).
//
// Safari keeps what a script writes (localStorage, document.cookie) for 7
// days without a visit; a cookie a server on the site's own domain sets
// lives as long as its Max-Age. With [Config.ServerCookie], the backend
// serving the API from the site's own origin sets the visitor id in an
// HttpOnly, Secure, SameSite=Lax cookie of its own (dni names it
// _attriqs_vs) on each visit and heartbeat answer, and takes the id from
// it when a visit's body has none: a visitor whose page storage was purged
// comes back as the same visitor. The script cannot read or delete that
// cookie; when consent is withdrawn or denied it posts an empty object to
// {prefix}v1/forget, whose answer deletes it.
//
// With [Config.LinkDomains], a click on a link to one of those domains (or
// their subdomains) on another host than the page's adds the visitor id
// to the link as the query parameter _attriqs. A page loaded with it
// adopts the id when it is well formed ([A-Za-z0-9_-]{1,64}) and the
// visitor has none there yet, and removes the parameter from the address
// bar (history.replaceState) before the visit is sent. Both happen only
// with tracking consent. The script trusts nothing else about the
// parameter: the id goes to the backend as any stored id does, and the
// backend verifies it (dni refuses one it did not sign; the script then
// starts a new visitor). Anyone who sees a decorated link sees the id,
// and one opened by someone else makes them that visitor: list only
// domains of the same owner, sharing the backend's signing keys. The session id, its last
// activity, and the session's swaps with their expires_at live in the one
// localStorage entry _attriqs. A page view within [Config.SessionTimeout]
// of the last activity, whose lease has not expired, swaps from that cache
// synchronously while the page is parsed (a MutationObserver started in the
// head) and still sends its visit. With [Config.HideUntilSwapped], a page
// view without a cached number hides the page (opacity 0 on the root
// element, set through the CSSOM so a strict style-src CSP does not block
// it) until the answer or [Config.HideTimeout], whichever comes first; a
// page already shown (consent given later) is never hidden.
//
// Heartbeats start after the first answer and run every heartbeat_s of the
// last answer ([Config.Heartbeat] when it carries none) while
// document.visibilityState is visible; they stop while hidden and resume
// (at once, if one is overdue) when the page shows again. A 204 heartbeat
// moves the cached lease expiry on by the time since the last answer. When
// a request of a known session fails, the next heartbeat is the retry.
//
// # What is swapped
//
//   - text: every text node, in runs of adjacent text nodes of one block
//     (inline elements such as span, b, a do not break a run), so
//     <span>800</span>-<span>555</span>-<span>1212</span> is one number. The
//     digits are rewritten in place, one by one; separators, spacing and
//     markup stay as written.
//   - formats: the national significant number of a target with any of the
//     separators space, no-break space, . - / ( ) and the dashes U+2010 to
//     U+2015, optionally after its country code (with +, 00 or 011), after
//     the country code and a "(0)", or after the trunk prefix (0; 1 in the
//     NANP, 8 for +7): "(800) 555-1212", "800.555.1212", "1-800-555-1212",
//     "+1 800 555 1212", "+44 20 7946 0000", "+44 (0)20 7946 0000",
//     "020 7946 0000". A match touching another digit is not a match. When
//     the tracking number cannot be written digit for digit (another length,
//     or another country in a national format) its display text replaces
//     the match.
//   - href="tel:..." of links (and of [data-attriqs-phone] elements), in
//     whatever format the href uses.
//   - [data-attriqs-phone] elements and the elements of [Config.Selectors]:
//     their whole text is matched as one piece, across block children. A
//     placeholder that names its line and shows no digits and no child
//     element, <span data-attriqs-phone="+18005551212"></span>, gets the
//     display text of that line's tracking number (and, if tracking stops
//     later, the business number in the same format).
//   - never: data-attriqs-noswap elements and their children, SCRIPT
//     (JSON-LD included), NOSCRIPT, STYLE, TEXTAREA, INPUT, SELECT, TEMPLATE,
//     [contenteditable].
//
// Later insertions and changes (SPA routes, pop-ups, widgets, text and href
// changes) are swapped by a MutationObserver, with the lease already held:
// no further request. The observer drops the records of the script's own
// writes, so it never reacts to itself.
//
// # JavaScript API
//
// window.attriqs is an array until the script loads (a queue the site may
// fill first) and then an object:
//
//	window.attriqs = window.attriqs || [];
//	attriqs.push(["consent", false]);    // queued: deny before the script runs
//	attriqs.consent(true);               // start or resume tracking
//	attriqs.consent(false);              // stop: ids deleted, originals back, no requests
//	attriqs.adsConsent(true);            // the ad platforms' ids go with the visit (default: not granted)
//	attriqs.adsConsent(false);           // they do not, whatever Consent Mode says
//	attriqs.push(["adsConsent", true]);  // queued, before the script runs
//	attriqs.swap(element);               // re-scan a subtree (default: the document); returns the count changed
//	attriqs.ids();                       // {visitor_id, session_id} or null
//	attriqs.track("signup", {plan: "pro", seats: 3}); // a custom event: true when queued
//	attriqs.push(["track", "video:play"]);            // queued, before the script runs
//	attriqs.formOutcome(form, "sent");   // what became of a form's submission (see "Forms")
//	attriqs.push(function (a) { ... });  // run once the script is loaded
//
// track(name, props) sends an event of type "custom" (a touchpoint of kind
// custom): name of 1 to 64 characters of A-Z a-z 0-9 _ . : -; props, if
// given, a plain object of at most 10 keys of 1 to 32 such characters,
// each value a string of at most 100 characters, a finite number or a
// boolean. It returns true once the event is queued, and false, sending
// nothing and writing nothing to the console, for anything else or
// without consent.
//
// Consent is granted by default. A script tag with data-consent="pending"
// waits for attriqs.consent(true): until then, and whenever consent is
// denied, the script stores nothing (and deletes what it stored), sends
// nothing and swaps nothing. The site's consent tool calls it on every page
// view; the script does not remember the choice itself.
//
// # Forms
//
// Every form submission on the page is an event of type "form" (a
// touchpoint of kind form): the submit event, caught on the document in
// the capture phase, so forms inserted later count too, as do
// form.requestSubmit() and a submit handler that calls preventDefault and
// posts with fetch or XMLHttpRequest; and form.submit(), which fires no
// event, through a wrapper of HTMLFormElement.prototype.submit that calls
// the original; submit() of a form whose submit event was seen in this
// page view adds nothing, so a page that cancels the event to validate
// (or await a captcha) and then calls submit() records one submission.
// Both are set up when tracking starts, not before consent.
// The event is
//
//	{"type":"form","at","name","page","outcome"?,"email_sha256"?,"email_google_sha256"?,"phone_sha256"?}
//
// name is the form's id attribute, else its name attribute, else the path
// of its action, else "form" (at most 128 characters; control characters,
// which the backend refuses, become spaces); page is
// location.pathname. A form inside an element with data-attriqs-noform
// (the form itself included) is skipped.
//
// The event leaves at once as a beacon, so a plain form post that leaves
// the page does not lose it (a first page view whose visit is not yet
// answered keeps it queued until the answer, and loses it if the page is
// left first).
//
// Fields are never sent. Only with ads consent (see below) the script
// reads two: the first input that is type=email, or whose autocomplete has
// the token email or whose name contains "email", and the first that is
// type=tel or whose autocomplete has the token tel; never a hidden,
// password or card input (an autocomplete token cc-*, as in "cc-number"
// or "billing cc-number"), and no other field. The
// email, trimmed and lower-cased, when it has the shape a@b, and the phone
// in E.164 go as the hex SHA-256 (crypto.subtle; none where it is missing)
// in email_sha256 and phone_sha256, the form the ad platforms' conversion
// uploads take. Google Ads also removes the dots before the @ of a
// gmail.com or googlemail.com address before hashing, and the other
// platforms do not: for such an address written with dots, the hash of
// the address without them goes too, in email_google_sha256 (it is never
// sent when it would equal email_sha256). A hash finished after ads
// consent went is dropped. A
// phone written with + or 00 is taken as it is (a "(0)"
// after the country code dropped); a national number only with
// [Config.PhoneCountryCode], its trunk prefix dropped (0; 1 in the NANP;
// Italy's 0 kept); anything that is then no E.164 number is not sent.
//
// attriqs.formOutcome(form, outcome) reports what became of the last
// submission of that form (the element, or its name as above) in this page
// view, outcome 1 to 32 characters of A-Z a-z 0-9 _ . : -: the event goes
// again with the same at and the outcome (and its hashes only while ads
// consent holds), and the backend updates that
// submission's touchpoint. It returns false, sending nothing, for a form
// not submitted in this page view, a bad outcome, or without consent. A
// page reached after a plain form post reports its own event with
// attriqs.track instead.
//
//	form.addEventListener("submit", e => {
//	  e.preventDefault();
//	  fetch(form.action, {method: "POST", body: new FormData(form)})
//	    .then(r => attriqs.formOutcome(form, r.ok ? "sent" : "failed"));
//	});
//
// # Ads consent and the ad platforms' ids
//
// For the server-to-server conversion uploads (Google Ads, GA4, Meta) the
// visit request carries the ad platforms' browser ids as ad_ids, the JSON
// of journey.AdIDs, but only with the visitor's ads consent, a consent of
// its own that is not granted by default. It is granted by
// attriqs.adsConsent(true) (or the queued ["adsConsent", true], or a script
// tag with data-ads-consent="granted"); attriqs.adsConsent(false) withholds
// it. Left unset, Google Consent Mode decides: granted when the page's
// ad_user_data is "granted". The script reads that state from the gtag()
// commands in window.dataLayer (["consent", "default"|"update", {...}]):
// the last update wins; without one, a default scoped to regions counts
// only when it denies (the script cannot tell whether the visitor is in
// them, so a regional denial is taken to apply and a regional grant is
// not), and otherwise the last default. Tracking consent still governs
// everything: without it nothing is sent at all.
//
// Without ads consent no cookie is read (the tracker's own visitor cookie
// aside) and ad_ids is left out. With it, ad_ids is
//
//	{"consent":true,"ga_client_id","ga_session_id","fbp","fbc","ad_user_data","ad_personalization"}
//
// each field left out when absent:
//
//   - ga_client_id: from the _ga cookie, "GA1.1.1234567890.1700000000"
//     gives "1234567890.1700000000" (the random number and the first
//     visit's time, after the version and the cookie domain's depth).
//   - ga_session_id: from the GA4 stream's cookie _ga_<id>, both formats:
//     "GS1.1.1747132561.3.1..." (the third field) and the newer
//     "GS2.1.s1747132561$o3$g1$t..." (the field prefixed s, in any
//     position). [Config.GAMeasurementID] names the stream; without it the
//     first _ga_ cookie that holds a session id is read.
//   - fbp, fbc: the _fbp and _fbc cookies as Meta's pixel wrote them. The
//     backend builds fbc from the landing URL's fbclid when there is no
//     _fbc cookie, so the script does not.
//   - ad_user_data, ad_personalization: Consent Mode's state as above,
//     forwarded as "granted" or "denied" (even when attriqs.adsConsent(true)
//     granted ads consent: the backend then shares no user data with
//     Google when ad_user_data is "denied").
//
// Ads consent given after the page view's visit was answered
// (attriqs.adsConsent(true), or a Consent Mode update that the next
// heartbeat or the page hiding finds) sends that visit again, same ids and
// URL, with ad_ids, once per page view; the backend adds them to the live
// session; such a visit carries "again":true, so the backend does not count
// it as another page view. Withdrawing ads consent after the ids went (attriqs.adsConsent
// (false), or a Consent Mode update denying ad_user_data) sends the visit
// once more with "ads_withdrawn":true and no ad_ids: the backend forgets
// the session's ids, so nothing more of it reaches an ad platform. A new
// page view that starts without ads consent sends nothing of the kind: the
// consent tool may not have run yet.
//
// # Configuration
//
// [Config] is inlined into the script as a small JSON object, so the script
// needs no second request. [Build] puts the object where the minified
// script holds its placeholder (a string replacement, no JavaScript is
// parsed at run time), with <, >, &, U+2028, U+2029 and every other
// non-ASCII character escaped, so that it is safe inside a script element
// too. Its zero value means the defaults (365-day
// visitor id, 30-minute session, no hiding, 60 s heartbeat, 5 s request
// timeout, endpoints next to the script). [Config.Validate] names every bad
// field at once. Different configs give different content hashes.
//
// # Adding a module
//
// Further features are separate source files in this package's js
// directory, compiled by
//
//	go generate ./dni/tracker
//
// A file in js/ itself (forms.js) is compiled into tracker.min.js, in name
// order, inside the core's function scope, before tracking starts. A file
// in js/lazy/ (chat.js) becomes a script of its own, <name>.min.js, which
// the tracker loads from its own directory once tracking starts (never
// without consent; with the tag's CSP nonce), so the number swap never
// waits for it and it costs the page's tag nothing: chat widgets load late
// anyway. Its source is wrapped as window.attriqs.m(function (send, ids,
// onStart, onSession, guard, cfg, w, d, script) {...}), so it reads as if
// compiled in. Chat detection is served as [ChatFile] ([Script.Chat];
// package dni mounts it) and [Config.DisableChat] leaves it out. A module
// is a list of statements; wrap it in a block or a function to keep its
// names its own. It may use:
//
//	send(events)      queue events ({type, at?, ...}) for v1/events: posted within 0.5 s,
//	                  beaconed on page hide, dropped without consent
//	ids()             {visitor_id, session_id} or null
//	onStart(fn)       fn() once, when tracking starts (consent given)
//	onSession(fn)     fn(ids()) whenever the backend confirms a new session id
//	guard(fn)         fn wrapped so that it can never throw into the page
//	cfg, w, d         the inlined config, window, document
//	script            the tracker's script element (for data- attributes)
//
// A module must catch its own errors (use guard for every callback it hands
// to a widget) and must keep the whole script within the size budget below;
// TestSizeBudget fails beyond it. A syntax error in a module fails go
// generate with the module's file name, and TestGeneratedScriptIsCurrent
// fails while tracker.min.js is not what js/ minifies to.
//
// # Minifier
//
// esbuild's Go API (github.com/evanw/esbuild/pkg/api) minifies the script,
// rather than tdewolff/minify: it renames the locals of the IIFE and folds
// syntax, which gives a smaller output, it parses with a full JavaScript
// parser that rejects a broken module, and its ES2017 target lowers newer
// syntax a module might use instead of shipping it. It runs only in the
// generator (internal/gen, through internal/jsbuild) and in tests, so no
// host binary links it; TestHostsDoNotLinkEsbuild checks the import graph
// of package dni. At run time [Build] only validates, splices the config in,
// gzips and hashes: about a millisecond (BenchmarkBuild); serving costs
// nothing.
//
// # Compression
//
// The handler serves gzip (best compression) or identity. Brotli is not
// offered: its best level saved about 630 bytes over gzip but took some
// 26 ms and 36 MB of allocation per Build, its fast levels saved under 200
// bytes, and its encoder added about 1 MB to every host binary. The script
// is cached for a year under its hashed URL, so the difference is paid once
// per visitor; a CDN in front may still recompress.
//
// # Size
//
// What the page's tag loads, tracker.js with every module compiled in,
// must stay at most 6 KB minified and gzipped; chat detection, loaded
// later as ChatFile, at most 2 KB. With the default config they are 12,995
// bytes minified and 6,017 gzip, and 4,142 and 1,697 (the one script with
// chat detection compiled in was 6,141 bytes gzipped before forms, track
// and the identity options). TestSizeBudget logs the current figures and
// fails above either budget. CallRail's swap.js is about 36 KB minified,
// 11 KB gzipped.
//
// # Tests
//
// The browser tests (TestBrowser) run the script in headless Chromium via
// chromedp against an httptest stub of the backend contract; they skip
// without Chromium unless CALLTRACK_REQUIRE_SERVICES=1. The 1,000-number
// swap time is logged by TestBrowser/1000_numbers (five page views; the
// fastest and the median):
//
//	go test -run 'TestBrowser/1000' -v ./dni/tracker/
//
// It measures, inside the page, from the script's first statement to its
// return with a cached assignment (all 1,000 numbers, 200 of them tel:
// links, swapped synchronously; the visit request started), and
// attriqs.swap on a fresh copy of the same numbers with warm code; it also
// checks that with the tracker in the head all 1,000 numbers are swapped by
// DOMContentLoaded. On the 2-core development machine with other builds
// running (load average 4 to 10) the first figure was 17 to 42 ms at best
// (medians 28 to 58 ms) and the second 11 to 20 ms at best; most of the
// first is code running for the first time. These are wall-clock figures
// and move with the machine's load.
package tracker
