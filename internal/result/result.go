// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Package result is the full outcome of an experiment, as assess writes
// it: whether it completed, every metric by Iter8 name, SLO verdicts,
// each endpoint's load and latency histogram, and the spec it ran.
package result

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/autox-tekton/autox/internal/atomicfile"
	"github.com/autox-tekton/autox/internal/experiment"
	"github.com/autox-tekton/autox/internal/inputfile"
	"github.com/autox-tekton/autox/internal/metrics"
	"github.com/autox-tekton/autox/internal/slo"
)

// Version names the result format.
const Version = "autox.dev/result/v1"

// FileName is the result's name in an experiment folder.
const FileName = "result.json"

// Result is an experiment's outcome.
type Result struct {
	Version string `json:"version"`
	// Completed is true when every task ran to its end.
	Completed bool `json:"completed"`
	// Failure is true when a task failed or did not run.
	Failure bool `json:"failure"`
	// FailureReasons say which task failed and why.
	FailureReasons []string `json:"failureReasons,omitempty"`
	// SLOsSatisfied is true when every SLO holds (and there is no failure).
	SLOsSatisfied bool      `json:"slosSatisfied"`
	StartTime     time.Time `json:"startTime"`
	EndTime       time.Time `json:"endTime"`
	Tasks         []Task    `json:"tasks"`
	// Metrics maps each metric name to its value.
	Metrics    map[string]float64      `json:"metrics"`
	MetricInfo map[string]metrics.Info `json:"metricInfo"`
	// Unavailable maps metrics without a value to the reason.
	Unavailable map[string]string `json:"unavailableMetrics,omitempty"`
	SLOs        []slo.Verdict     `json:"slos"`
	// Regression is the verdict against the baseline, when the spec asks
	// for one (assess.regression).
	Regression *Regression `json:"regression,omitempty"`
	// Regressed is true when a regression limit failed.
	Regressed bool                   `json:"regressed,omitempty"`
	Endpoints []Endpoint             `json:"endpoints"`
	Spec      *experiment.Experiment `json:"spec"`
}

// Regression is an experiment judged against its baseline: the last
// version of its group and spec whose run passed.
type Regression struct {
	// Baseline is the run judged against; nil when there is none (the
	// first version, or none passed yet), and nothing is judged.
	Baseline *Baseline `json:"baseline,omitempty"`
	// Note says why nothing was judged, when nothing was.
	Note string `json:"note,omitempty"`
	// Alpha is the p-value below which a slower distribution is not noise.
	Alpha    float64             `json:"alpha"`
	Verdicts []RegressionVerdict `json:"verdicts,omitempty"`
}

// Baseline names the run a regression is judged against.
type Baseline struct {
	Version string    `json:"version"`
	Run     string    `json:"run,omitempty"`
	EndTime time.Time `json:"endTime,omitempty"`
}

// RegressionVerdict is one metric judged against the baseline.
type RegressionVerdict struct {
	Metric string `json:"metric"`
	// MaxRatio is the limit: the candidate at most MaxRatio times the
	// baseline.
	MaxRatio float64 `json:"maxRatio"`
	// Baseline and Candidate are the metric's values (msec); Ratio is
	// Candidate / Baseline.
	Baseline  float64 `json:"baseline"`
	Candidate float64 `json:"candidate"`
	Ratio     float64 `json:"ratio"`
	// P is the p-value of the limit's own test (package regress: the
	// chance that a candidate within the limit shows a tail or mean this
	// far past it); Slower the probability, by the Mann-Whitney U test,
	// that a candidate request is slower than a baseline one (0.5:
	// neither is).
	P      float64 `json:"p"`
	Slower float64 `json:"slower"`
	// Blocks counts the blocks of both runs the limit was judged on (a
	// permutation test of blocks, where a burst of slow requests counts
	// once); 0 when it was judged per request (a run without blocks).
	Blocks int `json:"blocks,omitempty"`
	// Regressed: Ratio above MaxRatio and P below the alpha.
	Regressed bool `json:"regressed"`
	// Unavailable says why the metric could not be judged.
	Unavailable string `json:"unavailable,omitempty"`
}

// Task is one task of the tasks list.
type Task struct {
	Name      string `json:"name"`
	Completed bool   `json:"completed"`
	Reason    string `json:"reason,omitempty"`
}

// Endpoint is what one endpoint received, for the report.
type Endpoint struct {
	Task            string           `json:"task"`
	Prefix          string           `json:"prefix"`
	Target          string           `json:"target"`
	RequestCount    int64            `json:"requestCount"`
	ErrorCount      int64            `json:"errorCount"`
	Errors          map[string]int64 `json:"errors,omitempty"`
	StatusCodes     map[string]int64 `json:"statusCodes,omitempty"`
	DurationSeconds float64          `json:"durationSeconds"`
	Note            string           `json:"note,omitempty"`
	// Histogram is the latency histogram as bars, in milliseconds.
	Histogram []metrics.Bucket `json:"histogram,omitempty"`
	// Latency is the full HDR histogram (V2 compressed, base64), mergeable.
	Latency string `json:"latency"`
	// Rate is the total rate asked for; 0 is a closed loop. At a rate,
	// Latency counts from each request's intended send time,
	// ServiceTime from its actual send, and LateCount counts the
	// requests sent late (every connection busy).
	Rate        float64 `json:"rate,omitempty"`
	LateCount   int64   `json:"lateCount,omitempty"`
	ServiceTime string  `json:"serviceTime,omitempty"`
	// LatencyBlocks are the response times in blocks of the run, in the
	// order recorded (metrics.Block): a regression verdict judges on them.
	LatencyBlocks []metrics.Block `json:"latencyBlocks,omitempty"`
	// Workers has one row per worker when the load was spread over
	// several (http.workers); the fields above are their totals.
	Workers []metrics.WorkerRow `json:"workers,omitempty"`
}

