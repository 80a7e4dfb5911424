// Package dni is the facade of calltrack: one [Service] that a host
// backend builds with [New] and mounts with [Service.Handler].
//
// # What it wires
//
// A Service classifies each visit (package classify), picks a pool per
// business line and leases the session a tracking number (package pool),
// answers telephony webhooks with the forward to the real line and records
// the calls (package provider), stitches each call to the session that
// held its number and qualifies it (package journey), and persists all of
// it (package store). [New] validates the whole [Config] at once and names
// every problem.
//
// # Routing visits to pools
//
// Each distinct business number among the pools is a business line; every
// line gets its own tracking number. For each line the pool is the one
// whose Serves lists the visit's route (the Pool outcome of a rule in
// Config.Classify.Rules), else its GA4 channel, else the line's default pool (empty
// Serves).
//
// # The tracker API
//
// POST {prefix}v1/visit takes {visitor_id, session_id, url, referrer} and
// answers {visitor_id, session_id, source, swaps: [{target, number,
// display}], expires_at, heartbeat_s}. Bodies are JSON (sent as
// application/json or text/plain, which needs no CORS preflight), decoded
// strictly and limited in size; requests are rate-limited per address and
// per visitor. Crawlers get no session and no swaps. Every visit is a
// page view of its session: the session's PageViews and ExitURL travel in
// the session write the visit makes anyway, written behind and batched,
// so a busy site pays no write per page view.
//
// With Config.Tracker.ServerCookie, serve the API from the site's own
// origin over HTTPS: visit and heartbeat answers then set the visitor id
// in the HttpOnly cookie [VisitorCookie] (on Tracker.CookieDomain when
// set), a visit whose body has no visitor id takes the cookie's, verified
// as a body id is (one that fails is ignored and replaced, never
// refused), and POST {prefix}v1/forget deletes it. Safari's 7-day purge of
// script storage then no longer makes returning visitors new ones.
//
// # Calls
//
// The routing answer comes from memory only, so callers reach the business
// even when the store is down. Each webhook's event is fsynced in the
// spool ([WithSpoolDir]) before the answer is written, and recorded from
// there by [Service.RecordCall]; events the store refuses for good are
// kept as dead letters ([Service.DeadLetters]). [Service.Health] says when
// the service is degraded and why, and its metrics go through the
// OpenTelemetry API ([WithMeterProvider]).
//
// # Forms
//
// The tracker reports form submissions on v1/events as touchpoints of kind
// form (name, page, and the outcome the page reports later, which updates
// the same touchpoint). Config.FormRules make them conversions of type
// journey.ConversionForm, as Config.Qualify does calls: the first rule
// whose scope (form name or glob, a page path and the paths below it)
// matches decides, by its conditions (RequireOutcome, FirstTimeOnly per
// visitor, Verified), at its Value and Currency. The conversion's id is the touchpoint's
// ([journey.FormConversionID]), so a resent event or its outcome rewrites
// it and queues no second export; an outcome set by hand
// ([Service.SetOutcome]) wins over the rules and reaches the sinks that
// had the conversion as an adjustment.
//
// Browser form conversions are claims, as GA4's generate_lead is: anyone
// can post v1/events. What a forger gets is bounded by one conversion per
// session and rule for the browser's forms (however many submissions a
// session claims), FirstTimeOnly, and the per-visitor rate limit.
// A host that needs verified form conversions reports the forms it
// received with [Service.RecordForm] and sets FormRule.Verified, which
// counts those only.
//
// # Background work
//
// New opens what can fail and starts no goroutine. [Service.Run] does all
// the background work under one errgroup until its context ends or Close
// is called: it records the spooled call events, writes hold history and
// the visits' delayed writes, sweeps expired leases, applies
// Config.Retention and delivers exports. Without Run, webhooks are still
// answered and spooled, and [Service.Health] says nothing is recorded.
// [Service.Close] stops Run, makes the last delivery pass, writes what is
// pending and waits for all of it.
package dni
