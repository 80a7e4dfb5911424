package main

import (
	"fmt"
	"html/template"
	"strings"
)

// barChart draws a horizontal bar chart as inline SVG: no script, no
// external resource, so the dashboard works offline.
func barChart(title string, labels []string, value func(i int) float64, format func(float64) string) template.HTML {
	const (
		labelW, barW, rowH, pad = 170, 300, 26, 8
	)
	if len(labels) == 0 {
		return template.HTML(`<p class="empty">No data yet.</p>`)
	}
	maxV := 0.0
	for i := range labels {
		maxV = max(maxV, value(i))
	}
	height := pad*2 + rowH*len(labels) + 20
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="%s" viewBox="0 0 %d %d" width="100%%" style="max-width:%dpx">`,
		template.HTMLEscapeString(title), labelW+barW+90, height, labelW+barW+90)
	fmt.Fprintf(&b, `<text x="0" y="14" font-size="13" font-weight="600" fill="#1d2733">%s</text>`, template.HTMLEscapeString(title))
	for i, l := range labels {
		y := 20 + pad + i*rowH
		v := value(i)
		w := 0
		if maxV > 0 {
			w = int(v / maxV * barW)
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="12" text-anchor="end" fill="#33414f">%s</text>`, labelW-6, y+15, template.HTMLEscapeString(l))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" rx="3" fill="#2f7fc1"/>`, labelW, y+3, max(w, 1), rowH-8)
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="12" fill="#1d2733">%s</text>`, labelW+max(w, 1)+6, y+15, template.HTMLEscapeString(format(v)))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // every piece of text above is escaped
}
