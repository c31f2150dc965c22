// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package experiment

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/autox-tekton/autox/internal/badinput"
)

// TestSplitCount: the shares of n workers add up to the total exactly,
// the first total%n workers one more than the others.
func TestSplitCount(t *testing.T) {
	for _, tc := range []struct {
		name  string
		total int64
		n     int
		want  []int64
	}{
		{"even", 1000, 4, []int64{250, 250, 250, 250}},
		{"remainder to the first", 10, 4, []int64{3, 3, 2, 2}},
		{"one each", 4, 4, []int64{1, 1, 1, 1}},
		{"one worker", 7, 1, []int64{7}},
		{"largest", MaxCount, MaxWorkers, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []int64
			var sum int64
			for i := 1; i <= tc.n; i++ {
				s := SplitCount(tc.total, i, tc.n)
				got = append(got, s)
				sum += s
			}
			if sum != tc.total {
				t.Errorf("shares add up to %d, want %d", sum, tc.total)
			}
			if tc.want == nil {
				return
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("shares (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSplitRate: each worker paces rate/n, and the n shares add up to
// the rate in float64.
func TestSplitRate(t *testing.T) {
	for _, tc := range []struct {
		rate float64
		n    int
		each float64
	}{{1000, 4, 250}, {1000, 3, 1000.0 / 3}, {8, 64, 0.125}, {1, 3, 1.0 / 3}} {
		each := SplitRate(tc.rate, tc.n)
		var sum float64
		for range tc.n {
			sum += each
		}
		t.Logf("%g/s over %d workers: %.17g/s each, %.17g/s in total", tc.rate, tc.n, each, sum)
		if each != tc.each || sum != tc.rate {
			t.Errorf("SplitRate(%g, %d) = %.17g each, %.17g in total; want %.17g, %g", tc.rate, tc.n, each, sum, tc.each, tc.rate)
		}
	}
}

// TestTrafficShare: counts and rates split, the rest stays.
func TestTrafficShare(t *testing.T) {
	in := Traffic{Count: 10, Rate: 1000, Workers: 4, Timeout: time.Second, WarmupCount: 3, Percentiles: []float64{50}}
	got := []Traffic{in.Share(1, 4), in.Share(4, 4), in.Share(1, 1)}
	want := []Traffic{
		{Count: 3, Rate: 250, Workers: 3, Timeout: time.Second, WarmupCount: 1, Percentiles: []float64{50}},
		{Count: 2, Rate: 250, Workers: 2, Timeout: time.Second, WarmupCount: 0, Percentiles: []float64{50}},
		in,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("shares (-want +got):\n%s", diff)
	}
	d := Traffic{Duration: 4 * time.Second, Rate: 1000, Workers: 4}.Share(2, 4)
	if diff := cmp.Diff(Traffic{Duration: 4 * time.Second, Rate: 250, RatedCount: 1000, Workers: 4}, d); diff != "" {
		t.Errorf("duration share (-want +got):\n%s", diff)
	}
	// 1000/s over 3 workers for 4 s: 4000 requests, 1334 + 1333 + 1333.
	var counts []int64
	for i := 1; i <= 3; i++ {
		counts = append(counts, Traffic{Duration: 4 * time.Second, Rate: 1000, Workers: 4}.Share(i, 3).RatedTotal())
	}
	if diff := cmp.Diff([]int64{1334, 1333, 1333}, counts); diff != "" {
		t.Errorf("rated shares (-want +got):\n%s", diff)
	}
}

func TestParseWorkers(t *testing.T) {
	e, err := Parse([]byte("tasks: [http, grpc]\nhttp: {url: http://a/, workers: 4}\ngrpc: {host: h:1, call: a.B.C}\n"), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := []int{e.Workers(TaskHTTP), e.Workers(TaskGRPC)}; !cmp.Equal(got, []int{4, 1}) {
		t.Errorf("workers of http, grpc = %v, want [4 1]", got)
	}
}

func TestParseWorkersBadInput(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{{
		name: "zero",
		yaml: "tasks: [http]\nhttp: {url: http://a/, workers: 0}\n",
		want: []string{`x.yaml: http.workers: "0" is outside 1..64; write the number of workers that share the load, e.g. 4 (1 sends it from one step)`},
	}, {
		name: "above the limit",
		yaml: "tasks: [grpc]\ngrpc: {host: h:1, call: a.B.C, workers: 65}\n",
		want: []string{`x.yaml: grpc.workers: "65" is outside 1..64; write the number of workers that share the load, e.g. 4 (1 sends it from one step)`},
	}, {
		name: "fewer requests than workers",
		yaml: "tasks: [http]\nhttp: {url: http://a/, numRequests: 3, workers: 4}\n",
		want: []string{`x.yaml: http.workers: "4" is more than the 3 requests to send, and every worker sends at least one; lower workers or send more requests`},
	}, {
		name: "fewer calls than workers at one endpoint",
		yaml: "tasks: [grpc]\ngrpc:\n  host: h:1\n  workers: 8\n  endpoints:\n    a: {call: a.B.C}\n    b: {call: a.B.D, total: 5}\n",
		want: []string{`x.yaml: grpc.workers: "8" is more than the 5 calls to send, and every worker sends at least one; lower workers or send more calls`},
	}, {
		name: "fewer requests at a rate for a duration than workers",
		yaml: "tasks: [http]\nhttp: {url: http://a/, qps: 1, duration: 2s, workers: 4}\n",
		want: []string{`x.yaml: http.workers: "4" is more than the 2 requests to send, and every worker sends at least one; lower workers or send more requests`},
	}, {
		name: "not per endpoint",
		yaml: "tasks: [http]\nhttp:\n  endpoints:\n    get: {url: http://a/, workers: 2}\n",
		want: []string{`x.yaml: http.endpoints.get.workers: unknown key; known keys are connections, contentType, duration, errorRanges, headers, method, numRequests, payloadFile, payloadStr, payloadURL, percentiles, qps, timeout, url, warmupDuration, warmupNumRequests`},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml), "x.yaml")
			if err == nil {
				t.Fatal("Parse succeeded, want an error")
			}
			if !badinput.Is(err) {
				t.Errorf("error %v is not bad input", err)
			}
			if diff := cmp.Diff(tc.want, strings.Split(err.Error(), "\n")); diff != "" {
				t.Errorf("error lines (-want +got):\n%s", diff)
			}
		})
	}
}
