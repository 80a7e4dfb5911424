package tracker

import (
	"testing"
	"time"
)

// layoutShiftDelay is how long the stub takes to answer a visit: long
// enough that the page paints before the number arrives, as it does over a
// real network.
const layoutShiftDelay = 150 * time.Millisecond

// layoutShiftCases are pages whose number sits above the fold, at the top of
// a column of 20 px monospace text 310 px wide (25 characters a line), with
// text below it that moves down if the number's line wraps.
var layoutShiftCases = []struct {
	name, body string
	swap       swap
	swapped    string // a predicate true once the number is shown
}{
	{
		// Digit for digit: the same width (25 characters, one line).
		name: "same-width", body: `<p id="n">Call (800) 555-1212 today</p>`,
		swap: swapUS, swapped: `document.getElementById("n").textContent.includes("555-0199")`,
	},
	{
		// An empty placeholder filled with the display text: one line, then two.
		name: "placeholder", body: `<p id="n">Call <span data-attriqs-phone="+18005551212"></span> today, free</p>`,
		swap: swapUS, swapped: `document.getElementById("n").textContent.includes("555-0199")`,
	},
	{
		// Another format: the display text replaces the number, two
		// characters wider: one line, then two.
		name: "other-format", body: `<p id="n">Call (800) 555-1212 today</p>`,
		swap:    swap{Target: lineUS, Number: trackUK, Display: "+44 20 7946 1234"},
		swapped: `document.getElementById("n").textContent.includes("7946 1234")`,
	},
}

// BenchmarkLayoutShift reports the cumulative layout shift (cls, the sum of
// the page's layout-shift entries) of a page whose number sits above the
// fold: on a first page view, whose number arrives with the visit answer,
// and on a later one, which swaps from the cached lease while the page is
// parsed; each with and without HideUntilSwapped. See docs/benchmarks.md.
func BenchmarkLayoutShift(b *testing.B) {
	browser := startBrowser(b)
	for _, c := range layoutShiftCases {
		for _, hide := range []bool{false, true} {
			name := c.name + "/hide=false"
			if hide {
				name = c.name + "/hide=true"
			}
			b.Run(name, func(b *testing.B) {
				s := newSite(b, browser, Config{HideUntilSwapped: hide}, map[string]string{
					"/": page(`<style>body{margin:8px;font:20px/1.4 monospace}div{width:310px}</style>{{tracker}}`,
						`<div>`+c.body+filler[:2000]+`</div>`),
					"/blank": page("", ""),
				})
				s.stub.set(func(st *stub) {
					st.swaps = []swap{c.swap}
					st.delay = layoutShiftDelay
				})
				var first, later, fcp float64
				for b.Loop() {
					s.navigate("/blank")
					eval[any](s, `localStorage.clear()`) // no cached number: a first page view
					cls, paint := s.layoutShift("/", c.swapped)
					first += cls
					fcp += paint
					cls, _ = s.layoutShift("/", c.swapped)
					later += cls
				}
				n := float64(b.N)
				b.ReportMetric(first/n, "cls-first")
				b.ReportMetric(later/n, "cls-later")
				b.ReportMetric(fcp/n, "ms-fcp-first")
			})
		}
	}
}

// layoutShift loads path, waits until swapped holds, two frames have been
// painted after it and the page is shown, and returns the page's cumulative
// layout shift and its first contentful paint in milliseconds (content at
// opacity 0 is not contentful: HideUntilSwapped delays it).
func (s *site) layoutShift(path, swapped string) (cls, fcp float64) {
	s.t.Helper()
	s.navigate(path)
	s.waitFor("the swap", swapped+` && getComputedStyle(document.documentElement).opacity == "1"`)
	v := eval[[]float64](s, `new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => {
		let sum = 0;
		const add = l => l.forEach(e => { if (!e.hadRecentInput) sum += e.value; });
		const o = new PerformanceObserver(l => add(l.getEntries()));
		o.observe({type: "layout-shift", buffered: true});
		setTimeout(() => {
			add(o.takeRecords());
			o.disconnect();
			const p = performance.getEntriesByName("first-contentful-paint")[0];
			r([sum, p ? p.startTime : -1]);
		}, 50);
	})))`)
	return v[0], v[1]
}
