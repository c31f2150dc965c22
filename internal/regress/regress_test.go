// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package regress

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/autox-tekton/autox/internal/metrics"
)

func histogram(t testing.TB, values ...int64) *hdrhistogram.Histogram {
	t.Helper()
	h := metrics.NewHistogram()
	for _, v := range values {
		if err := h.RecordValue(v); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

// pairs counts U the long way: every (candidate, baseline) pair.
func pairs(baseline, candidate []int64) float64 {
	u := 0.0
	for _, c := range candidate {
		for _, b := range baseline {
			switch {
			case c > b:
				u++
			case c == b:
				u += 0.5
			}
		}
	}
	return u
}

// TestUCountsPairs checks U against the pairs themselves, with ties, on
// values an HDR histogram keeps exactly (below 2048 at 3 digits).
func TestUCountsPairs(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		n1, n2 int
		max    int64
	}{{5, 7, 10}, {50, 60, 20}, {300, 200, 2000}, {1, 1, 5}, {1000, 10, 3}} {
		a, b := make([]int64, tc.n1), make([]int64, tc.n2)
		for i := range a {
			a[i] = 1 + r.Int64N(tc.max)
		}
		for i := range b {
			b[i] = 1 + r.Int64N(tc.max)
		}
		got, err := MannWhitney(histogram(t, a...), histogram(t, b...))
		if err != nil {
			t.Fatal(err)
		}
		if want := pairs(a, b); got.U != want || got.Slower != want/float64(tc.n1*tc.n2) {
			t.Errorf("%d vs %d values in 1..%d: U = %g, Slower = %g; counted %g pairs", tc.n1, tc.n2, tc.max, got.U, got.Slower, want)
		}
		if got.Baseline != int64(tc.n1) || got.Candidate != int64(tc.n2) {
			t.Errorf("sizes %d, %d; want %d, %d", got.Baseline, got.Candidate, tc.n1, tc.n2)
		}
	}
}

// TestTextbook: 1..5 against 6..10, no ties: U = 25, the normal
// approximation's z = (25 - 12.5 - 0.5) / sqrt(5*5*11/12) = 2.5067 and
// one-sided p = 0.00609.
func TestTextbook(t *testing.T) {
	got, err := MannWhitney(histogram(t, 1, 2, 3, 4, 5), histogram(t, 6, 7, 8, 9, 10))
	if err != nil {
		t.Fatal(err)
	}
	if got.U != 25 || math.Abs(got.Z-2.5067) > 1e-4 || math.Abs(got.P-0.00609) > 1e-5 {
		t.Errorf("U = %g, z = %.4f, p = %.5f; want 25, 2.5067, 0.00609", got.U, got.Z, got.P)
	}
	// The other way round the candidate is faster: p near 1.
	if rev, _ := MannWhitney(histogram(t, 6, 7, 8, 9, 10), histogram(t, 1, 2, 3, 4, 5)); rev.U != 0 || rev.P < 0.99 {
		t.Errorf("faster candidate: U = %g, p = %g; want 0 and p near 1", rev.U, rev.P)
	}
	// Everything in one bucket: nothing tells them apart.
	if same, _ := MannWhitney(histogram(t, 7, 7, 7), histogram(t, 7, 7)); same.P != 0.5 || same.Slower != 0.5 {
		t.Errorf("all tied: p = %g, Slower = %g; want 0.5, 0.5", same.P, same.Slower)
	}
}

// lognormal draws n latencies in microseconds around median µs.
func lognormal(r *rand.Rand, n int, median, sigma float64, shift int64) []int64 {
	v := make([]int64, n)
	for i := range v {
		v[i] = int64(median*math.Exp(sigma*r.NormFloat64())) + shift
	}
	return v
}

// TestNoiseAndShift: two runs of one build (two samples of one
// distribution) are judged slower at about the rate alpha says, and a
// version served 20 ms slower is found with p far below 0.01 and its
// p99 ratio shown; with the p99 limit of 1.10 the same build never
// regresses.
func TestNoiseAndShift(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const trials, n = 400, 2000
	limit := Limit{Percentile: 99, Ratio: 1.10, Alpha: 0.01}
	significant, at5, regressed := 0, 0, 0
	for range trials {
		base := histogram(t, lognormal(r, n, 5000, 0.5, 0)...)
		cand := histogram(t, lognormal(r, n, 5000, 0.5, 0)...)
		v, err := Judge(base, cand, limit)
		if err != nil {
			t.Fatal(err)
		}
		if v.Test.P < limit.Alpha {
			significant++
		}
		if v.Test.P < 0.05 {
			at5++
		}
		if v.Regressed {
			regressed++
		}
	}
	rate := float64(significant) / trials
	t.Logf("same build, %d pairs of runs of %d requests: p < %g in %d (%.1f%%), p < 0.05 in %d, regressed in %d", trials, n, limit.Alpha, significant, 100*rate, at5, regressed)
	if rate > 0.03 {
		t.Errorf("p < %g in %.1f%% of runs of one build, want about %g%%", limit.Alpha, 100*rate, 100*limit.Alpha)
	}
	// The p-values of one build spread evenly: about 5% fall below 0.05
	// (20 of 400, sd 4.4), so the test is neither lax nor deaf.
	if at5 < 10 || at5 > 30 {
		t.Errorf("p < 0.05 in %d of %d runs of one build, want 10..30 (about 5%%)", at5, trials)
	}
	if regressed != 0 {
		t.Errorf("one build judged regressed %d times in %d, want never", regressed, trials)
	}

	base := histogram(t, lognormal(r, n, 5000, 0.5, 0)...)
	slower := histogram(t, lognormal(r, n, 5000, 0.5, 20000)...)
	v, err := Judge(base, slower, limit)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("20 ms slower: p99 %.0f -> %.0f µs, ratio %.2f, p = %.3g", v.Baseline, v.Candidate, v.Observed, v.Test.P)
	if !v.Regressed || v.Test.P >= 1e-6 || v.Observed < 1.5 {
		t.Errorf("20 ms slower: regressed %v, p = %g, ratio %.2f; want regressed, p < 1e-6, ratio above 1.5", v.Regressed, v.Test.P, v.Observed)
	}
	mean, err := Judge(base, slower, Limit{Ratio: 1.10, Alpha: 0.01, Mean: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("20 ms slower: mean %.0f -> %.0f µs, ratio %.2f", mean.Baseline, mean.Candidate, mean.Observed)
	if want := slower.Mean() / base.Mean(); !mean.Regressed || mean.Observed != want || mean.Observed < 2 {
		t.Errorf("20 ms slower, means: regressed %v, ratio %.3f; want regressed, ratio %.3f (above 2)", mean.Regressed, mean.Observed, want)
	}
}

func TestBadInput(t *testing.T) {
	good := histogram(t, 1, 2, 3)
	other := hdrhistogram.New(1, 1000, 2)
	other.RecordValue(5)
	for _, tc := range []struct {
		name       string
		base, cand *hdrhistogram.Histogram
		limit      Limit
		want       string
	}{
		{"no baseline", nil, good, Limit{Percentile: 99, Ratio: 1.1, Alpha: 0.01}, "a histogram is missing"},
		{"empty baseline", metrics.NewHistogram(), good, Limit{Percentile: 99, Ratio: 1.1, Alpha: 0.01}, "the baseline recorded no latency"},
		{"empty candidate", good, metrics.NewHistogram(), Limit{Percentile: 99, Ratio: 1.1, Alpha: 0.01}, "the candidate recorded no latency"},
		{"another geometry", good, other, Limit{Percentile: 99, Ratio: 1.1, Alpha: 0.01}, "the histograms differ in range or precision"},
		{"percentile 0", good, good, Limit{Percentile: 0, Ratio: 1.1, Alpha: 0.01}, "percentile 0: want more than 0 and at most 100"},
		{"ratio below 1", good, good, Limit{Percentile: 99, Ratio: 0.9, Alpha: 0.01}, "ratio 0.9: want a finite number of at least 1"},
		{"alpha 1", good, good, Limit{Percentile: 99, Ratio: 1.1, Alpha: 1}, "alpha 1: want more than 0 and less than 1"},
	} {
		if _, err := Judge(tc.base, tc.cand, tc.limit); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Judge = %v, want an error with %q", tc.name, err, tc.want)
		}
	}
}

// BenchmarkMannWhitney: two histograms of a million requests each.
func BenchmarkMannWhitney(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	base := histogram(b, lognormal(r, 1_000_000, 5000, 0.5, 0)...)
	cand := histogram(b, lognormal(r, 1_000_000, 5500, 0.5, 0)...)
	for b.Loop() {
		if _, err := MannWhitney(base, cand); err != nil {
			b.Fatal(err)
		}
	}
}

// TestTailOnly: a version whose slowest 3% of requests take 60 ms more,
// the rest unchanged, regresses on p99 (the limit's tail test finds it)
// though the U test sees no shift of the whole; a limit on p50 does not
// regress. Fisher's test matches a hand-computed case.
func TestTailOnly(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	const n = 3000
	baseVals := lognormal(r, n, 5000, 0.3, 0)
	candVals := lognormal(r, n, 5000, 0.3, 0)
	for i := range candVals {
		if i%33 == 0 {
			candVals[i] += 60000
		}
	}
	base, cand := histogram(t, baseVals...), histogram(t, candVals...)
	p99, err := Judge(base, cand, Limit{Percentile: 99, Ratio: 1.10, Alpha: 0.01})
	if err != nil {
		t.Fatal(err)
	}
	p50, err := Judge(base, cand, Limit{Percentile: 50, Ratio: 1.10, Alpha: 0.01})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("tail only: p99 ratio %.2f, tail test p %.3g (%d vs %d over), U test p %.3g; p50 ratio %.3f, p %.3g",
		p99.Observed, p99.P, p99.Over, p99.OverBaseline, p99.Test.P, p50.Observed, p50.P)
	if !p99.Regressed || p99.P >= 1e-6 {
		t.Errorf("p99: regressed %t, p %g; want regressed with p < 1e-6", p99.Regressed, p99.P)
	}
	if p99.Test.P < 0.01 {
		t.Errorf("the U test found the tail-only shift (p %g): the case no longer shows why limits have their own test", p99.Test.P)
	}
	if p50.Regressed {
		t.Errorf("p50 regressed (ratio %.3f, p %g); want not", p50.Observed, p50.P)
	}
	// 3 of 10 against 0 of 10: P = C(10,3)/C(20,3) = 120/1140.
	if got, want := fisherGreater(3, 10, 0, 10), 120.0/1140; math.Abs(got-want) > 1e-12 {
		t.Errorf("fisherGreater(3,10,0,10) = %g, want %g", got, want)
	}
}
