// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package interceptor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/util/workqueue"

	"github.com/autox-tekton/autox/internal/contract"
	"github.com/autox-tekton/autox/internal/decide"
	"github.com/autox-tekton/autox/internal/history"
	"github.com/autox-tekton/autox/internal/reap"
)

// PodReaper deletes the pods Tekton leaves Pending when a run is
// cancelled a moment after its creation (internal/reap).
type PodReaper interface {
	// After checks the run's pods after each delay (counted from the
	// call) and deletes those Tekton left going.
	After(ctx context.Context, pipelineRun string, delays ...time.Duration) (deleted []string, err error)
}

// Reconciler keeps each record up to date with its runs, level-triggered:
// on any change of a record or of a run of its group/spec it notes the
// run's UID once the run is seen and how it ended, marks a launch whose
// run never came as lost and a run deleted before it ended as deleted,
// and cancels the runs the record no longer wants (superseded or
// withdrawn), so a run made a moment after the decision that superseded
// it still stops; the result of a run that succeeded or failed it copies
// to the group's history, once (keep.go). Runs not in a record are not
// autox's and are left alone. Writes use optimistic concurrency, so two replicas reconciling
// at once only cost a retry.
type Reconciler struct {
	// RunsNamespace is where the runs are (autox).
	RunsNamespace string
	Records       Records
	Runs          Runs
	Canceller     Canceller
	// Reaper, when set, deletes the pods of cancelled runs that Tekton
	// left Pending.
	Reaper PodReaper
	// Results reads the runs' result ConfigMaps in RunsNamespace, and
	// History is the records' namespace's histories: the result of each
	// run that succeeded or failed is kept there (keep.go). Without
	// either, no result is kept.
	Results corev1client.ConfigMapsGetter
	History *history.Store
	Metrics *Metrics
	Log     *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Keys lists every record, looked at when Run starts (a new leader
	// knows nothing of what happened before).
	Keys func() []string

	mu    sync.Mutex
	queue workqueue.TypedRateLimitingInterface[string] // nil while not running
	// gone are the last states of records deleted (with their Trigger):
	// their runs still going are cancelled.
	gone map[string]contract.Record
	// reaping counts the reaps under way (tests wait for them).
	reaping sync.WaitGroup
}

// NewReconciler returns r; feed it with Enqueue and Run it (on the
// leader only: one writer of the records' run states).
func NewReconciler(r *Reconciler) *Reconciler { return r }

func (r *Reconciler) now() time.Time {
	if r.Now == nil {
		return time.Now()
	}
	return r.Now()
}

// Enqueue asks for the record of key ("<group>/<spec>") to be looked at;
// while Run does not run, it does nothing.
func (r *Reconciler) Enqueue(key string) {
	if key == "/" || key == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.queue != nil {
		r.queue.Add(key)
	}
}

// Gone hears of a record deleted (its Trigger was, and the garbage
// collector took the record): the runs it launched that still go are
// cancelled, as a group removed must leave nothing running.
func (r *Reconciler) Gone(rec contract.Record) {
	key := rec.Group + "/" + rec.Spec
	r.mu.Lock()
	if r.gone == nil {
		r.gone = map[string]contract.Record{}
	}
	r.gone[key] = rec
	r.mu.Unlock()
	r.Enqueue(key)
}

// Depth is the number of records waiting.
func (r *Reconciler) Depth() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.queue == nil {
		return 0
	}
	return r.queue.Len()
}

// Run looks at every record, then works the queue until ctx ends.
func (r *Reconciler) Run(ctx context.Context) {
	queue := workqueue.NewTypedRateLimitingQueue(
		workqueue.NewTypedItemExponentialFailureRateLimiter[string](50*time.Millisecond, 10*time.Second))
	r.mu.Lock()
	r.queue = queue
	r.mu.Unlock()
	if r.Keys != nil {
		for _, k := range r.Keys() {
			r.Enqueue(k)
		}
	}
	r.mu.Lock()
	for k := range r.gone {
		queue.Add(k)
	}
	r.mu.Unlock()
	go func() {
		<-ctx.Done()
		r.mu.Lock()
		r.queue = nil
		r.mu.Unlock()
		queue.ShutDown()
	}()
	for {
		key, quit := queue.Get()
		if quit {
			return
		}
		again, err := r.Reconcile(ctx, key)
		switch {
		case err != nil:
			r.Log.Warn("reconciling the record of "+key+": "+err.Error()+"; trying again", "record", key)
			r.Metrics.Reconciles.WithLabelValues("retry").Inc()
			queue.AddRateLimited(key)
		default:
			queue.Forget(key)
			if again > 0 {
				queue.AddAfter(key, again)
			}
		}
		queue.Done(key)
	}
}

