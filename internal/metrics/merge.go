// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package metrics

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// WorkerRow is what one worker measured at an endpoint, for the
// report's row of that worker under the endpoint's totals.
type WorkerRow struct {
	Worker          int     `json:"worker"`
	RequestCount    int64   `json:"requestCount"`
	ErrorCount      int64   `json:"errorCount"`
	DurationSeconds float64 `json:"durationSeconds"`
	// AchievedRate is RequestCount / DurationSeconds, per second.
	AchievedRate float64 `json:"achievedRate"`
	// LatencyP50Ms and LatencyP99Ms are the worker's own percentiles
	// (0 when it got no response).
	LatencyP50Ms float64 `json:"latencyP50Ms"`
	LatencyP99Ms float64 `json:"latencyP99Ms"`
}

// Merge is the one File of a task whose load was spread over several
// workers, from the files they wrote (each with Worker set, the same
// Of): per endpoint, counts, errors, status codes and late counts
// summed, the latency and service-time HDR histograms merged (the same
// geometry, NewHistogram's, so exactly), the duration the longest, the
// rate the sum; each endpoint lists one WorkerRow per worker. A worker
// that failed, or wrote no file, makes the merged file failed; one that
// was stopped, stopped; either way naming the worker ("worker 3 of 4
// wrote no metrics ..."). What the others measured is kept.
func Merge(files []*File) (*File, error) {
	if len(files) == 0 {
		return nil, fmt.Errorf("no worker files to merge")
	}
	task, of := files[0].Task, files[0].Worker.Of
	byIndex := map[int]*File{}
	for _, f := range files {
		w := f.Worker
		if w.Of != of || w.Index < 1 || w.Index > of {
			return nil, fmt.Errorf("the %s workers' files disagree: worker %s and worker %s; remove the earlier run's files and run again",
				task, files[0].Worker, w)
		}
		if byIndex[w.Index] != nil {
			return nil, fmt.Errorf("two %s files of worker %s; remove the earlier run's files and run again", task, w)
		}
		byIndex[w.Index] = f
	}
	m := &File{Version: FileVersion, Task: task}
	var failed, stopped, sameFailure []string
	merged := map[string]*Endpoint{}
	for i := 1; i <= of; i++ {
		f := byIndex[i]
		if f == nil {
			failed = append(failed, fmt.Sprintf("worker %d of %d wrote no metrics (its pod failed or never ran)", i, of))
			continue
		}
		if m.StartTime.IsZero() || f.StartTime.Before(m.StartTime) {
			m.StartTime = f.StartTime
		}
		if f.EndTime.After(m.EndTime) {
			m.EndTime = f.EndTime
		}
		if f.Failed != "" {
			failed = append(failed, fmt.Sprintf("worker %d of %d: %s", i, of, f.Failed))
			sameFailure = append(sameFailure, f.Failed)
		}
		if f.Stopped != "" {
			stopped = append(stopped, fmt.Sprintf("worker %d of %d: %s", i, of, f.Stopped))
		}
		for _, e := range f.Endpoints {
			t := merged[e.Prefix()]
			if t == nil {
				t = &Endpoint{Task: e.Task, Name: e.Name, Target: e.Target, Percentiles: slices.Clone(e.Percentiles), Note: e.Note,
					Latency: NewHistogram()}
				merged[e.Prefix()] = t
				m.Endpoints = append(m.Endpoints, t)
			}
			if err := t.add(e, i); err != nil {
				return nil, fmt.Errorf("merging %s of worker %d of %d: %w", e.Prefix(), i, of, err)
			}
		}
	}
	for _, e := range m.Endpoints {
		if err := e.encode(); err != nil {
			return nil, err
		}
	}
	m.Failed = strings.Join(failed, "; ")
	if len(sameFailure) == of && len(slices.Compact(slices.Clone(sameFailure))) == 1 {
		// Every worker failed alike (no load sent after a failed ready):
		// one sentence, not N.
		m.Failed = fmt.Sprintf("all %d workers: %s", of, sameFailure[0])
	}
	m.Stopped = strings.Join(stopped, "; ")
	return m, nil
}

// add folds worker i's measurements at one endpoint into e.
func (e *Endpoint) add(w *Endpoint, i int) error {
	e.RequestCount += w.RequestCount
	e.ErrorCount += w.ErrorCount
	e.LateCount += w.LateCount
	e.Rate += w.Rate
	e.DurationSeconds = max(e.DurationSeconds, w.DurationSeconds)
	e.Errors = addCounts(e.Errors, w.Errors)
	e.StatusCodes = addCounts(e.StatusCodes, w.StatusCodes)
	if w.Latency != nil {
		if dropped := e.Latency.Merge(w.Latency); dropped > 0 {
			return fmt.Errorf("%d latencies outside the histogram", dropped)
		}
	}
	e.LatencyBlocks = MergeBlocks(e.LatencyBlocks, w.LatencyBlocks)
	if w.ServiceTime != nil {
		if e.ServiceTime == nil {
			e.ServiceTime = NewHistogram()
		}
		if dropped := e.ServiceTime.Merge(w.ServiceTime); dropped > 0 {
			return fmt.Errorf("%d service times outside the histogram", dropped)
		}
	}
	row := WorkerRow{Worker: i, RequestCount: w.RequestCount, ErrorCount: w.ErrorCount, DurationSeconds: w.DurationSeconds}
	if w.DurationSeconds > 0 {
		row.AchievedRate = float64(w.RequestCount) / w.DurationSeconds
	}
	if w.Latency != nil && w.Latency.TotalCount() > 0 {
		row.LatencyP50Ms = float64(w.Latency.ValueAtQuantile(50)) / 1000
		row.LatencyP99Ms = float64(w.Latency.ValueAtQuantile(99)) / 1000
	}
	e.Workers = append(e.Workers, row)
	return nil
}

func addCounts(to, from map[string]int64) map[string]int64 {
	if len(from) == 0 {
		return to
	}
	if to == nil {
		to = make(map[string]int64, len(from))
	}
	for _, k := range slices.Sorted(maps.Keys(from)) {
		to[k] += from[k]
	}
	return to
}
