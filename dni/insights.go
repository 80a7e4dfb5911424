package dni

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/journey/attribution"
	"github.com/attriqs/calltrack/report"
	"github.com/attriqs/calltrack/store"
)

// maxSpendCSV bounds an uploaded spend file: years of daily rows for
// hundreds of campaigns fit, and a mistaken upload is refused early.
const maxSpendCSV = 32 << 20

// ImportSpend stores what was spent per day and traffic source (read a
// cost report with report.ReadSpendCSV). A row for a day and source
// already stored replaces its amount, so a corrected report may be
// imported over the first; an invalid row stores nothing.
func (s *Service) ImportSpend(ctx context.Context, rows []journey.Spend) error {
	return s.store.PutSpend(ctx, rows...)
}

// Sources reports the traffic of [from, to) per key of dim
// (report.BySourceBetween): calls, qualified calls and their revenue,
// missed and spam calls, chats, forms, spend, cost per call and per
// qualified call, and the credit and ROAS of every default attribution
// model (attribution.DefaultModels, as Attribute runs them), keyed by dim.
//
// The report is in one currency: the one most of the period's conversions
// are in (ties to the first code alphabetically); conversions and spend in
// others are left out. A period with no journeys or no conversions is
// not an error: its rows carry counts and spend, and no model credits.
// For the landing page dimension, each touchpoint of a session reads the
// path of that session's landing URL.
func (s *Service) Sources(ctx context.Context, from, to time.Time, dim report.Dimension) ([]report.SourceRow, error) {
	if _, err := report.ParseDimension(string(dim)); err != nil {
		return nil, err
	}
	journeys, err := s.Journeys(ctx, from, to, 0)
	if err != nil {
		return nil, err
	}
	if dim == report.DimLandingPage {
		if journeys, err = s.withLandingPages(ctx, journeys); err != nil {
			return nil, err
		}
	}
	var comparison *attribution.Comparison
	if currency := mainCurrency(journeys); currency != "" {
		comparison, err = attribution.Compare(attribution.SplitByCurrency(journeys)[currency],
			attribution.Options{Key: dim.Key(), Currency: currency})
		if err != nil && !errors.Is(err, attribution.ErrNoJourneys) && !errors.Is(err, attribution.ErrNoConversions) {
			return nil, err
		}
	}
	spend, err := s.store.SpendBetween(ctx, from, to)
	if err != nil {
		return nil, err
	}
	return report.BySourceBetween(journeys, comparison, spend, dim, from, to), nil
}

// mainCurrency is the currency most converting journeys share, "" when
// none converted.
func mainCurrency(journeys []attribution.Journey) string {
	count := map[string]int{}
	for _, j := range journeys {
		if j.Conversion != nil {
			count[j.Conversion.Currency]++
		}
	}
	best := ""
	for _, c := range slices.Sorted(maps.Keys(count)) {
		if best == "" || count[c] > count[best] {
			best = c
		}
	}
	return best
}

// withLandingPages copies journeys, setting report.AttrLandingPage on
// every touchpoint whose session is stored. Each session is read once.
func (s *Service) withLandingPages(ctx context.Context, journeys []attribution.Journey) ([]attribution.Journey, error) {
	pages := map[string]string{}
	out := make([]attribution.Journey, len(journeys))
	for i, j := range journeys {
		j.Touchpoints = slices.Clone(j.Touchpoints)
		for k := range j.Touchpoints {
			tp := &j.Touchpoints[k]
			if tp.SessionID == "" {
				continue
			}
			page, ok := pages[tp.SessionID]
			if !ok {
				sess, err := s.store.Session(ctx, tp.SessionID)
				switch {
				case err == nil:
					page = report.LandingPath(sess.LandingURL)
				case !errors.Is(err, store.ErrNotFound):
					return nil, err
				}
				pages[tp.SessionID] = page
			}
			if page != "" {
				tp.Attrs = maps.Clone(tp.Attrs)
				if tp.Attrs == nil {
					tp.Attrs = map[string]string{}
				}
				tp.Attrs[report.AttrLandingPage] = page
			}
		}
		out[i] = j
	}
	return out, nil
}

// Series builds the mix-model series of [opts.From, opts.To) from the
// period's journeys and spend (report.BuildSeries).
func (s *Service) Series(ctx context.Context, opts report.SeriesOptions) (*report.Series, error) {
	if opts.From.IsZero() || opts.To.IsZero() || !opts.From.Before(opts.To) {
		return report.BuildSeries(nil, nil, opts) // names the problem
	}
	journeys, err := s.Journeys(ctx, opts.From, opts.To, 0)
	if err != nil {
		return nil, err
	}
	spend, err := s.store.SpendBetween(ctx, opts.From, opts.To)
	if err != nil {
		return nil, err
	}
	return report.BuildSeries(journeys, spend, opts)
}

