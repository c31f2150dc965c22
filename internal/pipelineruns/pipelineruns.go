// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Package pipelineruns finds the PipelineRuns of an autox group and their stored
// results, for `autox assert` and `autox report`: the cluster is the
// state, so everything here is read from it (one LIST of the namespace's
// PipelineRuns for a group, one GET per ConfigMap).
//
// A group is named as the seed names it, autox-<group>-<spec>. Group and
// spec may both contain '-', so a name is matched against the runs'
// labels (autox.dev/group, autox.dev/spec), never split. A run's version
// under test is its label autox.dev/version, the tested object's name
// autox.dev/name; app.kubernetes.io/version on a run is autox's own.
package pipelineruns

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/tektoncd/pipeline/pkg/apis/pipeline"
	pipelinev1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"knative.dev/pkg/apis"

	"github.com/autox-tekton/autox/internal/badinput"
	"github.com/autox-tekton/autox/internal/contract"
	"github.com/autox-tekton/autox/internal/names"
	"github.com/autox-tekton/autox/internal/result"
	"github.com/autox-tekton/autox/internal/store"
)

// Resources read.
var (
	PipelineRuns = schema.GroupVersionResource{Group: "tekton.dev", Version: "v1", Resource: "pipelineruns"}
	TaskRuns     = schema.GroupVersionResource{Group: "tekton.dev", Version: "v1", Resource: "taskruns"}
	Triggers     = schema.GroupVersionResource{Group: "triggers.tekton.dev", Version: "v1beta1", Resource: "triggers"}
)

// selector picks what autox labelled: both labels set.
const selector = contract.GroupLabel + "," + contract.SpecLabel

// State is where a run is.
type State string

// States of a run, from its Succeeded condition and spec.status.
const (
	Running   State = "running"
	Succeeded State = "succeeded"
	Failed    State = "failed"
	// Cancelled: spec.status asked it to stop (Cancelled,
	// CancelledRunFinally, StoppedRunFinally) and it has stopped, or its
	// condition's reason says so.
	Cancelled State = "cancelled"
	// TimedOut: Tekton's own timeout ended it (PipelineRunTimeout).
	TimedOut State = "timed out"
)

// Run is what assert and report need of one PipelineRun.
type Run struct {
	Name string
	// UID is the PipelineRun's: its result ConfigMap must be owned by it.
	UID   string
	Group string
	Spec  string
	// Version is the version under test (autox.dev/version).
	Version string
	// Object is the labelled object's name (autox.dev/name).
	Object string
	// DecidedAt orders the runs: the annotation autox.dev/decided-at,
	// else creationTimestamp.
	DecidedAt time.Time
	State     State
	// Reason and Message are the Succeeded condition's.
	Reason, Message string
}

// Done says whether the run has finished, whatever its outcome.
func (r Run) Done() bool { return r.State != Running }

// GroupName is autox-<group>-<spec>, as the seed writes -g.
func (r Run) GroupName() string { return GroupName(r.Group, r.Spec) }

// GroupName is autox-<group>-<spec>.
func GroupName(group, spec string) string { return "autox-" + group + "-" + spec }

