// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Package localrun is `autox run`: it validates a whole experiment
// (payloads and protos included), then runs its tasks in order in this
// process with the steps' own packages (ready.Step, httpload.Step,
// grpcload.Step, assess), and prints the report.
//
// A failed ready task is the Task's rule too: the ready step records the
// failure, the load tasks after it send nothing, assess runs and reports
// the experiment as failed, and the run ends with outcome.ErrExperimentFailed
// (exit 3), its report printed and its result written.
//
// Stopped (SIGTERM or SIGINT), it ends within 5 s with the stopped task's
// error: the load steps keep what they measured in the work folder, which
// is then kept too (even a temporary one) and named in the error; no
// report is made.
package localrun

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/autox-tekton/autox/internal/assess"
	"github.com/autox-tekton/autox/internal/badinput"
	"github.com/autox-tekton/autox/internal/experiment"
	"github.com/autox-tekton/autox/internal/grpcload"
	"github.com/autox-tekton/autox/internal/httpload"
	"github.com/autox-tekton/autox/internal/kube"
	"github.com/autox-tekton/autox/internal/metrics"
	"github.com/autox-tekton/autox/internal/ready"
	"github.com/autox-tekton/autox/internal/result"
)

// Steps carries what every step needs.
type Steps struct {
	Log *slog.Logger
	// Client fetches payloads and protos by URL.
	Client *http.Client
	// ProgressEvery is the interval of progress lines (0: 5s).
	ProgressEvery time.Duration
}

// Config is one `autox run`.
type Config struct {
	ExperimentFile string
	// OutDir keeps the metrics, result and reports; "" uses a temporary
	// folder that is removed afterwards (kept when the run is stopped).
	OutDir          string
	Output          string
	FailOnViolation bool
	// Kubeconfig finds the cluster for the ready task.
	Kubeconfig kube.Kubeconfig
	// Baseline is a result.json that assess.regression judges against;
	// "" judges nothing.
	Baseline string
}

// Run validates the whole experiment (payloads included), then runs its
// tasks in order and prints the report. Bad input is found before any load
// is sent or any file in OutDir is touched.
func (s Steps) Run(ctx context.Context, cfg Config, stdout, stderr io.Writer) (*result.Result, error) {
	e, err := experiment.Load(cfg.ExperimentFile)
	if err != nil {
		return nil, err
	}
	check := assess.Config{Experiment: e, Dir: "-", Output: cfg.Output}
	if err := check.Validate(); err != nil {
		return nil, err
	}
	var baseline *assess.Baseline
	if cfg.Baseline != "" {
		b, err := assess.FromFile(cfg.Baseline, "")
		if err != nil {
			return nil, badinput.Field("--baseline", err.Error()+"; name a result.json an earlier run kept (autox run --out DIR)")
		}
		if e.Assess == nil || e.Assess.Regression == nil {
			s.Log.Warn("--baseline is not used: the experiment has no assess.regression")
		}
		baseline = &b
	}
	httpStep := httpload.Step{Log: s.Log, Client: s.Client, ProgressEvery: s.ProgressEvery}
	grpcStep := grpcload.Step{Log: s.Log, Client: s.Client, ProgressEvery: s.ProgressEvery}
	var httpEPs []experiment.HTTPEndpoint
	if e.HasTask(experiment.TaskHTTP) {
		if httpEPs, err = httpStep.Prepare(ctx, e); err != nil {
			return nil, err
		}
	}
	var grpcEPs []grpcload.Endpoint
	if e.HasTask(experiment.TaskGRPC) {
		if grpcEPs, err = grpcStep.Prepare(ctx, e); err != nil {
			return nil, err
		}
	}

	dir := cfg.OutDir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "autox-run-"); err != nil {
			return nil, fmt.Errorf("making a work folder: %w", err)
		}
		defer func() {
			if ctx.Err() == nil {
				os.RemoveAll(dir)
			}
		}()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("making --out folder: %w", err)
	}
	// Metrics of an earlier run must not pass for this run's.
	for _, t := range e.Tasks {
		stale, err := metrics.WorkerPaths(dir, t)
		if err != nil {
			return nil, fmt.Errorf("finding the earlier run's metrics: %w", err)
		}
		for _, p := range append(stale, metrics.PathFor(dir, t)) {
			if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
				return nil, fmt.Errorf("removing the earlier run's metrics: %w", err)
			}
		}
	}

	for _, t := range e.Tasks {
		var err error
		switch t {
		case experiment.TaskReady:
			// A failure is recorded in dir: the load tasks after it send
			// nothing, and assess reports it.
			err = ready.Step{Log: s.Log, Kubeconfig: cfg.Kubeconfig}.Run(ctx, e, dir)
		case experiment.TaskHTTP:
			err = httpStep.Load(ctx, e, httpEPs, dir)
		case experiment.TaskGRPC:
			err = grpcStep.Load(ctx, e, grpcEPs, dir)
		}
		switch {
		case err == nil:
		case ctx.Err() != nil:
			return nil, fmt.Errorf("%s task: %w", t, err)
		default:
			// Not fatal: assess reports the task as not completed.
			s.Log.Error(fmt.Sprintf("%s task failed: %v", t, err))
		}
	}
	return assess.Run(assess.Config{
		Experiment: e, Dir: dir, Output: cfg.Output, FailOnViolation: cfg.FailOnViolation, Baseline: baseline,
	}, stdout, stderr)
}
