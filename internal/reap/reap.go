// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Package reap deletes the pods that Tekton leaves behind when a
// PipelineRun is cancelled in the first second of its life (issue 18).
//
// Tekton v1.9.0 deletes a cancelled TaskRun's pod by the name in
// status.podName (failTaskRun in pkg/reconciler/taskrun/taskrun.go). A
// cancel that lands while the TaskRun's first reconcile is creating the
// pod is reconciled from a cached copy that has no podName yet; Tekton then
// marks the TaskRun cancelled without deleting anything, writes that status
// over the podName the first reconcile stored, and never looks at the
// TaskRun again. The pod's first step waits for the tekton.dev/ready
// annotation that only a live TaskRun's reconcile sets, so the pod holds
// its CPU request until activeDeadlineSeconds or until the run is deleted.
//
// A Reaper finds such pods by the tekton.dev/pipelineRun label once the
// PipelineRun has stopped after a cancel or a timeout, and deletes the ones
// not yet terminated. It needs, in the namespace it works in:
//
//	apiGroups: [""]            resources: [pods]          verbs: [list, delete]
//	apiGroups: [tekton.dev]    resources: [pipelineruns]  verbs: [get]
package reap

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/tektoncd/pipeline/pkg/apis/pipeline"
	pipelinev1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	pipelinev1client "github.com/tektoncd/pipeline/pkg/client/clientset/versioned/typed/pipeline/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"knative.dev/pkg/apis"
)

// When a caller checks again after it sees a run cancelled (see After). A
// stray pod is created by a TaskRun reconcile that was already running
// when the cancel landed; that reconcile ends within about a second, later
// when it waits on a slow resolver or API server.
const (
	FirstCheck = 2 * time.Second
	LastCheck  = 10 * time.Second
)

// ErrNotStopped says the PipelineRun has not stopped yet: its TaskRuns may
// not all have been cancelled, and a pod deleted now could be created
// again by a TaskRun that is still running. Check again later.
var ErrNotStopped = errors.New("not stopped yet")

