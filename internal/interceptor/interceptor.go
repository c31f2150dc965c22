// Package interceptor is the autox ClusterInterceptor: for each event
// about a trigger object (from cmd/watcher or a Knative ApiServerSource)
// it decides from an informer cache of PipelineRuns whether a new version
// is to be tested, cancels the runs that the event supersedes, and hands
// the run's name and labels to the TriggerTemplate in its extensions.
// It is served with Tekton Triggers' interceptor server, over TLS.
package interceptor

import (
	"context"
	"log/slog"
	"strings"
	"time"

	triggersv1beta1 "github.com/tektoncd/triggers/pkg/apis/triggers/v1beta1"
	"github.com/tektoncd/triggers/pkg/interceptors"
	"google.golang.org/grpc/codes"

	"github.com/autox-tekton/autox/internal/decide"
)

// Name is the ClusterInterceptor's name and the path it is served at.
const Name = "autox"

// Extensions are what a launching event hands on, under the key "autox"
// ($(extensions.autox.runName) etc. in the TriggerBinding).
type Extensions struct {
	Group   string `json:"group"`
	Spec    string `json:"spec"`
	Version string `json:"version"`
	// Name and Namespace are the trigger object's.
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	// RunName is autox-<group>-<spec>-<hash> (decide.RunName).
	RunName string `json:"runName"`
	// Experiment is the Trigger's experiment param as YAML text.
	Experiment string `json:"experiment"`
	// DecidedAt is when the launch was decided (RFC 3339, nanoseconds,
	// UTC): the run's annotation autox.dev/decided-at, which orders runs.
	DecidedAt string `json:"decidedAt"`
}

// Interceptor decides on each event. It keeps nothing between events:
// the cluster is the state.
type Interceptor struct {
	Runs      Runs
	Canceller Canceller
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

// Process answers one event. Bad input is InvalidArgument, an event that
// launches nothing is FailedPrecondition with the reason, a cache that
// cannot be read is Internal; it never panics on what it is sent.
func (i *Interceptor) Process(ctx context.Context, r *triggersv1beta1.InterceptorRequest) *triggersv1beta1.InterceptorResponse {
	log := i.Log
	if r.Context != nil {
		log = log.With("eventID", r.Context.EventID, "trigger", r.Context.TriggerID)
	}
	p, err := parseParams(r.InterceptorParams)
	if err != nil {
		log.Warn("bad params: "+err.Error(), "outcome", "invalid")
		return interceptors.Fail(codes.InvalidArgument, err.Error())
	}
	log = log.With("group", p.Group, "spec", p.Spec)
	ev, err := parseEvent(r.Body, interceptors.Canonical(r.Header))
	if err != nil {
		log.Warn("bad event: "+err.Error(), "outcome", "invalid")
		return interceptors.Fail(codes.InvalidArgument, err.Error())
	}
	// Every Trigger of the EventListener sees every event.
	if !ev.Object.matches(*p.Trigger) {
		msg := "the event is about " + ev.Object.String() + ", not this Trigger's object " + p.Trigger.String() + "; nothing to do"
		log.Debug(msg)
		return interceptors.Fail(codes.FailedPrecondition, msg)
	}
	version := ev.Object.version()
	log = log.With("object", ev.Object.String(), "type", ev.Type, "source", ev.Source, "version", version)
	runs, err := i.Runs.RunsOf(p.Group, p.Spec)
	if err != nil {
		log.Error(err.Error())
		return interceptors.Fail(codes.Internal, err.Error())
	}
	in := decide.Event{Deleted: ev.Type == Delete, Version: version}
	if ev.Old != nil {
		in.OldVersion = ev.Old.version()
	}
	d := decide.Decide(p.Group, p.Spec, in, runs)
	reason := d.Reason
	var failed []string
	for _, run := range d.Cancel {
		if err := i.Canceller.Cancel(ctx, run.Namespace, run.Name); err != nil {
			failed = append(failed, err.Error())
		}
	}
	if len(failed) > 0 {
		// The watcher's re-list sends the object again, and the next
		// decision cancels what is still running.
		reason += "; " + strings.Join(failed, "; ") + "; the next event about this object retries"
	}
	if !d.Launch {
		log.Info(reason, "outcome", "no run")
		return interceptors.Fail(codes.FailedPrecondition, reason)
	}
	// The cache may not hold a run created a moment ago: a second event for
	// this version then gets the same name, and its create fails with
	// AlreadyExists. That is the point of the deterministic name: one run.
	log.Info(reason, "outcome", "launch", "run", d.RunName)
	// parseParams has checked it.
	experimentText, _ := p.ExperimentText()
	return &triggersv1beta1.InterceptorResponse{
		Continue: true,
		Extensions: map[string]interface{}{Name: Extensions{
			Group:      p.Group,
			Spec:       p.Spec,
			Version:    version,
			Name:       ev.Object.Metadata.Name,
			Namespace:  ev.Object.Metadata.Namespace,
			RunName:    d.RunName,
			Experiment: experimentText,
			DecidedAt:  i.now().UTC().Format(time.RFC3339Nano),
		}},
	}
}