// Finder reads runs, TaskRuns, Triggers and result ConfigMaps in one
// namespace.
type Finder struct {
	Dynamic    dynamic.Interface
	ConfigMaps corev1client.ConfigMapsGetter
	// Pods reads a failed step's log for its last line (why it failed);
	// nil reads no logs.
	Pods corev1client.PodsGetter
	// Namespace where the runs are (autox).
	Namespace string
	// Now and Sleep are the clock of Wait; nil means the real one.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

// Group is every run of one autox-<group>-<spec>, oldest first.
type Group struct {
	Name string
	Runs []Run
}

// Group lists the runs of name (one LIST). A name that matches no run is
// bad input; the error says which groups exist or, when the name has a
// Trigger but no run yet, where to look.
func (f Finder) Group(ctx context.Context, name string) (Group, error) {
	list, err := f.Dynamic.Resource(PipelineRuns).Namespace(f.Namespace).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return Group{}, fmt.Errorf("listing the PipelineRuns of namespace %s: %w", f.Namespace, err)
	}
	g := Group{Name: name}
	others := map[string]bool{}
	for i := range list.Items {
		r, err := toRun(&list.Items[i])
		if err != nil {
			return Group{}, err
		}
		if r.GroupName() == name {
			g.Runs = append(g.Runs, r)
		} else {
			others[r.GroupName()] = true
		}
	}
	if len(g.Runs) == 0 {
		return Group{}, f.noGroup(ctx, name, slices.Sorted(maps.Keys(others)))
	}
	// Group and spec may contain '-': a-b/c and a/b-c are both autox-a-b-c.
	pairs := map[string]bool{}
	for _, r := range g.Runs {
		pairs[fmt.Sprintf("group %q spec %q", r.Group, r.Spec)] = true
	}
	if len(pairs) > 1 {
		return Group{}, badinput.Field("-g", fmt.Sprintf("%s names the runs of %s; rename one group or spec (tkn pipelinerun list -n %s --label %s=<group>,%s=<spec> lists each)",
			name, strings.Join(slices.Sorted(maps.Keys(pairs)), " and "), f.Namespace, contract.GroupLabel, contract.SpecLabel))
	}
	sort.SliceStable(g.Runs, func(i, j int) bool { return before(g.Runs[i], g.Runs[j]) })
	return g, nil
}

// before orders runs as the interceptor does: by decision time, then name.
func before(a, b Run) bool {
	if !a.DecidedAt.Equal(b.DecidedAt) {
		return a.DecidedAt.Before(b.DecidedAt)
	}
	return a.Name < b.Name
}

// noGroup explains why name has no run.
func (f Finder) noGroup(ctx context.Context, name string, withRuns []string) error {
	triggers, err := f.Dynamic.Resource(Triggers).Namespace(f.Namespace).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsForbidden(err) {
		return fmt.Errorf("listing the Triggers of namespace %s: %w", f.Namespace, err)
	}
	var withTrigger []string
	if err == nil {
		for _, t := range triggers.Items {
			l := t.GetLabels()
			g := GroupName(l[contract.GroupLabel], l[contract.SpecLabel])
			if g == name {
				return badinput.Field("-g", fmt.Sprintf("no run yet of %s: is the object labelled? %s, and kubectl -n %s logs deploy/autox-interceptor",
					name, getCommand(&t), f.Namespace))
			}
			withTrigger = append(withTrigger, g)
		}
	}
	if len(withRuns) == 0 && len(withTrigger) == 0 {
		return badinput.Field("-g", fmt.Sprintf("no group %s: namespace %s has no autox runs or Triggers; is autox installed there? -n names another namespace", name, f.Namespace))
	}
	msg := "no group " + name
	if len(withRuns) > 0 {
		msg += "; the groups with runs are: " + strings.Join(withRuns, ", ")
	} else {
		msg += "; no group has a run yet"
	}
	slices.Sort(withTrigger)
	if len(withTrigger) > 0 {
		msg += "; the groups with a Trigger are: " + strings.Join(slices.Compact(withTrigger), ", ")
	}
	if best, ok := closest(name, append(withRuns, withTrigger...)); ok {
		msg += "; did you mean " + best + "?"
	}
	return badinput.Field("-g", msg)
}

// closest suggests a group for a misspelt one, or for a name given
// without its autox- prefix or spec (httpbin for autox-httpbin-iter8).
func closest(name string, groups []string) (string, bool) {
	bare := strings.TrimPrefix(name, "autox-")
	for _, g := range slices.Sorted(slices.Values(groups)) {
		if g == "autox-"+bare || strings.HasPrefix(g, "autox-"+bare+"-") {
			return g, true
		}
	}
	return names.Closest(name, groups, max(len(name)/3, 2))
}

