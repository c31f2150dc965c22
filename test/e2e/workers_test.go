// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/autox-tekton/autox/internal/kube"
	httpbin "github.com/autox-tekton/autox/test/apps/httpbin/app"
)

// waitRun waits up to 5 minutes for the run to end and returns its
// Succeeded condition.
func waitRun(t *testing.T, c *kube.Clients, name string) (succeeded bool, reason, message string) {
	t.Helper()
	waitFor(t, 5*time.Minute, "PipelineRun "+name, func() (bool, string) {
		obj, err := c.Dynamic.Resource(pipelineRunsGVR).Namespace(autoxNS).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		var status string
		status, reason, message = condition(obj)
		succeeded = status == "True"
		return status == "True" || status == "False", fmt.Sprintf("%s %s: %s", status, reason, message)
	})
	t.Logf("e2e: PipelineRun %s: %s: %s", name, reason, message)
	return succeeded, reason, message
}

// loadTaskRuns are the run's load TaskRuns by worker index.
func loadTaskRuns(t *testing.T, c *kube.Clients, name string) map[string]*unstructured.Unstructured {
	t.Helper()
	trs, err := c.Dynamic.Resource(taskRunsGVR).Namespace(autoxNS).List(context.Background(), metav1.ListOptions{LabelSelector: "tekton.dev/pipelineRun=" + name + ",tekton.dev/pipelineTask=load"})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*unstructured.Unstructured{}
	for i := range trs.Items {
		params, _, _ := unstructured.NestedSlice(trs.Items[i].Object, "spec", "params")
		for _, p := range params {
			m, _ := p.(map[string]any)
			if m["name"] == "worker" {
				out[fmt.Sprint(m["value"])] = &trs.Items[i]
			}
		}
	}
	return out
}

