package interceptor

import (
	"context"
	"fmt"
	"time"

	pipelinev1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	"github.com/tektoncd/pipeline/pkg/client/clientset/versioned"
	pipelineinformers "github.com/tektoncd/pipeline/pkg/client/informers/externalversions/pipeline/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
	"knative.dev/pkg/apis"
	duckv1 "knative.dev/pkg/apis/duck/v1"

	"github.com/autox-tekton/autox/internal/decide"
)

// Runs gives the PipelineRuns of one group/spec.
type Runs interface {
	RunsOf(group, spec string) ([]decide.Run, error)
}

// Canceller asks a PipelineRun to stop.
type Canceller interface {
	Cancel(ctx context.Context, namespace, name string) error
}

// byGroupSpec is the name of the index of PipelineRuns by
// "<group>/<spec>" (labels autox.dev/group and autox.dev/spec).
const byGroupSpec = "autox-group-spec"

// RunCache is an informer cache of the PipelineRuns that carry both
// autox labels, in every namespace, indexed by group/spec: a decision
// reads the index, never the API server.
type RunCache struct {
	informer cache.SharedIndexInformer
}

var _ Runs = (*RunCache)(nil)

// NewRunCache makes the cache; Run it, then wait for HasSynced.
func NewRunCache(client versioned.Interface) (*RunCache, error) {
	inf := pipelineinformers.NewFilteredPipelineRunInformer(client, metav1.NamespaceAll, 0,
		cache.Indexers{byGroupSpec: indexByGroupSpec},
		func(o *metav1.ListOptions) { o.LabelSelector = decide.GroupLabel + "," + decide.SpecLabel })
	// A PipelineRun's status holds a copy of its Pipeline and of every
	// TaskRun's reference; the decision needs a few fields, so only those
	// are kept (1000 runs stay a few hundred kB).
	if err := inf.SetTransform(slim); err != nil {
		return nil, fmt.Errorf("setting the PipelineRun cache's transform: %w", err)
	}
	return &RunCache{informer: inf}, nil
}

// Run fills and follows the cache until ctx ends.
func (c *RunCache) Run(ctx context.Context) { c.informer.Run(ctx.Done()) }

// HasSynced is true once the first list is in the cache.
func (c *RunCache) HasSynced() bool { return c.informer.HasSynced() }

// RunsOf returns the cached runs of group/spec.
func (c *RunCache) RunsOf(group, spec string) ([]decide.Run, error) {
	objs, err := c.informer.GetIndexer().ByIndex(byGroupSpec, group+"/"+spec)
	if err != nil {
		return nil, fmt.Errorf("reading the cached PipelineRuns of %s/%s: %w", group, spec, err)
	}
	runs := make([]decide.Run, 0, len(objs))
	for _, o := range objs {
		if pr, ok := o.(*pipelinev1.PipelineRun); ok {
			runs = append(runs, toRun(pr))
		}
	}
	return runs, nil
}

func indexByGroupSpec(obj interface{}) ([]string, error) {
	pr, ok := obj.(*pipelinev1.PipelineRun)
	if !ok {
		return nil, nil
	}
	g, s := pr.Labels[decide.GroupLabel], pr.Labels[decide.SpecLabel]
	if g == "" || s == "" {
		return nil, nil
	}
	return []string{g + "/" + s}, nil
}

// slim keeps what toRun reads. A tombstone passes through unchanged.
func slim(obj interface{}) (interface{}, error) {
	pr, ok := obj.(*pipelinev1.PipelineRun)
	if !ok {
		return obj, nil
	}
	out := &pipelinev1.PipelineRun{ObjectMeta: metav1.ObjectMeta{
		Name:              pr.Name,
		Namespace:         pr.Namespace,
		UID:               pr.UID,
		ResourceVersion:   pr.ResourceVersion,
		CreationTimestamp: pr.CreationTimestamp,
		Labels:            pr.Labels,
	}}
	out.Spec.Status = pr.Spec.Status
	if c := pr.Status.GetCondition(apis.ConditionSucceeded); c != nil {
		out.Status.Conditions = duckv1.Conditions{*c}
	}
	return out, nil
}

func toRun(pr *pipelinev1.PipelineRun) decide.Run {
	return decide.Run{
		Namespace:       pr.Namespace,
		Name:            pr.Name,
		UID:             string(pr.UID),
		Version:         pr.Labels[decide.VersionLabel],
		Created:         pr.CreationTimestamp.Time,
		Done:            pr.IsDone(),
		CancelRequested: pr.IsCancelled() || pr.IsGracefullyCancelled() || pr.IsGracefullyStopped(),
	}
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
