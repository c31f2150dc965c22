// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package report

// The regression verdict (assess.regression) as people read it: this
// run's latency metrics against its baseline's, the last version of the
// group and spec whose run passed. Values are in msec; a ratio is this
// run's value over the baseline's ("2.28x"), its limit the spec's
// maxRatio; p is the one-sided Mann-Whitney U test's p-value (%.3g), and a
// p of 0 (below float64's range) is written "< 1e-300".

import (
	"fmt"
	"slices"
	"strings"

	"github.com/autox-tekton/autox/internal/result"
)

// RegressionTitle heads the regression section of the report.
const RegressionTitle = "Whether or not this version is slower than its baseline (regression)"

// P is a p-value as the report writes it: "0.412", "3.1e-05", or
// "< 1e-300" for 0.
func P(p float64) string {
	if p == 0 {
		return "< 1e-300"
	}
	return fmt.Sprintf("%.3g", p)
}

// PWith is a p-value with its name: "p = 0.412", "p < 1e-300".
func PWith(p float64) string {
	if p == 0 {
		return "p < 1e-300"
	}
	return "p = " + P(p)
}

// Ratio is a ratio or limit as the report writes it, "2.28x".
func Ratio(r float64) string { return fmt.Sprintf("%.2fx", r) }

// BaselineName is "1.0.0 (run autox-httpbin-iter8-0a1b2c3d4e)", or the
// version alone when the run is not known.
func BaselineName(b *result.Baseline) string {
	if b.Run == "" {
		return b.Version
	}
	return b.Version + " (run " + b.Run + ")"
}

// RegressionVerdict is a verdict's one word: PASS, FAIL, or "not judged:
// <why>".
func RegressionVerdict(v result.RegressionVerdict) string {
	switch {
	case v.Unavailable != "":
		return "not judged: " + v.Unavailable
	case v.Regressed:
		return "FAIL"
	}
	return "PASS"
}

// RegressionText is one judged metric in a sentence: "http-get/latency-p99
// is 37.15 msec, 2.28x baseline 1.0.0's 16.29 msec (limit 1.10x, p <
// 1e-300)"; for one not judged, the metric and why.
func RegressionText(v result.RegressionVerdict, baseline string) string {
	if v.Unavailable != "" {
		return fmt.Sprintf("%s not judged: %s", v.Metric, v.Unavailable)
	}
	return fmt.Sprintf("%s is %.2f msec, %s baseline %s's %.2f msec (limit %s, %s)",
		v.Metric, v.Candidate, Ratio(v.Ratio), baseline, v.Baseline, Ratio(v.MaxRatio), PWith(v.P))
}

// NoBaseline is what a regression without a baseline says: its note.
func NoBaseline(g *result.Regression) string {
	if g.Note == "" {
		return "no baseline"
	}
	return g.Note
}

// RegressionBreaches are one line per regressed metric, for the
// ::error:: / ::warning:: annotations.
func RegressionBreaches(r *result.Result) []string {
	g := r.Regression
	if g == nil || g.Baseline == nil {
		return nil
	}
	var out []string
	for _, v := range g.Verdicts {
		if v.Regressed {
			out = append(out, "regression: "+RegressionText(v, g.Baseline.Version))
		}
	}
	return out
}

// regressionSection writes the regression section of the text report.
func regressionSection(b *strings.Builder, g *result.Regression) {
	section(b, RegressionTitle)
	if g.Baseline == nil {
		b.WriteString("  " + NoBaseline(g) + "\n\n")
		return
	}
	fmt.Fprintf(b, "  Baseline: version %s\n\n", BaselineName(g.Baseline))
	if len(g.Verdicts) == 0 {
		b.WriteString("  No metric was judged.\n\n")
		return
	}
	rows := [][]string{{"Metric", "Baseline (msec)", "This run (msec)", "Ratio (limit)", "p", "Verdict"}, {"------", "---------------", "---------------", "-------------", "-", "-------"}}
	for _, v := range g.Verdicts {
		c := regressionCells(v)
		rows = append(rows, []string{v.Metric, c.Baseline, c.Candidate, c.Ratio, c.P, c.Verdict})
	}
	table(b, rows)
	fmt.Fprintf(b, "\n  %s\n\n", RegressionMeaning(g.Alpha))
}

// RegressionMeaning says when a metric fails.
func RegressionMeaning(alpha float64) string {
	return fmt.Sprintf("FAIL: the ratio is above its limit and p is below alpha %g (the slowdown is not noise).", alpha)
}

// regressionCell is one verdict's cells; "-" where it has no value.
type regressionCell struct {
	Metric, Baseline, Candidate, Ratio, P, Verdict string
	OK                                             bool
}

func regressionCells(v result.RegressionVerdict) regressionCell {
	c := regressionCell{Metric: v.Metric, Baseline: "-", Candidate: "-", Ratio: "- (" + Ratio(v.MaxRatio) + ")", P: "-", Verdict: RegressionVerdict(v), OK: !v.Regressed}
	if v.Unavailable == "" {
		c.Baseline, c.Candidate = fmt.Sprintf("%.2f", v.Baseline), fmt.Sprintf("%.2f", v.Candidate)
		c.Ratio, c.P = Ratio(v.Ratio)+" ("+Ratio(v.MaxRatio)+")", P(v.P)
	}
	return c
}

// regressionRow is one metric judged against each version's baseline.
type regressionRow struct {
	Metric string
	// Cells by column; nil where that version did not judge it.
	Cells []*result.RegressionVerdict
}

// compareRegressions is the baseline of each column ("-" without a
// regression section, "none" without a baseline) and one row per metric
// any version judged, sorted; nil when no version has a regression
// section.
func compareRegressions(cols []Column) (baselines []string, rows []regressionRow) {
	index := map[string]int{}
	judged := false
	for i, c := range cols {
		g := c.Result.Regression
		switch {
		case g == nil:
			baselines = append(baselines, "-")
			continue
		case g.Baseline == nil:
			baselines = append(baselines, "none")
		default:
			baselines = append(baselines, g.Baseline.Version)
		}
		judged = true
		for _, v := range g.Verdicts {
			j, ok := index[v.Metric]
			if !ok {
				j = len(rows)
				index[v.Metric] = j
				rows = append(rows, regressionRow{Metric: v.Metric, Cells: make([]*result.RegressionVerdict, len(cols))})
			}
			rows[j].Cells[i] = &v
		}
	}
	if !judged {
		return nil, nil
	}
	slices.SortStableFunc(rows, func(a, b regressionRow) int { return strings.Compare(a.Metric, b.Metric) })
	return baselines, rows
}

// cellRegression is a regression cell: "37.15, 2.28x (limit 1.10x), p <
// 1e-300 FAIL", "not judged", or "-" when the version did not judge the
// metric.
func cellRegression(v *result.RegressionVerdict) (text string, ok, present bool) {
	switch {
	case v == nil:
		return "-", false, false
	case v.Unavailable != "":
		return "not judged", true, true
	}
	return fmt.Sprintf("%.2f, %s (limit %s), %s %s", v.Candidate, Ratio(v.Ratio), Ratio(v.MaxRatio), PWith(v.P), RegressionVerdict(*v)), !v.Regressed, true
}

// CompareRegressionTitle heads the regression table of a comparison.
const CompareRegressionTitle = "Whether or not each version is slower than its baseline (regression)"
