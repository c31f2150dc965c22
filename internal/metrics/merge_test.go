// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package metrics

import (
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// workerFiles are n workers' files of one http endpoint: worker i got
// the latencies lat[i] (µs), one error, status 200 for the rest, and ran
// for i seconds at 250/s.
func workerFiles(lat [][]int64) []*File {
	var files []*File
	start := time.Date(2026, 12, 5, 3, 0, 0, 0, time.UTC)
	for i, l := range lat {
		e := &Endpoint{Task: "http", Name: "get", Target: "GET http://x/get", RequestCount: int64(len(l)) + 1, ErrorCount: 1,
			Errors: map[string]int64{"HTTP 500 Internal Server Error": 1}, StatusCodes: map[string]int64{"200": int64(len(l)), "500": 1},
			Percentiles: []float64{50, 90, 99}, DurationSeconds: float64(i + 1), Rate: 250, LateCount: int64(i),
			Latency: NewHistogram(), ServiceTime: NewHistogram()}
		for _, us := range l {
			RecordLatency(e.Latency, time.Duration(us)*time.Microsecond)
			RecordLatency(e.ServiceTime, time.Duration(us/2)*time.Microsecond)
		}
		files = append(files, &File{Task: "http", StartTime: start.Add(time.Duration(i) * time.Second), EndTime: start.Add(10 * time.Second),
			Endpoints: []*Endpoint{e}, Worker: &Worker{Index: i + 1, Of: len(lat)}})
	}
	return files
}

// TestMergePooled: the merged histogram's percentiles are those of all
// workers' latencies pooled in one histogram; counts, errors, codes and
// late counts add up, the rate is the sum, the duration the longest.
func TestMergePooled(t *testing.T) {
	rng := rand.New(rand.NewPCG(22, 1))
	lat := make([][]int64, 4)
	pooled := NewHistogram()
	for i := range lat {
		for range 5000 + i*123 {
			// A different spread per worker: 1..(i+1)*20 ms, log-ish.
			us := int64(1000 + rng.ExpFloat64()*float64((i+1)*3000))
			lat[i] = append(lat[i], us)
			RecordLatency(pooled, time.Duration(us)*time.Microsecond)
		}
	}
	// Through the files, as assess reads them.
	dir := t.TempDir()
	for _, f := range workerFiles(lat) {
		if err := Write(f.Worker.Path(dir, "http"), f); err != nil {
			t.Fatal(err)
		}
	}
	files, err := ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := files["http"]
	if m == nil || len(m.Endpoints) != 1 {
		t.Fatalf("merged file %+v, want one http endpoint", m)
	}
	e := m.Endpoints[0]
	var n int64
	for _, l := range lat {
		n += int64(len(l))
	}
	got := struct {
		Requests, Errors, Late, Recorded int64
		Codes                            map[string]int64
		Rate, Duration                   float64
		Failed, Stopped                  string
		Start                            time.Time
	}{e.RequestCount, e.ErrorCount, e.LateCount, e.Latency.TotalCount(), e.StatusCodes, e.Rate, e.DurationSeconds, m.Failed, m.Stopped, m.StartTime}
	want := got
	want.Requests, want.Errors, want.Late, want.Recorded = n+4, 4, 0+1+2+3, n
	want.Codes = map[string]int64{"200": n, "500": 4}
	want.Rate, want.Duration, want.Failed, want.Stopped = 1000, 4, "", ""
	want.Start = time.Date(2026, 12, 5, 3, 0, 0, 0, time.UTC)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("merged (-want +got):\n%s", diff)
	}
	raw := slices.Sorted(slices.Values(slices.Concat(lat...)))
	for _, q := range []float64{50, 90, 99} {
		mv, pv := e.Latency.ValueAtQuantile(q), pooled.ValueAtQuantile(q)
		// The raw latencies' nearest-rank percentile.
		rv := raw[int(math.Ceil(q/100*float64(len(raw))))-1]
		t.Logf("p%g: merged %.3f ms, pooled histogram %.3f ms, pooled raw %.3f ms", q, float64(mv)/1000, float64(pv)/1000, float64(rv)/1000)
		// Within one HDR bucket (with one geometry the merge is exact),
		// and within HDR's 3 significant digits of the raw value.
		if !pooled.ValuesAreEquivalent(mv, pv) {
			t.Errorf("p%g: merged %d µs, pooled %d µs: not in one HDR bucket", q, mv, pv)
		}
		if !pooled.ValuesAreEquivalent(mv, rv) {
			t.Errorf("p%g: merged %d µs, raw %d µs: not in one HDR bucket", q, mv, rv)
		}
	}
	if len(e.Workers) != 4 {
		t.Fatalf("%d worker rows, want 4", len(e.Workers))
	}
	for i, r := range e.Workers {
		if r.Worker != i+1 || r.RequestCount != int64(len(lat[i]))+1 || r.AchievedRate != float64(r.RequestCount)/float64(i+1) || r.LatencyP99Ms <= r.LatencyP50Ms {
			t.Errorf("row %d: %+v", i, r)
		}
	}
	vals, _, _ := e.Values()
	if got, want := vals["http-get/latency-p99"], float64(pooled.ValueAtQuantile(99))/1000; got != want {
		t.Errorf("http-get/latency-p99 = %g, want the pooled %g", got, want)
	}
}

