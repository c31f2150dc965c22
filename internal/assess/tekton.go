// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package assess

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/autox-tekton/autox/internal/atomicfile"
	"github.com/autox-tekton/autox/internal/report"
	"github.com/autox-tekton/autox/internal/result"
)

// SummaryLimit bounds the summary result, measured as Tekton stores it:
// JSON-encoded (where "<" takes 6 bytes and a newline 2) in the step's
// termination message, which holds every result of the TaskRun in 4096
// bytes. The rest of that message (slos-satisfied, keys, the step's start
// time) takes well under 1000 bytes.
const SummaryLimit = 3000

// Summary is one line per SLO, "PASS" or "FAIL", its condition and the
// observed value; with a regression section (assess.regression) one line
// per metric judged against the baseline, "PASS", "FAIL" or "SKIP" (not
// judged), its limit, both values (msec), the ratio and the p-value, or
// one "SKIP" line when there is no baseline; then one "FAILED" line per
// task that did not complete.
// Lines that would pass SummaryLimit are left out, and a last line says
// how many and where the whole result is kept.
func Summary(r *result.Result) string {
	var lines []string
	for _, v := range r.SLOs {
		verdict := "FAIL"
		if v.Satisfied {
			verdict = "PASS"
		}
		observed := "unavailable: " + v.Unavailable
		if v.Value != nil {
			observed = "observed " + strconv.FormatFloat(*v.Value, 'f', 3, 64)
		}
		lines = append(lines, fmt.Sprintf("%s %s (%s)", verdict, v.Condition(r.Units(v.Metric)), observed))
	}
	if len(r.SLOs) == 0 {
		lines = append(lines, "no SLOs given")
	}
	lines = append(lines, regressionLines(r.Regression)...)
	for _, f := range r.FailureReasons {
		lines = append(lines, "FAILED "+f)
	}
	for kept := len(lines); ; kept-- {
		s := strings.Join(lines[:kept], "\n")
		if kept < len(lines) {
			s += fmt.Sprintf("\n... %d more lines; the step's log and result.json have them all", len(lines)-kept)
		}
		if encodedLen(s) <= SummaryLimit || kept == 0 {
			return s
		}
	}
}

// regressionLines are the summary's regression lines, e.g.
// "FAIL http-get/latency-p99 (msec) <= 1.10x baseline 1.0.0 (observed
// 37.150, baseline 16.290, 2.28x, p < 1e-300)".
func regressionLines(g *result.Regression) []string {
	switch {
	case g == nil:
		return nil
	case g.Baseline == nil:
		return []string{"SKIP regression limits (" + report.NoBaseline(g) + ")"}
	}
	var lines []string
	for _, v := range g.Verdicts {
		limit := fmt.Sprintf("%s (msec) <= %s baseline %s", v.Metric, report.Ratio(v.MaxRatio), g.Baseline.Version)
		if v.Unavailable != "" {
			lines = append(lines, fmt.Sprintf("SKIP %s (not judged: %s)", limit, v.Unavailable))
			continue
		}
		verdict := "PASS"
		if v.Regressed {
			verdict = "FAIL"
		}
		lines = append(lines, fmt.Sprintf("%s %s (observed %s, baseline %s, %s, %s)", verdict, limit,
			strconv.FormatFloat(v.Candidate, 'f', 3, 64), strconv.FormatFloat(v.Baseline, 'f', 3, 64), report.Ratio(v.Ratio), report.PWith(v.P)))
	}
	return lines
}

func encodedLen(s string) int {
	b, _ := json.Marshal(s) // a string always encodes
	return len(b)
}

// ResultFiles are where Tekton collects the step's results; "" writes
// none.
type ResultFiles struct {
	// SLOsSatisfied receives "true" or "false".
	SLOsSatisfied string
	// Summary receives Summary(r).
	Summary string
}

// Write writes r's results, each exactly (no newline: Tekton takes the
// file's bytes as the value).
func (f ResultFiles) Write(r *result.Result) error {
	for _, w := range []struct{ path, value string }{
		{f.SLOsSatisfied, strconv.FormatBool(r.SLOsSatisfied)},
		{f.Summary, Summary(r)},
	} {
		if w.path == "" {
			continue
		}
		if err := atomicfile.Write(w.path, []byte(w.value)); err != nil {
			return fmt.Errorf("writing a Tekton result: %w", err)
		}
	}
	return nil
}