// Reconcile brings one record in line with its runs. again > 0 asks to be
// called again after that long (a launch not seen yet).
func (r *Reconciler) Reconcile(ctx context.Context, key string) (again time.Duration, err error) {
	group, spec, ok := strings.Cut(key, "/")
	if !ok {
		return 0, nil
	}
	rec, found, err := r.Records.Cached(group, spec)
	if err != nil {
		return 0, err
	}
	// A record deleted (and maybe made again since, for a Trigger made
	// again): its runs that still go stop.
	if err := r.stopGone(ctx, key, rec.Record); err != nil {
		return 0, err
	}
	if !found {
		return 0, nil
	}
	now := r.now()
	next := rec
	next.Runs = append([]contract.Entry(nil), rec.Runs...)
	changed := false
	var ended []contract.Entry
	for i := range next.Runs {
		e := &next.Runs[i]
		run, seen := r.Runs.Get(e.Run)
		if seen && e.RunUID != "" && run.UID != e.RunUID {
			// Another run under the name (made by someone else after ours
			// went): not ours.
			seen = false
		}
		switch {
		case seen && e.State == contract.Lost && i == len(next.Runs)-1 && run.State == contract.Running:
			// Late, but still the latest launch: it counts after all.
			e.State, e.Untested, e.Reason, e.RunUID = contract.Running, false, "", run.UID
			changed = true
		case seen:
			if e.RunUID == "" {
				e.RunUID = run.UID
				changed = true
			}
			if e.State == contract.Launched || (e.Active() && run.State != contract.Running) {
				if e.State != run.State {
					e.State = run.State
					changed = true
					if run.State != contract.Running {
						ended = append(ended, *e)
					}
				}
			}
		case e.State == contract.Running:
			e.State = contract.Deleted
			if e.Reason == "" {
				e.Reason = "its PipelineRun was deleted before it ended"
			}
			changed = true
		case e.LostAt(now):
			e.State, e.Untested = contract.Lost, true
			e.Reason = fmt.Sprintf("its PipelineRun was not made within %s of the decision", contract.LostAfter)
			changed = true
		case e.State == contract.Launched:
			wait := e.DecidedAt.Add(contract.LostAfter).Sub(now) + 100*time.Millisecond
			if again == 0 || wait < again {
				again = wait
			}
		}
	}
	// The record first: what was seen is kept even while a cancel fails.
	if changed {
		written, err := r.Records.Update(ctx, next)
		if err != nil {
			if apierrors.IsConflict(err) {
				r.Metrics.Conflicts.Inc()
			}
			return 0, err
		}
		next = written
		r.Metrics.Reconciles.WithLabelValues("changed").Inc()
	} else {
		r.Metrics.Reconciles.WithLabelValues("ok").Inc()
	}
	if r.Reaper != nil {
		for _, e := range ended {
			if e.State == contract.Cancelled {
				r.reap(ctx, key, e.Run)
			}
		}
	}
	var failed []error
	for _, e := range decide.ShouldStop(next.Record) {
		run, seen := r.Runs.Get(e.Run)
		if !seen || run.State != contract.Running || run.CancelRequested || (e.RunUID != "" && run.UID != e.RunUID) {
			// Gone, ended, stopping, or another run under its name (not
			// ours to stop).
			continue
		}
		if err := r.Canceller.Cancel(ctx, r.RunsNamespace, e.Run); err != nil {
			r.Metrics.Cancels.WithLabelValues("failed").Inc()
			failed = append(failed, err)
			continue
		}
		r.Metrics.Cancels.WithLabelValues("ok").Inc()
		r.Log.Info(fmt.Sprintf("cancelled %s (version %s): %s", e.Run, e.Version, e.Reason), "record", key, "run", e.Run)
	}
	// The results last: a history that cannot be written for now stops
	// no cancel.
	if err := r.keep(ctx, key, next); err != nil {
		failed = append(failed, err)
	}
	return again, errors.Join(failed...)
}

// reap deletes what Tekton left of a cancelled run, 2 s and 10 s after
// it is seen cancelled: the pod may be made a moment after the cancel
// (internal/reap says why). It runs on its own, off the queue.
func (r *Reconciler) reap(ctx context.Context, key, run string) {
	r.reaping.Add(1)
	go func() {
		defer r.reaping.Done()
		deleted, err := r.Reaper.After(ctx, run, reap.FirstCheck, reap.LastCheck)
		for _, p := range deleted {
			r.Metrics.Reaped.Inc()
			r.Log.Info("deleted pod "+p+", left going by Tekton after "+run+" was cancelled", "record", key, "run", run)
		}
		if err != nil && ctx.Err() == nil {
			r.Log.Warn("deleting the pods Tekton left of the cancelled run "+run+": "+err.Error(), "record", key, "run", run)
		}
	}()
}

// stopGone cancels the runs still going of a record deleted, but those
// the record there now names.
func (r *Reconciler) stopGone(ctx context.Context, key string, now contract.Record) error {
	r.mu.Lock()
	rec, ok := r.gone[key]
	r.mu.Unlock()
	if !ok {
		return nil
	}
	var failed []error
	for _, e := range rec.Runs {
		run, seen := r.Runs.Get(e.Run)
		if !seen || run.State != contract.Running || run.CancelRequested || (e.RunUID != "" && run.UID != e.RunUID) || now.Find(e.Run) >= 0 {
			continue
		}
		if err := r.Canceller.Cancel(ctx, r.RunsNamespace, e.Run); err != nil {
			r.Metrics.Cancels.WithLabelValues("failed").Inc()
			failed = append(failed, err)
			continue
		}
		r.Metrics.Cancels.WithLabelValues("ok").Inc()
		r.Log.Info(fmt.Sprintf("cancelled %s (version %s): the record of %s was deleted with its Trigger", e.Run, e.Version, key), "record", key, "run", e.Run)
	}
	if len(failed) > 0 {
		return errors.Join(failed...)
	}
	r.mu.Lock()
	if r.gone[key].Seq == rec.Seq {
		delete(r.gone, key)
	}
	r.mu.Unlock()
	return nil
}
