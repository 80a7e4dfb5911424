package dashboard

import (
	"embed"
	"encoding/csv"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/attriqs/calltrack/dni"
	"github.com/attriqs/calltrack/report"
)

// Config sets up the dashboard. The zero value means the documented
// defaults.
type Config struct {
	// Prefix is the path the host mounts the handler under, without a
	// trailing slash, e.g. "/dashboard"; links are built from it. Empty
	// means the handler is mounted at the root.
	Prefix string
	// Title heads every page; empty means "calltrack".
	Title string
	// Currency is the ISO 4217 code money is shown in when there is none
	// yet; empty means "USD".
	Currency string
	// Location is the time zone times are shown in; nil means time.Local.
	Location *time.Location
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// NoCalls is what the calls pages say before the first call: tell the
	// reader what to do. Empty means a sentence about tracking numbers.
	NoCalls string
	// Links are extra links in every page's header (the host's own pages).
	Links []Link
	// Logger receives the errors a page could not show; nil means
	// slog.Default().
	Logger *slog.Logger
}

// Link is a link in the header.
type Link struct{ Label, Href string }

// Periods are the periods a page may show, in days; DefaultDays is the one
// shown when the URL names none.
var Periods = []int{7, 30, 90}

// DefaultDays is the period shown when the URL names none.
const DefaultDays = 30

//go:embed templates/*.html
var templateFiles embed.FS

// templates are parsed when first needed, not when a program that
// imports the package starts (the command-line tool's other commands).
var templates = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("").Funcs(template.FuncMap{
		"modelName": modelName,
	}).ParseFS(templateFiles, "templates/*.html"))
})

// handler serves the pages.
type handler struct {
	svc *dni.Service
	cfg Config
	mux *http.ServeMux
}

// New returns the dashboard of svc. Mount it behind the host's own
// authentication: it serves every call, caller number and revenue figure,
// and its outcome forms change data. They are refused unless they come
// from the same origin (http.CrossOriginProtection).
func New(svc *dni.Service, cfg Config) (http.Handler, error) {
	templates() // parsed here, so a host that mounts the dashboard parses them at start
	var errs []error
	if svc == nil {
		errs = append(errs, errors.New("dashboard: svc is nil"))
	}
	if cfg.Prefix != "" && (!strings.HasPrefix(cfg.Prefix, "/") || strings.HasSuffix(cfg.Prefix, "/")) {
		errs = append(errs, fmt.Errorf("dashboard: Prefix %q: want a path that starts with / and does not end with one, e.g. /dashboard", cfg.Prefix))
	}
	if cfg.Currency != "" && (len(cfg.Currency) != 3 || strings.ToUpper(cfg.Currency) != cfg.Currency) {
		errs = append(errs, fmt.Errorf("dashboard: Currency %q: want a three-letter ISO 4217 code such as USD", cfg.Currency))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if cfg.Title == "" {
		cfg.Title = "calltrack"
	}
	if cfg.Currency == "" {
		cfg.Currency = "USD"
	}
	if cfg.Location == nil {
		cfg.Location = time.Local
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.NoCalls == "" {
		cfg.NoCalls = "No calls in this period yet: calls to your tracking numbers show here within seconds of ending."
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	h := &handler{svc: svc, cfg: cfg, mux: http.NewServeMux()}
	h.mux.HandleFunc("GET /{$}", h.page("overview", h.overview))
	h.mux.HandleFunc("GET /calls", h.page("calls", h.calls))
	h.mux.HandleFunc("GET /calls/{provider}/{id}", h.page("call", h.call))
	h.mux.HandleFunc("GET /attribution", h.page("attribution", h.attribution))
	h.mux.HandleFunc("GET /pools", h.page("pools", h.pools))
	h.routeExtras()
	var out http.Handler = h.mux
	if cfg.Prefix != "" {
		out = http.StripPrefix(cfg.Prefix, out)
		mounted := out
		out = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == cfg.Prefix { // "/dashboard" → "/dashboard/"
				http.Redirect(w, r, cfg.Prefix+"/?"+r.URL.RawQuery, http.StatusFound)
				return
			}
			mounted.ServeHTTP(w, r)
		})
	}
	return http.NewCrossOriginProtection().Handler(out), nil
}

// view is what every page's template gets.
type view struct {
	Title, Page, Heading string
	Prefix               string
	Days                 int
	Span                 string     // the period's days in words
	Periods              []int      // nil on a page that shows no period
	Query                url.Values // the page's own query, without days and format
	Links                []Link
	Nav                  []navLink
	Data                 any
}

// PeriodHref is this page's URL for another period.
func (v view) PeriodHref(days int) string { return v.href(days, "") }

// CSVHref is this page's CSV download.
func (v view) CSVHref() string { return v.href(v.Days, "csv") }

func (v view) href(days int, format string) string {
	q := url.Values{}
	for k, vs := range v.Query {
		q[k] = vs
	}
	if v.Periods != nil {
		q.Set("days", strconv.Itoa(days))
	}
	if format != "" {
		q.Set("format", format)
	}
	path := v.Prefix + "/"
	if v.Page != "overview" {
		path = v.Prefix + "/" + v.Page
	}
	return path + "?" + q.Encode()
}

// period is the span a request asks for: the last Days whole UTC days,
// today included, from midnight UTC Days-1 days ago to the start of
// tomorrow. It is the period the command line's series and audit read by
// default and the days dni.Service.Series counts in, so a series of the
// same days totals what the pages show, whatever the hour.
type period struct {
	Days     int
	From, To time.Time
}

func (h *handler) period(r *http.Request) period {
	days := DefaultDays
	if n, err := strconv.Atoi(r.URL.Query().Get("days")); err == nil && slices.Contains(Periods, n) {
		days = n
	}
	return periodOf(h.cfg.Now(), days)
}

// periodOf is the period of the last days UTC days up to now's.
func periodOf(now time.Time, days int) period {
	to := report.PeriodEnd(now)
	return period{Days: days, From: to.AddDate(0, 0, -days), To: to}
}

// Span names the period's days: "Feb 9 – Mar 10, 2026 (UTC days)".
func (p period) Span() string {
	first, last := p.From, p.To.AddDate(0, 0, -1)
	from := first.Format("Jan 2")
	if first.Year() != last.Year() {
		from = first.Format("Jan 2, 2006")
	}
	return from + " – " + last.Format("Jan 2, 2006") + " (UTC days)"
}

// pageFunc builds one page: its heading, its data for the template and
// its table for ?format=csv (nil when it has none).
type pageFunc func(r *http.Request, p period) (heading string, data any, csv *table, err error)

// fail answers a request for the named page that could not be built:
// 404 with the message of an errNotFound, else 503, the cause logged.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, name string, err error) {
	var notFound errNotFound
	if errors.As(err, &notFound) {
		http.Error(w, string(notFound), http.StatusNotFound)
		return
	}
	h.cfg.Logger.ErrorContext(r.Context(), "dashboard page failed", "page", name, "err", err)
	http.Error(w, "The dashboard could not read its data just now; try again in a moment. (The server log has the cause.)", http.StatusServiceUnavailable)
}