// Reaper deletes the live pods of stopped PipelineRuns in one namespace.
type Reaper struct {
	// Kube lists and deletes pods.
	Kube kubernetes.Interface
	// PipelineRuns reads the run, once per Reap, to see it has stopped.
	PipelineRuns pipelinev1client.PipelineRunsGetter
	// Namespace holds the runs and their pods.
	Namespace string
	// Log gets one line per pod deleted or left; nil discards.
	Log *slog.Logger
	// Sleep waits between the checks of After; nil waits on a timer.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Reap deletes the pods of pipelineRun that are not terminated (phase
// Pending, Running or Unknown, and not already being deleted), provided the
// run has stopped after a cancel or a timeout. It returns the names of the
// pods it deleted.
//
// Why the run's state suffices, without reading TaskRuns: Tekton marks a
// PipelineRun Cancelled (or PipelineRunTimeout) only after every TaskRun
// it lists has spec.status TaskRunCancelled, and a cancelled TaskRun never
// creates a pod again (ReconcileKind fails it before reconcile() is
// reached). Tekton deletes those pods itself, so deleting one first loses
// nothing that Tekton would keep. Terminated pods (Succeeded, Failed) hold
// no CPU and keep their logs; they are left alone, as are the pods of runs
// that succeeded or failed (their sidecars may still be stopping).
//
// A run that is gone has no pods left (they are owned by its TaskRuns), so
// Reap does nothing. A run that has not stopped gets ErrNotStopped.
func (r *Reaper) Reap(ctx context.Context, pipelineRun string) (deleted []string, err error) {
	deleted, _, err = r.reap(ctx, pipelineRun)
	return deleted, err
}

// After calls Reap once at each delay, measured from the call (e.g.
// FirstCheck and LastCheck after the caller has seen the run cancelled),
// so that a pod created a moment after one check is caught by the next.
// It stops early when the run is gone or ended without a cancel. A failed
// check is logged and the next one tried; the error of the last check is
// returned. Delays must increase.
func (r *Reaper) After(ctx context.Context, pipelineRun string, delays ...time.Duration) (deleted []string, err error) {
	for i := 1; i < len(delays); i++ {
		if delays[i] <= delays[i-1] {
			return nil, fmt.Errorf("reaping pods of PipelineRun %s/%s: delays %v do not increase; list them in the order they come", r.Namespace, pipelineRun, delays)
		}
	}
	log := r.log().With("run", pipelineRun)
	var waited time.Duration
	for i, d := range delays {
		if err := r.sleep(ctx, d-waited); err != nil {
			return deleted, fmt.Errorf("reaping pods of PipelineRun %s/%s: %w", r.Namespace, pipelineRun, err)
		}
		waited = d
		names, final, err := r.reap(ctx, pipelineRun)
		deleted = append(deleted, names...)
		switch last := i == len(delays)-1; {
		case final:
			return deleted, nil
		case last:
			return deleted, err
		case err != nil:
			log.Warn("reaping pods failed, retry at the next check", "err", err, "next", delays[i+1]-d)
		}
	}
	return deleted, nil
}

// reap is Reap; final says no later check can find anything: the run is
// gone or ended without being stopped.
func (r *Reaper) reap(ctx context.Context, name string) (deleted []string, final bool, err error) {
	log := r.log().With("run", name)
	pr, err := r.PipelineRuns.PipelineRuns(r.Namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, true, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("reading PipelineRun %s/%s: %w", r.Namespace, name, err)
	}
	switch stopped, reason := stoppedBy(pr); {
	case reason == "":
		return nil, false, fmt.Errorf("PipelineRun %s/%s: %w (reason %q); check again once it is done", r.Namespace, name, ErrNotStopped, pr.Status.GetCondition(apis.ConditionSucceeded).GetReason())
	case !stopped:
		return nil, true, nil
	}

	pods, err := r.Kube.CoreV1().Pods(r.Namespace).List(ctx, metav1.ListOptions{LabelSelector: pipeline.PipelineRunLabelKey + "=" + name})
	if err != nil {
		return nil, false, fmt.Errorf("listing the pods of PipelineRun %s/%s: %w", r.Namespace, name, err)
	}
	var errs []error
	for i := range pods.Items {
		p := &pods.Items[i]
		if !live(p) {
			continue
		}
		// The UID precondition keeps a pod created again under the same
		// name since the list (a retried TaskRun) out of reach.
		err := r.Kube.CoreV1().Pods(r.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{Preconditions: metav1.NewUIDPreconditions(string(p.UID))})
		switch {
		case err == nil:
			log.Info("deleted a pod Tekton left behind", "pod", p.Name, "phase", p.Status.Phase, "taskRun", p.Labels[pipeline.TaskRunLabelKey])
			deleted = append(deleted, p.Name)
		case apierrors.IsNotFound(err):
			// Tekton deleted it first.
		case apierrors.IsConflict(err):
			log.Info("pod was replaced since it was listed, left alone", "pod", p.Name)
		default:
			errs = append(errs, fmt.Errorf("deleting pod %s/%s of PipelineRun %s: %w", r.Namespace, p.Name, name, err))
		}
	}
	return deleted, false, errors.Join(errs...)
}

// stoppedBy says whether pr ended because it was cancelled or timed out,
// and its Succeeded reason; the reason is "" while pr is still running.
func stoppedBy(pr *pipelinev1.PipelineRun) (stopped bool, reason string) {
	c := pr.Status.GetCondition(apis.ConditionSucceeded)
	if c == nil || c.Status == corev1.ConditionUnknown {
		return false, ""
	}
	switch pipelinev1.PipelineRunReason(c.Reason) {
	case pipelinev1.PipelineRunReasonCancelled, pipelinev1.PipelineRunReasonTimedOut:
		return c.Status == corev1.ConditionFalse, c.Reason
	}
	return false, c.Reason
}

// live says whether p may still hold resources: not terminated and not
// already being deleted.
func live(p *corev1.Pod) bool {
	if p.DeletionTimestamp != nil {
		return false
	}
	return p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed
}

func (r *Reaper) log() *slog.Logger {
	if r.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Log.With("namespace", r.Namespace)
}

func (r *Reaper) sleep(ctx context.Context, d time.Duration) error {
	if r.Sleep != nil {
		return r.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
