// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/autox-tekton/autox/internal/result"
)

//go:embed report.html.tmpl
var htmlTemplate string

// Chart geometry, in SVG user units.
const (
	chartW, chartH = 720, 260
	padL, padR     = 56, 16
	padT, padB     = 16, 44
)

type htmlSLO struct {
	Condition, Satisfied, Observed string
	OK                             bool
}

type htmlMetric struct{ Name, Value, Description string }

type bar struct{ X, Y, W, H, Count, Range string }

type tick struct{ X, Y, Label string }

type chart struct {
	Prefix, Target, Summary, Note string
	W, H                          int
	Bars                          []bar
	XTicks, YTicks                []tick
	AxisX0, AxisX1, AxisY0, AxisY string
	Empty                         string
	// Workers has one row of cells per worker (WorkerCells), under the
	// endpoint's totals in Summary.
	Workers [][]string
}

// htmlRegression is the regression section; nil without one.
type htmlRegression struct {
	// Baseline names the baseline; "" when there is none and Note says why.
	Baseline, Note, Meaning string
	Verdicts                []regressionCell
}

type htmlView struct {
	Verdict, VerdictClass string
	Generated             string
	Summary               [][2]string
	Failures              []string
	SLOs                  []htmlSLO
	Regression            *htmlRegression
	Charts                []chart
	Errors                []string
	Metrics               []htmlMetric
	Unavailable           [][2]string
}

// HTML writes a self-contained page: no scripts, no external files.
func HTML(w io.Writer, r *result.Result) error {
	t, err := template.New("report").Parse(htmlTemplate)
	if err != nil {
		return fmt.Errorf("report template: %w", err)
	}
	return t.Execute(w, view(r))
}

func view(r *result.Result) htmlView {
	v := htmlView{Generated: r.EndTime.Format(time.RFC3339), VerdictClass: "bad"}
	var ok bool
	if v.Verdict, ok = verdict(r); ok {
		v.VerdictClass = "good"
	}
	completed := 0
	for _, t := range r.Tasks {
		if t.Completed {
			completed++
		}
	}
	v.Summary = [][2]string{
		{"Experiment completed", strconv.FormatBool(r.Completed)},
		{"No task failures", strconv.FormatBool(!r.Failure)},
		{"Total number of tasks", strconv.Itoa(len(r.Tasks))},
		{"Number of completed tasks", strconv.Itoa(completed)},
	}
	v.Failures = r.FailureReasons
	for _, s := range r.SLOs {
		obs := "unavailable"
		if s.Value != nil {
			obs = fmt.Sprintf("%.2f", *s.Value)
		}
		v.SLOs = append(v.SLOs, htmlSLO{Condition: s.Condition(r.Units(s.Metric)), Satisfied: Satisfied(s), Observed: obs, OK: s.Satisfied})
	}
	if g := r.Regression; g != nil {
		v.Regression = &htmlRegression{Note: NoBaseline(g)}
		if g.Baseline != nil {
			v.Regression.Baseline, v.Regression.Note, v.Regression.Meaning = BaselineName(g.Baseline), "", RegressionMeaning(g.Alpha)
			for _, rv := range g.Verdicts {
				v.Regression.Verdicts = append(v.Regression.Verdicts, regressionCells(rv))
			}
		}
	}
	for _, e := range r.Endpoints {
		v.Charts = append(v.Charts, makeChart(e))
	}
	v.Errors = errorLines(r)
	for _, m := range r.MetricNames() {
		v.Metrics = append(v.Metrics, htmlMetric{Name: MetricLabel(r, m), Value: fmt.Sprintf("%.2f", r.Metrics[m]), Description: r.MetricInfo[m].Description})
	}
	for _, m := range slices.Sorted(maps.Keys(r.Unavailable)) {
		v.Unavailable = append(v.Unavailable, [2]string{m, r.Unavailable[m]})
	}
	return v
}

func makeChart(e result.Endpoint) chart {
	c := chart{Prefix: e.Prefix, Target: e.Target, Note: e.Note, W: chartW, H: chartH,
		Summary: fmt.Sprintf("%d requests, %d errors, %.2f s", e.RequestCount, e.ErrorCount, e.DurationSeconds)}
	if e.Task == "grpc" {
		c.Summary = fmt.Sprintf("%d calls, %d errors, %.2f s", e.RequestCount, e.ErrorCount, e.DurationSeconds)
	}
	if fr := FixedRate(e); fr != "" {
		c.Summary += " · " + fr + " · " + FixedRateMeaning
	}
	for _, w := range e.Workers {
		cells := WorkerCells(w, len(e.Workers))
		cells[0] = strings.TrimSpace(cells[0])
		c.Workers = append(c.Workers, cells)
	}
	plotW, plotH := float64(chartW-padL-padR), float64(chartH-padT-padB)
	c.AxisX0, c.AxisX1 = f(padL), f(chartW-padR)
	c.AxisY0, c.AxisY = f(padT), f(chartH-padB)
	if len(e.Histogram) == 0 {
		c.Empty = "no latencies: no request got a response"
		c.H = 40
		return c
	}
	var top int64
	for _, b := range e.Histogram {
		top = max(top, b.Count)
	}
	lo, hi := e.Histogram[0].LowMs, e.Histogram[len(e.Histogram)-1].HighMs
	span := hi - lo
	bw := plotW / float64(len(e.Histogram))
	for i, b := range e.Histogram {
		h := 0.0
		if top > 0 {
			h = plotH * float64(b.Count) / float64(top)
		}
		c.Bars = append(c.Bars, bar{
			X: f(padL + bw*float64(i) + 1), Y: f(float64(padT) + plotH - h), W: f(max(bw-2, 1)), H: f(h),
			Count: strconv.FormatInt(b.Count, 10), Range: fmt.Sprintf("%.3f–%.3f ms", b.LowMs, b.HighMs),
		})
	}
	for i := 0; i <= 4; i++ {
		frac := float64(i) / 4
		c.XTicks = append(c.XTicks, tick{X: f(padL + plotW*frac), Y: f(chartH - padB + 16), Label: fmt.Sprintf("%.2f", lo+span*frac)})
	}
	// Count ticks at whole numbers: at most five, evenly spaced.
	step := (top + 3) / 4
	for n := int64(0); n <= top; n += step {
		frac := float64(n) / float64(top)
		c.YTicks = append(c.YTicks, tick{X: f(padL - 6), Y: f(float64(padT) + plotH*(1-frac) + 4), Label: strconv.FormatInt(n, 10)})
	}
	return c
}

func f(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
