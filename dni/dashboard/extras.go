package dashboard

import "github.com/attriqs/calltrack/store"

var storeNotFound = store.ErrNotFound

// routeExtras registers the pages built on newer Service methods.
func (h *handler) routeExtras() {
	h.mux.HandleFunc("POST /calls/{provider}/{id}/outcome", h.setOutcome)
	h.mux.HandleFunc("GET /sources", h.page("sources", h.sources))
	h.mux.HandleFunc("GET /exports", h.page("exports", h.exports))
	h.mux.HandleFunc("GET /leads", h.page("leads", h.leads))
	h.mux.HandleFunc("GET /leads/lead", h.page("lead", h.lead))
	h.mux.HandleFunc("POST /leads/outcome", h.setLeadOutcome)
}

// extraNav links the pages routeExtras adds.
func (h *handler) extraNav(days string) []Link {
	return []Link{{"Leads", h.cfg.Prefix + "/leads" + days}, {"Sources", h.cfg.Prefix + "/sources" + days}}
}
