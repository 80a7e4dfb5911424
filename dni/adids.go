package dni

import (
	"strconv"
	"strings"
	"time"

	"github.com/attriqs/calltrack/classify"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/provider"
)

// maxAdIDLen bounds each ad id a browser sends; real ones are under 100
// bytes.
const maxAdIDLen = 256

// cleanAdIDs keeps what the browser sent of the ad platforms' ids only
// with the visitor's ads consent, each id bounded and printable, the
// consent signals only when they say granted or denied. Without a _fbc
// cookie, Meta's click id is built from the landing URL's fbclid as Meta
// documents: "fb.1.<unix ms>.<fbclid>".
func cleanAdIDs(in journey.AdIDs, src classify.Source, now time.Time) journey.AdIDs {
	if !in.Consent {
		return journey.AdIDs{}
	}
	// An id is kept as sent or dropped, never altered: one cut at
	// maxAdIDLen or stripped of control characters is another id, which
	// the platform would match to someone else or refuse.
	clean := func(s string) string {
		s = strings.TrimSpace(s)
		if len(s) > maxAdIDLen || provider.CleanText(s, maxAdIDLen) != s || strings.ContainsAny(s, " \t\n") {
			return ""
		}
		return s
	}
	signal := func(s string) string {
		if s == "granted" || s == "denied" {
			return s
		}
		return ""
	}
	out := journey.AdIDs{Consent: true, GAClientID: clean(in.GAClientID), GASessionID: clean(in.GASessionID),
		FBP: clean(in.FBP), FBC: clean(in.FBC), AdUserData: signal(in.AdUserData), AdPersonalization: signal(in.AdPersonalization)}
	if fbclid := clean(src.ClickID.Value); out.FBC == "" && src.ClickID.Param == "fbclid" && fbclid != "" {
		out.FBC = "fb.1." + strconv.FormatInt(now.UnixMilli(), 10) + "." + fbclid
	}
	return out
}

// mergeAdIDs folds a page view's ids into the session's: an id seen once
// is kept, a later page view fills in what was missing, and the consent
// signals are the latest the page set. A page view without consent leaves
// the session as it was; a withdrawal (VisitRequest.AdsWithdrawn) clears
// it before this merge.
func mergeAdIDs(session, page journey.AdIDs) journey.AdIDs {
	if !page.Consent {
		return session
	}
	or := func(a, b string) string {
		if a != "" {
			return a
		}
		return b
	}
	session.Consent = true
	session.GAClientID, session.GASessionID = or(session.GAClientID, page.GAClientID), or(session.GASessionID, page.GASessionID)
	session.FBP, session.FBC = or(session.FBP, page.FBP), or(session.FBC, page.FBC)
	session.AdUserData, session.AdPersonalization = or(page.AdUserData, session.AdUserData), or(page.AdPersonalization, session.AdPersonalization)
	return session
}
