// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package interceptor

import (
	"context"
	"fmt"
	"time"

	pipelinev1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	"github.com/tektoncd/pipeline/pkg/client/clientset/versioned"
	pipelineinformers "github.com/tektoncd/pipeline/pkg/client/informers/externalversions/pipeline/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
	"knative.dev/pkg/apis"

	"github.com/autox-tekton/autox/internal/contract"
)

// PipelineRun is what the record needs of one PipelineRun.
type PipelineRun struct {
	Name, UID string
	// Group and Spec are its labels.
	Group, Spec string
	// State is contract.Running until it ends.
	State contract.RunState
	// Reason is its Succeeded condition's reason once it ended.
	Reason string
	// CancelRequested: spec.status already asks it to stop.
	CancelRequested bool
}

// Runs gives the PipelineRuns of the install namespace by name.
type Runs interface {
	Get(name string) (PipelineRun, bool)
}

// Canceller asks a PipelineRun to stop.
type Canceller interface {
	Cancel(ctx context.Context, namespace, name string) error
}

// RunCache is an informer cache of the PipelineRuns in the install
// namespace that carry both autox labels, kept slim (what Run holds).
// Runs anywhere else are not autox's and are never read.
type RunCache struct {
	informer  cache.SharedIndexInformer
	namespace string
}

var _ Runs = (*RunCache)(nil)

// NewRunCache makes the cache; Run it, then wait for HasSynced. changed is
// told the group/spec key of every run that is added, changes or goes.
func NewRunCache(client versioned.Interface, namespace string, changed func(key string)) (*RunCache, error) {
	inf := pipelineinformers.NewFilteredPipelineRunInformer(client, namespace, 0, cache.Indexers{},
		func(o *metav1.ListOptions) { o.LabelSelector = contract.GroupLabel + "," + contract.SpecLabel })
	if err := inf.SetTransform(slim); err != nil {
		return nil, fmt.Errorf("setting the PipelineRun cache's transform: %w", err)
	}
	notify := func(obj any) {
		if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = tomb.Obj
		}
		if r, ok := obj.(*cachedRun); ok && changed != nil {
			changed(r.run.Group + "/" + r.run.Spec)
		}
	}
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    notify,
		UpdateFunc: func(old, obj any) { notify(old); notify(obj) },
		DeleteFunc: notify,
	}); err != nil {
		return nil, fmt.Errorf("watching the PipelineRuns: %w", err)
	}
	return &RunCache{informer: inf, namespace: namespace}, nil
}

// Run fills and follows the cache until ctx ends.
func (c *RunCache) Run(ctx context.Context) { c.informer.Run(ctx.Done()) }

// HasSynced is true once the first list is in.
func (c *RunCache) HasSynced() bool { return c.informer.HasSynced() }

// Get implements Runs.
func (c *RunCache) Get(name string) (PipelineRun, bool) {
	obj, ok, err := c.informer.GetIndexer().GetByKey(c.key(name))
	if err != nil || !ok {
		return PipelineRun{}, false
	}
	r, ok := obj.(*cachedRun)
	if !ok {
		return PipelineRun{}, false
	}
	return r.run, true
}

func (c *RunCache) key(name string) string { return c.namespace + "/" + name }

// cachedRun is what the cache keeps of a PipelineRun.
type cachedRun struct {
	metav1.ObjectMeta
	run PipelineRun
}

// slim turns a PipelineRun into a cachedRun: a PipelineRun's status holds
// a copy of its Pipeline and every TaskRun's reference, none of which the
// record needs. Anything else (a tombstone) passes through.
func slim(obj any) (any, error) {
	pr, ok := obj.(*pipelinev1.PipelineRun)
	if !ok {
		return obj, nil
	}
	return &cachedRun{
		ObjectMeta: metav1.ObjectMeta{Name: pr.Name, Namespace: pr.Namespace, UID: pr.UID, ResourceVersion: pr.ResourceVersion},
		run:        toRun(pr),
	}, nil
}

func toRun(pr *pipelinev1.PipelineRun) PipelineRun {
	r := PipelineRun{
		Name: pr.Name, UID: string(pr.UID),
		Group: pr.Labels[contract.GroupLabel], Spec: pr.Labels[contract.SpecLabel],
		State:           contract.Running,
		CancelRequested: pr.IsCancelled() || pr.IsGracefullyCancelled() || pr.IsGracefullyStopped(),
	}
	for _, c := range pr.Status.Conditions {
		if c.Type != apis.ConditionSucceeded || c.Status == corev1.ConditionUnknown {
			continue
		}
		r.Reason = c.Reason
		switch {
		case c.Status == corev1.ConditionTrue:
			r.State = contract.Succeeded
		case c.Reason == pipelinev1.PipelineRunReasonTimedOut.String():
			r.State = contract.TimedOut
		case c.Reason == pipelinev1.PipelineRunReasonCancelled.String() || c.Reason == pipelinev1.PipelineRunReasonCancelledRunningFinally.String() || c.Reason == pipelinev1.PipelineRunReasonStoppedRunningFinally.String():
			r.State = contract.Cancelled
		default:
			r.State = contract.Failed
		}
	}
	return r
}

// PipelineRunCanceller cancels through the API server.
type PipelineRunCanceller struct {
	Client versioned.Interface
	// Timeout bounds one patch; the interceptor has 3 s per event in all.
	Timeout time.Duration
}

var _ Canceller = PipelineRunCanceller{}

// cancelPatch touches spec.status and nothing else (a JSON merge patch), so
// the ClusterRole's patch right is used for that field only.
const cancelPatch = `{"spec":{"status":"` + pipelinev1.PipelineRunSpecStatusCancelled + `"}}`

// Cancel sets spec.status: Cancelled. A run that is already gone needs no
// cancel.
func (c PipelineRunCanceller) Cancel(ctx context.Context, namespace, name string) error {
	if c.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Timeout)
		defer cancel()
	}
	_, err := c.Client.TektonV1().PipelineRuns(namespace).Patch(ctx, name, types.MergePatchType, []byte(cancelPatch), metav1.PatchOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("cancelling PipelineRun %s/%s: %w", namespace, name, err)
	}
	return nil
}
