package main

import (
	"cmp"
	"context"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/attriqs/calltrack/dni"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/journey/attribution"
)

// dashboardPeriod is how far back the dashboard looks.
const dashboardPeriod = 30 * 24 * time.Hour

type groupRow struct {
	Label     string
	Calls     int
	Qualified int
	Revenue   int64
}

type modelRow struct {
	Key    string
	Values []int64
}

type step struct {
	At     time.Time
	Kind   string
	Label  string
	Detail string
}

type poolRow struct {
	Name                        string
	Size, Leased, Cooling, Free int
	Reuses                      uint64
	Utilisation                 float64
	Peak                        int
	Recommended                 string // from the audit of the period's history
}

type dashboardData struct {
	Calls, Answered, Qualified int
	Revenue                    int64
	ByChannel, ByCampaign      []groupRow
	ChannelChart, RevenueChart template.HTML
	Models                     []string
	ModelRows                  []modelRow
	ModelNote                  string
	Recent                     []dni.CallReport
	Caller                     string
	Journey                    []step
	Pools                      []poolRow
	PoolChart                  template.HTML
}

func (d *demo) dashboard(w http.ResponseWriter, r *http.Request) {
	data, err := d.dashboardData(r.Context())
	if err != nil {
		http.Error(w, "dashboard: "+err.Error(), http.StatusInternalServerError)
		return
	}
	render(w, "dashboard.html", data)
}

func (d *demo) dashboardData(ctx context.Context) (*dashboardData, error) {
	to := d.now().Add(time.Minute)
	from := to.Add(-dashboardPeriod)
	calls, err := d.svc.Calls(ctx, from, to)
	if err != nil {
		return nil, err
	}
	convs, err := d.svc.Store().ConversionsBetween(ctx, from, to)
	if err != nil {
		return nil, err
	}
	value := map[string]int64{} // call key → conversion value
	for _, c := range convs {
		if c.Type == journey.ConversionCall {
			value[c.CallProvider+"/"+c.CallID] = c.Value
		}
	}

	data := &dashboardData{}
	byChannel, byCampaign := map[string]*groupRow{}, map[string]*groupRow{}
	for _, c := range calls {
		data.Calls++
		if journey.Answered(c.Call) {
			data.Answered++
		}
		channel, campaign := "(not stitched yet)", "(none)"
		if c.Attribution != nil {
			channel = string(c.Attribution.Source.Channel)
			if c.Attribution.Source.Campaign != "" {
				campaign = c.Attribution.Source.Campaign
			}
		}
		v, qualified := value[c.Call.Key()]
		for _, g := range []*groupRow{row(byChannel, channel), row(byCampaign, campaign)} {
			g.Calls++
			if qualified {
				g.Qualified++
				g.Revenue += v
			}
		}
		if qualified {
			data.Qualified++
			data.Revenue += v
		}
	}
	data.ByChannel, data.ByCampaign = sortedRows(byChannel), sortedRows(byCampaign)
	data.ChannelChart = barChart("Calls by channel", labels(data.ByChannel), func(i int) float64 { return float64(data.ByChannel[i].Calls) }, func(v float64) string { return fmt.Sprint(v) })
	data.RevenueChart = barChart("Call revenue by channel", labels(data.ByChannel), func(i int) float64 { return float64(data.ByChannel[i].Revenue) }, func(v float64) string { return money(int64(v)) })

	cmpResult, err := d.svc.Attribute(ctx, from, to, attribution.Options{})
	switch {
	case err == nil:
		for _, res := range cmpResult.Results {
			data.Models = append(data.Models, strings.ReplaceAll(res.Model, "_", " "))
		}
		for _, k := range cmpResult.Keys {
			r := modelRow{Key: k}
			for i := range cmpResult.Results {
				r.Values = append(r.Values, cmpResult.Value(k, i))
			}
			data.ModelRows = append(data.ModelRows, r)
		}
		// Value no counted touchpoint explains still belongs in every
		// column, so each sums to the revenue above.
		unexplained := modelRow{Key: "(no touchpoint)"}
		for _, res := range cmpResult.Results {
			unexplained.Values = append(unexplained.Values, res.Unattributed.Value)
		}
		if slices.ContainsFunc(unexplained.Values, func(v int64) bool { return v != 0 }) {
			data.ModelRows = append(data.ModelRows, unexplained)
		}
	default:
		data.ModelNote = "No qualified call yet: place a call of over a minute on the demo site. (" + err.Error() + ")"
	}

	data.Recent = calls[max(0, len(calls)-10):]
	slices.Reverse(data.Recent)
	if len(data.Recent) > 0 && data.Recent[0].Call.From != "" {
		data.Caller = nationalFormat(data.Recent[0].Call.From)
		if data.Journey, err = d.journeyOf(ctx, data.Recent[0].Call.From, from, to); err != nil {
			return nil, err
		}
	}

	stats, err := d.svc.PoolStats(ctx)
	if err != nil {
		return nil, err
	}
	for _, name := range d.svc.Catalog().PoolNames() {
		st := stats[name]
		row := poolRow{Name: name, Size: st.Size, Leased: st.Leased, Cooling: st.Cooling, Free: st.Free,
			Reuses: st.Reuses, Utilisation: st.Utilisation, Peak: st.PeakConcurrency, Recommended: "—"}
		if audit, err := d.svc.Audit(ctx, name, from, to); err == nil && audit.Holds > 0 {
			row.Recommended = fmt.Sprint(audit.Recommended.Numbers)
		}
		data.Pools = append(data.Pools, row)
	}
	data.PoolChart = barChart("Numbers in use (of each pool)", poolLabels(data.Pools), func(i int) float64 { return data.Pools[i].Utilisation * 100 }, func(v float64) string { return fmt.Sprintf("%.0f%%", v) })
	return data, nil
}

