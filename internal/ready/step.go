// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package ready

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/autox-tekton/autox/internal/badinput"
	"github.com/autox-tekton/autox/internal/experiment"
	"github.com/autox-tekton/autox/internal/kube"
	"github.com/autox-tekton/autox/internal/metrics"
)

// Step is the ready step (cmd/ready, and the ready task of `autox run`):
// it connects to the cluster, waits until the experiment's ready objects
// are ready (Checker), then writes <dir>/ready.metrics.json, which tells
// assess and the load steps after it that the task completed.
//
// When the objects are not ready in time, may not be read, or the cluster
// cannot be reached, it writes ready.metrics.json marked failed, with the
// reason, and returns the error: the load steps after it send nothing,
// and assess reports the failure. Stopped (SIGTERM, as Tekton sends on
// cancel and timeout), it returns at once, says what each object was
// last seen as, and writes no file: the task did not complete.
type Step struct {
	Log *slog.Logger
	// Kubeconfig finds the cluster outside a pod.
	Kubeconfig kube.Kubeconfig
	// Namespace holds the objects when the experiment's ready.namespace is
	// empty (the Task's namespace param: the triggering object's); when
	// both are empty, the kubeconfig's (in a pod, the pod's).
	Namespace string
}

// Run waits for the objects of e's ready task, then writes
// dir/ready.metrics.json; on failure, marked failed.
func (s Step) Run(ctx context.Context, e *experiment.Experiment, dir string) error {
	start := time.Now().UTC()
	err := s.wait(ctx, e)
	if err != nil && ctx.Err() != nil {
		return err
	}
	f := &metrics.File{Task: experiment.TaskReady, StartTime: start, EndTime: time.Now().UTC()}
	if err != nil {
		f.Failed = strings.ReplaceAll(strings.TrimSpace(err.Error()), "\n", "; ")
	}
	if werr := metrics.Write(metrics.PathFor(dir, experiment.TaskReady), f); werr != nil {
		if err != nil {
			return fmt.Errorf("%w\nrecording that ready failed: %v", err, werr)
		}
		return werr
	}
	return err
}

// wait connects and waits for the objects.
func (s Step) wait(ctx context.Context, e *experiment.Experiment) error {
	if e.Ready == nil {
		return badinput.Field("ready", "missing; add a ready section, e.g. ready: {deploy: httpbin, service: httpbin}")
	}
	clients, err := kube.Connect(s.Kubeconfig)
	if err != nil {
		return err
	}
	ns := e.Ready.Namespace
	if ns == "" {
		ns = s.Namespace
	}
	if ns == "" {
		ns = clients.Namespace
	}
	c := &Checker{Dynamic: clients.Dynamic, Kube: clients.Kube, Mapper: clients.Mapper, Log: s.Log}
	return c.Wait(ctx, ns, e.Ready.Waits(), e.Ready.TimeoutOrDefault())
}
