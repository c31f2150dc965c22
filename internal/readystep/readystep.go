// Package readystep is the ready step: it connects to the cluster, waits
// until the experiment's ready objects are ready (internal/ready), then
// writes <dir>/ready.metrics.json, which tells assess that the task
// completed. It links client-go, and neither load generator.
//
// Stopped (SIGTERM, as Tekton sends on cancel and timeout), it returns at
// once, says what each object was last seen as, and writes no metrics
// file: the task did not complete.
package readystep

import (
	"context"
	"log/slog"
	"time"

	"github.com/autox-tekton/autox/internal/experiment"
	"github.com/autox-tekton/autox/internal/kube"
	"github.com/autox-tekton/autox/internal/metrics"
	"github.com/autox-tekton/autox/internal/ready"
)

// Step is the ready step.
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
// dir/ready.metrics.json.
func (s Step) Run(ctx context.Context, e *experiment.Experiment, dir string) error {
	if e.Ready == nil {
		return experiment.Fieldf("ready", "missing; add a ready section, e.g. ready: {deploy: httpbin, service: httpbin}")
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
	c := &ready.Checker{Dynamic: clients.Dynamic, Kube: clients.Kube, Mapper: clients.Mapper, Log: s.Log}
	start := time.Now().UTC()
	if err := c.Wait(ctx, ns, e.Ready.Waits(), e.Ready.TimeoutOrDefault()); err != nil {
		return err
	}
	return metrics.Write(metrics.PathFor(dir, experiment.TaskReady), &metrics.File{Task: experiment.TaskReady, StartTime: start, EndTime: time.Now().UTC()})
}