// page serves a pageFunc as HTML, or its table as CSV.
func (h *handler) page(name string, build pageFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p := h.period(r)
		heading, data, tbl, err := build(r, p)
		if err != nil {
			h.fail(w, r, name, err)
			return
		}
		if r.URL.Query().Get("format") == "csv" && tbl != nil {
			writeCSV(w, tbl)
			return
		}
		q := url.Values{}
		for k, vs := range r.URL.Query() {
			if k != "days" && k != "format" {
				q[k] = vs
			}
		}
		v := view{Title: h.cfg.Title, Page: name, Heading: heading, Prefix: h.cfg.Prefix, Days: p.Days, Span: p.Span(),
			Periods: Periods, Query: q, Links: h.cfg.Links, Nav: h.nav(name, p.Days), Data: data}
		if periodFree[name] {
			v.Periods = nil
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := templates().ExecuteTemplate(w, name+".html", v); err != nil {
			h.cfg.Logger.ErrorContext(r.Context(), "dashboard page failed", "page", name, "err", err)
		}
	}
}

// periodFree are the pages that show no period: their figures are not
// over one. They keep the period the reader chose in their menu links.
var periodFree = map[string]bool{"exports": true}

// errNotFound is a page that names something that does not exist.
type errNotFound string

func (e errNotFound) Error() string { return string(e) }

// navLink is a link of the page menu; On marks the page shown.
type navLink struct {
	Label, Href string
	On          bool
}

func (h *handler) nav(page string, days int) []navLink {
	d := "?days=" + strconv.Itoa(days)
	links := []Link{{"Overview", h.cfg.Prefix + "/" + d}, {"Calls", h.cfg.Prefix + "/calls" + d},
		{"Attribution", h.cfg.Prefix + "/attribution" + d}}
	links = append(links, h.extraNav(d)...)
	links = append(links, Link{"Pools", h.cfg.Prefix + "/pools" + d}, Link{"Exports", h.cfg.Prefix + "/exports" + d})
	out := make([]navLink, len(links))
	for i, l := range links {
		out[i] = navLink{Label: l.Label, Href: l.Href, On: strings.EqualFold(l.Label, page) ||
			(page == "call" && l.Label == "Calls") || (page == "lead" && l.Label == "Leads")}
	}
	return out
}

// table is one table of a page, shown as HTML and downloadable as CSV.
type table struct {
	Name string // the CSV's file name, without extension
	ID   string // the HTML element's id
	Head []cell
	Rows [][]cell
	Foot []cell // a totals row; nil when none
}

// cell is one cell: its text, a link when it leads somewhere, and whether
// it is a number (aligned right).
type cell struct {
	Text  string
	Href  string
	Num   bool
	Title string // hover text: why a figure is what it is
	Note  bool   // words where a figure would be: they wrap
	Span  int    // columns the cell spans, when more than one
}

func txt(s string) cell            { return cell{Text: s} }
func num(n int) cell               { return cell{Text: strconv.Itoa(n), Num: true} }
func numText(s string) cell        { return cell{Text: s, Num: true} }
func link(s, href string) cell     { return cell{Text: s, Href: href} }
func heads(names ...string) []cell { return headsNum(0, names...) }

// headsNum makes header cells, the ones from index first on numeric.
func headsNum(first int, names ...string) []cell {
	out := make([]cell, len(names))
	for i, n := range names {
		out[i] = cell{Text: n, Num: first > 0 && i >= first}
	}
	return out
}

// writeCSV writes a table as RFC 4180 CSV, totals row included.
func writeCSV(w http.ResponseWriter, t *table) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+t.Name+`.csv"`)
	cw := csv.NewWriter(w)
	row := func(cells []cell) {
		var rec []string
		for _, c := range cells {
			for range max(c.Span, 1) { // a spanning cell's words in each of its columns
				rec = append(rec, report.SpreadsheetSafe(c.Text))
			}
		}
		_ = cw.Write(rec)
	}
	row(t.Head)
	for _, r := range t.Rows {
		row(r)
	}
	if t.Foot != nil {
		row(t.Foot)
	}
	cw.Flush()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
