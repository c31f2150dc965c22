// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package experiment

import (
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"github.com/autox-tekton/autox/internal/badinput"
	"github.com/autox-tekton/autox/internal/inputfile"
)

// Task names.
const (
	TaskReady  = "ready"
	TaskHTTP   = "http"
	TaskGRPC   = "grpc"
	TaskAssess = "assess"
)

// KnownTasks are the tasks this version runs, in their usual order.
var knownTasks = []string{TaskReady, TaskHTTP, TaskGRPC, TaskAssess}

// Load reads and validates an experiment file and resolves its tasks.
// Relative paths (payloadFile, protoFile, ...) are taken from the file's
// folder.
func Load(path string) (*Experiment, error) {
	data, err := inputfile.Read(path, inputfile.MaxYAML)
	if err != nil {
		return nil, &badinput.Error{Problems: []badinput.FieldError{{
			Message: fmt.Sprintf("cannot read experiment file %q: %v; %s with -f", path, err, inputfile.FixFor(err, "pass an existing file")),
		}}}
	}
	return ParseIn(data, path, filepath.Dir(path))
}

func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// Parse reads an experiment from YAML that has no file: relative paths
// stay relative to the working directory. See ParseIn.
func Parse(data []byte, source string) (*Experiment, error) {
	return ParseIn(data, source, "")
}

// ParseIn reads an experiment from YAML, validates it whole and resolves
// each task once into its endpoints' final settings (defaults filled,
// top-level settings merged, relative paths taken from baseDir). Every
// problem is reported, each with its field path; source names the input
// in messages.
func ParseIn(data []byte, source, baseDir string) (*Experiment, error) {
	if len(data) > inputfile.MaxYAML {
		return nil, &badinput.Error{Source: source, Problems: []badinput.FieldError{{
			Message: fmt.Sprintf("the experiment is %d bytes, more than the limit of %s; write a smaller one (a large gRPC message belongs in dataFile)", len(data), inputfile.Size(inputfile.MaxYAML)),
		}}}
	}
	doc, fe := parseYAML(data)
	if fe != nil {
		return nil, &badinput.Error{Source: source, Problems: []badinput.FieldError{*fe}}
	}
	if len(doc.Content) == 0 {
		return nil, &badinput.Error{Source: source, Problems: []badinput.FieldError{{
			Message: "the experiment is empty; write at least tasks: [http, assess] and an http section",
		}}}
	}
	var p problems
	checkShape(doc.Content[0], reflect.TypeFor[Experiment](), "", &p)
	if len(p) > 0 {
		return nil, p.err(source)
	}
	e := &Experiment{BaseDir: baseDir}
	if err := doc.Content[0].Decode(e); err != nil {
		if strings.Contains(err.Error(), "excessive aliasing") {
			return nil, &badinput.Error{Source: source, Problems: []badinput.FieldError{{Message: yamlMessage(err)}}}
		}
		// checkShape accepted it, so this is our bug, not the user's.
		return nil, fmt.Errorf("decoding experiment after validation: %w", err)
	}
	e.validate(&p)
	if err := p.err(source); err != nil {
		return nil, err
	}
	return e, nil
}

func (e *Experiment) validate(p *problems) {
	if len(e.Tasks) == 0 {
		p.add("tasks", "missing; list the tasks to run, e.g. tasks: [http, assess]")
	}
	for i, t := range e.Tasks {
		if !contains(knownTasks, t) {
			p.add(fmt.Sprintf("tasks[%d]", i), fmt.Sprintf("unknown task %q; known tasks are %s", t, strings.Join(knownTasks, ", ")))
		}
	}
	if i := indexOf(e.Tasks, TaskAssess); i >= 0 && i != len(e.Tasks)-1 {
		p.add(fmt.Sprintf("tasks[%d]", i), "assess must be the last task: it reads what the others measured; move it to the end")
	}
	if e.Runner != "" && e.Runner != "job" {
		p.add("runner", fmt.Sprintf("%q is not supported; autox runs each experiment once per version (runner: job), remove the key", e.Runner))
	}
	if contains(e.Tasks, TaskReady) {
		if e.Ready == nil {
			p.add("ready", "missing; the tasks list names ready, so add a ready section, e.g. ready: {deploy: httpbin, service: httpbin}")
		} else {
			e.Ready.validate(p)
		}
	}
	// A section is resolved (and so checked) even when the tasks list does
	// not name it: a load step run on the file would send it.
	if e.HTTP != nil {
		e.http = e.HTTP.resolve(e.BaseDir, p)
		checkWorkers(TaskHTTP, e.HTTP.Workers, httpTraffic(e.http), p)
	} else if contains(e.Tasks, TaskHTTP) {
		p.add("http", "missing; the tasks list names http, so add an http section with url or endpoints")
	}
	if e.GRPC != nil {
		e.grpc = e.GRPC.resolve(e.BaseDir, p)
		checkWorkers(TaskGRPC, e.GRPC.Workers, grpcTraffic(e.grpc), p)
	} else if contains(e.Tasks, TaskGRPC) {
		p.add("grpc", "missing; the tasks list names grpc, so add a grpc section with host and call or endpoints")
	}
	if e.Assess != nil && e.Assess.SLOs != nil {
		e.Assess.SLOs.validate(p)
	}
	if e.Assess != nil && e.Assess.Regression != nil {
		e.Assess.Regression.validate(p)
	}
}

func (r *Regression) validate(p *problems) {
	if len(r.MaxRatio) == 0 {
		p.add("assess.regression.maxRatio", "missing; name the latency metrics to judge against the baseline, e.g. maxRatio: {http-get/latency-p99: 1.10}")
	}
	for _, m := range slices.Sorted(maps.Keys(r.MaxRatio)) {
		key := "assess.regression.maxRatio." + m
		if _, err := ParseRegressionMetric(m); err != nil {
			p.add(key, err.Error())
		}
		if v := r.MaxRatio[m]; math.IsNaN(v) || math.IsInf(v, 0) || v < 1 || v > 1000 {
			p.add(key, fmt.Sprintf("%v is not a ratio of at least 1 and at most 1000; write e.g. 1.10 (at most 10%% slower than the baseline)", v))
		}
	}
	if a := r.Alpha; a != 0 && (math.IsNaN(a) || a <= 0 || a >= 0.5) {
		p.add("assess.regression.alpha", fmt.Sprintf("%v is not a p-value above 0 and below 0.5; write e.g. 0.01 (or leave it out for %g)", a, DefaultAlpha))
	}
}

func (s *SLOs) validate(p *problems) {
	for _, b := range []struct {
		name   string
		limits map[string]float64
	}{{"upper", s.Upper}, {"lower", s.Lower}} {
		for _, m := range slices.Sorted(maps.Keys(b.limits)) {
			prefix, name, ok := strings.Cut(m, "/")
			key := "assess.SLOs." + b.name + "." + m
			if !ok || prefix == "" || name == "" {
				p.add(key, fmt.Sprintf("%q is not a metric name; write <task>[-<endpoint>]/<metric>, e.g. http-get/latency-mean", m))
			}
			checkFinite(key, b.limits[m], "write a limit such as 50 or 99.9", p)
		}
	}
}

// HasTask reports whether the tasks list names t.
func (e *Experiment) HasTask(t string) bool { return contains(e.Tasks, t) }

func contains(list []string, s string) bool { return indexOf(list, s) >= 0 }

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}
