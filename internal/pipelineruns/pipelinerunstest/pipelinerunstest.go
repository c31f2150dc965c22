// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Package pipelinerunstest makes the cluster objects autox assert and report read,
// as autox makes them: PipelineRuns as the TriggerTemplate autox
// (triggers/eventlistener.yaml) creates them with Tekton's status, their
// TaskRuns, Triggers as triggers/examples/ has them, and result ConfigMaps
// written by internal/store itself, so the formats cannot drift.
package pipelinerunstest

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	"sigs.k8s.io/yaml"

	"github.com/autox-tekton/autox/internal/experiment"
	"github.com/autox-tekton/autox/internal/metrics"
	"github.com/autox-tekton/autox/internal/pipelineruns"
	"github.com/autox-tekton/autox/internal/result"
	"github.com/autox-tekton/autox/internal/store"
)

// Namespace is where the fixtures live, as autox installs.
const Namespace = "autox"

// Status of a fixture PipelineRun.
type Status string

// Statuses, each as Tekton v1.9.0 writes it.
const (
	Running   Status = "running"
	Succeeded Status = "succeeded"
	// Failed: the experiment task failed (a step exited non-zero).
	Failed    Status = "failed"
	Cancelled Status = "cancelled"
	TimedOut  Status = "timedout"
)

// PR describes one PipelineRun.
type PR struct {
	Group, Spec, Version string
	// Hash is the name's 10 hex digits.
	Hash      string
	DecidedAt time.Time
	Status    Status
}

// Name is the run's name, autox-<group>-<spec>-<hash>.
func (p PR) Name() string { return pipelineruns.GroupName(p.Group, p.Spec) + "-" + p.Hash }

// PipelineRun is the object, as the TriggerTemplate makes it (labels,
// annotation, params) with the status Tekton gives it.
func (p PR) PipelineRun(t *testing.T) *unstructured.Unstructured {
	t.Helper()
	created := p.DecidedAt.Truncate(time.Second)
	doc := fmt.Sprintf(`apiVersion: tekton.dev/v1
kind: PipelineRun
metadata:
  name: %[1]s
  namespace: autox
  uid: uid-%[1]s
  creationTimestamp: %[2]s
  labels:
    autox.dev/group: %[3]s
    autox.dev/spec: %[4]s
    autox.dev/version: %[5]q
    autox.dev/name: httpbin
    app.kubernetes.io/part-of: autox
    app.kubernetes.io/version: "0.1"
    tekton.dev/pipeline: autox
    triggers.tekton.dev/eventlistener: autox
    triggers.tekton.dev/trigger: %[6]s
  annotations:
    autox.dev/decided-at: %[7]s
spec:
  pipelineRef:
    name: autox
  params:
    - name: experiment
      value: |
        tasks: [ready, http, assess]
        ready: {deploy: httpbin, service: httpbin, timeout: 60s}
        http:
          numRequests: 200
          endpoints:
            get: {url: http://httpbin.default/get}
        assess:
          SLOs:
            upper: {http-get/error-count: 0, http-get/latency-mean: 50}
    - name: namespace
      value: default
    - name: group
      value: %[3]s
    - name: spec
      value: %[4]s
    - name: version
      value: %[5]q
    - name: name
      value: httpbin
  taskRunTemplate:
    serviceAccountName: autox
  timeouts:
    pipeline: 1h0m0s
`, p.Name(), created.Format(time.RFC3339), p.Group, p.Spec, p.Version, pipelineruns.GroupName(p.Group, p.Spec), p.DecidedAt.Format(time.RFC3339Nano))
	if p.Status == Cancelled {
		doc += "  status: Cancelled\n"
	}
	start := created.Add(time.Second).Format(time.RFC3339)
	end := created.Add(40 * time.Second).Format(time.RFC3339)
	cond := map[Status]string{
		Running:   `{type: Succeeded, status: Unknown, reason: Running, message: "Tasks Completed: 0 (Failed: 0, Cancelled 0), Incomplete: 1, Skipped: 0"}`,
		Succeeded: `{type: Succeeded, status: "True", reason: Succeeded, message: "Tasks Completed: 1 (Failed: 0, Cancelled 0), Skipped: 0"}`,
		Failed:    `{type: Succeeded, status: "False", reason: Failed, message: "Tasks Completed: 1 (Failed: 1, Cancelled 0), Skipped: 0"}`,
		Cancelled: `{type: Succeeded, status: "False", reason: Cancelled, message: "PipelineRun \"` + p.Name() + `\" was cancelled"}`,
		TimedOut:  `{type: Succeeded, status: "False", reason: PipelineRunTimeout, message: "PipelineRun \"` + p.Name() + `\" failed to finish within \"1h0m0s\""}`,
	}[p.Status]
	doc += "status:\n  startTime: " + start + "\n  conditions: [" + cond + "]\n"
	if p.Status != Running {
		doc += "  completionTime: " + end + "\n"
	}
	doc += "  childReferences:\n    - {apiVersion: tekton.dev/v1, kind: TaskRun, name: " + p.Name() + "-experiment, pipelineTaskName: experiment, displayName: Performance test of " + p.Group + " " + p.Version + "}\n"
	return parse(t, doc)
}