// getCommand is the kubectl command that shows the version label of the
// object a Trigger follows (its interceptor param trigger): the workload's
// app.kubernetes.io/version, whose change launches a run.
func getCommand(t *unstructured.Unstructured) string {
	var spec struct {
		Interceptors []struct {
			Params []struct {
				Name  string          `json:"name"`
				Value json.RawMessage `json:"value"`
			} `json:"params"`
		} `json:"interceptors"`
	}
	generic := "kubectl get deploy -A -L " + contract.VersionLabel
	raw, ok := t.Object["spec"]
	if !ok {
		return generic
	}
	b, err := json.Marshal(raw)
	if err != nil || json.Unmarshal(b, &spec) != nil {
		return generic
	}
	for _, ic := range spec.Interceptors {
		for _, p := range ic.Params {
			if p.Name != "trigger" {
				continue
			}
			var o struct{ Name, Namespace, Group, Resource string }
			if json.Unmarshal(p.Value, &o) != nil || o.Name == "" || o.Resource == "" {
				return generic
			}
			kind := o.Resource
			if o.Group != "" {
				kind += "." + o.Group
			}
			ns := o.Namespace
			if ns == "" {
				ns = "default"
			}
			return fmt.Sprintf("kubectl get %s %s -n %s -L %s", kind, o.Name, ns, contract.VersionLabel)
		}
	}
	return generic
}

// Latest is the latest run, or the latest of version when it is not "".
func (g Group) Latest(version string) (Run, error) {
	for i := len(g.Runs) - 1; i >= 0; i-- {
		if version == "" || g.Runs[i].Version == version {
			return g.Runs[i], nil
		}
	}
	return Run{}, badinput.Field("--version", fmt.Sprintf("no run of %s has version %q; its versions are: %s", g.Name, version, strings.Join(g.Versions(), ", ")))
}

// Versions lists the versions with a run, newest first.
func (g Group) Versions() []string {
	var out []string
	for _, r := range slices.Backward(g.Runs) {
		if !slices.Contains(out, r.Version) {
			out = append(out, r.Version)
		}
	}
	return out
}

// LatestPerVersion is the latest run of each version, newest first.
func (g Group) LatestPerVersion() []Run {
	var out []Run
	seen := map[string]bool{}
	for _, r := range slices.Backward(g.Runs) {
		if !seen[r.Version] {
			seen[r.Version] = true
			out = append(out, r)
		}
	}
	return out
}

// Get reads one run again.
func (f Finder) Get(ctx context.Context, name string) (Run, error) {
	u, err := f.Dynamic.Resource(PipelineRuns).Namespace(f.Namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return Run{}, fmt.Errorf("reading PipelineRun %s/%s: %w", f.Namespace, name, err)
	}
	return toRun(u)
}

func toRun(u *unstructured.Unstructured) (Run, error) {
	var pr pipelinev1.PipelineRun
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &pr); err != nil {
		return Run{}, fmt.Errorf("reading PipelineRun %s/%s: %w", u.GetNamespace(), u.GetName(), err)
	}
	r := Run{
		Name:      pr.Name,
		UID:       string(pr.UID),
		Group:     pr.Labels[contract.GroupLabel],
		Spec:      pr.Labels[contract.SpecLabel],
		Version:   pr.Labels[contract.TestedVersionLabel],
		Object:    pr.Labels[contract.TestedNameLabel],
		DecidedAt: pr.CreationTimestamp.Time,
		State:     Running,
	}
	if at, err := time.Parse(time.RFC3339Nano, pr.Annotations[contract.DecidedAtAnnotation]); err == nil {
		r.DecidedAt = at
	}
	c := pr.Status.GetCondition(apis.ConditionSucceeded)
	if c == nil || c.Status == corev1.ConditionUnknown {
		return r, nil
	}
	r.Reason, r.Message = c.Reason, c.Message
	switch {
	case c.Status == corev1.ConditionTrue:
		r.State = Succeeded
	case c.Reason == pipelinev1.PipelineRunReasonCancelled.String(),
		c.Reason == pipelinev1.PipelineRunReasonCancelledRunningFinally.String(),
		c.Reason == pipelinev1.PipelineRunReasonStoppedRunningFinally.String(),
		pr.IsCancelled() || pr.IsGracefullyCancelled() || pr.IsGracefullyStopped():
		r.State = Cancelled
	case c.Reason == pipelinev1.PipelineRunReasonTimedOut.String():
		r.State = TimedOut
	default:
		r.State = Failed
	}
	return r, nil
}

