// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/autox-tekton/autox/internal/metrics"
)

func TestWorkerOrder(t *testing.T) {
	var got [][]int
	for r := range 6 {
		got = append(got, workerOrder(5, r))
	}
	// Over 5 rounds each variant runs at each place once; the sixth
	// starts over.
	want := [][]int{{0, 1, 2, 3, 4}, {1, 2, 3, 4, 0}, {2, 3, 4, 0, 1}, {3, 4, 0, 1, 2}, {4, 0, 1, 2, 3}, {0, 1, 2, 3, 4}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("workerOrder(5, 0..5) (-want +got):\n%s", diff)
	}
}

func TestWorkerShareAndConnections(t *testing.T) {
	for _, tc := range []struct {
		total     int64
		n, c      int
		wantShare []int64
		wantConns int
	}{
		{total: 20000, n: 1, c: 16, wantShare: []int64{20000}, wantConns: 16},
		{total: 20000, n: 4, c: 16, wantShare: []int64{5000, 5000, 5000, 5000}, wantConns: 4},
		// The README's example: 1002 over 4.
		{total: 1002, n: 4, c: 10, wantShare: []int64{251, 251, 250, 250}, wantConns: 2},
		{total: 3, n: 2, c: 1, wantShare: []int64{2, 1}, wantConns: 1},
	} {
		var got []int64
		for i := 1; i <= tc.n; i++ {
			got = append(got, workerShare(tc.total, i, tc.n))
		}
		if diff := cmp.Diff([]any{tc.wantShare, tc.wantConns}, []any{got, workersConnections(tc.c, tc.n)}); diff != "" {
			t.Errorf("%d requests, %d connections over %d workers: shares, connections each (-want +got):\n%s", tc.total, tc.c, tc.n, diff)
		}
	}
}

// workerFile is what a worker (the zero Worker: the only one) of an http
// step writes: count requests, errs of them errors, the rest with a
// latency of 1ms, from start to end.
func workerFile(w metrics.Worker, count, errs int64, start, end time.Time) *metrics.File {
	e := &metrics.Endpoint{Task: "http", Target: "http://127.0.0.1:1/get", RequestCount: count, ErrorCount: errs,
		Percentiles: []float64{50, 99}, DurationSeconds: end.Sub(start).Seconds(), Latency: metrics.NewHistogram()}
	if errs > 0 {
		e.Errors = map[string]int64{"connection refused": errs}
	}
	for range count - errs {
		metrics.RecordLatency(e.Latency, time.Millisecond)
	}
	return &metrics.File{Task: "http", StartTime: start, EndTime: end, Endpoints: []*metrics.Endpoint{e}, Worker: w.OrNil()}
}

