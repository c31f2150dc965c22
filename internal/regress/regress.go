// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Package regress judges whether a version is slower than its baseline,
// from the two versions' latency histograms (HDR, as the load steps
// record them): a limit on a percentile's (or the mean's) ratio, judged
// with a test of the limit itself (limit.go: on the runs' blocks, a
// permutation test of the blocks' shares past the limit or of their
// means, so that a burst of slow requests counts once; per request,
// without blocks, Fisher's exact test on the tail past the limit and
// Welch's on the mean), so that noise between two runs of one build does
// not fail a run and a real shift does; and a
// Mann-Whitney U test on the two distributions, whether the candidate is
// slower as a whole.
//
// The test works on the histograms' buckets, not on samples: a bucket's
// requests are tied (the histograms keep 3 significant digits), they
// take the mean of the ranks they span, and the variance is corrected
// for ties. It costs one pass over the buckets, however many requests
// were sent, and reads nothing the histograms do not keep.
package regress

import (
	"errors"
	"fmt"
	"math"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/autox-tekton/autox/internal/metrics"
)

// Test is the Mann-Whitney U test of a candidate's latencies against a
// baseline's, one-sided: is the candidate slower?
type Test struct {
	// Baseline and Candidate are the sample sizes.
	Baseline, Candidate int64
	// U counts the (candidate, baseline) pairs in which the candidate's
	// request was slower, ties counting one half.
	U float64
	// Slower is U over all pairs: the probability that a candidate
	// request is slower than a baseline one (0.5: neither is).
	Slower float64
	// Z is U's normal score, with the tie and continuity corrections.
	Z float64
	// P is the one-sided p-value: the probability of a U this large or
	// larger if both samples came from one distribution.
	P float64
}

// MannWhitney tests whether candidate's latencies are larger than
// baseline's. Both histograms must have the same geometry (autox's are
// made by metrics.NewHistogram) and at least one value each.
func MannWhitney(baseline, candidate *hdrhistogram.Histogram) (Test, error) {
	if baseline == nil || candidate == nil {
		return Test{}, errors.New("regress: a histogram is missing")
	}
	a, b := baseline.Export(), candidate.Export()
	if a.LowestTrackableValue != b.LowestTrackableValue || a.HighestTrackableValue != b.HighestTrackableValue ||
		a.SignificantFigures != b.SignificantFigures || len(a.Counts) != len(b.Counts) {
		return Test{}, fmt.Errorf("regress: the histograms differ in range or precision (%d..%d at %d digits against %d..%d at %d)",
			a.LowestTrackableValue, a.HighestTrackableValue, a.SignificantFigures, b.LowestTrackableValue, b.HighestTrackableValue, b.SignificantFigures)
	}
	t := Test{Baseline: baseline.TotalCount(), Candidate: candidate.TotalCount()}
	switch {
	case t.Baseline == 0:
		return Test{}, errors.New("regress: the baseline recorded no latency")
	case t.Candidate == 0:
		return Test{}, errors.New("regress: the candidate recorded no latency")
	}
	// Walk the buckets in value order (an HDR histogram's counts are):
	// a bucket's requests take ranks below+1 .. below+n, each the mean.
	var below, rankSum, ties float64
	for i, ca := range a.Counts {
		cb := b.Counts[i]
		n := float64(ca + cb)
		if n == 0 {
			continue
		}
		rankSum += float64(cb) * (below + (n+1)/2)
		ties += n*n*n - n
		below += n
	}
	n1, n2 := float64(t.Baseline), float64(t.Candidate)
	n := n1 + n2
	t.U = rankSum - n2*(n2+1)/2
	t.Slower = t.U / (n1 * n2)
	mean := n1 * n2 / 2
	variance := n1 * n2 / 12 * ((n + 1) - ties/(n*(n-1)))
	if variance <= 0 {
		// Every request of both fell in one bucket: nothing tells them apart.
		t.Z, t.P = 0, 0.5
		return t, nil
	}
	t.Z = (t.U - mean - 0.5) / math.Sqrt(variance)
	t.P = 0.5 * math.Erfc(t.Z/math.Sqrt2)
	return t, nil
}