// TaskRun is the run's TaskRun whose step failedStep exited with code
// exitCode (the steps after it skipped); "" makes a TaskRun that succeeded.
func (p PR) TaskRun(t *testing.T, failedStep string, exitCode int) *unstructured.Unstructured {
	t.Helper()
	name := p.Name() + "-experiment"
	doc := fmt.Sprintf(`apiVersion: tekton.dev/v1
kind: TaskRun
metadata:
  name: %[1]s
  namespace: autox
  labels:
    tekton.dev/pipelineRun: %[2]s
    tekton.dev/pipelineTask: experiment
    tekton.dev/task: autox-experiment
    autox.dev/group: %[3]s
spec:
  taskRef: {kind: Task, name: autox-experiment}
  serviceAccountName: autox
status:
  podName: %[1]s-pod
`, name, p.Name(), p.Group)
	if failedStep == "" {
		doc += "  conditions: [{type: Succeeded, status: \"True\", reason: Succeeded, message: All Steps have completed executing}]\n  steps:\n"
		for _, s := range []string{"ready", "http", "grpc", "assess"} {
			doc += "    - {name: " + s + ", container: step-" + s + ", terminated: {exitCode: 0, reason: Completed}}\n"
		}
		return parse(t, doc)
	}
	doc += fmt.Sprintf("  conditions: [{type: Succeeded, status: \"False\", reason: Failed, message: '\"step-%s\" exited with code %d'}]\n  steps:\n", failedStep, exitCode)
	failed := false
	for _, s := range []string{"ready", "http", "grpc", "assess"} {
		switch {
		case s == failedStep:
			failed = true
			doc += fmt.Sprintf("    - {name: %s, container: step-%s, terminated: {exitCode: %d, reason: Error}, terminationReason: Error}\n", s, s, exitCode)
		case failed:
			doc += "    - {name: " + s + ", container: step-" + s + ", terminated: {exitCode: 1, reason: Error}, terminationReason: Skipped}\n"
		default:
			doc += "    - {name: " + s + ", container: step-" + s + ", terminated: {exitCode: 0, reason: Completed}, terminationReason: Completed}\n"
		}
	}
	return parse(t, doc)
}

// Trigger is a group's Trigger as triggers/examples/httpbin.yaml has it.
func Trigger(t *testing.T, group, spec, object string) *unstructured.Unstructured {
	t.Helper()
	return parse(t, fmt.Sprintf(`apiVersion: triggers.tekton.dev/v1beta1
kind: Trigger
metadata:
  name: %[1]s
  namespace: autox
  labels:
    autox.dev/group: %[2]s
    autox.dev/spec: %[3]s
spec:
  interceptors:
    - name: autox
      ref: {name: autox, kind: ClusterInterceptor}
      params:
        - {name: group, value: %[2]s}
        - {name: spec, value: %[3]s}
        - name: trigger
          value: {name: %[4]s, namespace: default, group: apps, version: v1, resource: deployments}
        - name: experiment
          value: {tasks: [ready, http, assess]}
  bindings:
    - ref: autox
  template:
    ref: autox
`, pipelineruns.GroupName(group, spec), group, spec, object))
}

