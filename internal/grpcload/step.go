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
func (s Step) Load(ctx context.Context, e *experiment.Experiment, eps []Endpoint, dir string) error {
	if held, err := load.HoldForReady(e, experiment.TaskGRPC, dir, s.Log); held || err != nil {
		return err
	}
	w := &Work{Endpoints: eps, Log: s.Log, ProgressEvery: s.ProgressEvery}
	f, err := w.Run(ctx)
	return load.Save(ctx, experiment.TaskGRPC, dir, f, err)
}
