package interceptor

import (
	"context"
	"fmt"
	"sync"
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
// reads the cache, never the API server.
//
// Beside the index it keeps, per group/spec, the runs a decision looks at
// (decide.Relevant: the latest run and the running ones), recomputed from
// the index whenever a run of that group/spec changes. A decision then
// reads a handful of runs, not every run the group/spec ever had. It is
// derived from the informer's cache alone, which is the cluster's state.
type RunCache struct {
	informer cache.SharedIndexInformer
	handler  cache.ResourceEventHandlerRegistration
	mu       sync.RWMutex
	relevant map[string][]decide.Run
	// superseded hears of runs that a later run of their group/spec
	// supersedes while they still run (OnSuperseded).
	superseded func(latest decide.Run, runs []decide.Run)
}

var _ Runs = (*RunCache)(nil)

// NewRunCache makes the cache; Run it, then wait for HasSynced.
func NewRunCache(client versioned.Interface) (*RunCache, error) {
	inf := pipelineinformers.NewFilteredPipelineRunInformer(client, metav1.NamespaceAll, 0,
		cache.Indexers{byGroupSpec: indexByGroupSpec},
		func(o *metav1.ListOptions) { o.LabelSelector = decide.GroupLabel + "," + decide.SpecLabel })
	if err := inf.SetTransform(slim); err != nil {
		return nil, fmt.Errorf("setting the PipelineRun cache's transform: %w", err)
	}
	c := &RunCache{informer: inf, relevant: map[string][]decide.Run{}}
	h, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: c.changed,
		UpdateFunc: func(old, obj interface{}) {
			c.changed(old) // its labels may have moved it to another group/spec
			c.changed(obj)
		},
		DeleteFunc: c.changed,
	})
	if err != nil {
		return nil, fmt.Errorf("watching the PipelineRun cache: %w", err)
	}
	c.handler = h
	return c, nil
}

// OnSuperseded, called before Run, makes the cache report every run that
// still runs while a later run of its group/spec exists, each time that
// group/spec changes. "Latest version wins" is then kept level-triggered:
// an event decided a moment before the cache saw the run just created for
// the previous one cannot cancel that run, and this catches it when the
// run arrives. f runs on the informer's goroutine and must not block.
func (c *RunCache) OnSuperseded(f func(latest decide.Run, runs []decide.Run)) { c.superseded = f }

// Run fills and follows the cache until ctx ends.
func (c *RunCache) Run(ctx context.Context) { c.informer.Run(ctx.Done()) }

// HasSynced is true once the first list is in the cache and every run of
// it is summed up per group/spec.
func (c *RunCache) HasSynced() bool { return c.handler.HasSynced() }

// RunsOf returns the runs of group/spec that a decision looks at: the
// latest one and the running ones (decide.Relevant).
func (c *RunCache) RunsOf(group, spec string) ([]decide.Run, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return append([]decide.Run(nil), c.relevant[group+"/"+spec]...), nil
}

// changed recomputes the summary of obj's group/spec from the index.
func (c *RunCache) changed(obj interface{}) {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	r, ok := obj.(*cachedRun)
	if !ok || r.groupSpec == "" {
		return
	}
	objs, err := c.informer.GetIndexer().ByIndex(byGroupSpec, r.groupSpec)
	if err != nil {
		// Only an unknown index name fails, and byGroupSpec is registered.
		return
	}
	runs := make([]decide.Run, 0, len(objs))
	for _, o := range objs {
		if cr, ok := o.(*cachedRun); ok {
			runs = append(runs, cr.run)
		}
	}
	relevant := decide.Relevant(runs)
	c.mu.Lock()
	if len(relevant) == 0 {
		delete(c.relevant, r.groupSpec)
	} else {
		c.relevant[r.groupSpec] = relevant
	}
	c.mu.Unlock()
	if c.superseded == nil || len(relevant) < 2 {
		return
	}
	// relevant is the latest run, then the others that run.
	var superseded []decide.Run
	for _, o := range relevant[1:] {
		if !o.Done && !o.CancelRequested {
			superseded = append(superseded, o)
		}
	}
	if len(superseded) > 0 {
		c.superseded(relevant[0], superseded)
	}
}

// cachedRun is what the cache keeps of a PipelineRun: its metadata for
// the informer's keys, and the decision's view of it, read once when the
// run changes rather than on every event.
type cachedRun struct {
	metav1.ObjectMeta
	groupSpec string
	run       decide.Run
}

func indexByGroupSpec(obj interface{}) ([]string, error) {
	r, ok := obj.(*cachedRun)
	if !ok || r.groupSpec == "" {
		return nil, nil
	}
	return []string{r.groupSpec}, nil
}

// slim turns a PipelineRun into a cachedRun; a PipelineRun's status holds
// a copy of its Pipeline and every TaskRun's reference, none of which the
// decision needs. Anything else (a tombstone) passes through.
func slim(obj interface{}) (interface{}, error) {
	pr, ok := obj.(*pipelinev1.PipelineRun)
	if !ok {
		return obj, nil
	}
	r := &cachedRun{
		ObjectMeta: metav1.ObjectMeta{Name: pr.Name, Namespace: pr.Namespace, UID: pr.UID, ResourceVersion: pr.ResourceVersion},
		run:        toRun(pr),
	}
	if g, s := pr.Labels[decide.GroupLabel], pr.Labels[decide.SpecLabel]; g != "" && s != "" {
		r.groupSpec = g + "/" + s
	}
	return r, nil
}

func toRun(pr *pipelinev1.PipelineRun) decide.Run {
	return decide.Run{
		Namespace:       pr.Namespace,
		Name:            pr.Name,
		UID:             string(pr.UID),
		Version:         pr.Labels[decide.VersionLabel],
		Created:         created(pr),
		Done:            done(pr),
		CancelRequested: pr.IsCancelled() || pr.IsGracefullyCancelled() || pr.IsGracefullyStopped(),
	}
}

// created is when the interceptor decided on the run (its annotation),
// else its creationTimestamp: whole seconds only.
func created(pr *pipelinev1.PipelineRun) time.Time {
	if at, err := time.Parse(time.RFC3339Nano, pr.Annotations[decide.DecidedAtAnnotation]); err == nil {
		return at
	}
	return pr.CreationTimestamp.Time
}

// done is pr.IsDone() without its allocations (it builds a condition
// manager per call): a decision reads it for every run of a group/spec.
func done(pr *pipelinev1.PipelineRun) bool {
	for _, c := range pr.Status.Conditions {
		if c.Type == apis.ConditionSucceeded {
			return c.Status != corev1.ConditionUnknown
		}
	}
	return false
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
