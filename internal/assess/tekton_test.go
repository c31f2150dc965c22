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

// TestSummary: the summary result, one line per SLO.
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
