// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

//go:build e2e

// Package e2e proves autox's cluster behaviours on the real single-node
// Kubernetes + Tekton that `make cluster-up` runs on this machine. Run
// with `make e2e` (it brings the cluster up and sets KUBECONFIG).
package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"github.com/autox-tekton/autox/internal/badinput"
	"github.com/autox-tekton/autox/internal/cli/clitest"
	"github.com/autox-tekton/autox/internal/experiment"
	"github.com/autox-tekton/autox/internal/kube"
	"github.com/autox-tekton/autox/internal/localrun"
	"github.com/autox-tekton/autox/internal/logging"
	"github.com/autox-tekton/autox/internal/metrics"
	"github.com/autox-tekton/autox/internal/ready"
)

// cluster connects to the test cluster and makes a namespace that is
// deleted when the test ends.
func cluster(t *testing.T) (*kube.Clients, string) {
	t.Helper()
	if os.Getenv("KUBECONFIG") == "" {
		t.Fatal("KUBECONFIG is not set; run make e2e, which brings the cluster up")
	}
	c, err := kube.Connect(kubeconfig())
	if err != nil {
		t.Fatal(err)
	}
	ns := fmt.Sprintf("autox-e2e-%d", rand.IntN(1_000_000))
	step(t, "create namespace %s", ns)
	apply(t, c, "", `{apiVersion: v1, kind: Namespace, metadata: {name: `+ns+`}}`)
	t.Cleanup(func() {
		c.Kube.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{})
	})
	// The namespace's default ServiceAccount appears shortly after it.
	waitFor(t, 30*time.Second, "default ServiceAccount", func() (bool, string) {
		_, err := c.Kube.CoreV1().ServiceAccounts(ns).Get(context.Background(), "default", metav1.GetOptions{})
		return err == nil, fmt.Sprint(err)
	})
	return c, ns
}

// kubeconfig finds the test cluster as the commands do, through
// $KUBECONFIG (which may list several files).
func kubeconfig() kube.Kubeconfig {
	return kube.Kubeconfig{Files: os.Getenv("KUBECONFIG")}
}

func step(t *testing.T, format string, args ...any) {
	t.Helper()
	t.Logf("step: "+format, args...)
}

// apply creates each YAML document in namespace ns (or as written).
func apply(t *testing.T, c *kube.Clients, ns, docs string) []*unstructured.Unstructured {
	t.Helper()
	var out []*unstructured.Unstructured
	for _, doc := range strings.Split(docs, "\n---\n") {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		obj := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(doc), &obj.Object); err != nil {
			t.Fatalf("fixture is not YAML: %v\n%s", err, doc)
		}
		gvk := obj.GroupVersionKind()
		m, err := c.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			t.Fatalf("mapping %s: %v", gvk, err)
		}
		ri := c.Dynamic.Resource(m.Resource)
		var created *unstructured.Unstructured
		if m.Scope.Name() == "namespace" {
			created, err = ri.Namespace(ns).Create(context.Background(), obj, metav1.CreateOptions{})
		} else {
			created, err = ri.Create(context.Background(), obj, metav1.CreateOptions{})
		}
		if err != nil {
			t.Fatalf("creating %s %s: %v", gvk.Kind, obj.GetName(), err)
		}
		out = append(out, created)
	}
	return out
}

