// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package metrics

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func endpoint(task, name string, latenciesMs ...int) *Endpoint {
	e := &Endpoint{Task: task, Name: name, Target: "t", RequestCount: int64(len(latenciesMs)) + 1, ErrorCount: 1,
		Percentiles: []float64{50, 99.9}, Latency: NewHistogram()}
	for _, ms := range latenciesMs {
		RecordLatency(e.Latency, time.Duration(ms)*time.Millisecond)
	}
	return e
}

// rated makes e an endpoint loaded at 100/s: its service times are its
// latencies less 5 ms, and 3 of its requests went out late.
func rated(e *Endpoint) *Endpoint {
	e.Rate, e.LateCount, e.ServiceTime = 100, 3, NewHistogram()
	for _, b := range e.Latency.Distribution() {
		for range b.Count {
			RecordLatency(e.ServiceTime, time.Duration(b.From)*time.Microsecond-5*time.Millisecond)
		}
	}
	return e
}

func TestFixedRateValuesAndFile(t *testing.T) {
	e := rated(endpoint("http", "get", 10, 20))
	values, info, _ := e.Values()
	want := map[string]float64{"http-get/late-count": 3, "http-get/latency-min": 10, "http-get/service-time-min": 5, "http-get/latency-max": 20, "http-get/service-time-max": 15}
	got := map[string]float64{}
	for k := range want {
		got[k] = values[k]
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateApprox(0, 0.02)); diff != "" {
		t.Errorf("values (-want +got):\n%s", diff)
	}
	for k, d := range map[string]string{
		"http-get/latency-p50":      "50th percentile of observed latencies (from each intended send time at 100/s)",
		"http-get/service-time-p50": "50th percentile of observed service times (from each actual send)",
	} {
		if info[k].Description != d {
			t.Errorf("%s: description %q, want %q", k, info[k].Description, d)
		}
	}
	path := filepath.Join(t.TempDir(), "http.json")
	if err := Write(path, &File{Task: "http", Endpoints: []*Endpoint{e}}); err != nil {
		t.Fatal(err)
	}
	f, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	back := f.Endpoints[0]
	if back.Rate != 100 || back.LateCount != 3 || back.ServiceTime == nil || back.ServiceTime.TotalCount() != 2 || back.ServiceTime.Min() != e.ServiceTime.Min() {
		t.Errorf("read back rate %g, late %d, service times %v; want 100, 3, the two written", back.Rate, back.LateCount, back.ServiceTime)
	}
	closed := endpoint("http", "get", 10)
	if err := Write(path, &File{Task: "http", Endpoints: []*Endpoint{closed}}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); strings.Contains(string(b), "serviceTime") || strings.Contains(string(b), "lateCount") {
		t.Errorf("a closed loop's file has fixed-rate fields:\n%s", b)
	}
}

