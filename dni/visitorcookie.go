package dni

import (
	"cmp"
	"errors"
	"net/http"

	"github.com/attriqs/calltrack/dni/tracker"
)

// VisitorCookie is the name of the cookie the tracker API keeps the
// visitor id in when Config.Tracker.ServerCookie is on: HttpOnly, Secure,
// SameSite=Lax, Path=/, for Tracker.VisitorLifetime, on
// Tracker.CookieDomain when one is set. Set by a server of the site's own
// domain, it outlives Safari's 7-day purge of the storage scripts write;
// the script cannot read it, so it has a name of its own (the script's
// cookie is _attriqs_v).
const VisitorCookie = "_attriqs_vs"

// cookieVisitor is the visitor id in r's VisitorCookie when it verifies;
// "" when ServerCookie is off or the request has none. An id that does
// not verify (another site's, or one signed under a key no longer in
// VisitorKeys) is ignored as if absent, not refused: the tracker cannot
// delete an HttpOnly cookie, so refusing it would refuse every visit of
// that browser; the answer replaces it with the id the visit gets.
func (s *Service) cookieVisitor(r *http.Request) string {
	if !s.cfg.Tracker.ServerCookie {
		return ""
	}
	c, err := r.Cookie(VisitorCookie)
	if err != nil {
		return ""
	}
	if err := s.visitorIDs.verify(c.Value); err != nil {
		s.log.Debug("dni: ignoring the visitor cookie", "err", err)
		return ""
	}
	return c.Value
}

// setVisitorCookie sets VisitorCookie to id, renewing its lifetime, or
// deletes it when id is empty; nothing when ServerCookie is off.
func (s *Service) setVisitorCookie(w http.ResponseWriter, id string) {
	t := s.cfg.Tracker
	if !t.ServerCookie {
		return
	}
	c := &http.Cookie{Name: VisitorCookie, Value: id, Path: "/", Domain: t.CookieDomain,
		MaxAge:   int(cmp.Or(t.VisitorLifetime, tracker.DefaultVisitorLifetime).Seconds()),
		HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode}
	if id == "" {
		c.MaxAge = -1 // Max-Age=0: delete
	}
	http.SetCookie(w, c)
}

// serveForget answers v1/forget, which the tracker posts when the visitor
// withdraws or denies consent with ServerCookie on: it deletes
// VisitorCookie, which the script cannot. The body is an empty object.
func (s *Service) serveForget(w http.ResponseWriter, _ *http.Request, body []byte) (any, int, error) {
	var req struct{}
	if err := decodeStrict(body, &req); err != nil {
		return nil, http.StatusBadRequest, err
	}
	if !s.cfg.Tracker.ServerCookie {
		return nil, http.StatusNotFound, errors.New("no visitor cookie: Tracker.ServerCookie is off")
	}
	s.setVisitorCookie(w, "")
	return nil, http.StatusNoContent, nil
}
