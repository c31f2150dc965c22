// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package metrics

import (
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestBlockRecorder: the blocks hold every request once, in order, with
// its exact sum, at most MaxBlocks of equal counts (the last may be up to
// one and a half times as large), each value in a bin within 2% of it.
func TestBlockRecorder(t *testing.T) {
	for _, tc := range []struct {
		n          int
		wantBlocks int
		wantSize   int64
	}{
		{0, 0, 0},
		{5, 1, 5},          // one partial block, nothing to join
		{8, 1, 8},          // one whole block
		{11, 1, 11},        // 3 < 4: the partial joins the first
		{12, 2, 8},         // 4 >= 4: a block of its own
		{300, 19, 16},      // 32 x 8 fill and merge to 16 x 16; then 2 x 16 and a last 12
		{100000, 24, 4096}, // 24 x 4096 = 98304, the last 1696 joins
	} {
		var r BlockRecorder
		var want int64
		for i := range tc.n {
			us := int64(1000 + i) // ascending: blocks must be too
			r.Record(time.Duration(us) * time.Microsecond)
			want += us
		}
		blocks := r.Blocks()
		if len(blocks) != tc.wantBlocks {
			t.Errorf("%d requests: %d blocks, want %d", tc.n, len(blocks), tc.wantBlocks)
			continue
		}
		var count, sum int64
		var last int64 = -1
		for i, b := range blocks {
			if i < len(blocks)-1 && b.Count() != tc.wantSize {
				t.Errorf("%d requests: block %d holds %d, want %d", tc.n, i, b.Count(), tc.wantSize)
			}
			if len(b.Bins) > 0 && b.Bins[0][0] < last {
				t.Errorf("%d requests: block %d starts at bin %d, below the last bin %d of the one before", tc.n, i, b.Bins[0][0], last)
			}
			for _, p := range b.Bins {
				last = p[0]
			}
			count += b.Count()
			sum += b.Sum
		}
		if count != int64(tc.n) || sum != want {
			t.Errorf("%d requests: blocks hold %d requests summing %d µs, want %d and %d", tc.n, count, sum, tc.n, want)
		}
	}
	for _, us := range []int64{1, 999, 1000, 12345, 3_600_000_000} {
		if c := BinCentre(BinOf(us)); math.Abs(c-float64(us))/float64(us) > 0.021 {
			t.Errorf("%d µs: bin centre %.1f, more than 2%% away", us, c)
		}
	}
}

// TestMergeBlocks: workers' blocks add index by index; a worker with
// more blocks adds its own at the end.
func TestMergeBlocks(t *testing.T) {
	a := []Block{{Bins: [][2]int64{{10, 2}}, Sum: 20}, {Bins: [][2]int64{{12, 1}}, Sum: 16}}
	b := []Block{{Bins: [][2]int64{{10, 1}, {11, 3}}, Sum: 50}, {Bins: [][2]int64{{12, 2}}, Sum: 30}, {Bins: [][2]int64{{9, 1}}, Sum: 1}}
	got := MergeBlocks(MergeBlocks(nil, a), b)
	want := []Block{
		{Bins: [][2]int64{{10, 3}, {11, 3}}, Sum: 70},
		{Bins: [][2]int64{{12, 3}}, Sum: 46},
		{Bins: [][2]int64{{9, 1}}, Sum: 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("merged (-want +got):\n%s", diff)
	}
}
