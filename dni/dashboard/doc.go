// Package dashboard is the admin dashboard of a [dni.Service]: an
// [http.Handler] a Go backend mounts to show its calls, revenue,
// attribution, sources, number pools and exports.
//
//	dash, err := dashboard.New(svc, dashboard.Config{Prefix: "/admin/calls"})
//	if err != nil { … }
//	mux.Handle("/admin/calls/", requireStaff(dash)) // the host's own sign-in
//
// # Authentication
//
// The handler checks no credentials: mount it behind the host's own
// authentication. It serves every call, caller number and revenue figure,
// and its outcome forms change what calls, chats and forms are worth.
// Forms that change data are refused unless they come from the same origin
// ([http.CrossOriginProtection]), so another site cannot make a signed-in
// browser post them.
//
// # Pages
//
// Every page but Exports shows the last 7, 30 or 90 days (?days=, default
// [DefaultDays]): whole UTC days, today's included, from midnight UTC to
// the start of tomorrow, the days the command line's series and
// dni.Service.Series count in, so their totals are the pages' whatever the
// hour. Every table downloads as CSV (?format=csv, the page's filters
// applied; cells a spreadsheet would run as formulas are quoted).
//
//   - Overview (/): calls, qualified calls, call revenue, missed calls,
//     spam, chats and forms, and the calls per channel.
//   - Calls (/calls): the calls log, filtered by outcome (answered, missed,
//     qualified, spam, all but spam) and channel; each call's page
//     (/calls/{provider}/{id}) shows its caller's journey in words ("Chat
//     started (Intercom)", "Qualified call"; a chat's events in the order
//     a chat goes), why the call was credited as it was, and a form to set
//     the call's outcome and value by hand.
//   - Leads (/leads): the chats (one per conversation, however many
//     events it had, as the sources report counts them) and forms, with
//     their outcome and value; each lead's page (/leads/lead?id=, any of
//     its touchpoints; the journey's chat and form steps link to it) has
//     the outcome form for chats and forms. A chat conversation has one
//     outcome, whichever of its events it was set from, and every page of
//     the conversation shows it, also when that event is outside the
//     period.
//   - Attribution (/attribution): every model side by side, a model picker
//     (?model=) and a grouping (?by=channel, source_medium, campaign,
//     keyword); the chart shows the chosen model by the same grouping as
//     the table.
//   - Sources (/sources): channel, source / medium, campaign, keyword and
//     landing page, with spend, cost per call and per qualified call, and
//     return on ad spend under each model.
//   - Pools (/pools): each pool's numbers in use now, peak holders,
//     reuses, and from the period's hold history its use, calls at risk
//     and recommended size, with the reasoning in words and a legend.
//   - Exports (/exports): each export sink's deliveries
//     ([dni.Service.ExportStatus]): pending (unsent, retrying), accepted
//     and rejected, with the platforms' rejection reasons and the last
//     error of a retrying sink. It shows no period: it counts every
//     delivery the store keeps. Without exports it says how to add them
//     ([dni.WithExports]).
//
// # Totals
//
// The overview, the calls log and the attribution read the same period's
// calls and conversions ([dni.Service.Calls], the store's conversions), so
// the overview's calls equal the log's and the sum of its channels, and
// every attribution column sums to the period's conversion value: call
// revenue plus any chat, form or purchase value, which the page breaks
// down.
//
// The pages are server-rendered with html/template, charts are inline SVG
// and nothing needs JavaScript or an outside asset; tables scroll inside
// their card on a narrow phone rather than widening the page.
package dashboard
