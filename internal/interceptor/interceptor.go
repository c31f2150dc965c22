// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Package interceptor is the autox ClusterInterceptor. An event is only
// a hint to look again: for the group's Trigger the event names (looked
// up in the interceptor's own informer; a request's params are never
// read), it reads the trigger object as the cluster holds it and the
// group/spec's record, decides (internal/decide), writes the record with
// optimistic concurrency (so duplicates of one event make one launch),
// cancels the runs the decision supersedes, and hands the run's name and
// labels to the TriggerTemplate in its extensions. A reconciler keeps the
// records up to date with how each run ended and stops the runs a record
// no longer wants. It is served with Tekton Triggers' interceptor server,
// over TLS.
package interceptor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	triggersv1beta1 "github.com/tektoncd/triggers/pkg/apis/triggers/v1beta1"
	"github.com/tektoncd/triggers/pkg/interceptors"
	"google.golang.org/grpc/codes"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/autox-tekton/autox/internal/contract"
	"github.com/autox-tekton/autox/internal/decide"
)

// Name is the ClusterInterceptor's name and the path it is served at.
const Name = contract.InterceptorName

// maxWrites bounds the record writes of one call: each lost race re-reads
// the record and decides again.
const maxWrites = 5

// Interceptor decides on each event from the cluster's state.
type Interceptor struct {
	// Namespace is the install namespace: the EventListener's, the
	// Triggers' and the records'.
	Namespace string
	// RunsNamespace is where the runs are made and cancelled (autox).
	RunsNamespace string
	Groups        Groups
	Objects       Objects
	Records       Records
	// Runs, when set, are the PipelineRuns of RunsNamespace: a
	// launch whose run is there is not lost.
	Runs      Runs
	Canceller Canceller
	Metrics   *Metrics
	Log       *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

var _ triggersv1beta1.InterceptorInterface = (*Interceptor)(nil)

func (i *Interceptor) now() time.Time {
	if i.Now == nil {
		return time.Now()
	}
	return i.Now()
}

// Process answers one event. A request that names no autox Trigger is
// FailedPrecondition and changes nothing; a body that cannot be read is
// InvalidArgument; an event that launches nothing is FailedPrecondition
// with the reason; a cluster that cannot be read or written is Internal.
// It never panics on what it is sent.
func (i *Interceptor) Process(ctx context.Context, r *triggersv1beta1.InterceptorRequest) *triggersv1beta1.InterceptorResponse {
	start := time.Now()
	resp, outcome := i.process(ctx, r)
	i.Metrics.Decisions.WithLabelValues(outcome).Inc()
	i.Metrics.Latency.Observe(time.Since(start).Seconds())
	return resp
}

func (i *Interceptor) process(ctx context.Context, r *triggersv1beta1.InterceptorRequest) (*triggersv1beta1.InterceptorResponse, string) {
	log := i.Log
	triggerID := ""
	if r.Context != nil {
		triggerID = r.Context.TriggerID
		log = log.With("eventID", r.Context.EventID)
	}
	// The Trigger the EventListener says it is processing.
	via, err := i.triggerOf(triggerID)
	if err != nil {
		log.Warn(err.Error(), "outcome", outcomeRefused)
		return interceptors.Fail(codes.FailedPrecondition, err.Error()), outcomeRefused
	}
	ev, err := parseEvent(r.Body, interceptors.Canonical(r.Header))
	if err != nil {
		log.Warn("bad event: "+err.Error(), "outcome", outcomeInvalid)
		return interceptors.Fail(codes.InvalidArgument, err.Error()), outcomeInvalid
	}
	name, err := i.groupTrigger(via, ev)
	if err != nil {
		log.Warn(err.Error(), "outcome", outcomeRefused)
		return interceptors.Fail(codes.FailedPrecondition, err.Error()), outcomeRefused
	}
	g, ok, err := i.Groups.Group(name)
	switch {
	case !ok:
		msg := fmt.Sprintf("no Trigger %s labelled %s in namespace %s; nothing done", name, contract.GroupLabel, i.Namespace)
		log.Warn(msg, "outcome", outcomeRefused)
		return interceptors.Fail(codes.FailedPrecondition, msg), outcomeRefused
	case err != nil:
		msg := fmt.Sprintf("Trigger %s/%s: %v", i.Namespace, name, err)
		log.Warn(msg, "outcome", outcomeInvalid)
		return interceptors.Fail(codes.FailedPrecondition, msg), outcomeInvalid
	}
	log = log.With("group", g.Group, "spec", g.Spec)
	target := *g.Params.Trigger
	if !target.Matches(ev.Object) {
		msg := "the event is about " + ev.Object.String() + ", not Trigger " + name + "'s object " + target.String() + " (" + target.Mismatch(ev.Object) + "); nothing to do"
		log.Debug(msg)
		return interceptors.Fail(codes.FailedPrecondition, msg), outcomeRefused
	}
	obj, live, err := i.state(ctx, target, ev)
	if err != nil {
		log.Error(err.Error(), "outcome", outcomeError)
		return interceptors.Fail(codes.Internal, err.Error()), outcomeError
	}
	d, obj, err := i.decide(ctx, g, target, obj, live)
	if err != nil {
		log.Error(err.Error(), "outcome", outcomeError)
		return interceptors.Fail(codes.Internal, err.Error()), outcomeError
	}
	log = log.With("object", target.String(), "type", ev.Type, "version", obj.Version)
	reason := d.Reason
	var failed []string
	for _, e := range d.Cancel {
		if err := i.Canceller.Cancel(ctx, i.RunsNamespace, e.Run); err != nil {
			i.Metrics.Cancels.WithLabelValues("failed").Inc()
			failed = append(failed, err.Error())
			continue
		}
		i.Metrics.Cancels.WithLabelValues("ok").Inc()
	}
	if len(failed) > 0 {
		// The reconciler stops what the record no longer wants.
		reason += "; " + strings.Join(failed, "; ") + "; the reconciler retries"
	}
	if d.Launch == nil {
		log.Info(reason, "outcome", outcomeNoRun)
		return interceptors.Fail(codes.FailedPrecondition, reason), outcomeNoRun
	}
	// FromTrigger has checked it.
	experimentText, _ := g.Params.ExperimentText()
	pipeline, why := PipelineFor(experimentText)
	if why != "" {
		log = log.With("pipeline-note", why)
	}
	log.Info(reason, "outcome", outcomeLaunch, "run", d.Launch.Run, "pipeline", pipeline)
	return &triggersv1beta1.InterceptorResponse{
		Continue: true,
		Extensions: map[string]any{Name: contract.Extensions{
			Group:        g.Group,
			Spec:         g.Spec,
			Version:      d.Launch.Version,
			Name:         target.Name,
			Namespace:    target.Namespace,
			RunName:      d.Launch.Run,
			Seq:          strconv.FormatInt(d.Launch.Seq, 10),
			RunNamespace: i.RunsNamespace,
			Experiment:   experimentText,
			DecidedAt:    contract.FormatTime(d.Launch.DecidedAt),
			Pipeline:     pipeline,
		}},
	}, outcomeLaunch
}

// triggerOf reads the request's trigger context,
// namespaces/<namespace>/triggers/<name>: it must be a Trigger in the
// install namespace.
func (i *Interceptor) triggerOf(triggerID string) (string, error) {
	rest, ok := strings.CutPrefix(triggerID, "namespaces/"+i.Namespace+"/triggers/")
	if !ok || rest == "" || strings.Contains(rest, "/") {
		return "", fmt.Errorf("the request's trigger context %q names no Trigger in namespace %s; only the autox EventListener's Triggers are answered; nothing done", triggerID, i.Namespace)
	}
	return rest, nil
}

// groupTrigger is the group's Trigger to look at: the one the event names
// when the EventListener's Trigger is the dispatch Trigger, else the
// Trigger the EventListener processes (a group's Trigger put on an
// EventListener of one's own). An event with no Trigger (an
// ApiServerSource's) is about the one Trigger that names its object.
func (i *Interceptor) groupTrigger(via string, ev event) (string, error) {
	if via != contract.DispatchTrigger {
		if ev.Trigger != "" && ev.Trigger != via {
			return "", fmt.Errorf("the event names Trigger %s but the EventListener is processing Trigger %s; nothing done", ev.Trigger, via)
		}
		return via, nil
	}
	if ev.Trigger != "" {
		return ev.Trigger, nil
	}
	naming := i.Groups.Naming(ev.Object)
	switch len(naming) {
	case 0:
		return "", fmt.Errorf("no autox Trigger names %s; nothing to do", ev.Object)
	case 1:
		return naming[0], nil
	}
	return "", fmt.Errorf("Triggers %s all name %s; an event must name its Trigger (the watcher's do)", strings.Join(naming, ", "), ev.Object)
}

// state is the object as the cluster holds it: the cache, unless the
// cache does not follow it yet or disagrees with the event, in which case
// one GET settles it.
func (i *Interceptor) state(ctx context.Context, target contract.Object, ev event) (obj decide.Object, live bool, err error) {
	obj, synced := i.Objects.Cached(target)
	hint := ev.Object
	agree := synced && obj.Exists == (ev.Type != contract.Delete) && obj.Version == hint.Version() &&
		(hint.Metadata.UID == "" || !obj.Exists || hint.Metadata.UID == obj.UID)
	if agree {
		return obj, false, nil
	}
	i.Metrics.LiveReads.Inc()
	obj, err = i.Objects.Live(ctx, target)
	return obj, true, err
}

// decide reads the record, decides and writes it, until a write wins.
// A decision that launches or cancels is taken on the object read live,
// never on the cache alone: a late event that agrees with a cache a
// moment behind must not launch the version before and cancel the
// current one. It returns the object it decided on.
func (i *Interceptor) decide(ctx context.Context, g contract.Group, target contract.Object, obj decide.Object, _ bool) (decide.Decision, decide.Object, error) {
	// live: obj was read from the API server after rec was read. A launch
	// or a cancel is decided only on such an object: one read before the
	// record may be older than what another request already launched from
	// it (a GET that saw 1.0.0, then the record with 2.0.0 launched by a
	// request that saw the label change: 1.0.0 would supersede 2.0.0).
	live := false
	rec, found, err := i.Records.Cached(g.Group, g.Spec)
	if err != nil {
		return decide.Decision{}, obj, err
	}
	for attempt := 0; attempt < maxWrites; attempt++ {
		if !found {
			rec, err = i.Records.Create(ctx, g)
			if apierrors.IsAlreadyExists(err) {
				i.Metrics.Conflicts.Inc()
				if rec, found, err = i.Records.Live(ctx, g.Group, g.Spec); err != nil {
					return decide.Decision{}, obj, err
				}
				live = false
				continue
			}
			if err != nil {
				return decide.Decision{}, obj, fmt.Errorf("making the record of %s: %w", g.Key(), err)
			}
			found = true
		}
		if rec.TriggerUID != "" && rec.TriggerUID != g.TriggerUID {
			// The Trigger was made again, or this replica's cache is
			// behind: the record follows the Trigger that is there.
			uid, err := i.Groups.LiveUID(ctx, g.TriggerName)
			if err != nil {
				return decide.Decision{}, obj, err
			}
			if uid != g.TriggerUID {
				return decide.Decision{}, obj, fmt.Errorf("Trigger %s is %q in the API server and %q in this replica's cache; the watcher asks again once the cache has it", g.TriggerName, uid, g.TriggerUID)
			}
		}
		current := rec.Record
		if i.Runs != nil {
			// A launch whose run exists is not lost, however late the
			// reconciler is to note it.
			current = decide.Seen(current, func(name string) (string, bool) {
				r, ok := i.Runs.Get(name)
				return r.UID, ok
			})
		}
		d := decide.Decide(g, current, rec.UID, obj, i.now())
		if (d.Launch != nil || len(d.Cancel) > 0) && !live {
			i.Metrics.LiveReads.Inc()
			if obj, err = i.Objects.Live(ctx, target); err != nil {
				return decide.Decision{}, obj, err
			}
			live = true
			attempt--
			continue
		}
		if !d.Changed {
			return d, obj, nil
		}
		next := rec
		next.Record = d.Record
		if _, err := i.Records.Update(ctx, next); err == nil {
			return d, obj, nil
		} else if !apierrors.IsConflict(err) && !apierrors.IsNotFound(err) {
			return decide.Decision{}, obj, fmt.Errorf("writing the record of %s: %w", g.Key(), err)
		}
		// Another writer was first (or the record went): read it again and
		// decide on what it says now.
		i.Metrics.Conflicts.Inc()
		if rec, found, err = i.Records.Live(ctx, g.Group, g.Spec); err != nil {
			return decide.Decision{}, obj, err
		}
		live = false
	}
	return decide.Decision{}, obj, errors.New("the record of " + g.Key() + " changed under " + strconv.Itoa(maxWrites) + " writes in a row; the watcher asks again")
}