// insightRoutes serves, behind the report authentication:
//
//	POST reports/spend                     a spend CSV body (report.ReadSpendCSV)
//	GET  reports/sources?dim=&from=&to=    JSON, or CSV with format=csv
//	GET  reports/series?granularity=day|week&campaign=1&layout=wide|long&currency=&from=&to=   CSV
//
// from and to are RFC 3339 times or YYYY-MM-DD days (UTC midnight); the
// default is the last 7 days, up to now.
func (s *Service) insightRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /reports/spend", func(w http.ResponseWriter, r *http.Request) {
		rows, err := report.ReadSpendCSV(http.MaxBytesReader(w, r.Body, maxSpendCSV))
		if err != nil {
			writeJSON(w, http.StatusBadRequest, apiError{err.Error()})
			return
		}
		if err := s.ImportSpend(r.Context(), rows); err != nil {
			code := http.StatusServiceUnavailable
			if errors.Is(err, store.ErrInvalid) {
				code = http.StatusBadRequest
			}
			writeJSON(w, code, apiError{err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, map[string]int{"imported": len(rows)})
	})
	mux.HandleFunc("GET /reports/sources", func(w http.ResponseWriter, r *http.Request) {
		from, to, err := insightPeriod(r, s.now())
		if err != nil {
			writeJSON(w, http.StatusBadRequest, apiError{err.Error()})
			return
		}
		dim, err := report.ParseDimension(r.URL.Query().Get("dim"))
		if err != nil {
			writeJSON(w, http.StatusBadRequest, apiError{err.Error()})
			return
		}
		format := r.URL.Query().Get("format")
		if format != "" && format != "json" && format != "csv" {
			writeJSON(w, http.StatusBadRequest, apiError{fmt.Sprintf("format: %q is neither json nor csv", format)})
			return
		}
		rows, err := s.Sources(r.Context(), from, to, dim)
		if err != nil {
			writeJSON(w, http.StatusServiceUnavailable, apiError{err.Error()})
			return
		}
		if format != "csv" {
			writeJSON(w, http.StatusOK, rows)
			return
		}
		var b bytes.Buffer
		if err := report.WriteSourcesCSV(&b, dim, rows); err != nil {
			writeJSON(w, http.StatusInternalServerError, apiError{err.Error()})
			return
		}
		writeCSV(w, "sources-"+string(dim)+".csv", b.Bytes())
	})
	mux.HandleFunc("GET /reports/series", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		from, to, err := insightPeriod(r, s.now())
		if err != nil {
			writeJSON(w, http.StatusBadRequest, apiError{err.Error()})
			return
		}
		layout := cmp.Or(q.Get("layout"), "wide")
		if layout != "wide" && layout != "long" {
			writeJSON(w, http.StatusBadRequest, apiError{fmt.Sprintf("layout: %q is neither wide nor long", layout)})
			return
		}
		byCampaign := false
		switch c := q.Get("campaign"); c {
		case "", "0", "false":
		case "1", "true":
			byCampaign = true
		default:
			writeJSON(w, http.StatusBadRequest, apiError{fmt.Sprintf("campaign: %q is neither 1 nor 0", c)})
			return
		}
		opts := report.SeriesOptions{From: from, To: to, Granularity: report.Granularity(q.Get("granularity")),
			ByCampaign: byCampaign, Currency: q.Get("currency")}
		series, err := s.Series(r.Context(), opts)
		if err != nil {
			code := http.StatusServiceUnavailable
			if errors.Is(err, report.ErrSeriesOptions) || errors.Is(err, report.ErrSeveralCurrencies) {
				code = http.StatusBadRequest
			}
			writeJSON(w, code, apiError{err.Error()})
			return
		}
		var b bytes.Buffer
		write := series.WriteWide
		if layout == "long" {
			write = series.WriteLong
		}
		if err := write(&b); err != nil {
			writeJSON(w, http.StatusInternalServerError, apiError{err.Error()})
			return
		}
		writeCSV(w, "series-"+string(cmp.Or(opts.Granularity, report.Daily))+"-"+layout+".csv", b.Bytes())
	})
}

func writeCSV(w http.ResponseWriter, name string, body []byte) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(body)
}

// insightPeriod reads from and to as RFC 3339 times or YYYY-MM-DD days;
// the default is the 7 days up to now.
func insightPeriod(r *http.Request, now time.Time) (from, to time.Time, err error) {
	to, from = now, now.Add(-7*24*time.Hour)
	for _, p := range []struct {
		name string
		t    *time.Time
	}{{"from", &from}, {"to", &to}} {
		v := r.URL.Query().Get(p.name)
		if v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			if t, err = time.Parse(time.DateOnly, v); err != nil {
				return from, to, fmt.Errorf("%s: %q is neither an RFC 3339 time nor a YYYY-MM-DD day", p.name, v)
			}
		}
		*p.t = t
	}
	if !from.Before(to) {
		return from, to, errors.New("from must be before to")
	}
	return from, to, nil
}