func TestIter8Names(t *testing.T) {
	for _, tc := range []struct {
		name string
		e    *Endpoint
		want []string
	}{{
		name: "http endpoint: dashes",
		e:    endpoint("http", "get", 10, 20),
		want: []string{"http-get/error-count", "http-get/error-rate", "http-get/latency-max", "http-get/latency-mean", "http-get/latency-min",
			"http-get/latency-p50", "http-get/latency-p99.9", "http-get/latency-stddev", "http-get/request-count"},
	}, {
		name: "grpc without endpoints: slashes",
		e:    endpoint("grpc", "", 10),
		want: []string{"grpc/error-count", "grpc/error-rate", "grpc/latency/max", "grpc/latency/mean", "grpc/latency/min",
			"grpc/latency/p50", "grpc/latency/p99.9", "grpc/latency/stddev", "grpc/request-count"},
	}, {
		name: "grpc at a fixed rate: service times and late sends too",
		e:    rated(endpoint("grpc", "", 10)),
		want: []string{"grpc/error-count", "grpc/error-rate", "grpc/late-count", "grpc/latency/max", "grpc/latency/mean", "grpc/latency/min",
			"grpc/latency/p50", "grpc/latency/p99.9", "grpc/latency/stddev", "grpc/request-count",
			"grpc/service-time/max", "grpc/service-time/mean", "grpc/service-time/min", "grpc/service-time/p50", "grpc/service-time/p99.9", "grpc/service-time/stddev"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			values, info, _ := tc.e.Values()
			var got []string
			for k := range values {
				got = append(got, k)
				if strings.Contains(k, "latency") && info[k].Units != "msec" {
					t.Errorf("%s units = %q, want msec", k, info[k].Units)
				}
			}
			sort.Strings(got)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestValues(t *testing.T) {
	values, _, unavailable := endpoint("http", "", 10, 20, 30, 40).Values()
	want := map[string]float64{
		"http/request-count": 5, "http/error-count": 1, "http/error-rate": 0.2,
		"http/latency-mean": 25, "http/latency-min": 10, "http/latency-max": 40,
		"http/latency-p50": 20, "http/latency-p99.9": 40, "http/latency-stddev": 11.18,
	}
	// HDR keeps 3 significant digits: values are within 0.1%.
	if diff := cmp.Diff(want, values, cmpopts.EquateApprox(0.001, 0.01)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if len(unavailable) != 0 {
		t.Errorf("unavailable = %v, want none", unavailable)
	}

	_, _, unavailable = (&Endpoint{Task: "http", Percentiles: []float64{50}}).Values()
	wantU := map[string]string{
		"http/error-rate": "no requests were sent", "http/latency-mean": "no requests were sent", "http/latency-stddev": "no requests were sent",
		"http/latency-min": "no requests were sent", "http/latency-max": "no requests were sent", "http/latency-p50": "no requests were sent",
	}
	if diff := cmp.Diff(wantU, unavailable); diff != "" {
		t.Errorf("nothing sent (-want +got):\n%s", diff)
	}
}

func TestFileRoundTrip(t *testing.T) {
	dir := t.TempDir()
	in := &File{Task: "http", StartTime: time.Unix(100, 0).UTC(), EndTime: time.Unix(200, 0).UTC(),
		Endpoints: []*Endpoint{endpoint("http", "get", 1, 2, 3, 500)},
		Stopped:   "http-get: stopped after 3.2s of 10s (terminated signal received); 4 requests measured"}
	if err := Write(PathFor(dir, "http"), in); err != nil {
		t.Fatal(err)
	}
	files, err := ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := files["http"]
	if out == nil || out.Version != FileVersion {
		t.Fatalf("ReadDir = %v, want the http file at %s", files, FileVersion)
	}
	if out.Stopped != in.Stopped {
		t.Errorf("Stopped after a round trip = %q, want %q", out.Stopped, in.Stopped)
	}
	wantV, _, _ := in.Endpoints[0].Values()
	gotV, _, _ := out.Endpoints[0].Values()
	if diff := cmp.Diff(wantV, gotV); diff != "" {
		t.Errorf("values after a round trip (-want +got):\n%s", diff)
	}
	// Histograms from two pods merge into one.
	merged := in.Endpoints[0].Latency
	merged.Merge(out.Endpoints[0].Latency)
	if merged.TotalCount() != 8 {
		t.Errorf("merged count = %d, want 8", merged.TotalCount())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("folder holds %d files, want only the metrics file (no temporary left)", len(entries))
	}

	if err := os.WriteFile(filepath.Join(dir, "old"+FileSuffix), []byte(`{"version":"autox.dev/metrics/v0"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadDir(dir); err == nil || !strings.Contains(err.Error(), `has version "autox.dev/metrics/v0", this autox reads "autox.dev/metrics/v1"`) {
		t.Errorf("ReadDir with an old file = %v, want a version error", err)
	}
}

func TestStoppedOnlyWhenStopped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "http"+FileSuffix)
	if err := Write(path, &File{Task: "http"}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "stopped") {
		t.Errorf("a load that ran to its end wrote a stopped field:\n%s", b)
	}
}

func TestBuckets(t *testing.T) {
	e := endpoint("http", "", 10, 10, 20, 30, 30, 30)
	b := e.Buckets(2)
	var counts []int64
	for _, x := range b {
		counts = append(counts, x.Count)
	}
	if diff := cmp.Diff([]int64{2, 4}, counts); diff != "" {
		t.Errorf("bucket counts (-want +got):\n%s", diff)
	}
	if b[0].LowMs != 10 || b[1].HighMs < 30 || b[1].HighMs > 30.1 {
		t.Errorf("bucket range %v..%v, want 10..30", b[0].LowMs, b[1].HighMs)
	}
}