func (d *demo) journeyOf(ctx context.Context, phone string, from, to time.Time) ([]step, error) {
	id, err := journey.PhoneID(phone, nil)
	if err != nil {
		return nil, nil
	}
	tps, convs, err := d.svc.Journey(ctx, id, from, to)
	if err != nil {
		return nil, err
	}
	var steps []step
	for _, tp := range tps {
		s := step{At: tp.At, Kind: string(tp.Kind), Label: string(tp.Source.Channel),
			Detail: tp.Source.Source + " / " + tp.Source.Medium}
		if tp.Source.Campaign != "" {
			s.Detail += " · " + tp.Source.Campaign
		}
		if tp.Kind == journey.TouchCall {
			s.Detail += fmt.Sprintf(" · %s, %ss talk, stitched %s", tp.Attrs["status"], orZero(tp.Attrs["talk_s"]), tp.Attrs["confidence"])
		}
		steps = append(steps, s)
	}
	for _, c := range convs {
		steps = append(steps, step{At: c.At, Kind: "conversion", Label: c.Type, Detail: money(c.Value) + " " + c.Currency})
	}
	slices.SortStableFunc(steps, func(a, b step) int { return a.At.Compare(b.At) })
	return steps, nil
}

func orZero(s string) string {
	if s == "" {
		return "0"
	}
	return s
}

func row(m map[string]*groupRow, label string) *groupRow {
	g, ok := m[label]
	if !ok {
		g = &groupRow{Label: label}
		m[label] = g
	}
	return g
}

func sortedRows(m map[string]*groupRow) []groupRow {
	out := make([]groupRow, 0, len(m))
	for _, g := range m {
		out = append(out, *g)
	}
	slices.SortFunc(out, func(a, b groupRow) int {
		return cmp.Or(cmp.Compare(b.Calls, a.Calls), strings.Compare(a.Label, b.Label))
	})
	return out
}

func labels(rows []groupRow) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.Label
	}
	return out
}

func poolLabels(rows []poolRow) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.Name
	}
	return out
}
