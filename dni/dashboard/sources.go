package dashboard

import (
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strings"

	"github.com/attriqs/calltrack/journey/attribution"
	"github.com/attriqs/calltrack/report"
)

// dimensionNames are the sources page's groupings, coarsest first.
var dimensionNames = map[report.Dimension]string{
	report.DimChannel: "channel", report.DimSourceMedium: "source / medium", report.DimCampaign: "campaign",
	report.DimKeyword: "keyword", report.DimLandingPage: "landing page",
}

// sourcesData is the sources page.
type sourcesData struct {
	Dims       []Link
	Dim        string
	DimName    string
	Models     []Link
	Model      string
	Chart      template.HTML
	Table      *table
	Empty      string
	NoSpend    bool
	SpendCosts bool // the dimension carries spend
}

func (h *handler) sources(r *http.Request, p period) (string, any, *table, error) {
	dim, err := report.ParseDimension(r.URL.Query().Get("dim"))
	if err != nil {
		dim = report.DimChannel
	}
	d := sourcesData{Dim: string(dim), DimName: dimensionNames[dim], Model: r.URL.Query().Get("model"),
		SpendCosts: dim == report.DimChannel || dim == report.DimSourceMedium || dim == report.DimCampaign}
	for _, x := range report.Dimensions() {
		d.Dims = append(d.Dims, Link{dimensionNames[x], string(x)})
	}
	models := attribution.DefaultModels()
	for _, m := range models {
		d.Models = append(d.Models, Link{modelName(m.Name()), m.Name()})
	}
	chosen := slices.IndexFunc(models, func(m attribution.Model) bool { return m.Name() == d.Model })
	if chosen < 0 {
		d.Model = "markov"
		chosen = max(0, slices.IndexFunc(models, func(m attribution.Model) bool { return m.Name() == d.Model }))
	}
	rows, err := h.svc.Sources(r.Context(), p.From, p.To, dim)
	if err != nil {
		return "", nil, nil, err
	}
	csvOut := r.URL.Query().Get("format") == "csv"
	title := d.DimName
	tbl := &table{Name: "sources-by-" + string(dim), ID: "sources",
		Head: headsNum(1, strings.ToUpper(title[:1])+title[1:], "Calls", "Qualified", "Missed", "Spam", "Chats", "Forms",
			"Call revenue", "Spend", "Cost per call", "Cost per qualified call")}
	// The page shows the chosen model; the CSV every model.
	shown := []int{chosen}
	if csvOut {
		shown = shown[:0]
		for i := range models {
			shown = append(shown, i)
		}
	}
	for _, i := range shown {
		tbl.Head = append(tbl.Head, cell{Text: "Credited · " + modelName(models[i].Name()), Num: true},
			cell{Text: "ROAS · " + modelName(models[i].Name()), Num: true})
	}
	var sum report.SourceRow
	credited := make([]int64, len(models))
	var bars []bar
	for _, row := range rows {
		if sum.Currency == "" {
			sum.Currency = row.Currency
		}
		cur := or(row.Currency, h.cfg.Currency)
		cells := []cell{txt(row.Key), num(row.Calls), num(row.QualifiedCalls), num(row.MissedCalls), num(row.SpamCalls),
			num(row.Chats), num(row.Forms), numText(money(row.Revenue, cur)), h.spendCell(row.Spend, cur, d.SpendCosts),
			h.costCell(row.CostPerCall, row.Spend, row.Calls, cur, d.SpendCosts),
			h.costCell(row.CostPerQualifiedCall, row.Spend, row.QualifiedCalls, cur, d.SpendCosts)}
		for _, i := range shown {
			mc := modelCredit(row, models[i].Name())
			cells = append(cells, numText(money(mc.Value, cur)), roasCell(mc, row.Spend))
		}
		for i, m := range models {
			credited[i] += modelCredit(row, m.Name()).Value
		}
		tbl.Rows = append(tbl.Rows, cells)
		sum.Calls += row.Calls
		sum.QualifiedCalls += row.QualifiedCalls
		sum.MissedCalls += row.MissedCalls
		sum.SpamCalls += row.SpamCalls
		sum.Chats += row.Chats
		sum.Forms += row.Forms
		sum.Revenue += row.Revenue
		sum.Spend += row.Spend
		bars = append(bars, bar{Label: row.Key, Value: float64(row.Calls), Text: fmt.Sprint(row.Calls)})
	}
	cur := or(sum.Currency, h.cfg.Currency)
	tbl.Foot = []cell{txt("Total"), num(sum.Calls), num(sum.QualifiedCalls), num(sum.MissedCalls), num(sum.SpamCalls),
		num(sum.Chats), num(sum.Forms), numText(money(sum.Revenue, cur)), h.spendCell(sum.Spend, cur, d.SpendCosts),
		h.costCell(perUnit(sum.Spend, sum.Calls), sum.Spend, sum.Calls, cur, d.SpendCosts),
		h.costCell(perUnit(sum.Spend, sum.QualifiedCalls), sum.Spend, sum.QualifiedCalls, cur, d.SpendCosts)}
	for _, i := range shown {
		mc := report.ModelCredit{Value: credited[i]}
		if sum.Spend > 0 {
			mc.ROAS = float64(credited[i]) / float64(sum.Spend)
		}
		tbl.Foot = append(tbl.Foot, numText(money(credited[i], cur)), roasCell(mc, sum.Spend))
	}
	d.Table = tbl
	d.NoSpend = sum.Spend == 0
	d.Chart = barChart("Calls per "+d.DimName, bars)
	if len(rows) == 0 {
		d.Empty = "No traffic in this period yet. " + h.cfg.NoCalls
	}
	return fmt.Sprintf("Sources · last %d days", p.Days), d, tbl, nil
}

// modelCredit is the row's credit under model; zero when none.
func modelCredit(row report.SourceRow, model string) report.ModelCredit {
	for _, mc := range row.Models {
		if mc.Model == model {
			return mc
		}
	}
	return report.ModelCredit{Model: model}
}

func (h *handler) spendCell(spend int64, cur string, carries bool) cell {
	if !carries {
		return cell{Text: "not reported by cost reports", Num: true, Note: true}
	}
	return numText(money(spend, cur))
}

// costCell says why a cost is missing rather than showing a dash.
func (h *handler) costCell(cost, spend int64, n int, cur string, carries bool) cell {
	switch {
	case !carries:
		return cell{Text: "no spend at this level", Num: true, Note: true}
	case spend == 0:
		return cell{Text: "no spend imported", Num: true, Note: true}
	case n == 0:
		return cell{Text: "no calls to divide by", Num: true, Note: true}
	}
	return numText(money(cost, cur))
}

func roasCell(mc report.ModelCredit, spend int64) cell {
	if spend == 0 {
		return cell{Text: "no spend", Num: true, Note: true, Title: "ROAS is value credited over spend: import spend to see it"}
	}
	return numText(fmt.Sprintf("%.2f×", mc.ROAS))
}

// perUnit is total/n rounded to the nearest unit, as the report rounds.
func perUnit(total int64, n int) int64 {
	if n == 0 || total == 0 {
		return 0
	}
	return (total + int64(n)/2) / int64(n)
}