// httpbinArrivals asks httpbin, through its Service, when each path's
// requests arrived.
func httpbinArrivals(t *testing.T, c *kube.Clients) map[string]httpbin.Arrivals {
	t.Helper()
	svc, err := c.Kube.CoreV1().Services(seedNS).Get(context.Background(), "httpbin", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + svc.Spec.ClusterIP + "/arrivals")
	if err != nil {
		t.Fatalf("httpbin /arrivals: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]httpbin.Arrivals
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("httpbin /arrivals said %q: %v", b, err)
	}
	return m
}

// TestWorkers: the Pipeline autox-workers on the test cluster. Four load
// pods (a matrix) send 1002 requests: the server counts 1002, the result
// has 251, 251, 250, 250 by worker and their merged histogram holds all.
// Four pods at 250/s each for 5 s: the server sees 1000/s within 1%, as
// they start together. A load pod deleted while it sends fails the run,
// and the result names its worker.
func TestWorkers(t *testing.T) {
	c := installed(t)
	stamp := time.Now().Format("150405")

	t.Run("count", func(t *testing.T) {
		path := "/anything/workers-count-" + stamp
		name := createRun(t, c, "autox-workers", "workers-count", `tasks: [ready, http, assess]
ready: {deploy: httpbin, service: httpbin, timeout: 60s}
http: {workers: 4, numRequests: 1002, qps: 400, connections: 2, url: "http://httpbin.default`+path+`"}
assess: {SLOs: {upper: {http/error-count: 0}}}
`)
		if ok, reason, msg := waitRun(t, c, name); !ok {
			t.Fatalf("PipelineRun %s: %s: %s\n%s", name, reason, msg, tknLogs(t, name))
		}
		trs := loadTaskRuns(t, c, name)
		if len(trs) != 4 {
			t.Fatalf("%d load TaskRuns, want 4 (one per worker)", len(trs))
		}
		// A load pod: only its parts steps hold the token.
		pod, _, _ := unstructured.NestedString(trs["3"].Object, "status", "podName")
		p, err := c.Kube.CoreV1().Pods(autoxNS).Get(context.Background(), pod, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		withToken := map[string]bool{}
		for _, ctr := range append(p.Spec.InitContainers, p.Spec.Containers...) {
			for _, m := range ctr.VolumeMounts {
				if m.MountPath == "/var/run/secrets/kubernetes.io/serviceaccount" {
					withToken[ctr.Name] = true
				}
			}
		}
		if want := map[string]bool{"step-gather": true, "step-keep": true}; fmt.Sprint(withToken) != fmt.Sprint(want) {
			t.Errorf("load pod %s: containers with the token %v, want %v (the load steps hold none)", pod, withToken, want)
		}
		if got := httpbinArrivals(t, c)[path].Count; got != 1002 {
			t.Errorf("httpbin counted %d requests on %s, want 1002", got, path)
		}
		r := storedResult(t, c, name)
		if len(r.Endpoints) != 1 {
			t.Fatalf("result endpoints %+v, want one", r.Endpoints)
		}
		ep := r.Endpoints[0]
		var rows []int64
		for _, w := range ep.Workers {
			rows = append(rows, w.RequestCount)
		}
		if ep.RequestCount != 1002 || !slices.Equal(rows, []int64{251, 251, 250, 250}) {
			t.Errorf("result: %d requests, by worker %v; want 1002 as 251, 251, 250, 250", ep.RequestCount, rows)
		}
		// The Dashboard names each load pod by its worker.
		obj, err := c.Dynamic.Resource(pipelineRunsGVR).Namespace(autoxNS).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var shown []string
		children, _, _ := unstructured.NestedSlice(obj.Object, "status", "childReferences")
		for _, ch := range children {
			m, _ := ch.(map[string]any)
			if d, _ := m["displayName"].(string); strings.HasPrefix(d, "Load, worker") {
				shown = append(shown, d)
			}
		}
		slices.Sort(shown)
		if want := []string{"Load, worker 1", "Load, worker 2", "Load, worker 3", "Load, worker 4"}; !slices.Equal(shown, want) {
			t.Errorf("the run's load children are shown as %q; want %q", shown, want)
		}
		keep, _ := kubectl(t, "", "-n", autoxNS, "logs", pod, "-c", "step-keep")
		if want := "kept part w3 in ConfigMap autox/" + name + "-w3: http-w3.metrics.json"; !strings.Contains(keep, want) {
			t.Errorf("worker 3's keep step said %q; want %q", keep, want)
		}
		t.Logf("e2e: 4 workers, 1002 requested: httpbin counted 1002, result %d (%v)", ep.RequestCount, rows)
	})

	t.Run("rate", func(t *testing.T) {
		path := "/anything/workers-rate-" + stamp
		name := createRun(t, c, "autox-workers", "workers-rate", `tasks: [ready, http, assess]
ready: {deploy: httpbin, service: httpbin, timeout: 60s}
http: {workers: 4, qps: 1000, duration: 5s, connections: 8, url: "http://httpbin.default`+path+`"}
assess: {SLOs: {upper: {http/error-count: 0}}}
`)
		if ok, reason, msg := waitRun(t, c, name); !ok {
			t.Fatalf("PipelineRun %s: %s: %s\n%s", name, reason, msg, tknLogs(t, name))
		}
		a := httpbinArrivals(t, c)[path]
		// The shared start-at the ready task planned; how late the first
		// request came after it (the pods start together).
		trs, err := c.Dynamic.Resource(taskRunsGVR).Namespace(autoxNS).List(context.Background(), metav1.ListOptions{LabelSelector: "tekton.dev/pipelineRun=" + name + ",tekton.dev/pipelineTask=ready"})
		if err != nil || len(trs.Items) != 1 {
			t.Fatalf("the ready TaskRun of %s: %v", name, err)
		}
		startAt, err := time.Parse(time.RFC3339, taskRunResults(&trs.Items[0])["start-at"])
		if err != nil {
			t.Fatalf("the ready task's start-at: %v", err)
		}
		// The rate the server saw in the run's steady middle, seconds 1
		// to 4 after start-at (whole ticks: start-at has whole seconds),
		// so that neither the first requests' connection set-up nor the
		// last ones' answers on a busy node move it.
		mid := a.Between(startAt.Add(time.Second), startAt.Add(4*time.Second))
		rate := float64(mid) / 3
		skew := a.First.Sub(startAt)
		t.Logf("e2e: 4 workers x 250/s for 5s: httpbin saw %d requests, the first %s after start-at, the last %.3fs after it; %d in seconds 1 to 4: %.1f/s",
			a.Count, skew.Round(time.Millisecond), a.Last.Sub(startAt).Seconds(), mid, rate)
		if a.Count != 5000 || math.Abs(rate-1000) > 10 || skew < 0 || skew > 500*time.Millisecond {
			var starts []string
			for w, tr := range loadTaskRuns(t, c, name) {
				pod, _, _ := unstructured.NestedString(tr.Object, "status", "podName")
				out, _ := kubectl(t, "", "-n", autoxNS, "logs", pod, "-c", "step-http")
				starts = append(starts, "worker "+w+": "+strings.SplitN(out, "\n", 3)[0])
			}
			t.Errorf("httpbin saw %d requests, %.1f/s in seconds 1 to 4 after start-at, the first %s after it; want 5000, 1000/s +-1%%, the first within 0.5s\n%s",
				a.Count, rate, skew, strings.Join(starts, "\n"))
		}
	})

	t.Run("a killed worker", func(t *testing.T) {
		name := createRun(t, c, "autox-workers", "workers-killed", `tasks: [ready, http, assess]
ready: {deploy: httpbin, service: httpbin, timeout: 60s}
http: {workers: 3, qps: 30, duration: 40s, url: "http://httpbin.default/anything/workers-killed-`+stamp+`"}
assess: {SLOs: {upper: {http/error-count: 0}}}
`)
		var pod string
		waitFor(t, 3*time.Minute, "worker 2's pod to send", func() (bool, string) {
			tr := loadTaskRuns(t, c, name)["2"]
			if tr == nil {
				return false, "no TaskRun for worker 2 yet"
			}
			pod, _, _ = unstructured.NestedString(tr.Object, "status", "podName")
			steps, _, _ := unstructured.NestedSlice(tr.Object, "status", "steps")
			for _, s := range steps {
				m, _ := s.(map[string]any)
				if _, running := m["running"]; running && m["name"] == "http" {
					return true, ""
				}
			}
			return false, "its http step is not running yet"
		})
		step(t, "delete worker 2's pod %s while it sends", pod)
		if out, err := kubectl(t, "", "-n", autoxNS, "delete", "pod", pod, "--wait=false"); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		ok, reason, msg := waitRun(t, c, name)
		if ok {
			t.Fatalf("PipelineRun %s succeeded with a worker's pod deleted", name)
		}
		r := storedResult(t, c, name)
		want := "http: worker 2 of 3 wrote no metrics (its pod failed or never ran)"
		if !slices.Contains(r.FailureReasons, want) {
			t.Errorf("result failure reasons %q; want %q (%s: %s)", r.FailureReasons, want, reason, msg)
		}
		t.Logf("e2e: worker 2's pod deleted: run %s (%s), result says %q", reason, msg, r.FailureReasons)
	})
}

// TestTriggerWorkers: a group whose experiment has http.workers runs
// autox-workers when its Deployment is labelled: the interceptor picks the
// Pipeline from the experiment, the run sends each endpoint's 200
// requests from two load pods, 100 each, and passes; the load pods prefer
// different nodes (one node here: both run on it).
func TestTriggerWorkers(t *testing.T) {
	c := triggersUp(t)
	const indent = "\n              "
	tr := strings.Replace(example(t, "httpbin"), indent+"numRequests: 200", indent+"numRequests: 200"+indent+"workers: 2", 1)
	if !strings.Contains(tr, "workers: 2") {
		t.Fatal("the example Trigger's experiment has no numRequests: 200 to add workers beside")
	}
	trigger(t, c, "httpbin", tr)
	label(t, "httpbin", "5.0.0")
	t.Cleanup(func() { unlabel(t, "httpbin") })
	runs := waitRuns(t, c, "httpbin", 1, 60*time.Second)
	name := runs[0].GetName()
	if ref, _, _ := unstructured.NestedString(runs[0].Object, "spec", "pipelineRef", "name"); ref != "autox-workers" {
		t.Fatalf("run %s runs Pipeline %q; want autox-workers, as the experiment has http.workers: 2", name, ref)
	}
	if ok, reason, msg := waitRun(t, c, name); !ok {
		t.Fatalf("PipelineRun %s: %s: %s\n%s", name, reason, msg, tknLogs(t, name))
	}
	trs := loadTaskRuns(t, c, name)
	if len(trs) != 2 {
		t.Errorf("%d load TaskRuns, want 2 (one per worker)", len(trs))
	}
	// Each load pod prefers a node without the run's other load pods.
	for w, tr := range trs {
		pod, _, _ := unstructured.NestedString(tr.Object, "status", "podName")
		p, err := c.Kube.CoreV1().Pods(autoxNS).Get(context.Background(), pod, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var terms []string
		if a := p.Spec.Affinity; a != nil && a.PodAntiAffinity != nil {
			for _, term := range a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution {
				terms = append(terms, fmt.Sprintf("%s %v", term.PodAffinityTerm.TopologyKey, term.PodAffinityTerm.LabelSelector.MatchLabels))
			}
		}
		if want := fmt.Sprintf("kubernetes.io/hostname %v", map[string]string{"tekton.dev/pipelineRun": name, "tekton.dev/pipelineTask": "load"}); !slices.Equal(terms, []string{want}) {
			t.Errorf("worker %s's pod %s prefers to avoid %q; want %q", w, pod, terms, want)
		}
	}
	r := storedResult(t, c, name)
	if len(r.Endpoints) != 3 {
		t.Fatalf("result endpoints %+v, want the example's three", r.Endpoints)
	}
	for _, ep := range r.Endpoints {
		var rows []int64
		for _, w := range ep.Workers {
			rows = append(rows, w.RequestCount)
		}
		if ep.RequestCount != 200 || !slices.Equal(rows, []int64{100, 100}) {
			t.Errorf("endpoint %s: %d requests, by worker %v; want 200 as 100, 100", ep.Prefix, ep.RequestCount, rows)
		}
	}
	t.Logf("e2e: the trigger ran %s on autox-workers: 3 endpoints of 200 requests, 100 from each of 2 pods", name)
}
