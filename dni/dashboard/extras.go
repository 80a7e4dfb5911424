package dashboard

import (
	"net/http"

	"github.com/attriqs/calltrack/store"
)

var storeNotFound = store.ErrNotFound

// routeExtras registers the pages built on newer Service methods.
func (h *handler) routeExtras() {}

// extraNav links the pages routeExtras adds.
func (h *handler) extraNav(days string) []Link { return nil }

// outcomeForm is the data of a call's outcome form; nil without one.
func (h *handler) outcomeForm(r *http.Request, c callRow) any { return nil }
