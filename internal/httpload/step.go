// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package httpload

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/autox-tekton/autox/internal/badinput"
	"github.com/autox-tekton/autox/internal/experiment"
	"github.com/autox-tekton/autox/internal/load"
	"github.com/autox-tekton/autox/internal/metrics"
)

// Step is the http step (cmd/http, and the http task of `autox run`): it
// prepares the experiment's HTTP endpoints (every bad input is found
// there, before any load), sends the load unless the ready task before it
// failed, and writes <dir>/http.metrics.json.
type Step struct {
	Log *slog.Logger
	// Client fetches payloadURL documents (never from a link-local
	// address, see experiment.Fetch).
	Client *http.Client
	// Files is where payloadFile may be read from; nil reads any file
	// (autox run). The Task's step sets it from AUTOX_FILE_ROOTS.
	Files *experiment.Files
	// ProgressEvery is the interval of progress lines (0: 5s).
	ProgressEvery time.Duration
	// Worker is the one worker of the task (http.workers) this step is
	// (-worker i/N, a pod of the run); zero runs all of the task's
	// workers in this process, at once.
	Worker metrics.Worker
	// StartAt, when set, is when the load begins (-start-at).
	StartAt time.Time
}

// Run prepares the endpoints, then sends the load and writes
// dir/http.metrics.json.
func (s Step) Run(ctx context.Context, e *experiment.Experiment, dir string) error {
	eps, err := s.Prepare(ctx, e)
	if err != nil {
		return err
	}
	return s.Load(ctx, e, eps, dir)
}

// Prepare resolves the http task's endpoints and loads their payloads.
// Every failure is bad input, found before any load is sent, unless ctx
// ended meanwhile.
func (s Step) Prepare(ctx context.Context, e *experiment.Experiment) ([]experiment.HTTPEndpoint, error) {
	if e.HTTP == nil {
		return nil, badinput.Field("http", "missing; add an http section with url or endpoints")
	}
	eps, err := PrepareWithin(ctx, s.Client, s.Files, e.HTTPEndpoints())
	if err != nil {
		return nil, load.Stopped(ctx, err)
	}
	for _, ep := range eps {
		if strings.HasPrefix(ep.URL, "https:") {
			s.Log.Warn(fmt.Sprintf("%s: TLS certificates are not verified: hey, which sends the load, always skips verification", ep.MetricPrefix()))
		}
	}
	return eps, nil
}

// Load sends the load and writes dir/http.metrics.json, also when it was
// stopped: then with what was measured until the stop. When the ready
// task before it did not complete, it sends nothing and records that
// (load.HoldForReady).
//
// With http.workers N above 1, each worker sends its share and writes
// dir/http-w<i>.metrics.json: only s.Worker, or, when it is zero, all N
// at once in this process (load.Spread).
func (s Step) Load(ctx context.Context, e *experiment.Experiment, eps []experiment.HTTPEndpoint, dir string) error {
	spread := load.Spread{Task: experiment.TaskHTTP, Workers: e.Workers(experiment.TaskHTTP), Worker: s.Worker, StartAt: s.StartAt, Log: s.Log}
	return spread.Run(ctx, func(ctx context.Context, w metrics.Worker, startAt time.Time, log *slog.Logger) error {
		return s.loadWorker(ctx, e, eps, dir, w, startAt, log)
	})
}

// loadWorker sends worker w's share of the load (all of it for the zero
// Worker) and writes its metrics file.
func (s Step) loadWorker(ctx context.Context, e *experiment.Experiment, eps []experiment.HTTPEndpoint, dir string, w metrics.Worker, startAt time.Time, log *slog.Logger) error {
	if held, err := load.HoldWorkerForReady(e, experiment.TaskHTTP, dir, w, log); held || err != nil {
		return err
	}
	share := make([]experiment.HTTPEndpoint, len(eps))
	for i, ep := range eps {
		ep.Traffic = ep.Traffic.Share(w.Index, w.Of)
		share[i] = ep
	}
	work := &Work{Endpoints: share, Log: log, ProgressEvery: s.ProgressEvery, StartAt: startAt}
	f, err := work.Run(ctx)
	return load.SaveWorker(ctx, experiment.TaskHTTP, dir, w, f, err)
}
