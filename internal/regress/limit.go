// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package regress

import (
	"math"
	"math/rand/v2"
	"slices"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/autox-tekton/autox/internal/metrics"
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

// Blocks. The tests above take every request as independent of the
// others, and requests are not: a pause of the machine (a collection, a
// descheduled load generator, a busy neighbour) delays every request in
// flight at once, and a run of a few hundred requests may owe its whole
// tail to one such burst. So when both runs kept their blocks
// (metrics.Block: consecutive stretches of equal request counts), each
// limit is judged on them instead: a percentile by each block's share of
// requests past the threshold (the candidate's past Ratio x the
// baseline's percentile, the baseline's past the percentile), the mean
// by the block means (the baseline's times Ratio), with a one-sided
// permutation test of the two sets of blocks. A burst then is one block
// of many, and a real shift moves every block.

// MinBlocks is the fewest blocks of each run that are judged as blocks;
// with fewer (a run of under 48 requests, or a result kept before
// blocks were) the limit is judged per request. Six and six is the
// fewest whose permutation test can reach p < 0.01 (1/924).
const MinBlocks = 6

// permutations is how many random splits the permutation test draws; its
// smallest p is 1/(permutations+1).
const permutations = 9999

// blockShares are each block's share of requests above v microseconds.
func blockShares(blocks []metrics.Block, v float64) []float64 {
	out := make([]float64, 0, len(blocks))
	for _, b := range blocks {
		if n := b.Count(); n > 0 {
			out = append(out, float64(b.Above(v))/float64(n))
		}
	}
	return out
}

// blockMeans are each block's mean, times scale.
func blockMeans(blocks []metrics.Block, scale float64) []float64 {
	out := make([]float64, 0, len(blocks))
	for _, b := range blocks {
		if n := b.Count(); n > 0 {
			out = append(out, scale*float64(b.Sum)/float64(n))
		}
	}
	return out
}

// permutationGreater is the one-sided p-value of mean(x) - mean(y) being
// as large as it is if the blocks of x and y were exchangeable: the
// share of random splits of the pooled blocks into groups of their sizes
// whose difference is at least the one observed, counting the observed
// split, (1 + k) / (permutations + 1). The draws are seeded: the same
// runs give the same p.
func permutationGreater(x, y []float64) float64 {
	if len(x) == 0 || len(y) == 0 {
		return 1
	}
	mean := func(v []float64) float64 {
		var s float64
		for _, a := range v {
			s += a
		}
		return s / float64(len(v))
	}
	observed := mean(x) - mean(y)
	pool := append(slices.Clone(x), y...)
	var total float64
	for _, a := range pool {
		total += a
	}
	nx := len(x)
	rng := rand.New(rand.NewPCG(1, 2))
	k := 0
	// A tolerance for sums that differ only by rounding: a split as
	// extreme as the observed one counts.
	eps := 1e-9 * max(math.Abs(total), 1)
	for range permutations {
		// A partial Fisher-Yates shuffle picks x's blocks.
		var sx float64
		for i := range nx {
			j := i + rng.IntN(len(pool)-i)
			pool[i], pool[j] = pool[j], pool[i]
			sx += pool[i]
		}
		d := sx/float64(nx) - (total-sx)/float64(len(pool)-nx)
		if d >= observed-eps {
			k++
		}
	}
	return float64(1+k) / float64(permutations+1)
}
