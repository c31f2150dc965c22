// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package experiment

import (
	"fmt"
	"math"
	"strconv"
)

// Workers spread a task's load: http.workers (grpc.workers) N runs the
// task as N workers of the same run (pods on Tekton, goroutines under
// autox run), each sending its share of every endpoint's load (Share),
// and assess judges them as one: counts summed, HDR histograms merged.
// Connections (http) and concurrency (grpc) are per worker: N workers of
// 4 connections keep 4N requests in flight.
const (
	// DefaultWorkers is one worker: the whole load from one step.
	DefaultWorkers = 1
	// MaxWorkers bounds workers: each is a pod of the run.
	MaxWorkers = 64
)

// Workers is how many workers send task's load (DefaultWorkers when the
// task or its workers key is missing).
func (e *Experiment) Workers(task string) int {
	var w *int
	switch {
	case task == TaskHTTP && e.HTTP != nil:
		w = e.HTTP.Workers
	case task == TaskGRPC && e.GRPC != nil:
		w = e.GRPC.Workers
	}
	if w == nil {
		return DefaultWorkers
	}
	return *w
}

// SplitCount is worker i's (1..n) share of total: total/n, plus one of
// the remainder for the first total%n workers, so the shares add up to
// total exactly.
func SplitCount(total int64, i, n int) int64 {
	share := total / int64(n)
	if int64(i) <= total%int64(n) {
		share++
	}
	return share
}

// SplitRate is each of n workers' share of a total rate: rate/n. The n
// shares add up to rate in float64 for the rates people write (1000/4,
// and 1000/3 too: 3 x 333.333... rounds back to 1000); a worker's gate
// paces its own share, so what the server sees is the sum.
func SplitRate(rate float64, n int) float64 {
	return rate / float64(n)
}

// Share is the part of t that worker i of n sends: the count and the
// warmup count split by SplitCount, the rate by SplitRate, and at a rate
// for a duration the requests it sends (RatedCount) by SplitCount of the
// whole load's RatedTotal; durations, connections (concurrency) and the
// timeout stay as they are. n = 1 is t itself.
func (t Traffic) Share(i, n int) Traffic {
	t = t.clone()
	if n <= 1 {
		return t
	}
	if t.Count == 0 && t.Rate > 0 {
		t.RatedCount = SplitCount(t.RatedTotal(), i, n)
	}
	if t.Count > 0 {
		t.Count = SplitCount(t.Count, i, n)
		t.Workers = int(min(int64(t.Workers), t.Count))
	}
	if t.WarmupCount > 0 {
		t.WarmupCount = SplitCount(t.WarmupCount, i, n)
	}
	t.Rate = SplitRate(t.Rate, n)
	return t
}

// RatedTotal is how many requests a load at Rate for Duration sends:
// Rate x Duration, rounded, at least 1 (RatedCount when set).
func (t Traffic) RatedTotal() int64 {
	if t.RatedCount > 0 {
		return t.RatedCount
	}
	return max(1, int64(math.Round(t.Rate*t.Duration.Seconds())))
}

// checkWorkers reports a workers key outside 1..MaxWorkers, or more
// workers than an endpoint has requests to send.
func checkWorkers(task string, w *int, traffic []Traffic, p *problems) {
	if w == nil {
		return
	}
	key := task + ".workers"
	if !checkInt(key, int64(*w), 1, MaxWorkers, "write the number of workers that share the load, e.g. 4 (1 sends it from one step)", p) {
		return
	}
	unit := "requests"
	if task == TaskGRPC {
		unit = "calls"
	}
	for _, t := range traffic {
		n := t.Count
		if n == 0 && t.Rate > 0 {
			n = t.RatedTotal()
		}
		if n > 0 && n < int64(*w) {
			p.add(key, fmt.Sprintf("%q is more than the %d %s to send, and every worker sends at least one; lower workers or send more %s",
				strconv.Itoa(*w), n, unit, unit))
			return
		}
	}
}

func httpTraffic(eps []HTTPEndpoint) []Traffic {
	out := make([]Traffic, len(eps))
	for i, ep := range eps {
		out[i] = ep.Traffic
	}
	return out
}

func grpcTraffic(eps []GRPCEndpoint) []Traffic {
	out := make([]Traffic, len(eps))
	for i, ep := range eps {
		out[i] = ep.Traffic
	}
	return out
}