// Limit is one regression limit: the candidate's percentile Percentile
// (or its mean) at most Ratio times the baseline's.
type Limit struct {
	// Percentile is 0..100: 99 is latency-p99.
	Percentile float64
	// Ratio is the largest candidate/baseline ratio that passes: 1.10.
	Ratio float64
	// Alpha is the p-value below which a shift is not noise: 0.01.
	Alpha float64
	// Mean judges the means instead of a percentile.
	Mean bool
}

// Verdict is a Limit judged.
type Verdict struct {
	Limit
	// Baseline and Candidate are the percentile's (or mean's) values, in
	// the histograms' unit (microseconds for autox's); Observed is
	// Candidate / Baseline.
	Baseline, Candidate float64
	Observed            float64
	// P is the p-value of the limit's own test (limit.go): the chance
	// that a candidate within the limit shows a tail (or mean) this far
	// past it.
	P float64
	// Over and OverBaseline count, for a percentile, the candidate's
	// requests above Ratio x the baseline's percentile and the baseline's
	// above its percentile.
	Over, OverBaseline int64
	// Blocks are the blocks of the baseline and the candidate the limit
	// was judged on (limit.go); zero when it was judged per request.
	Blocks [2]int
	// Test is the Mann-Whitney test of the two distributions: whether the
	// candidate is slower as a whole (shown, not the verdict).
	Test Test
	// Regressed: the ratio is above the limit and P is below Alpha.
	Regressed bool
}

// Run is what a verdict reads of one run: its latency histogram and, if
// it kept them, its blocks (metrics.Block).
type Run struct {
	Latency *hdrhistogram.Histogram
	Blocks  []metrics.Block
}

// Judge checks a limit on two histograms, per request.
func Judge(baseline, candidate *hdrhistogram.Histogram, l Limit) (Verdict, error) {
	return JudgeRuns(Run{Latency: baseline}, Run{Latency: candidate}, l)
}

// JudgeRuns checks a limit on two runs: on their blocks when both have
// at least MinBlocks, else per request.
func JudgeRuns(b, c Run, l Limit) (Verdict, error) {
	baseline, candidate := b.Latency, c.Latency
	switch {
	case !l.Mean && (l.Percentile <= 0 || l.Percentile > 100 || math.IsNaN(l.Percentile)):
		return Verdict{}, fmt.Errorf("regress: percentile %g: want more than 0 and at most 100", l.Percentile)
	case l.Ratio < 1 || math.IsInf(l.Ratio, 0) || math.IsNaN(l.Ratio):
		return Verdict{}, fmt.Errorf("regress: ratio %g: want a finite number of at least 1 (1.10 allows 10%% slower)", l.Ratio)
	case l.Alpha <= 0 || l.Alpha >= 1:
		return Verdict{}, fmt.Errorf("regress: alpha %g: want more than 0 and less than 1 (0.01)", l.Alpha)
	}
	t, err := MannWhitney(baseline, candidate)
	if err != nil {
		return Verdict{}, err
	}
	v := Verdict{Limit: l, Test: t}
	if l.Mean {
		v.Baseline, v.Candidate = baseline.Mean(), candidate.Mean()
	} else {
		v.Baseline, v.Candidate = float64(baseline.ValueAtPercentile(l.Percentile)), float64(candidate.ValueAtPercentile(l.Percentile))
	}
	// A baseline below the histograms' unit counts as one unit.
	v.Observed = v.Candidate / max(v.Baseline, 1)
	if l.Mean {
		v.P = meanTest(baseline, candidate, l.Ratio)
	} else {
		v.P, v.Over, v.OverBaseline = tailTest(baseline, candidate, l.Percentile, l.Ratio)
	}
	if len(b.Blocks) >= MinBlocks && len(c.Blocks) >= MinBlocks {
		v.Blocks = [2]int{len(b.Blocks), len(c.Blocks)}
		if l.Mean {
			v.P = permutationGreater(blockMeans(c.Blocks, 1), blockMeans(b.Blocks, l.Ratio))
		} else {
			at := float64(baseline.ValueAtPercentile(l.Percentile))
			v.P = permutationGreater(blockShares(c.Blocks, at*l.Ratio), blockShares(b.Blocks, at))
		}
	}
	v.Regressed = v.Observed > l.Ratio && v.P < l.Alpha
	return v, nil
}