// HistogramBars is how many bars each endpoint's chart has.
const HistogramBars = 30

// Build assembles the result of spec from the metrics files its tasks
// wrote. A task in the tasks list without a metrics file did not
// complete; nor did one whose file says it failed (the ready task's
// objects were not ready; a load task sent no load because ready did not
// complete), or was stopped (SIGTERM: Tekton's cancel or timeout), though
// what it measured is kept.
func Build(spec *experiment.Experiment, files map[string]*metrics.File, now time.Time) *Result {
	r := &Result{
		Version:     Version,
		Metrics:     map[string]float64{},
		MetricInfo:  map[string]metrics.Info{},
		Unavailable: map[string]string{},
		Spec:        spec,
		EndTime:     now.UTC(),
		StartTime:   now.UTC(),
	}
	for _, name := range spec.Tasks {
		t := Task{Name: name, Completed: true}
		if name != experiment.TaskAssess {
			f, ok := files[name]
			if !ok {
				t.Completed = false
				t.Reason = fmt.Sprintf("no %s metrics file: the %s step did not finish", name, name)
			} else {
				r.add(f)
				switch {
				case f.Failed != "":
					t.Completed = false
					t.Reason = f.Failed
				case f.Stopped != "":
					t.Completed = false
					t.Reason = f.Stopped
				}
			}
		}
		if !t.Completed {
			r.FailureReasons = append(r.FailureReasons, name+": "+t.Reason)
		}
		r.Tasks = append(r.Tasks, t)
	}
	r.Failure = len(r.FailureReasons) > 0
	r.Completed = !r.Failure
	var slos *experiment.SLOs
	if spec.Assess != nil {
		slos = spec.Assess.SLOs
	}
	r.SLOs = slo.Evaluate(slos, r.Metrics, r.Unavailable)
	r.SLOsSatisfied = !r.Failure && slo.AllSatisfied(r.SLOs)
	return r
}

func (r *Result) add(f *metrics.File) {
	if !f.StartTime.IsZero() && f.StartTime.Before(r.StartTime) {
		r.StartTime = f.StartTime.UTC()
	}
	for _, e := range f.Endpoints {
		values, info, unavailable := e.Values()
		for k, v := range values {
			r.Metrics[k] = v
		}
		for k, v := range info {
			r.MetricInfo[k] = v
		}
		for k, v := range unavailable {
			r.Unavailable[k] = v
		}
		r.Endpoints = append(r.Endpoints, Endpoint{
			Task:            e.Task,
			Prefix:          e.Prefix(),
			Target:          e.Target,
			RequestCount:    e.RequestCount,
			ErrorCount:      e.ErrorCount,
			Errors:          e.Errors,
			StatusCodes:     e.StatusCodes,
			DurationSeconds: e.DurationSeconds,
			Note:            e.Note,
			Histogram:       e.Buckets(HistogramBars),
			Latency:         e.LatencyEncoded,
			Rate:            e.Rate,
			LateCount:       e.LateCount,
			ServiceTime:     e.ServiceTimeEncoded,
			LatencyBlocks:   e.LatencyBlocks,
			Workers:         e.Workers,
		})
	}
	sort.SliceStable(r.Endpoints, func(i, j int) bool { return r.Endpoints[i].Prefix < r.Endpoints[j].Prefix })
}

// MetricNames lists the metrics with a value, sorted.
func (r *Result) MetricNames() []string {
	out := make([]string, 0, len(r.Metrics))
	for k := range r.Metrics {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Units of a metric ("msec" or "").
func (r *Result) Units(metric string) string { return r.MetricInfo[metric].Units }

// Write stores the result as JSON, atomically.
func Write(path string, r *Result) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding result: %w", err)
	}
	return atomicfile.Write(path, append(b, '\n'))
}

// Read loads a result file.
func Read(path string) (*Result, error) {
	b, err := inputfile.Read(path, inputfile.MaxResult)
	if err != nil {
		return nil, fmt.Errorf("reading result %s: %w", path, err)
	}
	return parse(b, path)
}

// parse reads a result file's bytes; path names it in messages.
func parse(b []byte, path string) (*Result, error) {
	var r Result
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s is not a result file: %w", path, err)
	}
	if r.Version != Version {
		return nil, fmt.Errorf("%s has version %q, this autox reads %q", path, r.Version, Version)
	}
	return &r, nil
}
