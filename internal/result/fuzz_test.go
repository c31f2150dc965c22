// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package result

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/autox-tekton/autox/internal/experiment"
	"github.com/autox-tekton/autox/internal/metrics"
)

// FuzzParse: whatever a result file holds, it is read or refused in one
// line, never a panic; a result read, written again, reads the same.
func FuzzParse(f *testing.F) {
	h := metrics.NewHistogram()
	metrics.RecordLatency(h, 3*time.Millisecond)
	r := &Result{Version: Version, Completed: true, SLOsSatisfied: true, StartTime: time.Unix(100, 0).UTC(),
		Tasks:   []Task{{Name: "http", Completed: true}},
		Metrics: map[string]float64{"http/latency-mean": 3}, MetricInfo: map[string]metrics.Info{"http/latency-mean": {Units: "msec"}},
		Spec: &experiment.Experiment{Tasks: []string{"http"}},
	}
	r.add(&metrics.File{Task: "http", Endpoints: []*metrics.Endpoint{{Task: "http", Target: "http://h/", RequestCount: 1, Latency: h, Percentiles: []float64{50}}}})
	good, err := json.Marshal(r)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"version":"autox.dev/result/v1","spec":{"grpc":{"data":{"a":[1,{"b":null}]}}}}`))
	f.Add([]byte(`{"version":"autox.dev/result/v0"}`))
	f.Add(good[:len(good)/2])
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := parse(data, "result.json")
		if err != nil {
			if msg := err.Error(); msg == "" || strings.ContainsAny(msg, "\r\n") {
				t.Fatalf("an error that is not one line: %q", msg)
			}
			return
		}
		r.MetricNames()
		first, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("read, but cannot be written again: %v", err)
		}
		again, err := parse(first, "again.json")
		if err != nil {
			t.Fatalf("written again, it is refused: %v", err)
		}
		second, err := json.Marshal(again)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(string(first), string(second)); diff != "" {
			t.Fatalf("written again, it reads differently (-first +again):\n%s", diff)
		}
	})
}
