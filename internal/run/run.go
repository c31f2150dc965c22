// Package run runs an experiment's tasks in order in one process (what
// `autox run` does on a laptop), and the ready step.
package run

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/autox-tekton/autox/internal/assess"
	"github.com/autox-tekton/autox/internal/experiment"
	"github.com/autox-tekton/autox/internal/grpcload"
	"github.com/autox-tekton/autox/internal/kube"
	"github.com/autox-tekton/autox/internal/loadstep"
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

func (s Steps) load() loadstep.Steps {
	return loadstep.Steps{Log: s.Log, Client: s.Client, ProgressEvery: s.ProgressEvery}
}

// Ready waits for the objects of the ready task, then writes
// dir/ready.metrics.json, which says to assess that the task completed.
func (s Steps) Ready(ctx context.Context, e *experiment.Experiment, kubeconfig, dir string) error {
	if e.Ready == nil {
		return experiment.Fieldf("ready", "missing; add a ready section, e.g. ready: {deploy: httpbin, service: httpbin}")
	}
	clients, err := kube.Connect(kubeconfig)
	if err != nil {
		return err
	}
	ns := e.Ready.Namespace
	if ns == "" {
		ns = clients.Namespace
	}
	c := &ready.Checker{Dynamic: clients.Dynamic, Kube: clients.Kube, Mapper: clients.Mapper, Log: s.Log}
	start := time.Now().UTC()
	if err := c.Wait(ctx, ns, e.Ready.Waits(), e.Ready.TimeoutOrDefault()); err != nil {
		return err
	}
	return metrics.Write(metrics.PathFor(dir, experiment.TaskReady), &metrics.File{Task: experiment.TaskReady, StartTime: start, EndTime: time.Now().UTC()})
}

// Config is one `autox run`.
type Config struct {
	ExperimentFile string
	// OutDir keeps the metrics, result and reports; "" uses a temporary
	// folder that is removed afterwards.
	OutDir          string
	Output          string
	FailOnViolation bool
	// Kubeconfig for the ready task; "" finds it as kubectl does.
	Kubeconfig string
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
	var httpEPs []experiment.HTTPEndpoint
	if e.HasTask(experiment.TaskHTTP) {
		if httpEPs, err = s.load().PrepareHTTP(ctx, e); err != nil {
			return nil, err
		}
	}
	var grpcEPs []grpcload.Endpoint
	if e.HasTask(experiment.TaskGRPC) {
		if grpcEPs, err = s.load().PrepareGRPC(ctx, e); err != nil {
			return nil, err
		}
	}

	dir := cfg.OutDir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "autox-run-"); err != nil {
			return nil, fmt.Errorf("making a work folder: %w", err)
		}
		defer os.RemoveAll(dir)
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("making --out folder: %w", err)
	}
	// Metrics of an earlier run must not pass for this run's.
	for _, t := range e.Tasks {
		if err := os.Remove(metrics.PathFor(dir, t)); err != nil && !os.IsNotExist(err) {
			return nil, fmt.Errorf("removing the earlier run's metrics: %w", err)
		}
	}

	for _, t := range e.Tasks {
		var err error
		switch t {
		case experiment.TaskReady:
			if err = s.Ready(ctx, e, cfg.Kubeconfig, dir); err != nil {
				if experiment.IsInput(err) {
					return nil, err
				}
				// Load against what is not ready measures nothing: skip to
				// assess, which reports the failure.
				s.Log.Error(fmt.Sprintf("ready task failed: %v", err))
				return assess.Run(assess.Config{Experiment: e, Dir: dir, Output: cfg.Output, FailOnViolation: cfg.FailOnViolation}, stdout, stderr)
			}
		case experiment.TaskHTTP:
			err = s.load().HTTP(ctx, httpEPs, dir)
		case experiment.TaskGRPC:
			err = s.load().GRPC(ctx, grpcEPs, dir)
		}
		if err != nil {
			// Not fatal: assess reports the task as not completed.
			s.Log.Error(fmt.Sprintf("%s task failed: %v", t, err))
		}
	}
	return assess.Run(assess.Config{
		Experiment: e, Dir: dir, Output: cfg.Output, FailOnViolation: cfg.FailOnViolation,
	}, stdout, stderr)
}
