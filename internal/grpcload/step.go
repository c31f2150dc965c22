// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package grpcload

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/autox-tekton/autox/internal/badinput"
	"github.com/autox-tekton/autox/internal/experiment"
	"github.com/autox-tekton/autox/internal/load"
	"github.com/autox-tekton/autox/internal/metrics"
)

// Step is the grpc step (cmd/grpc, and the grpc task of `autox run`): it
// prepares the experiment's gRPC endpoints (payloads, protos and methods;
// every bad input is found there, before any load), sends the load unless
// the ready task before it failed, and writes <dir>/grpc.metrics.json.
type Step struct {
	Log *slog.Logger
	// Client fetches dataURL and protoURL documents (never from a
	// link-local address, see experiment.Fetch).
	Client *http.Client
	// Files is where dataFile, protoFile (and its imports) and cacert may
	// be read from; nil reads any file (autox run). The Task's step sets
	// it from AUTOX_FILE_ROOTS.
	Files *experiment.Files
	// ProgressEvery is the interval of progress lines (0: 5s).
	ProgressEvery time.Duration
	// Worker is the one worker of the task (grpc.workers) this step is
	// (-worker i/N, a pod of the run); zero runs all of the task's
	// workers in this process, at once.
	Worker metrics.Worker
	// StartAt, when set, is when the load begins (-start-at).
	StartAt time.Time
}

// Run prepares the endpoints, then sends the load and writes
// dir/grpc.metrics.json.
func (s Step) Run(ctx context.Context, e *experiment.Experiment, dir string) error {
	eps, err := s.Prepare(ctx, e)
	if err != nil {
		return err
	}
	return s.Load(ctx, e, eps, dir)
}

// Prepare resolves the grpc task's endpoints. Every failure is bad input,
// found before any load is sent, unless ctx ended meanwhile.
func (s Step) Prepare(ctx context.Context, e *experiment.Experiment) ([]Endpoint, error) {
	if e.GRPC == nil {
		return nil, badinput.Field("grpc", "missing; add a grpc section with host and call or endpoints")
	}
	eps, err := PrepareWithin(ctx, s.Client, s.Files, e.GRPCEndpoints())
	return eps, load.Stopped(ctx, err)
}

// Load sends the load and writes dir/grpc.metrics.json, also when it was
// stopped: then with what was measured until the stop. When the ready
// task before it did not complete, it sends nothing and records that
// (load.HoldForReady).
//
// With grpc.workers N above 1, each worker sends its share and writes
// dir/grpc-w<i>.metrics.json: only s.Worker, or, when it is zero, all N
// at once in this process (load.Spread).
func (s Step) Load(ctx context.Context, e *experiment.Experiment, eps []Endpoint, dir string) error {
	spread := load.Spread{Task: experiment.TaskGRPC, Workers: e.Workers(experiment.TaskGRPC), Worker: s.Worker, StartAt: s.StartAt, Log: s.Log}
	return spread.Run(ctx, func(ctx context.Context, w metrics.Worker, startAt time.Time, log *slog.Logger) error {
		return s.loadWorker(ctx, e, eps, dir, w, startAt, log)
	})
}

// loadWorker sends worker w's share of the load (all of it for the zero
// Worker) and writes its metrics file.
func (s Step) loadWorker(ctx context.Context, e *experiment.Experiment, eps []Endpoint, dir string, w metrics.Worker, startAt time.Time, log *slog.Logger) error {
	if held, err := load.HoldWorkerForReady(e, experiment.TaskGRPC, dir, w, log); held || err != nil {
		return err
	}
	share := make([]Endpoint, len(eps))
	for i, ep := range eps {
		ep.Traffic = ep.Traffic.Share(w.Index, w.Of)
		if ep.SkipFirst > 0 && w.Of > 1 {
			ep.SkipFirst = experiment.SplitCount(ep.SkipFirst, w.Index, w.Of)
		}
		share[i] = ep
	}
	work := &Work{Endpoints: share, Log: log, ProgressEvery: s.ProgressEvery, StartAt: startAt}
	f, err := work.Run(ctx)
	return load.SaveWorker(ctx, experiment.TaskGRPC, dir, w, f, err)
}