// Stored is a run's result as kept in its ConfigMap.
type Stored struct {
	Result *result.Result
	// Dropped names what was cut to fit a ConfigMap (autox.dev/dropped).
	Dropped []string
}

// MissingError says why a run has no stored result.
type MissingError struct {
	Run Run
	// Why, e.g. "it is still running".
	Why string
}

func (e *MissingError) Error() string {
	return fmt.Sprintf("no stored result of %s (version %s): %s", e.Run.Name, e.Run.Version, e.Why)
}

// Result reads the result ConfigMap of r (named after it), when r owns
// it (store.CheckOwner). A run without one, or whose ConfigMap it does not
// own, gets a *MissingError that says why.
func (f Finder) Result(ctx context.Context, r Run) (*Stored, error) {
	cm, err := f.ConfigMaps.ConfigMaps(f.Namespace).Get(ctx, r.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, &MissingError{Run: r, Why: f.whyMissing(ctx, r)}
	}
	if err != nil {
		return nil, fmt.Errorf("reading ConfigMap %s/%s, the result of %s: %w", f.Namespace, r.Name, r.Name, err)
	}
	if err := store.CheckOwner(cm, store.Owner{Kind: store.KindPipelineRun, Name: r.Name, UID: r.UID}); err != nil {
		return nil, &MissingError{Run: r, Why: err.Error()}
	}
	data, ok := cm.Data[store.DataKey]
	if !ok {
		return nil, &MissingError{Run: r, Why: fmt.Sprintf("ConfigMap %s/%s has no key %s; was it written by autox?", f.Namespace, r.Name, store.DataKey)}
	}
	var res result.Result
	if err := json.Unmarshal([]byte(data), &res); err != nil {
		return nil, fmt.Errorf("ConfigMap %s/%s: %s is not a result: %w", f.Namespace, r.Name, store.DataKey, err)
	}
	if res.Version != result.Version {
		return nil, fmt.Errorf("ConfigMap %s/%s: %s has version %q, this autox reads %q", f.Namespace, r.Name, store.DataKey, res.Version, result.Version)
	}
	s := &Stored{Result: &res}
	if d := cm.Annotations[store.DroppedAnnotation]; d != "" {
		s.Dropped = strings.Split(d, ",")
	}
	return s, nil
}

func (f Finder) whyMissing(ctx context.Context, r Run) string {
	switch r.State {
	case Running:
		return "it is still running; its assess step stores the result when the load is done"
	case Cancelled:
		return "it was cancelled before its assess step stored one"
	case TimedOut:
		return "Tekton's timeout ended it before its assess step stored one (" + r.Message + ")"
	case Failed:
		if fail, err := f.Failure(ctx, r); err == nil && fail != nil {
			return "it failed before its assess step stored one: " + fail.String()
		}
		return "it failed before its assess step stored one (" + r.Reason + ": " + r.Message + ")"
	}
	return fmt.Sprintf("ConfigMap %s/%s is gone (it is deleted with its PipelineRun; was it deleted by hand?)", f.Namespace, r.Name)
}

// Failure is the first step of a failed run's TaskRun that exited
// non-zero: the one that ended it, or an earlier ready step, which the
// Task lets the run go on after (onError: continue) and which says why
// the run failed (not ready, or bad input that the next step found again).
type Failure struct {
	// Task is the Pipeline's task (experiment), TaskRun its run, in
	// Namespace.
	Task, TaskRun, Namespace string
	// Step is the step that failed (ready, http, grpc, assess), "" when
	// no step did (the TaskRun failed before its pod ran).
	Step     string
	ExitCode int32
	// Reason and Message are the TaskRun's Succeeded condition's.
	Reason, Message string
	// LastLogLine is the failed step's last line of output, which says
	// why (e.g. "ready: ..."); "" when its pod is gone.
	LastLogLine string
}

