package dashboard

import (
	"fmt"
	"html/template"
	"strings"
)

// bar is one bar of a chart.
type bar struct {
	Label string
	Value float64
	Text  string // the value as shown
}

// barChart draws a horizontal bar chart as inline SVG: no script and no
// external resource, and it scales down to a phone's width (viewBox).
// Every piece of text is escaped.
func barChart(title string, bars []bar) template.HTML {
	const labelW, barW, valueW, rowH = 130, 170, 100, 26
	if len(bars) == 0 {
		return ""
	}
	maxV := 0.0
	for _, b := range bars {
		maxV = max(maxV, b.Value)
	}
	width, height := labelW+barW+valueW, 30+rowH*len(bars)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="%s" viewBox="0 0 %d %d" preserveAspectRatio="xMinYMin meet">`,
		template.HTMLEscapeString(title), width, height)
	fmt.Fprintf(&b, `<text x="0" y="16" font-size="14" font-weight="600" fill="#1d2733">%s</text>`, template.HTMLEscapeString(title))
	for i, r := range bars {
		y := 28 + i*rowH
		w := 1
		if maxV > 0 {
			w = max(1, int(r.Value/maxV*barW))
		}
		label := r.Label
		if len([]rune(label)) > 18 {
			label = string([]rune(label)[:17]) + "…"
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="12" text-anchor="end" fill="#33414f">%s</text>`, labelW-6, y+15, template.HTMLEscapeString(label))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" rx="3" fill="#2f7fc1"/>`, labelW, y+3, w, rowH-8)
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="12" fill="#1d2733">%s</text>`, labelW+w+6, y+15, template.HTMLEscapeString(r.Text))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
