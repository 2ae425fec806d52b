package bench

import (
	"cmp"
	"fmt"
	"html"
	"io"
	"math"
	"slices"
	"strings"
)

// chart geometry, in SVG user units.
const (
	chartW, chartH         = 760, 440
	plotL, plotR           = 70, 600
	plotT, plotB           = 40, 390
	chartTicks             = 5
	legendX                = 615
	colorGateway           = "#d62728"
	colorProxy             = "#1f77b4"
	colorDirect            = "#2ca02c"
	colorGatewayRedisChart = "#9467bd"
)

var chartColors = map[string]string{
	ConfigGateway: colorGateway, ConfigProxy: colorProxy, ConfigDirect: colorDirect, ConfigGatewayRedis: colorGatewayRedisChart,
}

// WriteChart draws latency against offered load for the open-loop
// results: p99 as solid lines, p50 dashed, one colour per configuration.
// Without open-loop results it draws the closed-loop mix as points
// (achieved throughput against latency).
func (rep *Report) WriteChart(w io.Writer) error {
	type point struct{ x, p50, p99 float64 }
	series := map[string][]point{}
	title := "device mix: latency vs offered load (open loop)"
	xLabel := "offered load (operations/s)"
	for _, r := range rep.Summary {
		if r.Workload == WorkloadMix && r.Mode == ModeOpen {
			series[r.Config] = append(series[r.Config], point{r.OfferedRate, r.Latency.P50, r.Latency.P99})
		}
	}
	if len(series) == 0 {
		title = "device mix: latency vs throughput (closed loop)"
		xLabel = "throughput (operations/s)"
		for _, r := range rep.Summary {
			if r.Workload == WorkloadMix && r.Mode == ModeClosed {
				series[r.Config] = append(series[r.Config], point{r.Throughput, r.Latency.P50, r.Latency.P99})
			}
		}
	}
	var maxX, maxY float64
	for _, pts := range series {
		slices.SortFunc(pts, func(a, b point) int { return cmp.Compare(a.x, b.x) })
		for _, p := range pts {
			maxX, maxY = max(maxX, p.x), max(maxY, p.p99)
		}
	}
	maxX, maxY = niceCeil(maxX), niceCeil(maxY)
	sx := func(x float64) float64 { return plotL + x/maxX*(plotR-plotL) }
	sy := func(y float64) float64 { return plotB - y/maxY*(plotB-plotT) }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", chartW, chartH, chartW, chartH)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", chartW, chartH)
	fmt.Fprintf(&b, `<text x="%d" y="22" font-size="15">%s</text>`+"\n", plotL, html.EscapeString(title))
	for i := 0; i <= chartTicks; i++ {
		xv, yv := maxX*float64(i)/chartTicks, maxY*float64(i)/chartTicks
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>`+"\n", sx(xv), plotT, sx(xv), plotB)
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>`+"\n", plotL, sy(yv), plotR, sy(yv))
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", sx(xv), plotB+16, fmtTick(xv))
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", plotL-6, sy(yv)+4, fmtTick(yv))
	}
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#333"/>`+"\n", plotL, plotT, plotR-plotL, plotB-plotT)
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">%s</text>`+"\n", (plotL+plotR)/2, plotB+34, html.EscapeString(xLabel))
	fmt.Fprintf(&b, `<text transform="translate(18 %d) rotate(-90)" text-anchor="middle">latency (ms)</text>`+"\n", (plotT+plotB)/2)

	names := make([]string, 0, len(series))
	for name := range series {
		names = append(names, name)
	}
	slices.Sort(names)
	for i, name := range names {
		color := cmp.Or(chartColors[name], "#333")
		for _, line := range []struct {
			label string
			y     func(point) float64
			dash  string
		}{
			{"p99", func(p point) float64 { return p.p99 }, ""},
			{"p50", func(p point) float64 { return p.p50 }, ` stroke-dasharray="5 4"`},
		} {
			var pts []string
			for _, p := range series[name] {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", sx(p.x), sy(line.y(p))))
			}
			fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2"%s points="%s"/>`+"\n", color, line.dash, strings.Join(pts, " "))
			for _, p := range series[name] {
				fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"><title>%s %s %.0f/s: %.2f ms</title></circle>`+"\n",
					sx(p.x), sy(line.y(p)), color, html.EscapeString(name), line.label, p.x, line.y(p))
			}
		}
		y := plotT + 10 + i*36
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"/>`+"\n", legendX, y, legendX+24, y, color)
		fmt.Fprintf(&b, `<text x="%d" y="%d">%s p99</text>`+"\n", legendX+30, y+4, html.EscapeString(name))
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2" stroke-dasharray="5 4"/>`+"\n", legendX, y+16, legendX+24, y+16, color)
		fmt.Fprintf(&b, `<text x="%d" y="%d">%s p50</text>`+"\n", legendX+30, y+20, html.EscapeString(name))
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten (1 for v <= 0).
func niceCeil(v float64) float64 {
	if v <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

func fmtTick(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.2g", v)
}