// String is one line for people, with the command that shows the step's
// log (which says why the step failed).
func (f *Failure) String() string {
	if f.Step == "" {
		return fmt.Sprintf("task %s (TaskRun %s): %s: %s", f.Task, f.TaskRun, f.Reason, f.Message)
	}
	if f.LastLogLine != "" {
		return fmt.Sprintf("task %s, step %s exited with code %d: %s", f.Task, f.Step, f.ExitCode, f.LastLogLine)
	}
	return fmt.Sprintf("task %s, step %s exited with code %d; its log says why: tkn taskrun logs -n %s %s", f.Task, f.Step, f.ExitCode, f.Namespace, f.TaskRun)
}

// Failure finds the TaskRun of r that failed and its failed step (one
// LIST of r's TaskRuns); nil when none failed.
func (f Finder) Failure(ctx context.Context, r Run) (*Failure, error) {
	list, err := f.Dynamic.Resource(TaskRuns).Namespace(f.Namespace).List(ctx, metav1.ListOptions{LabelSelector: pipeline.PipelineRunLabelKey + "=" + r.Name})
	if err != nil {
		return nil, fmt.Errorf("listing the TaskRuns of %s: %w", r.Name, err)
	}
	for i := range list.Items {
		var tr pipelinev1.TaskRun
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(list.Items[i].Object, &tr); err != nil {
			return nil, fmt.Errorf("reading TaskRun %s: %w", list.Items[i].GetName(), err)
		}
		c := tr.Status.GetCondition(apis.ConditionSucceeded)
		if c == nil || c.Status != corev1.ConditionFalse {
			continue
		}
		out := &Failure{Task: tr.Labels[pipeline.PipelineTaskLabelKey], TaskRun: tr.Name, Namespace: f.Namespace, Reason: c.Reason, Message: c.Message}
		if out.Task == "" {
			out.Task = tr.Name
		}
		for _, s := range tr.Status.Steps {
			if t := s.Terminated; t != nil && t.ExitCode != 0 && s.TerminationReason != "Skipped" {
				out.Step, out.ExitCode = s.Name, t.ExitCode
				out.LastLogLine = f.lastLogLine(ctx, tr.Status.PodName, s.Container)
				break
			}
		}
		return out, nil
	}
	return nil, nil
}

// logTail is how many of a failed step's last log lines are read to find
// its last non-empty one.
const logTail = 20

// lastLogLine is the last non-empty line container of pod wrote, or ""
// when it cannot be read (the pod is gone, or no rights).
func (f Finder) lastLogLine(ctx context.Context, pod, container string) string {
	if f.Pods == nil || pod == "" || container == "" {
		return ""
	}
	tail := int64(logTail)
	b, err := f.Pods.Pods(f.Namespace).GetLogs(pod, &corev1.PodLogOptions{Container: container, TailLines: &tail}).DoRaw(ctx)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// ErrTimeout is what Wait returns when the run is still going at its
// deadline.
var ErrTimeout = errors.New("still running")

// Backoff of Wait's polls, and how often it says it still waits.
const (
	firstPoll = 500 * time.Millisecond
	maxPoll   = 5 * time.Second
	// ProgressEvery is how often Wait calls progress.
	ProgressEvery = 10 * time.Second
)

// Wait polls r until it is done or timeout has passed (then ErrTimeout,
// with the run as last seen), from 0.5 s apart doubling to 5 s: one GET
// each. progress hears of it every ProgressEvery.
func (f Finder) Wait(ctx context.Context, r Run, timeout time.Duration, progress func(r Run, waited time.Duration)) (Run, error) {
	now, sleep := f.Now, f.Sleep
	if now == nil {
		now = time.Now
	}
	if sleep == nil {
		sleep = sleepCtx
	}
	start := now()
	deadline, lastSaid := start.Add(timeout), start
	poll := firstPoll
	for !r.Done() {
		left := deadline.Sub(now())
		if left <= 0 {
			return r, ErrTimeout
		}
		if err := sleep(ctx, min(poll, left)); err != nil {
			return r, err
		}
		poll = min(2*poll, maxPoll)
		next, err := f.Get(ctx, r.Name)
		if err != nil {
			return r, err
		}
		r = next
		if t := now(); !r.Done() && t.Sub(lastSaid) >= ProgressEvery && progress != nil {
			lastSaid = t
			progress(r, t.Sub(start))
		}
	}
	return r, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
