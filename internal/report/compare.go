// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package report

// The comparison of several versions of one group, side by side, for
// `autox report --compare N`: one column per version, oldest first.
//
// Text: a table of the runs (version, run, when it ended, verdict), the
// SLO table (each cell the observed value and PASS or FAIL; "-" where a
// version's experiment has no such SLO), when a version judged
// regressions the regression table (each version's baseline, "none"
// without one; then per metric the value in msec, its ratio to that
// baseline with the limit, the p-value and PASS or FAIL; "-" where a
// version did not judge it), and the metrics table (each cell the value;
// "-" where a version has no value). Units as in the report: latencies in
// msec.
//
// HTML: the same tables, and per endpoint one chart with every version's
// latency histogram overlaid: 30 bars of equal width over the range of all
// versions' latencies (msec), each version a coloured outline whose height
// is the share of that version's responses (%) in the bar, so versions
// with different request counts compare. A histogram comes from the
// stored HDR histogram; from the report's bars when that was cut to fit
// the ConfigMap (autox.dev/dropped), coarser.

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/autox-tekton/autox/internal/metrics"
	"github.com/autox-tekton/autox/internal/result"
	"github.com/autox-tekton/autox/internal/slo"
)

// Column is one version in a comparison.
type Column struct {
	Version string
	// Run is the PipelineRun whose result this is.
	Run    string
	Result *result.Result
}

// sloRow is one SLO condition across versions.
type sloRow struct {
	Metric, Bound string
	Limit         float64
	Condition     string
	// Cells by column; nil where that version has no such SLO.
	Cells []*slo.Verdict
}

func compareSLOs(cols []Column) []sloRow {
	var rows []sloRow
	index := map[string]int{}
	for i, c := range cols {
		for _, v := range c.Result.SLOs {
			key := v.Metric + "\x00" + v.Bound + "\x00" + strconv.FormatFloat(v.Limit, 'g', -1, 64)
			j, ok := index[key]
			if !ok {
				j = len(rows)
				index[key] = j
				rows = append(rows, sloRow{Metric: v.Metric, Bound: v.Bound, Limit: v.Limit, Condition: v.Condition(c.Result.Units(v.Metric)), Cells: make([]*slo.Verdict, len(cols))})
			}
			rows[j].Cells[i] = &v
		}
	}
	// As slo.Evaluate orders them: metric, upper before lower, then limit.
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.Metric != b.Metric {
			return a.Metric < b.Metric
		}
		if a.Bound != b.Bound {
			return a.Bound == slo.Upper
		}
		return a.Limit < b.Limit
	})
	return rows
}

// cellSLO is an SLO cell: "4.61 PASS", "73.21 FAIL", "unavailable FAIL",
// or "-" when the version has no such SLO.
func cellSLO(v *slo.Verdict) (text string, ok, present bool) {
	if v == nil {
		return "-", false, false
	}
	verdict := "FAIL"
	if v.Satisfied {
		verdict = "PASS"
	}
	if v.Value == nil {
		return "unavailable " + verdict, v.Satisfied, true
	}
	return fmt.Sprintf("%.2f %s", *v.Value, verdict), v.Satisfied, true
}

