// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package metrics

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"time"

	"github.com/autox-tekton/autox/internal/atomicfile"
	"github.com/autox-tekton/autox/internal/inputfile"
)

// FileVersion names the metrics file format; readers refuse others.
const FileVersion = "autox.dev/metrics/v1"

// FileSuffix ends the name of every metrics file in an experiment folder:
// <task>.metrics.json.
const FileSuffix = ".metrics.json"

// File is what one step of an experiment left for assess: what a load
// step measured, or that the ready task completed (or why it failed).
type File struct {
	Version   string      `json:"version"`
	Task      string      `json:"task"`
	StartTime time.Time   `json:"startTime"`
	EndTime   time.Time   `json:"endTime"`
	Endpoints []*Endpoint `json:"endpoints"`
	// Stopped says why and when the load ended before it was done, and
	// what the file holds then (e.g. "http-get: stopped after 3.2s of
	// 10s (terminated signal received); 1234 requests measured"); empty
	// when every endpoint ran to its end.
	Stopped string `json:"stopped,omitempty"`
	// Failed says why the task did not do its work, in one line: the
	// ready step's objects were not ready in time ("not ready: deployment
	// shop/web: Available=False ... after 60s"), or a load step sent no
	// load because the ready task before it did not complete. A failed
	// task's file holds no endpoints; empty when the task did its work.
	Failed string `json:"failed,omitempty"`
	// Worker says which of the task's workers wrote the file, when the
	// load is spread over several (http.workers); nil for one.
	Worker *Worker `json:"worker,omitempty"`
}

// Worker is one of the workers that share a task's load: Index 1..Of.
type Worker struct {
	Index int `json:"index"`
	Of    int `json:"of"`
}

// OrNil is w for a file's Worker field: nil when it is the only worker.
func (w Worker) OrNil() *Worker {
	if w.Of <= 1 {
		return nil
	}
	return &w
}

// String is "3/4".
func (w Worker) String() string { return fmt.Sprintf("%d/%d", w.Index, w.Of) }

// Path is where this worker's metrics file of task lives in dir:
// <task>-w<i>.metrics.json, or <task>.metrics.json when it is the only
// worker (the zero Worker too).
func (w Worker) Path(dir, task string) string {
	if w.Of <= 1 {
		return PathFor(dir, task)
	}
	return filepath.Join(dir, fmt.Sprintf("%s-w%d%s", task, w.Index, FileSuffix))
}

// WorkerPaths are the per-worker metrics files of task in dir (any
// worker count), for removing an earlier run's.
func WorkerPaths(dir, task string) ([]string, error) {
	return filepath.Glob(filepath.Join(dir, task+"-w*"+FileSuffix))
}

// PathFor is where task's metrics file lives in dir.
func PathFor(dir, task string) string {
	return filepath.Join(dir, task+FileSuffix)
}

// Write stores f atomically: a reader sees the old file or the whole new one.
func Write(path string, f *File) error {
	f.Version = FileVersion
	for _, e := range f.Endpoints {
		if err := e.encode(); err != nil {
			return err
		}
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding metrics of %s: %w", f.Task, err)
	}
	return atomicfile.Write(path, append(b, '\n'))
}

// Read loads one metrics file.
func Read(path string) (*File, error) {
	b, err := inputfile.Read(path, inputfile.MaxMetrics)
	if err != nil {
		return nil, fmt.Errorf("reading metrics %s: %w", path, err)
	}
	return parseFile(b, path)
}

// parseFile reads a metrics file's bytes; path names it in messages.
func parseFile(b []byte, path string) (*File, error) {
	var f File
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%s is not a metrics file: %w", path, err)
	}
	if f.Version != FileVersion {
		return nil, fmt.Errorf("%s has version %q, this autox reads %q; run the load step and assess from the same release", path, f.Version, FileVersion)
	}
	for i, e := range f.Endpoints {
		if e == nil {
			return nil, fmt.Errorf("%s: endpoints[%d] is null, which no load step writes; run the load step again", path, i)
		}
		if err := e.decode(); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	return &f, nil
}

// ReadDir loads every metrics file in dir, by task name. The files of
// a task's workers are merged into one (Merge), which says in Failed or
// Stopped which worker failed, stopped or wrote no file.
func ReadDir(dir string) (map[string]*File, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*"+FileSuffix))
	if err != nil {
		return nil, err
	}
	sort.Strings(paths)
	out := map[string]*File{}
	workers := map[string][]*File{}
	for _, p := range paths {
		f, err := Read(p)
		if err != nil {
			return nil, err
		}
		if f.Worker != nil {
			workers[f.Task] = append(workers[f.Task], f)
			continue
		}
		out[f.Task] = f
	}
	for task, files := range workers {
		if _, ok := out[task]; ok {
			return nil, fmt.Errorf("%s holds %s and the files of %d workers of the same task; remove the earlier run's files and run again",
				dir, filepath.Base(PathFor(dir, task)), len(files))
		}
		m, err := Merge(files)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", dir, err)
		}
		out[task] = m
	}
	return out, nil
}
