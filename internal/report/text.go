// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Package report renders a result for people: a text report laid out like
// Iter8's `iter8 k report` (what `tkn pipelinerun logs` shows), and a
// self-contained HTML page with inline SVG latency histograms.
//
// Units: latencies in milliseconds (msec), counts in requests or calls,
// rates as fractions, durations in seconds.
package report

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/autox-tekton/autox/internal/metrics"
	"github.com/autox-tekton/autox/internal/result"
	"github.com/autox-tekton/autox/internal/slo"
)

// Text writes the text report.
func Text(w io.Writer, r *result.Result) error {
	var b strings.Builder
	section(&b, "Experiment summary")
	completed := 0
	for _, t := range r.Tasks {
		if t.Completed {
			completed++
		}
	}
	fmt.Fprintf(&b, "  Experiment completed: %t\n", r.Completed)
	fmt.Fprintf(&b, "  No task failures: %t\n", !r.Failure)
	fmt.Fprintf(&b, "  Total number of tasks: %d\n", len(r.Tasks))
	fmt.Fprintf(&b, "  Number of completed tasks: %d\n", completed)
	for _, reason := range r.FailureReasons {
		fmt.Fprintf(&b, "  Failure: %s\n", reason)
	}
	b.WriteString("\n")

	section(&b, "Whether or not service level objectives (SLOs) are satisfied")
	if len(r.SLOs) == 0 {
		b.WriteString("  No SLOs were given (set them under assess.SLOs.upper and assess.SLOs.lower).\n")
	} else {
		rows := [][]string{{"SLO Conditions", "Satisfied"}, {"--------------", "---------"}}
		for _, v := range r.SLOs {
			rows = append(rows, []string{v.Condition(r.Units(v.Metric)), Satisfied(v)})
		}
		table(&b, rows)
	}
	b.WriteString("\n")

	if r.Regression != nil {
		regressionSection(&b, r.Regression)
	}

	if len(r.Endpoints) > 0 {
		section(&b, "Load sent")
		// The targets are listed under the table, not in it: a URL made
		// the table wider than the Tekton Dashboard's log pane.
		rows := [][]string{{"Endpoint", "Requests", "Errors", "Duration (sec)", "Rate (per sec)"}, {"--------", "--------", "------", "--------------", "--------------"}}
		// With workers, each endpoint's totals get one row per worker
		// under them, and every row its p50 and p99.
		spread := slices.ContainsFunc(r.Endpoints, func(e result.Endpoint) bool { return len(e.Workers) > 0 })
		if spread {
			rows[0] = append(rows[0], "p50 (msec)", "p99 (msec)")
			rows[1] = append(rows[1], "----------", "----------")
		}
		for _, e := range r.Endpoints {
			rate := "-"
			if e.DurationSeconds > 0 {
				rate = fmt.Sprintf("%.2f", float64(e.RequestCount)/e.DurationSeconds)
			}
			row := []string{e.Prefix, strconv.FormatInt(e.RequestCount, 10), strconv.FormatInt(e.ErrorCount, 10), fmt.Sprintf("%.2f", e.DurationSeconds), rate}
			if spread {
				row = append(row, latencyCell(r, e, 50), latencyCell(r, e, 99))
			}
			rows = append(rows, row)
			for _, w := range e.Workers {
				rows = append(rows, WorkerCells(w, len(e.Workers)))
			}
		}
		table(&b, rows)
		b.WriteString("\n")
		for _, e := range r.Endpoints {
			fmt.Fprintf(&b, "  Target (%s): %s\n", e.Prefix, e.Target)
			if e.Note != "" {
				fmt.Fprintf(&b, "  Note (%s): %s\n", e.Prefix, e.Note)
			}
			if fr := FixedRate(e); fr != "" {
				fmt.Fprintf(&b, "  Fixed rate (%s): %s\n", e.Prefix, fr)
			}
		}
		if slices.ContainsFunc(r.Endpoints, func(e result.Endpoint) bool { return e.Rate > 0 }) {
			b.WriteString("  " + FixedRateMeaning + "\n")
		}
		b.WriteString("\n")
	}

	if errs := errorLines(r); len(errs) > 0 {
		section(&b, "Errors")
		for _, l := range errs {
			b.WriteString("  " + l + "\n")
		}
		b.WriteString("\n")
	}

	section(&b, "Latest observed values for metrics")
	rows := [][]string{{"Metric", "value"}, {"-------", "-----"}}
	for _, m := range r.MetricNames() {
		rows = append(rows, []string{MetricLabel(r, m), fmt.Sprintf("%.2f", r.Metrics[m])})
	}
	table(&b, rows)
	if len(r.Unavailable) > 0 {
		b.WriteString("\n  Metrics without a value:\n")
		for _, m := range slices.Sorted(maps.Keys(r.Unavailable)) {
			fmt.Fprintf(&b, "    %s: %s\n", m, r.Unavailable[m])
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Satisfied is a verdict's cell: true, false, or false with the reason
// the metric has no value.
func Satisfied(v slo.Verdict) string {
	if v.Value == nil {
		return "false (unavailable: " + v.Unavailable + ")"
	}
	return strconv.FormatBool(v.Satisfied)
}

// MetricLabel is the metric name with its units, as Iter8 wrote it.
func MetricLabel(r *result.Result, m string) string {
	if u := r.Units(m); u != "" {
		return m + " (" + u + ")"
	}
	return m
}

// Breaches are one line per SLO that does not hold, then one per metric
// slower than the baseline (RegressionBreaches), for the ::error:: /
// ::warning:: annotations the Tekton Dashboard colours.
func Breaches(r *result.Result) []string {
	return append(SLOBreaches(r), RegressionBreaches(r)...)
}

// SLOBreaches are one line per SLO that does not hold.
func SLOBreaches(r *result.Result) []string {
	var out []string
	for _, v := range r.SLOs {
		if v.Satisfied {
			continue
		}
		if v.Value == nil {
			out = append(out, fmt.Sprintf("SLO not satisfied: %s: metric unavailable (%s)", v.Condition(r.Units(v.Metric)), v.Unavailable))
			continue
		}
		out = append(out, fmt.Sprintf("SLO not satisfied: %s: observed %.3f", v.Condition(r.Units(v.Metric)), *v.Value))
	}
	return out
}

// errorLines says, per endpoint with errors, how many failed and why.
func errorLines(r *result.Result) []string {
	var out []string
	for _, e := range r.Endpoints {
		if e.ErrorCount == 0 {
			continue
		}
		unit := "requests"
		if e.Task == "grpc" {
			unit = "calls"
		}
		out = append(out, fmt.Sprintf("%s: %d of %d %s were errors", e.Prefix, e.ErrorCount, e.RequestCount, unit))
		msgs := slices.Sorted(maps.Keys(e.Errors))
		sort.SliceStable(msgs, func(i, j int) bool { return e.Errors[msgs[i]] > e.Errors[msgs[j]] })
		for i, m := range msgs {
			if i == 5 {
				out = append(out, fmt.Sprintf("  ... and %d other errors", len(msgs)-5))
				break
			}
			out = append(out, fmt.Sprintf("  %d x %s", e.Errors[m], m))
		}
	}
	return out
}

func section(b *strings.Builder, title string) {
	b.WriteString(title + ":\n")
	b.WriteString(strings.Repeat("*", len(title)+1) + "\n\n")
}

// table pads each column to its widest cell and joins them with " | ".
func table(b *strings.Builder, rows [][]string) {
	widths := map[int]int{}
	for _, row := range rows {
		for i, c := range row {
			widths[i] = max(widths[i], len(c))
		}
	}
	for _, row := range rows {
		cells := make([]string, len(row))
		for i, c := range row {
			if i == len(row)-1 {
				cells[i] = c
			} else {
				cells[i] = c + strings.Repeat(" ", widths[i]-len(c))
			}
		}
		b.WriteString("  " + strings.Join(cells, " | ") + "\n")
	}
}

// WorkerCells is one worker's row under its endpoint's totals: worker,
// requests, errors, duration (sec), achieved rate (per sec), p50 and
// p99 (msec).
func WorkerCells(w metrics.WorkerRow, of int) []string {
	rate, p50, p99 := "-", "-", "-"
	if w.DurationSeconds > 0 {
		rate = fmt.Sprintf("%.2f", w.AchievedRate)
	}
	if w.LatencyP99Ms > 0 {
		p50, p99 = fmt.Sprintf("%.2f", w.LatencyP50Ms), fmt.Sprintf("%.2f", w.LatencyP99Ms)
	}
	return []string{fmt.Sprintf("  worker %d of %d", w.Worker, of), strconv.FormatInt(w.RequestCount, 10), strconv.FormatInt(w.ErrorCount, 10),
		fmt.Sprintf("%.2f", w.DurationSeconds), rate, p50, p99}
}

// latencyCell is an endpoint's latency percentile q from the merged
// metrics (msec), or "-".
func latencyCell(r *result.Result, e result.Endpoint, q float64) string {
	sep := "-"
	if e.Task == "grpc" {
		sep = "/"
	}
	v, ok := r.Metrics[e.Prefix+"/latency"+sep+"p"+metrics.FormatPercentile(q)]
	if !ok {
		return "-"
	}
	return fmt.Sprintf("%.2f", v)
}

// FixedRate says, for an endpoint loaded at a fixed rate, the rate asked
// and how many requests went out late; "" in a closed loop.
func FixedRate(e result.Endpoint) string {
	if e.Rate <= 0 {
		return ""
	}
	unit := "requests"
	if e.Task == "grpc" {
		unit = "calls"
	}
	return fmt.Sprintf("%s %s/s asked; %d sent more than %s late", strconv.FormatFloat(e.Rate, 'g', -1, 64), unit, e.LateCount, metrics.LateAfter)
}

// FixedRateMeaning says what latency and service-time mean at a rate.
const FixedRateMeaning = "At a fixed rate, latency counts from each intended send time, service-time from each send."
