package main

import (
	"fmt"
	"html"
	"io"
	"math"
	"strings"
)

// WriteSVG draws accuracy, and the share of sessions that had to share a
// number or got none, against pool size, with a dashed
// line at each size a rule chooses. Plain SVG 1.1, no scripts, no fonts to
// fetch: it opens in any browser offline.
func WriteSVG(w io.Writer, r Result) error {
	const (
		width, height            = 760, 430
		left, right, top, bottom = 64, 24, 58, 56
		plotW, plotH             = width - left - right, height - top - bottom
	)
	maxSize := 1
	for _, row := range r.Rows {
		maxSize = max(maxSize, row.Size)
	}
	step := niceCeil(max(1, (maxSize+7)/8)) // 5 to 8 ticks
	maxSize = (maxSize + step - 1) / step * step
	x := func(size int) float64 { return left + float64(size)/float64(maxSize)*plotW }
	y := func(share float64) float64 { return top + (1-share)*plotH }

	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">
<title>Attribution accuracy against pool size</title>
<rect width="100%%" height="100%%" fill="#fff"/>
<text x="%d" y="24" font-size="15" font-weight="bold">Attribution accuracy against pool size</text>
<text x="%d" y="40" fill="#555">%s visits, peak %.0f sessions/h, %.0f min each</text>
`, width, height, width, height, left, left, thousands(r.Traffic.Visits), r.Traffic.PeakPerHour, r.Traffic.MeanSession.Minutes())

	// Grid and axes.
	for i := 0; i <= 10; i++ {
		share := float64(i) / 10
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#e5e5e5"/>`+"\n", left, y(share), left+plotW, y(share))
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end" fill="#555">%d%%</text>`+"\n", left-6, y(share)+4, i*10)
	}
	for s := 0; s <= maxSize; s += step {
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" fill="#555">%d</text>`+"\n", x(s), top+plotH+18, s)
	}
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333"/>`+"\n", left, top+plotH, left+plotW, top+plotH)
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333"/>`+"\n", left, top, left, top+plotH)
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">tracking numbers in the pool</text>`+"\n", left+plotW/2, height-12)

	// The sizes the rules choose.
	marks := []struct {
		size  int
		label string
		color string
	}{
		{r.Sizing.Recommended, "pool.Recommend", "#1a7f37"},
		{r.Sizing.CTM, "CallTrackingMetrics", "#bc4c00"},
		{r.Sizing.Nimbata, "Nimbata", "#cf222e"},
	}
	for i, m := range marks {
		if m.size > maxSize {
			continue
		}
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s" stroke-dasharray="5,4"/>`+"\n", x(m.size), top, x(m.size), top+plotH, m.color)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" fill="%s" text-anchor="start">%s (%d)</text>`+"\n", x(m.size)+4, top+plotH-8-16*i, m.color, html.EscapeString(m.label), m.size)
	}

	series := []struct {
		name  string
		color string
		value func(Row) float64
	}{
		{"accuracy: calls in grace stitched to their session", "#0969da", Row.Accuracy},
		{"sessions without a number of their own", "#8250df", func(r Row) float64 { return r.ReuseRate() + r.UntrackedRate() }},
	}
	for i, s := range series {
		var pts []string
		for _, row := range r.Rows {
			if v := s.value(row); !math.IsNaN(v) {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(row.Size), y(v)))
			}
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`+"\n", s.color, strings.Join(pts, " "))
		for _, row := range r.Rows {
			if v := s.value(row); !math.IsNaN(v) {
				fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"><title>%d numbers: %s</title></circle>`+"\n",
					x(row.Size), y(v), s.color, row.Size, pct(v, 2))
			}
		}
		ly := 16 + 16*i // legend top right, above the plot
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"/>`+"\n", width-right-300, ly, width-right-280, ly, s.color)
		fmt.Fprintf(&b, `<text x="%d" y="%d">%s</text>`+"\n", width-right-274, ly+4, html.EscapeString(s.name))
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// niceCeil rounds n up to 1, 2 or 5 times a power of ten, for axis ticks.
func niceCeil(n int) int {
	p := 1
	for p*10 < n {
		p *= 10
	}
	for _, f := range []int{1, 2, 5, 10} {
		if f*p >= n {
			return f * p
		}
	}
	return 10 * p
}
