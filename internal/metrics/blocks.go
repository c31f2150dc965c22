// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package metrics

import (
	"math"
	"slices"
	"time"
)

// Blocks keep where in a run its slow requests fell: the response times
// in the order they were recorded, cut into consecutive blocks of equal
// request counts. A regression verdict judges a tail or a mean on blocks
// (package regress), so that a burst of slow requests, a pause of the
// machine that delays every request in flight at once, weighs as one
// event and not as many independent ones. Memory and size are bounded:
// at most MaxBlocks blocks (when a run fills them, neighbours merge and
// blocks grow twice as large), each a sparse histogram of bins
// BinRatio wide, and its exact sum.
const (
	// MaxBlocks bounds the blocks of one endpoint.
	MaxBlocks = 32
	// FirstBlockSize is the requests of a block until MaxBlocks fill.
	FirstBlockSize = 8
	// BinRatio is the width of a block's bins: a value is kept to within
	// 2% of itself.
	BinRatio = 1.04
)

var logBin = math.Log(BinRatio)

// Block is one block of a run: Bins are (bin, count) pairs sorted by bin,
// where bin k holds the response times from BinRatio^k to
// BinRatio^(k+1) microseconds; Sum is their exact sum in microseconds.
type Block struct {
	Bins [][2]int64 `json:"bins"`
	Sum  int64      `json:"sum"`
}

// Count is how many requests the block holds.
func (b Block) Count() int64 {
	var n int64
	for _, p := range b.Bins {
		n += p[1]
	}
	return n
}

// Above counts the block's requests whose bin's centre is above v
// microseconds.
func (b Block) Above(v float64) int64 {
	var n int64
	for _, p := range b.Bins {
		if BinCentre(p[0]) > v {
			n += p[1]
		}
	}
	return n
}

// BinCentre is the geometric centre of bin k, in microseconds.
func BinCentre(k int64) float64 { return math.Pow(BinRatio, float64(k)+0.5) }

// BinOf is the bin of a response time of us microseconds (at least 1).
func BinOf(us int64) int64 { return int64(math.Floor(math.Log(float64(max(us, 1))) / logBin)) }

// BlockRecorder cuts a run's response times into Blocks as they come.
// Not safe for concurrent use (load.Recorder holds its lock).
type BlockRecorder struct {
	size int64
	n    int64
	sum  int64
	cur  map[int64]int64
	done []Block
}

// Record adds one response time.
func (r *BlockRecorder) Record(d time.Duration) {
	if r.size == 0 {
		r.size = FirstBlockSize
	}
	if r.cur == nil {
		r.cur = map[int64]int64{}
	}
	us := max(lowestMicros, min(d.Microseconds(), highestMicros))
	r.cur[BinOf(us)]++
	r.sum += us
	r.n++
	if r.n < r.size {
		return
	}
	r.done = append(r.done, blockOf(r.cur, r.sum))
	r.cur, r.n, r.sum = map[int64]int64{}, 0, 0
	if len(r.done) == MaxBlocks {
		merged := make([]Block, 0, MaxBlocks/2)
		for i := 0; i < len(r.done); i += 2 {
			merged = append(merged, AddBlocks(r.done[i], r.done[i+1]))
		}
		r.done, r.size = merged, 2*r.size
	}
}

// Blocks are the blocks recorded: a last block of less than half the
// size joins the one before it, so that no block is much smaller than
// the others.
func (r *BlockRecorder) Blocks() []Block {
	out := slices.Clone(r.done)
	if r.n == 0 {
		return out
	}
	last := blockOf(r.cur, r.sum)
	if 2*r.n < r.size && len(out) > 0 {
		out[len(out)-1] = AddBlocks(out[len(out)-1], last)
		return out
	}
	return append(out, last)
}

func blockOf(bins map[int64]int64, sum int64) Block {
	b := Block{Sum: sum, Bins: make([][2]int64, 0, len(bins))}
	for k, n := range bins {
		b.Bins = append(b.Bins, [2]int64{k, n})
	}
	slices.SortFunc(b.Bins, func(x, y [2]int64) int { return int(x[0] - y[0]) })
	return b
}

// AddBlocks is the block of a's and b's requests together.
func AddBlocks(a, b Block) Block {
	bins := map[int64]int64{}
	for _, p := range a.Bins {
		bins[p[0]] += p[1]
	}
	for _, p := range b.Bins {
		bins[p[0]] += p[1]
	}
	return blockOf(bins, a.Sum+b.Sum)
}

// MergeBlocks adds workers' blocks index by index: block i of the merge
// holds block i of every worker (workers that share a load evenly fill
// their blocks at the same pace, so block i is the same stretch of the
// run in each).
func MergeBlocks(to, from []Block) []Block {
	for i, b := range from {
		if i < len(to) {
			to[i] = AddBlocks(to[i], b)
		} else {
			to = append(to, b)
		}
	}
	return to
}
