// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package regress

import (
	"fmt"
	"maps"
	"slices"

	"github.com/autox-tekton/autox/internal/experiment"
	"github.com/autox-tekton/autox/internal/metrics"
	"github.com/autox-tekton/autox/internal/result"
)

// Against judges candidate's latency metrics named in spec against
// baseline's, the result of the run of the version whose name is in
// base. A nil baseline judges nothing: note says why there is none (the
// first version of a group). A metric that cannot be judged (an endpoint
// the baseline did not have, a histogram not kept) is unavailable, not
// regressed. It sets candidate.Regression and candidate.Regressed.
func Against(spec *experiment.Regression, candidate, baseline *result.Result, base result.Baseline, note string) {
	out := &result.Regression{Alpha: spec.AlphaOrDefault()}
	candidate.Regression, candidate.Regressed = out, false
	if baseline == nil {
		out.Note = note
		return
	}
	out.Baseline = &base
	for _, name := range slices.Sorted(maps.Keys(spec.MaxRatio)) {
		v := result.RegressionVerdict{Metric: name, MaxRatio: spec.MaxRatio[name]}
		judge(&v, name, out.Alpha, candidate, baseline)
		candidate.Regressed = candidate.Regressed || v.Regressed
		out.Verdicts = append(out.Verdicts, v)
	}
}

func judge(v *result.RegressionVerdict, name string, alpha float64, candidate, baseline *result.Result) {
	m, err := experiment.ParseRegressionMetric(name)
	if err != nil {
		v.Unavailable = err.Error()
		return
	}
	c, why := latency(candidate, m.Prefix, "this run")
	if c.Latency == nil {
		v.Unavailable = why
		return
	}
	b, why := latency(baseline, m.Prefix, "the baseline")
	if b.Latency == nil {
		v.Unavailable = why
		return
	}
	j, err := JudgeRuns(b, c, Limit{Percentile: m.Percentile, Mean: m.Mean, Ratio: v.MaxRatio, Alpha: alpha})
	if err != nil {
		v.Unavailable = err.Error()
		return
	}
	v.Baseline, v.Candidate = j.Baseline/1000, j.Candidate/1000
	v.Ratio, v.P, v.Slower, v.Regressed = j.Observed, j.P, j.Test.Slower, j.Regressed
	v.Blocks = j.Blocks[0] + j.Blocks[1]
}

// latency is the latency histogram and blocks of the endpoint with prefix
// in r, or why there is none (a nil Latency); whose names r in the
// reason.
func latency(r *result.Result, prefix, whose string) (Run, string) {
	for _, e := range r.Endpoints {
		if e.Prefix != prefix {
			continue
		}
		if e.Latency == "" {
			return Run{}, whose + " kept no latency histogram of " + prefix + " (cut to fit its ConfigMap)"
		}
		h, err := metrics.DecodeHDR(e.Latency)
		if err != nil {
			return Run{}, fmt.Sprintf("%s's latency histogram of %s: %v", whose, prefix, err)
		}
		if h.TotalCount() == 0 {
			return Run{}, whose + " has no latency of " + prefix + ": no request got a response"
		}
		return Run{Latency: h, Blocks: e.LatencyBlocks}, ""
	}
	return Run{}, whose + " has no endpoint " + prefix
}
