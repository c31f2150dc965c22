// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/autox-tekton/autox/internal/result"
	"github.com/autox-tekton/autox/test/apps/httpbin/app"
	routeguide "github.com/autox-tekton/autox/test/apps/routeguide/app"
)

// TestRunWorkers: 4 workers of one `autox run` send 1002 requests
// between them (250 or 251 each); the server counts 1002, the merged
// request count is 1002, each worker wrote its own file, and the report
// shows the totals with one row per worker.
func TestRunWorkers(t *testing.T) {
	a := app.New()
	srv := httptest.NewServer(a)
	defer srv.Close()
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	exp := "tasks: [http, assess]\nhttp:\n  workers: 4\n  connections: 2\n  numRequests: 1002\n  qps: unlimited\n  url: " + srv.URL + "/get\n" +
		"assess: {SLOs: {upper: {http/error-count: 0}}}\n"
	code, stdout, stderr := autox(t, "run", "-f", writeExperiment(t, dir, exp), "--out", out)
	if code != 0 {
		t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	r, err := result.Read(filepath.Join(out, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	merged, server := r.Metrics["http/request-count"], a.Count("/get")
	t.Logf("requested 1002, server counted %d, merged request-count %g", server, merged)
	if server != 1002 || merged != 1002 {
		t.Errorf("server counted %d, merged request-count %g; want 1002 and 1002", server, merged)
	}
	var rows []int64
	for _, w := range r.Endpoints[0].Workers {
		rows = append(rows, w.RequestCount)
	}
	if diff := cmp.Diff([]int64{251, 251, 250, 250}, rows); diff != "" {
		t.Errorf("requests per worker (-want +got):\n%s", diff)
	}
	for _, want := range []string{
		`(?m)^  http +\| 1002 +\| 0 +\| [0-9.]+ +\| [0-9.]+ +\| [0-9.]+ +\| [0-9.]+$`,
		`(?m)^    worker 1 of 4 \| 251 +\| 0 +\| [0-9.]+ +\| [0-9.]+ +\| [0-9.]+ +\| [0-9.]+$`,
		`(?m)^    worker 4 of 4 \| 250 +\| 0 +\| [0-9.]+ +\| [0-9.]+ +\| [0-9.]+ +\| [0-9.]+$`,
	} {
		if !regexp.MustCompile(want).MatchString(stdout) {
			t.Errorf("report lacks a line matching %s:\n%s", want, stdout)
		}
	}
	html, err := os.ReadFile(filepath.Join(out, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`<tr><td>worker 3 of 4</td><td class="num">250</td>`).Match(html) {
		t.Errorf("report.html lacks the row of worker 3")
	}
	names := dirNames(t, out)
	want := []string{"http-w1.metrics.json", "http-w2.metrics.json", "http-w3.metrics.json", "http-w4.metrics.json", "report.html", "report.txt", "result.json"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("--out files (-want +got):\n%s", diff)
	}
}

// arrivals records when each request reached the server.
type arrivals struct {
	next http.Handler
	mu   sync.Mutex
	at   []time.Time
}

func (a *arrivals) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	a.mu.Lock()
	a.at = append(a.at, now)
	a.mu.Unlock()
	a.next.ServeHTTP(w, r)
}

// TestRunWorkersFixedRate: qps 1000 over 4 workers is 250/s each (over
// 3, 333.33.../s each); for 4 s the server sees 4000 requests at 1000/s
// (within 1%), measured from their arrival times.
func TestRunWorkersFixedRate(t *testing.T) {
	for _, workers := range []int{4, 3} {
		t.Run(strconv.Itoa(workers)+" workers", func(t *testing.T) {
			arr := &arrivals{next: app.New()}
			srv := httptest.NewServer(arr)
			defer srv.Close()
			dir := t.TempDir()
			exp := "tasks: [http, assess]\nhttp:\n  workers: " + strconv.Itoa(workers) + "\n  qps: 1000\n  duration: 4s\n  url: " + srv.URL + "/get\n"
			code, stdout, stderr := autox(t, "run", "-f", writeExperiment(t, dir, exp), "--out", filepath.Join(dir, "out"))
			if code != 0 {
				t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			arr.mu.Lock()
			at := slices.Clone(arr.at)
			arr.mu.Unlock()
			slices.SortFunc(at, func(a, b time.Time) int { return a.Compare(b) })
			if len(at) != 4000 {
				t.Fatalf("server saw %d requests, want 4000", len(at))
			}
			// The rate is the arrivals in the 3 s from 0.5 s after the
			// first: past the first connections' dials, and before the
			// end, where one straggler (a GC pause on a busy machine)
			// could move a span over all by milliseconds.
			span := at[len(at)-1].Sub(at[0]).Seconds()
			from, to := at[0].Add(500*time.Millisecond), at[0].Add(3500*time.Millisecond)
			n := 0
			for _, a := range at {
				if !a.Before(from) && a.Before(to) {
					n++
				}
			}
			rate := float64(n) / 3
			t.Logf("server saw %d requests, the first to the last %.3fs apart; %d in the 3s from 0.5s after the first: %.1f/s",
				len(at), span, n, rate)
			if rate < 990 || rate > 1010 {
				t.Errorf("rate at the server %.1f/s, want 1000/s ±1%%", rate)
			}
			r, err := result.Read(filepath.Join(dir, "out", "result.json"))
			if err != nil {
				t.Fatal(err)
			}
			if e := r.Endpoints[0]; e.Rate != 1000 || e.RequestCount != 4000 || len(e.Workers) != workers {
				t.Errorf("merged rate %g, requests %d, %d workers; want 1000, 4000, %d", e.Rate, e.RequestCount, len(e.Workers), workers)
			}
		})
	}
}

// TestRunGRPCWorkers: the seed's gRPC experiment over 3 workers: 200
// calls per endpoint (67, 67, 66), as the server counts them and as the
// merged metrics say; the report has a row per worker.
func TestRunGRPCWorkers(t *testing.T) {
	s, host, err := routeguide.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.GRPC.Stop()
	seedFile, err := os.ReadFile("../../test/experiments/routeguide.yaml")
	if err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs("../../test/experiments")
	if err != nil {
		t.Fatal(err)
	}
	yaml := strings.ReplaceAll(string(seedFile), "127.0.0.1:50051", host)
	yaml = strings.ReplaceAll(yaml, "../", filepath.Dir(abs)+"/")
	yaml = strings.Replace(yaml, "grpc:\n", "grpc:\n  workers: 3\n", 1)
	// Without the seed's latency SLOs: 3 workers of 50 concurrent calls
	// each are 150 at once, which under the race detector on a small
	// machine is slower than the seed's limits; this test is about counts.
	yaml = yaml[:strings.Index(yaml, "assess:\n")]
	dir := t.TempDir()
	code, stdout, stderr := autox(t, "run", "-f", writeExperiment(t, dir, yaml), "--out", filepath.Join(dir, "out"))
	if code != 0 {
		t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	r, err := result.Read(filepath.Join(dir, "out", "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]int64{}
	for _, e := range r.Endpoints {
		got[e.Prefix] = []int64{e.RequestCount}
		for _, w := range e.Workers {
			got[e.Prefix] = append(got[e.Prefix], w.RequestCount)
		}
	}
	want := map[string][]int64{"grpc-getFeature": {200, 67, 67, 66}, "grpc-listFeatures": {200, 67, 67, 66}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("calls: total, then per worker (-want +got):\n%s", diff)
	}
	t.Logf("server: %d GetFeature, %d ListFeatures calls", s.Count("GetFeature"), s.Count("ListFeatures"))
	if s.Count("GetFeature") != 200 || s.Count("ListFeatures") != 200 {
		t.Errorf("server saw %d GetFeature and %d ListFeatures calls, want 200 each", s.Count("GetFeature"), s.Count("ListFeatures"))
	}
	if !regexp.MustCompile(`(?m)^    worker 3 of 3 +\| 66 +\|`).MatchString(stdout) {
		t.Errorf("report lacks the row of worker 3:\n%s", stdout)
	}
}