// TestMergeFailedWorker: a worker that failed, was stopped or wrote no
// file is named; what the others measured is kept.
func TestMergeFailedWorker(t *testing.T) {
	lat := [][]int64{{1000}, {2000}, {3000}, {4000}}
	for _, tc := range []struct {
		name                string
		change              func(dir string, files []*File)
		wantFailed, stopped string
		wantRequests        int64
	}{{
		name:         "missing",
		change:       func(dir string, files []*File) { os.Remove(files[2].Worker.Path(dir, "http")) },
		wantFailed:   "worker 3 of 4 wrote no metrics (its pod failed or never ran)",
		wantRequests: 6,
	}, {
		name: "failed",
		change: func(dir string, files []*File) {
			files[0].Failed, files[0].Endpoints = "no load sent: the ready task failed", nil
			Write(files[0].Worker.Path(dir, "http"), files[0])
		},
		wantFailed:   "worker 1 of 4: no load sent: the ready task failed",
		wantRequests: 6,
	}, {
		name: "all failed alike",
		change: func(dir string, files []*File) {
			for _, f := range files {
				f.Failed, f.Endpoints = "no load sent: the ready task failed", nil
				Write(f.Worker.Path(dir, "http"), f)
			}
		},
		wantFailed: "all 4 workers: no load sent: the ready task failed",
	}, {
		name: "stopped",
		change: func(dir string, files []*File) {
			files[3].Stopped = "http-get: stopped after 1.0s (terminated)"
			Write(files[3].Worker.Path(dir, "http"), files[3])
		},
		stopped:      "worker 4 of 4: http-get: stopped after 1.0s (terminated)",
		wantRequests: 8,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			files := workerFiles(lat)
			for _, f := range files {
				if err := Write(f.Worker.Path(dir, "http"), f); err != nil {
					t.Fatal(err)
				}
			}
			tc.change(dir, files)
			got, err := ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			m := got["http"]
			if diff := cmp.Diff([]string{tc.wantFailed, tc.stopped}, []string{m.Failed, m.Stopped}); diff != "" {
				t.Errorf("failed, stopped (-want +got):\n%s", diff)
			}
			var requests int64
			for _, e := range m.Endpoints {
				requests += e.RequestCount
			}
			if requests != tc.wantRequests {
				t.Errorf("requests %d, want %d", requests, tc.wantRequests)
			}
		})
	}
}

// TestWorkerPath: one worker keeps <task>.metrics.json.
func TestWorkerPath(t *testing.T) {
	got := []string{Worker{}.Path("d", "http"), Worker{Index: 1, Of: 1}.Path("d", "http"), Worker{Index: 3, Of: 4}.Path("d", "grpc")}
	if diff := cmp.Diff([]string{"d/http.metrics.json", "d/http.metrics.json", "d/grpc-w3.metrics.json"}, got); diff != "" {
		t.Errorf("paths (-want +got):\n%s", diff)
	}
}

// TestReadDirMixed: a task's single file beside its workers' is refused.
func TestReadDirMixed(t *testing.T) {
	dir := t.TempDir()
	files := workerFiles([][]int64{{1000}, {2000}})
	for _, f := range files {
		Write(f.Worker.Path(dir, "http"), f)
	}
	single := *files[0]
	single.Worker = nil
	Write(PathFor(dir, "http"), &single)
	_, err := ReadDir(dir)
	want := dir + " holds http.metrics.json and the files of 2 workers of the same task; remove the earlier run's files and run again"
	if err == nil || err.Error() != want {
		t.Errorf("error %v, want %s", err, want)
	}
}
