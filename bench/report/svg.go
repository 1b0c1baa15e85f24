package report

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// Bar is one bar of a chart: a label, the median and the range of the runs.
type Bar struct {
	Label            string
	Median, Min, Max float64
	Peer             bool
}

// Chart renders a horizontal bar chart of ns/op as a standalone SVG document. Bars share one
// axis; when the values span more than 30×, the axis is logarithmic (and the title says so)
// so that the fastest engines stay visible next to slow peers. Thin lines mark each bar's
// min–max range.
func Chart(title, unit string, bars []Bar) []byte {
	const (
		width   = 760
		labelW  = 270
		valueW  = 110
		barH    = 22
		gap     = 8
		top     = 42
		bottom  = 28
		plotW   = width - labelW - valueW - 20
		fontCSS = "font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif"
	)
	lo, hi := math.Inf(1), 0.0
	for _, b := range bars {
		lo = math.Min(lo, math.Max(b.Min, 1e-9))
		hi = math.Max(hi, b.Max)
	}
	logScale := len(bars) > 1 && hi/lo > 30
	var x func(v float64) float64
	var ticks []float64
	if logScale {
		// Starting below the smallest value's decade, so the smallest bar still has length.
		l0 := math.Floor(math.Log10(lo)) - 0.3
		l1 := math.Log10(hi)
		x = func(v float64) float64 {
			return plotW * (math.Log10(math.Max(v, 1e-9)) - l0) / (l1 - l0)
		}
		for d := math.Ceil(l0); d <= l1; d++ {
			ticks = append(ticks, math.Pow(10, d))
		}
	} else {
		x = func(v float64) float64 { return plotW * v / hi }
	}
	height := top + len(bars)*(barH+gap) + bottom
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="%s">`+"\n",
		width, height, width, height, html.EscapeString(title))
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", width, height)
	scale := "linear scale"
	if logScale {
		scale = "log scale"
	}
	fmt.Fprintf(&b, `<text x="10" y="24" style="%s;font-size:15px;font-weight:600" fill="#111">%s</text>`+"\n", fontCSS, html.EscapeString(title))
	fmt.Fprintf(&b, `<text x="%d" y="24" style="%s;font-size:11px" fill="#555" text-anchor="end">%s, median of runs, %s; lines: min–max</text>`+"\n",
		width-10, fontCSS, html.EscapeString(unit), scale)
	for _, t := range ticks {
		tx := float64(labelW) + x(t)
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#ddd"/>`+"\n", tx, tx, top-4, height-bottom+2)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" style="%s;font-size:10px" fill="#777" text-anchor="middle">%s</text>`+"\n",
			tx, height-bottom+14, fontCSS, html.EscapeString(FormatNs(t)))
	}
	for i, bar := range bars {
		y := top + i*(barH+gap)
		fill := "#2563eb"
		if bar.Peer {
			fill = "#9ca3af"
		}
		w := math.Max(x(bar.Median), 1)
		fmt.Fprintf(&b, `<text x="%d" y="%d" style="%s;font-size:12px" fill="#111" text-anchor="end">%s</text>`+"\n",
			labelW-8, y+barH/2+4, fontCSS, html.EscapeString(bar.Label))
		fmt.Fprintf(&b, `<rect class="bar" x="%d" y="%d" width="%.1f" height="%d" fill="%s" rx="2"><title>%s: %s</title></rect>`+"\n",
			labelW, y, w, barH, fill, html.EscapeString(bar.Label), html.EscapeString(FormatNs(bar.Median)))
		x0, x1 := labelW+x(bar.Min), labelW+x(bar.Max)
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#111" stroke-width="1.5"/>`+"\n", x0, x1, y+barH/2, y+barH/2)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" style="%s;font-size:12px" fill="#111">%s</text>`+"\n",
			float64(labelW)+math.Max(w, x(bar.Max))+6, y+barH/2+4, fontCSS, html.EscapeString(FormatNs(bar.Median)))
	}
	fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="#999"/>`+"\n", labelW, labelW, top-4, height-bottom+2)
	b.WriteString("</svg>\n")
	return []byte(b.String())
}

// FormatNs renders a duration in nanoseconds with a unit that keeps three significant digits.
func FormatNs(ns float64) string {
	switch {
	case ns >= 1e9:
		return fmt.Sprintf("%.3g s", ns/1e9)
	case ns >= 1e6:
		return fmt.Sprintf("%.3g ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.3g µs", ns/1e3)
	case ns >= 100:
		return fmt.Sprintf("%.0f ns", ns)
	default:
		return fmt.Sprintf("%.3g ns", ns)
	}
}