func parse(t *testing.T, doc string) *unstructured.Unstructured {
	t.Helper()
	var m map[string]interface{}
	if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
		t.Fatalf("fixture: %v\n%s", err, doc)
	}
	return &unstructured.Unstructured{Object: m}
}

// Dynamic is a fake dynamic client holding objs (PipelineRuns, TaskRuns,
// Triggers).
func Dynamic(objs ...runtime.Object) *dynamicfake.FakeDynamicClient {
	return dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{
		pipelineruns.PipelineRuns: "PipelineRunList",
		pipelineruns.TaskRuns:     "TaskRunList",
		pipelineruns.Triggers:     "TriggerList",
	}, objs...)
}

// Store saves r as the result ConfigMap of p, through internal/store, in
// client (a fake clientset); it returns what store says it kept.
func Store(t *testing.T, client *fake.Clientset, p PR, r *result.Result) store.Saved {
	t.Helper()
	saved, err := store.Store{ConfigMaps: client.CoreV1()}.Save(context.Background(), store.Target{
		Namespace: Namespace,
		Owner:     store.Owner{Kind: store.KindPipelineRun, Name: p.Name(), UID: "uid-" + p.Name()},
		Group:     p.Group, Spec: p.Spec, Version: p.Version, Name: "httpbin",
	}, r)
	if err != nil {
		t.Fatal(err)
	}
	return saved
}

// Load is what one endpoint measured: latencies in milliseconds and a
// number of failed requests.
type Load struct {
	LatenciesMs []float64
	Errors      int64
	// Stopped, on get, marks the http metrics file as written by a step
	// that was stopped (SIGTERM): the task did not complete.
	Stopped string
}

// Result builds a result the way assess does (result.Build) from the
// seed's experiment with one SLO limit on http-get/latency-mean, and the
// given loads of get and post.
func Result(t *testing.T, getMeanLimit float64, get, post Load) *result.Result {
	t.Helper()
	spec, err := experiment.Parse([]byte(fmt.Sprintf(`
tasks: [ready, http, assess]
ready: {deploy: httpbin, service: httpbin, timeout: 60s}
http:
  endpoints:
    get: {url: http://httpbin.default/get}
    post: {url: http://httpbin.default/post, payloadStr: hello}
assess:
  SLOs:
    upper:
      http-get/error-count: 0
      http-get/latency-mean: %g
      http-post/latency-p99: 100
`, getMeanLimit)), "params.experiment")
	if err != nil {
		t.Fatal(err)
	}
	endpoint := func(name string, l Load) *metrics.Endpoint {
		e := &metrics.Endpoint{Task: "http", Name: name, Target: "GET http://httpbin.default/" + name,
			RequestCount: int64(len(l.LatenciesMs)) + l.Errors, ErrorCount: l.Errors,
			StatusCodes: map[string]int64{"200": int64(len(l.LatenciesMs))}, Percentiles: []float64{50, 99},
			DurationSeconds: 2, Latency: metrics.NewHistogram()}
		if l.Errors > 0 {
			e.Errors = map[string]int64{"Get \"http://httpbin.default/" + name + "\": context deadline exceeded": l.Errors}
		}
		for _, ms := range l.LatenciesMs {
			metrics.RecordLatency(e.Latency, time.Duration(ms*float64(time.Millisecond)))
		}
		return e
	}
	files := map[string]*metrics.File{
		"ready": {Task: "ready"},
		"http":  {Task: "http", Endpoints: []*metrics.Endpoint{endpoint("get", get), endpoint("post", post)}, Stopped: get.Stopped},
	}
	return roundTrip(t, result.Build(spec, files, time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)))
}

// roundTrip encodes r as result.json and reads it back, as a reader of
// the ConfigMap sees it.
func roundTrip(t *testing.T, r *result.Result) *result.Result {
	t.Helper()
	b, _, err := store.Fit(r, store.MaxDataBytes)
	if err != nil {
		t.Fatal(err)
	}
	var out result.Result
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return &out
}

// Spread is n latencies from lo to hi milliseconds, evenly apart.
func Spread(n int, lo, hi float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = lo + (hi-lo)*float64(i)/float64(max(n-1, 1))
	}
	return out
}
