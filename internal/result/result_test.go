// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package result

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/autox-tekton/autox/internal/experiment"
	"github.com/autox-tekton/autox/internal/metrics"
)

func TestBuildTasks(t *testing.T) {
	stopped := "http: stopped after 3.2s of 10s (terminated signal received); 7 requests measured"
	file := func(why string) *metrics.File {
		h := metrics.NewHistogram()
		for i := 1; i <= 7; i++ {
			metrics.RecordLatency(h, time.Duration(i)*time.Millisecond)
		}
		return &metrics.File{Task: "http", Stopped: why, Endpoints: []*metrics.Endpoint{{
			Task: "http", Target: "http://x/", RequestCount: 7, Percentiles: []float64{50}, DurationSeconds: 3.2, Latency: h,
		}}}
	}
	notReady := "not ready: deployment shop/web: Available=False (MinimumReplicasUnavailable) after 1s"
	held := "no load sent: the ready task failed"
	type want struct {
		Tasks          []Task
		Completed      bool
		Failure        bool
		FailureReasons []string
		SLOsSatisfied  bool
		RequestCount   float64
	}
	for _, tc := range []struct {
		name string
		// tasks is the tasks list; nil: [http, assess].
		tasks []string
		files map[string]*metrics.File
		want  want
	}{{
		name:  "ran to its end",
		files: map[string]*metrics.File{"http": file("")},
		want: want{
			Tasks:     []Task{{Name: "http", Completed: true}, {Name: "assess", Completed: true}},
			Completed: true, SLOsSatisfied: true, RequestCount: 7,
		},
	}, {
		name:  "stopped: not completed, what it measured kept",
		files: map[string]*metrics.File{"http": file(stopped)},
		want: want{
			Tasks:          []Task{{Name: "http", Reason: stopped}, {Name: "assess", Completed: true}},
			Failure:        true,
			FailureReasons: []string{"http: " + stopped},
			RequestCount:   7,
		},
	}, {
		name:  "no metrics file",
		files: map[string]*metrics.File{},
		want: want{
			Tasks:          []Task{{Name: "http", Reason: "no http metrics file: the http step did not finish"}, {Name: "assess", Completed: true}},
			Failure:        true,
			FailureReasons: []string{"http: no http metrics file: the http step did not finish"},
		},
	}, {
		name:  "ready failed: it and the load it held are not completed, with their reasons",
		tasks: []string{"ready", "http", "assess"},
		files: map[string]*metrics.File{
			"ready": {Task: "ready", Failed: notReady},
			"http":  {Task: "http", Failed: held},
		},
		want: want{
			Tasks:          []Task{{Name: "ready", Reason: notReady}, {Name: "http", Reason: held}, {Name: "assess", Completed: true}},
			Failure:        true,
			FailureReasons: []string{"ready: " + notReady, "http: " + held},
		},
	}, {
		name:  "ready completed",
		tasks: []string{"ready", "http", "assess"},
		files: map[string]*metrics.File{"ready": {Task: "ready"}, "http": file("")},
		want: want{
			Tasks:     []Task{{Name: "ready", Completed: true}, {Name: "http", Completed: true}, {Name: "assess", Completed: true}},
			Completed: true, SLOsSatisfied: true, RequestCount: 7,
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			spec := &experiment.Experiment{
				Tasks:  tc.tasks,
				Assess: &experiment.Assess{SLOs: &experiment.SLOs{Upper: map[string]float64{"http/error-count": 0}}},
			}
			if spec.Tasks == nil {
				spec.Tasks = []string{"http", "assess"}
			}
			r := Build(spec, tc.files, time.Unix(0, 0))
			got := want{
				Tasks: r.Tasks, Completed: r.Completed, Failure: r.Failure, FailureReasons: r.FailureReasons,
				SLOsSatisfied: r.SLOsSatisfied, RequestCount: r.Metrics["http/request-count"],
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Build (-want +got):\n%s", diff)
			}
		})
	}
}