func TestReadWorkers(t *testing.T) {
	t0 := time.Date(2026, 12, 5, 3, 0, 0, 0, time.UTC)
	ms := time.Millisecond
	// four is 4 workers of 25 requests, the loads begun 1ms apart, the
	// last ended 2s after the first began.
	four := func(change func(i int, f *metrics.File)) []*metrics.File {
		var fs []*metrics.File
		for i := 1; i <= 4; i++ {
			f := workerFile(metrics.Worker{Index: i, Of: 4}, 25, 0, t0.Add(time.Duration(i-1)*ms), t0.Add(2*time.Second-time.Duration(i)*ms))
			if change != nil {
				change(i, f)
			}
			fs = append(fs, f)
		}
		return fs
	}
	for _, tc := range []struct {
		name    string
		files   []*metrics.File
		n       int
		want    workersRun
		wantErr string
	}{
		{
			name:  "1 worker: its one file",
			files: []*metrics.File{workerFile(metrics.Worker{}, 100, 0, t0, t0.Add(500*ms))},
			n:     1,
			want:  workersRun{rps: 200},
		},
		{
			name:  "4 workers: 100 requests from the first start to the last end",
			files: four(nil),
			n:     4,
			want:  workersRun{rps: 100 / 1.999, startSpread: 3 * ms},
		},
		{
			name:    "a worker lost a request",
			files:   four(func(i int, f *metrics.File) { f.Endpoints[0].RequestCount -= int64(i / 4) }),
			n:       4,
			wantErr: "the workers sent 99 requests in all, want 100",
		},
		{
			name: "the same total, split unevenly",
			files: four(func(i int, f *metrics.File) {
				if i <= 2 {
					*f = *workerFile(*f.Worker, 25+int64(3-2*i), 0, f.StartTime, f.EndTime)
				}
			}),
			n:       4,
			wantErr: "the split is not exact: [worker 1: 26, worker 2: 24, worker 3: 25, worker 4: 25], want [worker 1: 25, worker 2: 25, worker 3: 25, worker 4: 25]",
		},
		{
			name: "errors among the requests",
			files: four(func(i int, f *metrics.File) {
				if i == 3 {
					*f = *workerFile(*f.Worker, 25, 2, f.StartTime, f.EndTime)
				}
			}),
			n:       4,
			wantErr: "2 of 100 requests were errors: map[connection refused:2]",
		},
		{
			name:    "a worker wrote no file",
			files:   four(nil)[:3],
			n:       4,
			wantErr: "http: worker 4 of 4 wrote no metrics (its pod failed or never ran)",
		},
		{
			name: "a worker was stopped",
			files: four(func(i int, f *metrics.File) {
				if i == 2 {
					f.Stopped = "http: stopped after 1.0s (terminated)"
				}
			}),
			n:       4,
			wantErr: "http: worker 2 of 4: http: stopped after 1.0s (terminated)",
		},
		{
			name:    "latencies missing from a histogram",
			files:   four(func(i int, f *metrics.File) { f.Endpoints[0].Latency.Reset() }),
			n:       4,
			wantErr: "the merged latency histogram holds 0 requests, want 100",
		},
		{
			name:    "one process's file where 2 workers should have written theirs",
			files:   []*metrics.File{workerFile(metrics.Worker{}, 100, 0, t0, t0.Add(time.Second))},
			n:       2,
			wantErr: "the split is not exact: [], want [worker 1: 50, worker 2: 50]",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, f := range tc.files {
				w := metrics.Worker{}
				if f.Worker != nil {
					w = *f.Worker
				}
				if err := metrics.Write(w.Path(dir, "http"), f); err != nil {
					t.Fatal(err)
				}
			}
			got, err := readWorkers(dir, 100, tc.n)
			if diff := cmp.Diff(tc.wantErr, errText(err)); diff != "" {
				t.Fatalf("error (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(workersRun{}), cmpopts.EquateApprox(1e-9, 0)); diff != "" {
				t.Errorf("readWorkers (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWorkersRows(t *testing.T) {
	vs := []workerVariant{{1, goroutines}, {4, goroutines}, {4, processes}}
	names := []string{"1", "http workers 4 vs 1 (goroutines)", "http workers 4 vs 1 (processes)"}
	// Two rounds: 1 worker 100 and 400 requests/s; 4 goroutines 50 and
	// 800 (ratios 0.5 and 2, geometric mean 1); 4 processes 90 and 360.
	rps := [][]float64{{100, 400}, {50, 800}, {90, 360}}
	spread := []time.Duration{0, time.Millisecond, 12340 * time.Microsecond}
	base := Figure{"1 worker", 200, "requests/s"}
	common := "every run sent 20000 requests in all, worker i exactly its share, no errors (from the metrics files; else the row is an error); no goal: a ratio below 1 does not fail the suite"
	want := []Row{
		{
			Name: names[1], Ours: &Figure{"4 workers", 200, "requests/s"}, Peer: &base, Ratio: ptr(1), Verdict: Info,
			Notes: []string{
				"geometric means of 2 rounds, each running 1 worker, 2 and 4 in goroutines, 2 and 4 in processes, in rotated order; each round's ratio: 0.500 2.000",
				"http.workers: 4 in one step process, no -worker, 4 connections each (16 in all); requests/s over the first worker's load start to the last one's end",
				common,
				"near 1 here: all the workers share the one client core, as 1 worker's connections do; on a cluster the pods land on other nodes' cores",
			},
		},
		{
			Name: names[2], Ours: &Figure{"4 workers", 180, "requests/s"}, Peer: &base, Ratio: ptr(0.9), Verdict: Info,
			Notes: []string{
				"geometric means of 2 rounds, each running 1 worker, 2 and 4 in goroutines, 2 and 4 in processes, in rotated order; each round's ratio: 0.900 0.900",
				"4 step processes, -worker i/4 and one -start-at 300ms ahead (loads began within 12.3ms of each other), 4 connections each (16 in all); requests/s over the first worker's load start to the last one's end",
				common,
				"here N Go runtimes (schedulers, collectors) share the one client core; on a cluster each pod has its own node's cores",
			},
		},
	}
	approx := cmpopts.EquateApprox(1e-12, 0)
	got := workersRows(vs, workersMeasured{names: names, rps: rps, errs: make([]error, 3), spread: spread}, 20000, 16)
	if diff := cmp.Diff(want, got, approx); diff != "" {
		t.Errorf("workersRows (-want +got):\n%s", diff)
	}

	// A variant that lost requests is an error row; the others stand.
	lost := errors.New("4 workers (processes), round 2: the workers sent 19999 requests in all, want 20000")
	got = workersRows(vs, workersMeasured{names: names, rps: [][]float64{{100, 400}, {50, 800}, {90}}, errs: []error{nil, nil, lost}, spread: spread}, 20000, 16)
	want = []Row{want[0], {Name: names[2], Verdict: Failed, Notes: []string{lost.Error()}}}
	if diff := cmp.Diff(want, got, approx); diff != "" {
		t.Errorf("workersRows with a variant in error (-want +got):\n%s", diff)
	}

	// Without 1 worker's figures no row has a peer: every row is an error.
	bad := errors.New("1 worker, round 1: exit status 2")
	got = workersRows(vs, workersMeasured{names: names, rps: make([][]float64, 3), errs: []error{bad, nil, nil}, spread: spread}, 20000, 16)
	want = []Row{{Name: names[1], Verdict: Failed, Notes: []string{bad.Error()}}, {Name: names[2], Verdict: Failed, Notes: []string{bad.Error()}}}
	if diff := cmp.Diff(want, got, approx); diff != "" {
		t.Errorf("workersRows with 1 worker in error (-want +got):\n%s", diff)
	}
}
