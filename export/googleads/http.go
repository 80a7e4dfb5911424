package googleads

import (
	"bytes"
	"fmt"
	"net/http"
	"time"
)

// ServeHTTP downloads an import file for a period:
//
//	GET ?from=2026-03-01&to=2026-03-08[&kind=clicks|calls]
//
// from and to are dates (midnight in the configured zone) or RFC 3339
// times; the period is [from, to). kind defaults to clicks. The answer is
// text/csv with a Content-Disposition naming the file; bad parameters are
// 400. The handler does no authentication: mount it behind the host's.
func (x *Exporter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	from, err1 := x.parseTime(q.Get("from"))
	to, err2 := x.parseTime(q.Get("to"))
	switch {
	case err1 != nil:
		http.Error(w, "from: "+err1.Error(), http.StatusBadRequest)
		return
	case err2 != nil:
		http.Error(w, "to: "+err2.Error(), http.StatusBadRequest)
		return
	case !from.Before(to):
		http.Error(w, "from must be before to", http.StatusBadRequest)
		return
	}
	kind := q.Get("kind")
	if kind == "" {
		kind = "clicks"
	}
	if kind != "clicks" && kind != "calls" {
		http.Error(w, `kind must be "clicks" or "calls"`, http.StatusBadRequest)
		return
	}
	b, err := x.Export(r.Context(), from, to)
	if err != nil {
		http.Error(w, "export failed", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if kind == "calls" {
		err = x.WriteCalls(&buf, b)
	} else {
		err = x.WriteClicks(&buf, b)
	}
	if err != nil {
		http.Error(w, "export failed", http.StatusInternalServerError)
		return
	}
	name := fmt.Sprintf("google-ads-%s-conversions_%s_%s.csv", map[string]string{"clicks": "click", "calls": "call"}[kind],
		from.In(x.cfg.Location).Format("20060102T1504"), to.In(x.cfg.Location).Format("20060102T1504"))
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
}

func (x *Exporter) parseTime(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, fmt.Errorf("missing (a date such as 2026-03-01, or an RFC 3339 time)")
	}
	if t, err := time.ParseInLocation(time.DateOnly, v, x.cfg.Location); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither a date (2026-03-01) nor an RFC 3339 time", v)
	}
	return t, nil
}