// metricRows lists every metric of any version, sorted, with its label
// (units) and each version's value ("-" for none).
func metricRows(cols []Column) [][]string {
	var all []string
	label := map[string]string{}
	for _, c := range cols {
		for _, m := range c.Result.MetricNames() {
			if _, ok := label[m]; !ok {
				all = append(all, m)
				label[m] = MetricLabel(c.Result, m)
			}
		}
	}
	slices.Sort(all)
	var rows [][]string
	for _, m := range all {
		row := []string{label[m]}
		for _, c := range cols {
			if v, ok := c.Result.Metrics[m]; ok {
				row = append(row, fmt.Sprintf("%.2f", v))
			} else {
				row = append(row, "-")
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// verdict is a result's one-word state, as the HTML report's badge says.
func verdict(r *result.Result) (string, bool) {
	switch {
	case r.Failure:
		return "Experiment failed", false
	case r.SLOsSatisfied && r.Regressed && r.Regression != nil && r.Regression.Baseline != nil:
		return "All SLOs satisfied, slower than baseline " + r.Regression.Baseline.Version, false
	case r.SLOsSatisfied:
		return "All SLOs satisfied", true
	}
	return "SLOs not satisfied", false
}

func versions(cols []Column) string {
	v := make([]string, len(cols))
	for i, c := range cols {
		v[i] = c.Version
	}
	return strings.Join(v, ", ")
}

// CompareText writes the comparison of cols (oldest first) as text tables.
func CompareText(w io.Writer, group string, cols []Column) error {
	var b strings.Builder
	section(&b, fmt.Sprintf("Comparison of %s, versions %s (oldest first)", group, versions(cols)))
	rows := [][]string{{"Version", "Run", "Ended", "Verdict"}, {"-------", "---", "-----", "-------"}}
	for _, c := range cols {
		v, _ := verdict(c.Result)
		rows = append(rows, []string{c.Version, c.Run, c.Result.EndTime.Format(time.RFC3339), v})
	}
	table(&b, rows)
	b.WriteString("\n")

	section(&b, "Whether or not service level objectives (SLOs) are satisfied")
	slos := compareSLOs(cols)
	if len(slos) == 0 {
		b.WriteString("  No version gives SLOs.\n")
	} else {
		head, rule := []string{"SLO Conditions"}, []string{"--------------"}
		for _, c := range cols {
			head, rule = append(head, c.Version), append(rule, strings.Repeat("-", len(c.Version)))
		}
		rows := [][]string{head, rule}
		for _, s := range slos {
			row := []string{s.Condition}
			for _, v := range s.Cells {
				text, _, _ := cellSLO(v)
				row = append(row, text)
			}
			rows = append(rows, row)
		}
		table(&b, rows)
	}
	b.WriteString("\n")

	if baselines, regs := compareRegressions(cols); regs != nil || baselines != nil {
		section(&b, CompareRegressionTitle)
		head, rule := []string{"Metric"}, []string{"------"}
		for _, c := range cols {
			head, rule = append(head, c.Version), append(rule, strings.Repeat("-", len(c.Version)))
		}
		rows := [][]string{head, rule, append([]string{"Baseline"}, baselines...)}
		for _, g := range regs {
			row := []string{g.Metric + " (msec)"}
			for _, v := range g.Cells {
				text, _, _ := cellRegression(v)
				row = append(row, text)
			}
			rows = append(rows, row)
		}
		table(&b, rows)
		b.WriteString("\n")
	}

	section(&b, "Latest observed values for metrics")
	head, rule := []string{"Metric"}, []string{"------"}
	for _, c := range cols {
		head, rule = append(head, c.Version), append(rule, strings.Repeat("-", len(c.Version)))
	}
	table(&b, append([][]string{head, rule}, metricRows(cols)...))
	_, err := io.WriteString(w, b.String())
	return err
}

//go:embed compare.html.tmpl
var compareTemplate string

// Series colours, one per version in turn; the legend names each.
var seriesColours = []string{"#2f6fb0", "#d9730d", "#2e9e5b", "#8e44ad", "#c0392b", "#7f8c8d"}

type cmpCell struct {
	Text      string
	OK, Empty bool
}

type cmpRun struct {
	Version, Run, Ended, Verdict string
	OK                           bool
	Colour                       string
}

type cmpSLO struct {
	Condition string
	Cells     []cmpCell
}

type legend struct{ X, Y, TextX, TextY, Colour, Label string }

type series struct {
	Colour, Version, Points string
}

type overlay struct {
	Prefix, Note                  string
	W, H                          int
	Series                        []series
	Legend                        []legend
	XTicks, YTicks                []tick
	AxisX0, AxisX1, AxisY0, AxisY string
	Empty                         string
}

type compareView struct {
	Group, Versions string
	Runs            []cmpRun
	VersionHeads    []string
	SLOs            []cmpSLO
	// Baselines and Regressions are the regression block; nil when no
	// version has one.
	Baselines   []string
	Regressions []cmpSLO
	Metrics     [][]string
	Charts      []overlay
}

// CompareHTML writes the comparison of cols (oldest first) as a
// self-contained page: no scripts, no external files.
func CompareHTML(w io.Writer, group string, cols []Column) error {
	t, err := template.New("compare").Parse(compareTemplate)
	if err != nil {
		return fmt.Errorf("comparison template: %w", err)
	}
	v := compareView{Group: group, Versions: versions(cols)}
	for i, c := range cols {
		verdict, ok := verdict(c.Result)
		v.Runs = append(v.Runs, cmpRun{Version: c.Version, Run: c.Run, Ended: c.Result.EndTime.Format(time.RFC3339), Verdict: verdict, OK: ok,
			Colour: seriesColours[i%len(seriesColours)]})
		v.VersionHeads = append(v.VersionHeads, c.Version)
	}
	for _, s := range compareSLOs(cols) {
		row := cmpSLO{Condition: s.Condition}
		for _, cell := range s.Cells {
			text, ok, present := cellSLO(cell)
			row.Cells = append(row.Cells, cmpCell{Text: text, OK: ok, Empty: !present})
		}
		v.SLOs = append(v.SLOs, row)
	}
	baselines, regs := compareRegressions(cols)
	v.Baselines = baselines
	for _, g := range regs {
		row := cmpSLO{Condition: g.Metric + " (msec)"}
		for _, cell := range g.Cells {
			text, ok, present := cellRegression(cell)
			row.Cells = append(row.Cells, cmpCell{Text: text, OK: ok, Empty: !present})
		}
		v.Regressions = append(v.Regressions, row)
	}
	v.Metrics = metricRows(cols)
	var prefixes []string
	for _, c := range cols {
		for _, e := range c.Result.Endpoints {
			if !slices.Contains(prefixes, e.Prefix) {
				prefixes = append(prefixes, e.Prefix)
			}
		}
	}
	slices.Sort(prefixes)
	for _, p := range prefixes {
		v.Charts = append(v.Charts, overlayChart(p, cols))
	}
	return t.Execute(w, v)
}

// latencies is one version's latency distribution at one endpoint, as
// (low, high, count) in msec, from the HDR histogram or the bars.
type latencies struct {
	bars  [][3]float64
	total float64
	note  string
}

func endpointLatencies(r *result.Result, prefix string) latencies {
	i := slices.IndexFunc(r.Endpoints, func(e result.Endpoint) bool { return e.Prefix == prefix })
	if i < 0 {
		return latencies{note: "no such endpoint"}
	}
	e := r.Endpoints[i]
	var l latencies
	if h, err := metrics.DecodeHDR(e.Latency); e.Latency != "" && err == nil && h.TotalCount() > 0 {
		for _, b := range h.Distribution() {
			if b.Count > 0 {
				l.bars = append(l.bars, [3]float64{float64(b.From) / 1000, float64(b.To) / 1000, float64(b.Count)})
			}
		}
	} else {
		for _, b := range e.Histogram {
			if b.Count > 0 {
				l.bars = append(l.bars, [3]float64{b.LowMs, b.HighMs, float64(b.Count)})
			}
		}
	}
	for _, b := range l.bars {
		l.total += b[2]
	}
	if l.total == 0 {
		l.note = "no latencies"
	}
	return l
}

// overlayBars is how many bars each overlaid histogram has; the legend
// names legendPerRow versions a row, legendW apart.
const (
	overlayBars  = 30
	legendPerRow = 3
	legendW      = 210
)

func overlayChart(prefix string, cols []Column) overlay {
	// The legend sits above the plot, legendPerRow versions a row.
	legendH := 18 * ((len(cols) + legendPerRow - 1) / legendPerRow)
	top := float64(padT + legendH)
	c := overlay{Prefix: prefix, W: chartW, H: chartH + legendH}
	plotW, plotH := float64(chartW-padL-padR), float64(chartH-padT-padB)
	c.AxisX0, c.AxisX1 = f(padL), f(chartW-padR)
	c.AxisY0, c.AxisY = f(top), f(top+plotH)
	lats := make([]latencies, len(cols))
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, col := range cols {
		lats[i] = endpointLatencies(col.Result, prefix)
		for _, b := range lats[i].bars {
			lo, hi = min(lo, b[0]), max(hi, b[1])
		}
	}
	var notes []string
	for i, l := range lats {
		if l.note != "" {
			notes = append(notes, cols[i].Version+": "+l.note)
		}
	}
	c.Note = strings.Join(notes, "; ")
	if math.IsInf(lo, 1) {
		c.Empty, c.H = "no latencies in any version", 40
		return c
	}
	width := (hi - lo) / overlayBars
	bin := func(ms float64) int {
		if width <= 0 {
			return 0
		}
		return max(0, min(int(math.Floor((ms-lo)/width)), overlayBars-1))
	}
	shares := make([][]float64, len(cols))
	highest := 0.0
	for i, l := range lats {
		shares[i] = make([]float64, overlayBars)
		for _, b := range l.bars {
			shares[i][bin((b[0]+b[1])/2)] += 100 * b[2] / l.total
		}
		for _, s := range shares[i] {
			highest = max(highest, s)
		}
	}
	bw := plotW / overlayBars
	y := func(share float64) float64 { return top + plotH*(1-share/highest) }
	for i, l := range lats {
		colour := seriesColours[i%len(seriesColours)]
		label := cols[i].Version
		if l.total > 0 {
			label += fmt.Sprintf(" (%d responses)", int64(l.total))
		} else {
			label += " (" + l.note + ")"
		}
		lx, ly := float64(padL+legendW*(i%legendPerRow)), float64(padT/2+18*(i/legendPerRow))
		c.Legend = append(c.Legend, legend{X: f(lx), Y: f(ly), TextX: f(lx + 16), TextY: f(ly + 9), Colour: colour, Label: label})
		if l.total == 0 {
			continue
		}
		// A step outline: up the left edge of each bar, across its top.
		pts := []string{f(padL) + "," + f(y(0))}
		for j, s := range shares[i] {
			x0, x1 := padL+bw*float64(j), padL+bw*float64(j+1)
			pts = append(pts, f(x0)+","+f(y(s)), f(x1)+","+f(y(s)))
		}
		pts = append(pts, f(padL+plotW)+","+f(y(0)))
		c.Series = append(c.Series, series{Colour: colour, Version: cols[i].Version, Points: strings.Join(pts, " ")})
	}
	yDigits := 0 // whole percents, or tenths when the tallest bar is low
	if highest < 20 {
		yDigits = 1
	}
	for i := 0; i <= 4; i++ {
		frac := float64(i) / 4
		c.XTicks = append(c.XTicks, tick{X: f(padL + plotW*frac), Y: f(top + plotH + 16), Label: fmt.Sprintf("%.2f", lo+(hi-lo)*frac)})
		c.YTicks = append(c.YTicks, tick{X: f(padL - 6), Y: f(top + plotH*(1-frac) + 4), Label: strconv.FormatFloat(highest*frac, 'f', yDigits, 64)})
	}
	return c
}
