// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package regress

import (
	"math"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// The limit's own test. A Mann-Whitney U test asks whether the candidate
// is slower as a whole; a limit on a percentile asks about one tail. The
// two disagree where it matters: a tail that doubles while the bulk
// stays put has a U test p near 1, and a bulk 2% slower by noise has a p
// far below 0.01 however big the runs are, so "ratio above the limit
// and U significant" both misses tail regressions and fails runs whose
// tail ratio was noise (a 300-request p99 is the third-largest request).
// So each limit is judged with a test of its own null hypothesis, "the
// candidate is within the limit":
//
//   - a percentile q: the candidate's requests above Ratio x the
//     baseline's q-th percentile, against the baseline's requests above
//     that percentile itself, by Fisher's exact test (one-sided). Within
//     the limit, the candidate has no more such requests than the
//     baseline;
//   - the mean: Welch's test of candidate mean <= Ratio x baseline mean
//     (normal approximation; runs have hundreds of requests or more).

// tailTest is the one-sided p-value of the candidate having more
// requests above ratio x the baseline's q-th percentile than the baseline
// has above that percentile.
func tailTest(baseline, candidate *hdrhistogram.Histogram, q, ratio float64) (p float64, over, overBase int64) {
	at := float64(baseline.ValueAtPercentile(q))
	overBase = above(baseline, at)
	over = above(candidate, at*ratio)
	return fisherGreater(over, candidate.TotalCount(), overBase, baseline.TotalCount()), over, overBase
}

// above counts h's values above v (a bucket counts by its midpoint).
func above(h *hdrhistogram.Histogram, v float64) int64 {
	var n int64
	for _, b := range h.Distribution() {
		if b.Count > 0 && float64(b.From+b.To)/2 > v {
			n += b.Count
		}
	}
	return n
}

// fisherGreater is Fisher's exact one-sided p-value that the first
// sample's share of successes (k1 of n1) is larger than the second's (k2
// of n2): P(X >= k1), X hypergeometric with the margins fixed.
func fisherGreater(k1, n1, k2, n2 int64) float64 {
	n, k := n1+n2, k1+k2
	if k == 0 || k1 == 0 {
		return 1
	}
	logC := func(a, b int64) float64 {
		x, _ := math.Lgamma(float64(a + 1))
		y, _ := math.Lgamma(float64(b + 1))
		z, _ := math.Lgamma(float64(a - b + 1))
		return x - y - z
	}
	total := logC(n, n1)
	var p float64
	for x := k1; x <= min(k, n1); x++ {
		if k-x > n2 {
			continue
		}
		term := math.Exp(logC(k, x) + logC(n-k, n1-x) - total)
		p += term
		if term < p*1e-17 && x > k1 {
			break // the rest cannot change p in float64
		}
	}
	return min(p, 1)
}

// meanTest is the one-sided p-value of Welch's test of candidate mean <=
// ratio x baseline mean.
func meanTest(baseline, candidate *hdrhistogram.Histogram, ratio float64) float64 {
	nb, nc := float64(baseline.TotalCount()), float64(candidate.TotalCount())
	sb, sc := baseline.StdDev(), candidate.StdDev()
	se := math.Sqrt(sc*sc/nc + ratio*ratio*sb*sb/nb)
	diff := candidate.Mean() - ratio*baseline.Mean()
	if se == 0 {
		if diff > 0 {
			return 0
		}
		return 1
	}
	return 0.5 * math.Erfc(diff/se/math.Sqrt2)
}
