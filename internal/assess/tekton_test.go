// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package assess

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/autox-tekton/autox/internal/metrics"
	"github.com/autox-tekton/autox/internal/result"
	"github.com/autox-tekton/autox/internal/slo"
)

func value(f float64) *float64 { return &f }

// TestSummary: the summary result, one line per SLO, then one per
// regression verdict.
func TestSummary(t *testing.T) {
	msec := map[string]metrics.Info{"http-get/latency-mean": {Units: "msec"}}
	for _, tc := range []struct {
		name string
		r    result.Result
		want string
	}{
		{"every SLO holds", result.Result{MetricInfo: msec, SLOs: []slo.Verdict{
			{Metric: "http-get/error-count", Bound: slo.Upper, Limit: 0, Value: value(0), Satisfied: true},
			{Metric: "http-get/latency-mean", Bound: slo.Upper, Limit: 50, Value: value(4.6123), Satisfied: true},
		}}, "PASS http-get/error-count <= 0 (observed 0.000)\nPASS http-get/latency-mean (msec) <= 50 (observed 4.612)"},
		{"a breach and a metric without a value", result.Result{MetricInfo: msec, SLOs: []slo.Verdict{
			{Metric: "http-get/latency-mean", Bound: slo.Upper, Limit: 0.001, Value: value(4.6), Satisfied: false},
			{Metric: "http-post/error-rate", Bound: slo.Lower, Limit: 0.5, Unavailable: "no such metric"},
		}}, "FAIL http-get/latency-mean (msec) <= 0.001 (observed 4.600)\nFAIL http-post/error-rate >= 0.5 (unavailable: no such metric)"},
		{"no SLOs, a task that did not complete", result.Result{FailureReasons: []string{"http: no http metrics file: the http step did not finish"}},
			"no SLOs given\nFAILED http: no http metrics file: the http step did not finish"},
		{"a regression, a metric within its limit and one not judged", result.Result{MetricInfo: msec,
			SLOs: []slo.Verdict{{Metric: "http-get/latency-mean", Bound: slo.Upper, Limit: 50, Value: value(5.1), Satisfied: true}},
			Regression: &result.Regression{Baseline: &result.Baseline{Version: "1.0.0", Run: "autox-httpbin-iter8-0a1b2c3d4e"}, Alpha: 0.01, Verdicts: []result.RegressionVerdict{
				{Metric: "http-get/latency-mean", MaxRatio: 1.1, Baseline: 5.002, Candidate: 5.1, Ratio: 1.0196, P: 0.4123},
				{Metric: "http-get/latency-p99", MaxRatio: 1.1, Baseline: 16.29, Candidate: 37.15, Ratio: 2.2805, P: 0, Regressed: true},
				{Metric: "http-put/latency-p99", MaxRatio: 1.2, Unavailable: "the baseline has no endpoint http-put"},
			}}, Regressed: true},
			"PASS http-get/latency-mean (msec) <= 50 (observed 5.100)\n" +
				"PASS http-get/latency-mean (msec) <= 1.10x baseline 1.0.0 (observed 5.100, baseline 5.002, 1.02x, p = 0.412)\n" +
				"FAIL http-get/latency-p99 (msec) <= 1.10x baseline 1.0.0 (observed 37.150, baseline 16.290, 2.28x, p < 1e-300)\n" +
				"SKIP http-put/latency-p99 (msec) <= 1.20x baseline 1.0.0 (not judged: the baseline has no endpoint http-put)"},
		{"no baseline yet", result.Result{Regression: &result.Regression{Note: "no baseline: no earlier version of this group passed", Alpha: 0.01}},
			"no SLOs given\nSKIP regression limits (no baseline: no earlier version of this group passed)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Summary(&tc.r)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestSummaryLimit: a thousand SLOs still fit Tekton's results; the last
// line says how many were left out.
func TestSummaryLimit(t *testing.T) {
	var r result.Result
	for i := range 1000 {
		r.SLOs = append(r.SLOs, slo.Verdict{Metric: fmt.Sprintf("http-endpoint%04d/latency-p99", i), Bound: slo.Upper, Limit: 50, Value: value(1), Satisfied: true})
	}
	s := Summary(&r)
	b, _ := json.Marshal(s)
	lines := strings.Split(s, "\n")
	if len(b) > SummaryLimit || len(b) < SummaryLimit-100 {
		t.Errorf("summary takes %d bytes encoded; want at most %d and close to it", len(b), SummaryLimit)
	}
	kept := len(lines) - 1
	if want := fmt.Sprintf("... %d more lines; the step's log and result.json have them all", 1000-kept); lines[kept] != want {
		t.Errorf("last line %q; want %q", lines[kept], want)
	}
	if want := "PASS http-endpoint0000/latency-p99 <= 50 (observed 1.000)"; lines[0] != want {
		t.Errorf("first line %q; want %q", lines[0], want)
	}
}

// TestResultFiles: exactly "true"/"false" and the summary, no newline; an
// empty path writes nothing.
func TestResultFiles(t *testing.T) {
	r := &result.Result{SLOs: []slo.Verdict{{Metric: "http/error-count", Bound: slo.Upper, Limit: 0, Value: value(3)}}}
	for _, tc := range []struct {
		name      string
		satisfied bool
		files     func(dir string) ResultFiles
		want      map[string]string
	}{
		{"both", false, func(dir string) ResultFiles {
			return ResultFiles{SLOsSatisfied: filepath.Join(dir, "slos-satisfied"), Summary: filepath.Join(dir, "summary")}
		}, map[string]string{"slos-satisfied": "false", "summary": "FAIL http/error-count <= 0 (observed 3.000)"}},
		{"satisfied", true, func(dir string) ResultFiles {
			return ResultFiles{SLOsSatisfied: filepath.Join(dir, "slos-satisfied")}
		}, map[string]string{"slos-satisfied": "true"}},
		{"none", false, func(string) ResultFiles { return ResultFiles{} }, map[string]string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			r.SLOsSatisfied = tc.satisfied
			if err := tc.files(dir).Write(r); err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
				got[e.Name()] = string(b)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("files (-want +got):\n%s", diff)
			}
		})
	}
}
