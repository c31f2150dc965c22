// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package regress

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/autox-tekton/autox/internal/metrics"
)

// run records values (microseconds) in order, as a load step does: the
// histogram and the blocks.
func run(t testing.TB, values []int64) Run {
	t.Helper()
	var b metrics.BlockRecorder
	for _, v := range values {
		b.Record(time.Duration(v) * time.Microsecond)
	}
	return Run{Latency: histogram(t, values...), Blocks: b.Blocks()}
}

// burst is values with n consecutive ones, from at, made slower by add.
func burst(values []int64, at, n int, add int64) []int64 {
	out := append([]int64(nil), values...)
	for i := at; i < at+n && i < len(out); i++ {
		out[i] += add
	}
	return out
}

// TestBlocksBurst: one burst of slow requests (a pause of the machine
// that delays 24 requests in a row in a run of 300) fails the p99 and
// mean limits when requests are taken as independent, and passes when
// the limits are judged on blocks; the same kind of tail spread over the
// whole run (every 15th request), and a version 20 ms slower, fail on
// blocks too.
func TestBlocksBurst(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	const n = 300
	base := run(t, lognormal(r, n, 10000, 0.05, 0))
	same := lognormal(r, n, 10000, 0.05, 0)
	spread := append([]int64(nil), same...)
	for i := range spread {
		if i%15 == 0 {
			spread[i] += 30000
		}
	}
	p99 := Limit{Percentile: 99, Ratio: 1.10, Alpha: 0.01}
	mean := Limit{Mean: true, Ratio: 1.10, Alpha: 0.01}
	for _, tc := range []struct {
		name      string
		candidate []int64
		limit     Limit
		want      bool
	}{
		{"a burst, p99", burst(same, 140, 24, 30000), p99, false},
		{"a burst, mean", burst(same, 140, 24, 30000), mean, false},
		{"the same tail spread over the run, p99", spread, p99, true},
		{"20 ms slower, p99", lognormal(r, n, 10000, 0.05, 20000), p99, true},
		{"20 ms slower, mean", lognormal(r, n, 10000, 0.05, 20000), mean, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := run(t, tc.candidate)
			perRequest, err := JudgeRuns(Run{Latency: base.Latency}, Run{Latency: c.Latency}, tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			blocks, err := JudgeRuns(base, c, tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("ratio %.2f; per request p %.3g (regressed %t); on %v blocks p %.3g (regressed %t)",
				blocks.Observed, perRequest.P, perRequest.Regressed, blocks.Blocks, blocks.P, blocks.Regressed)
			if blocks.Blocks[0] < MinBlocks || blocks.Blocks[1] < MinBlocks {
				t.Fatalf("judged on %v blocks, want at least %d each", blocks.Blocks, MinBlocks)
			}
			if blocks.Regressed != tc.want {
				t.Errorf("on blocks: regressed %t (p %g), want %t", blocks.Regressed, blocks.P, tc.want)
			}
			if !tc.want && !perRequest.Regressed {
				t.Errorf("per request the burst did not regress (p %g): the case no longer shows why blocks are judged", perRequest.P)
			}
		})
	}
}

// TestBlocksNoise: two runs of one build, judged on blocks, have p <
// 0.05 in about 5% of pairs, and never regress at p99 1.10.
func TestBlocksNoise(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	const trials, n = 200, 600
	limit := Limit{Percentile: 90, Ratio: 1.0001, Alpha: 0.01}
	at5, regressed := 0, 0
	for range trials {
		v, err := JudgeRuns(run(t, lognormal(r, n, 5000, 0.5, 0)), run(t, lognormal(r, n, 5000, 0.5, 0)), limit)
		if err != nil {
			t.Fatal(err)
		}
		if v.P < 0.05 {
			at5++
		}
		w, err := JudgeRuns(run(t, lognormal(r, n, 5000, 0.5, 0)), run(t, lognormal(r, n, 5000, 0.5, 0)), Limit{Percentile: 99, Ratio: 1.10, Alpha: 0.01})
		if err != nil {
			t.Fatal(err)
		}
		if w.Regressed {
			regressed++
		}
	}
	t.Logf("one build, %d pairs of %d requests on blocks: p90 at ratio 1 p < 0.05 in %d; p99 1.10 regressed %d", trials, n, at5, regressed)
	// Binomial(200, 0.05): 10 expected, sd 3.1; the bins' 4% width and the
	// discrete shares make the test a little conservative.
	if at5 > 20 {
		t.Errorf("p < 0.05 in %d of %d pairs of one build, want about 10", at5, trials)
	}
	if regressed != 0 {
		t.Errorf("one build regressed %d times in %d, want never", regressed, trials)
	}
}

// TestPermutationGreater: a hand-countable case (3 of 3 highest in x of
// 3 + 3: one split of C(6,3) = 20 is as extreme), no difference, and
// the same p on a second call (seeded).
func TestPermutationGreater(t *testing.T) {
	p := permutationGreater([]float64{4, 5, 6}, []float64{1, 2, 3})
	if p < 0.03 || p > 0.07 {
		t.Errorf("p = %g, want about 1/20", p)
	}
	if q := permutationGreater([]float64{4, 5, 6}, []float64{1, 2, 3}); q != p {
		t.Errorf("a second call gave %g, want %g (seeded)", q, p)
	}
	if p := permutationGreater([]float64{0, 0, 0}, []float64{0, 0, 0}); p != 1 {
		t.Errorf("no difference: p = %g, want 1", p)
	}
}