func waitFor(t *testing.T, timeout time.Duration, what string, done func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	last := ""
	for time.Now().Before(deadline) {
		ok, state := done()
		if ok {
			return
		}
		last = state
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("%s not done after %s: %s", what, timeout, last)
}

// sampleApps runs httpbin and routeguide from our own images, each a
// Deployment with a Service, as the seed's tutorial does.
func sampleApps(t *testing.T, c *kube.Clients, ns string) {
	step(t, "deploy httpbin and routeguide from our images")
	apply(t, c, ns, app("httpbin", image(t, "httpbin"), 8080, 80)+"\n---\n"+app("routeguide", image(t, "routeguide"), 50051, 50051))
}

// app is a sample app as a Deployment and a Service (seedApp's, which the
// restricted Pod Security Standard admits).
func app(name, image string, port, servicePort int) string {
	return seedApp(image, name, port, servicePort, "")
}

func readyExperiment(ns, deploy, service, timeout string) *experiment.Experiment {
	e, err := experiment.Parse([]byte(fmt.Sprintf("tasks: [ready]\nready: {deploy: %q, service: %q, namespace: %s, timeout: %s}\n", deploy, service, ns, timeout)), "e2e.yaml")
	if err != nil {
		panic(err)
	}
	return e
}

func steps(t *testing.T) localrun.Steps {
	return localrun.Steps{Log: logging.New(testLog{t}, slog.LevelInfo)}
}

func readyStep(t *testing.T) ready.Step {
	return ready.Step{Log: logging.New(testLog{t}, slog.LevelInfo), Kubeconfig: kubeconfig()}
}

type testLog struct{ t *testing.T }

func (l testLog) Write(b []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

func TestReadyFromHost(t *testing.T) {
	c, ns := cluster(t)
	sampleApps(t, c, ns)
	for _, name := range []string{"httpbin", "routeguide"} {
		step(t, "ready: deploy %s and service %s, from the host", name, name)
		dir := t.TempDir()
		if err := readyStep(t).Run(context.Background(), readyExperiment(ns, name, name, "120s"), dir); err != nil {
			t.Fatalf("ready %s: %v", name, err)
		}
		if _, err := metrics.Read(metrics.PathFor(dir, "ready")); err != nil {
			t.Errorf("ready %s wrote no ready.metrics.json: %v", name, err)
		}
	}
}

func TestReadyTimesOutWithTheReason(t *testing.T) {
	c, ns := cluster(t)
	step(t, "deploy a Deployment whose image cannot start")
	// imagePullPolicy Never: the image exists nowhere and no pull is tried
	// (autox.dev is off this machine; our images come from the harness's registry).
	apply(t, c, ns, `apiVersion: apps/v1
kind: Deployment
metadata: {name: broken}
spec:
  selector: {matchLabels: {app: broken}}
  template:
    metadata: {labels: {app: broken}}
    spec:
      containers: [{name: app, image: "autox.dev/does-not-exist:dev", imagePullPolicy: Never}]
`)
	start := time.Now()
	err := readyStep(t).Run(context.Background(), readyExperiment(ns, "broken", "", "15s"), t.TempDir())
	took := time.Since(start)
	if !errors.Is(err, ready.ErrNotReady) {
		t.Fatalf("ready on a broken Deployment = %v, want a not-ready timeout", err)
	}
	for _, want := range []string{
		"deployment " + ns + "/broken: Available=False (MinimumReplicasUnavailable)",
		"after 15s",
		"is waiting: ErrImageNeverPull",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if took < 15*time.Second || took > 30*time.Second {
		t.Errorf("timed out after %v, want about 15s", took)
	}
}

func TestReadyBadInput(t *testing.T) {
	_, ns := cluster(t)
	e, err := experiment.Parse([]byte("tasks: [ready]\nready: {namespace: "+ns+", objects: [{group: apps, version: v1, resource: deploymentz, name: x}]}\n"), "e2e.yaml")
	if err != nil {
		t.Fatal(err)
	}
	err = readyStep(t).Run(context.Background(), e, t.TempDir())
	want := `ready.objects[0]: "deploymentz" is not a resource the API server serves (group "apps", version "v1"); check the spelling, or install its CRD`
	if !badinput.Is(err) || err.Error() != want {
		t.Errorf("ready on deploymentz = %v\nwant bad input: %s", err, want)
	}
}

// taskRun runs the ready image in a one-step TaskRun as sa and returns
// the finished TaskRun and the step's log.
func taskRun(t *testing.T, c *kube.Clients, ns, sa, experimentYAML string) (*unstructured.Unstructured, string) {
	t.Helper()
	cm := map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "exp-" + sa}, "data": map[string]any{"experiment.yaml": experimentYAML}}
	b, err := yaml.Marshal(cm)
	if err != nil {
		t.Fatal(err)
	}
	apply(t, c, ns, string(b))
	trs := apply(t, c, ns, `apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {generateName: ready-}
spec:
  serviceAccountName: `+sa+`
  taskSpec:
    volumes:
    - {name: exp, configMap: {name: exp-`+sa+`}}
    - {name: out, emptyDir: {}}
    steps:
    - name: ready
      image: `+image(t, "ready")+`
      command: [/ko-app/ready]
      args: [-f, /exp/experiment.yaml, -dir, /out]
      volumeMounts: [{name: exp, mountPath: /exp}, {name: out, mountPath: /out}]
`)
	name := trs[0].GetName()
	gvr := schema.GroupVersionResource{Group: "tekton.dev", Version: "v1", Resource: "taskruns"}
	var tr *unstructured.Unstructured
	waitFor(t, 3*time.Minute, "TaskRun "+name, func() (bool, string) {
		var err error
		tr, err = c.Dynamic.Resource(gvr).Namespace(ns).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		conds, _, _ := unstructured.NestedSlice(tr.Object, "status", "conditions")
		for _, cond := range conds {
			m := cond.(map[string]any)
			if m["type"] == "Succeeded" && m["status"] != "Unknown" {
				return true, ""
			}
			return false, fmt.Sprintf("%v: %v", m["reason"], m["message"])
		}
		return false, "no condition yet"
	})
	pod, _, _ := unstructured.NestedString(tr.Object, "status", "podName")
	logs, err := c.Kube.CoreV1().Pods(ns).GetLogs(pod, &corev1.PodLogOptions{Container: "step-ready"}).Do(context.Background()).Raw()
	if err != nil && !apierrors.IsNotFound(err) {
		t.Logf("logs of %s: %v", pod, err)
	}
	return tr, string(bytes.TrimSpace(logs))
}

func succeeded(tr *unstructured.Unstructured) (bool, string) {
	conds, _, _ := unstructured.NestedSlice(tr.Object, "status", "conditions")
	for _, cond := range conds {
		m := cond.(map[string]any)
		if m["type"] == "Succeeded" {
			return m["status"] == "True", fmt.Sprintf("%v: %v", m["reason"], m["message"])
		}
	}
	return false, "no Succeeded condition"
}

func TestReadyInATaskRun(t *testing.T) {
	c, ns := cluster(t)
	sampleApps(t, c, ns)
	step(t, "a ServiceAccount that may read Deployments, Services and EndpointSlices")
	apply(t, c, ns, `apiVersion: v1
kind: ServiceAccount
metadata: {name: reader}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: ready-reader}
rules:
- {apiGroups: [apps], resources: [deployments], verbs: [get, list, watch]}
- {apiGroups: [""], resources: [services, pods], verbs: [get, list, watch]}
- {apiGroups: [discovery.k8s.io], resources: [endpointslices], verbs: [get, list, watch]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: ready-reader}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: ready-reader}
subjects: [{kind: ServiceAccount, name: reader}]
`)
	step(t, "run ready in a TaskRun: deploy httpbin, service httpbin")
	tr, logs := taskRun(t, c, ns, "reader", "tasks: [ready]\nready: {deploy: httpbin, service: httpbin, timeout: 120s}\n")
	if ok, why := succeeded(tr); !ok {
		t.Fatalf("TaskRun did not succeed: %s\nstep log:\n%s", why, logs)
	}
	for _, want := range []string{"ready: waiting for deployment " + ns + "/httpbin to be Available", "ready: service " + ns + "/httpbin is ready"} {
		if !strings.Contains(logs, want) {
			t.Errorf("step log lacks %q:\n%s", want, logs)
		}
	}
}

func TestReadyWithoutRBACFailsFast(t *testing.T) {
	c, ns := cluster(t)
	sampleApps(t, c, ns)
	apply(t, c, ns, `{apiVersion: v1, kind: ServiceAccount, metadata: {name: nobody}}`)
	step(t, "run ready in a TaskRun as a ServiceAccount that may not read Deployments")
	start := time.Now()
	tr, logs := taskRun(t, c, ns, "nobody", "tasks: [ready]\nready: {deploy: httpbin, timeout: 120s}\n")
	took := time.Since(start)
	if ok, _ := succeeded(tr); ok {
		t.Fatalf("TaskRun succeeded without permission to read Deployments; log:\n%s", logs)
	}
	want := `deployments.apps is forbidden: User "system:serviceaccount:` + ns + `:nobody" cannot list resource "deployments" in API group "apps" in the namespace "` + ns + `"; grant get, list and watch on deployments.apps to the step's ServiceAccount`
	if !strings.Contains(logs, want) {
		t.Errorf("step log lacks the RBAC error %q:\n%s", want, logs)
	}
	if took > 90*time.Second {
		t.Errorf("failing took %v: it waited instead of failing fast (timeout 120s)", took)
	}
}

// TestAutoxRunReadyHTTPAssess is the seed's HTTP experiment with its ready
// task, run by `autox run` from the host against the httpbin Service's
// cluster IP.
func TestAutoxRunReadyHTTPAssess(t *testing.T) {
	c, ns := cluster(t)
	sampleApps(t, c, ns)
	svc, err := c.Kube.CoreV1().Services(ns).Get(context.Background(), "httpbin", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + svc.Spec.ClusterIP + ":80"
	dir := t.TempDir()
	exp := filepath.Join(dir, "experiment.yaml")
	clitest.WriteFile(t, exp, `tasks: [ready, http, assess]
ready: {deploy: httpbin, service: httpbin, namespace: `+ns+`, timeout: 120s}
http:
  numRequests: 50
  qps: unlimited
  endpoints:
    get: {url: `+base+`/get}
    post: {url: `+base+`/post, payloadStr: hello}
assess:
  SLOs:
    upper: {http-get/error-count: 0, http-post/error-count: 0, http-get/latency-mean: 500}
`)
	// No wait for kube-proxy here: ready's service wait ends only when the
	// Service's cluster IP takes connections, so the http step right after
	// it must not see a refused connection (error-count 0 below).
	step(t, "autox run -f experiment.yaml (ready, http, assess) against %s", base)
	var out, errs bytes.Buffer
	r, err := steps(t).Run(context.Background(), localrun.Config{ExperimentFile: exp, OutDir: filepath.Join(dir, "out"), Output: "text", FailOnViolation: true, Kubeconfig: kubeconfig()}, &out, &errs)
	if err != nil {
		t.Fatalf("autox run: %v\n%s", err, out.String())
	}
	if !r.Completed || !r.SLOsSatisfied || r.Metrics["http-get/request-count"] != 50 || r.Metrics["http-post/request-count"] != 50 {
		t.Errorf("result completed=%t slos=%t get=%v post=%v; want true true 50 50\n%s", r.Completed, r.SLOsSatisfied,
			r.Metrics["http-get/request-count"], r.Metrics["http-post/request-count"], out.String())
	}
	if !strings.Contains(out.String(), "  Total number of tasks: 3\n  Number of completed tasks: 3\n") {
		t.Errorf("report does not count 3 completed tasks:\n%s", out.String())
	}
}
