// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

//go:build e2e

package e2e

// The trigger decides from the cluster, not from what it is told (issue
// 18): forged events and requests, foreign runs, pruned runs, restarts,
// many groups, relabel storms. Each test moves as a user or a hostile
// neighbour would, and checks the PipelineRuns through the API server.

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/autox-tekton/autox/internal/contract"
	"github.com/autox-tekton/autox/internal/kube"
)

// eventBody is the watcher's event about Deployment name in the seed's
// namespace, claiming version (which the object need not carry).
func eventBody(t *testing.T, c *kube.Clients, name, version string) []byte {
	t.Helper()
	d, err := c.Kube.AppsV1().Deployments(seedNS).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(contract.Event{Type: contract.Update, Trigger: contract.GroupName(name, "iter8"), Object: contract.ObjectRef{
		APIVersion: "apps/v1", Kind: "Deployment",
		Metadata: contract.Meta{Name: name, Namespace: seedNS, UID: string(d.UID), ResourceVersion: d.ResourceVersion,
			Labels: map[string]string{contract.VersionLabel: version}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// serviceURL is a Service's cluster address (reachable from this machine
// through kube-proxy, as from a pod).
func serviceURL(t *testing.T, c *kube.Clients, name string, port int) string {
	t.Helper()
	svc, err := c.Kube.CoreV1().Services(systemNS).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return net.JoinHostPort(svc.Spec.ClusterIP, strconv.Itoa(port))
}

// notCancelled fails when the run has been asked to stop.
func notCancelled(t *testing.T, c *kube.Clients, name, why string) {
	t.Helper()
	obj, err := c.Dynamic.Resource(pipelineRunsGVR).Namespace(autoxNS).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if spec, _, _ := unstructured.NestedString(obj.Object, "spec", "status"); spec != "" {
		t.Fatalf("run %s has spec.status %q after %s; want it left alone", name, spec, why)
	}
}

// going are the runs neither done nor asked to stop.
func going(runs []unstructured.Unstructured) []unstructured.Unstructured {
	var out []unstructured.Unstructured
	for _, r := range runs {
		status, _, _ := condition(&r)
		spec, _, _ := unstructured.NestedString(r.Object, "spec", "status")
		if status != "True" && status != "False" && spec == "" {
			out = append(out, r)
		}
	}
	return out
}

// restart deletes the pods of a Deployment in autox and waits for its
// rollout; it returns when the new pods are Ready.
func restart(t *testing.T, deploy string) time.Time {
	t.Helper()
	step(t, "delete the pods of %s; its Deployment makes new ones", deploy)
	if out, err := kubectl(t, "", "-n", systemNS, "delete", "pod", "-l", "app.kubernetes.io/name="+deploy, "--wait=false"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	waitRolledOut(t, deploy)
	return time.Now()
}

// waitRolledOut waits until every replica of the Deployment is a new,
// Ready pod.
func waitRolledOut(t *testing.T, deploy string) {
	t.Helper()
	time.Sleep(time.Second)
	if out, err := kubectl(t, "", "-n", systemNS, "rollout", "status", "deploy/"+deploy, "--timeout=180s"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	waitFor(t, 120*time.Second, deploy+"'s pods Ready, none terminating", func() (bool, string) {
		out, _ := kubectl(t, "", "-n", systemNS, "get", "pods", "-l", "app.kubernetes.io/name="+deploy,
			"-o", `jsonpath={range .items[*]}{.metadata.name} {.metadata.deletionTimestamp} {.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}`)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		for _, l := range lines {
			f := strings.Fields(l)
			if len(f) != 2 || f[1] != "True" {
				return false, out
			}
		}
		return len(lines) == 2, out
	})
}

// TestTriggerDecidesFromState: what an event claims, what runs exist and
// what a neighbour forges change nothing; the cluster's object and
// autox's record decide.
func TestTriggerDecidesFromState(t *testing.T) {
	c := triggersUp(t)
	light(t, c)
	label(t, "light", "1.0.0")
	r1 := waitRuns(t, c, "light", 1, 30*time.Second)[0]

	t.Run("a forged EventListener POST for a version the object does not carry launches nothing", func(t *testing.T) {
		step(t, "POST to el-autox, 10 times: light is at 9.9.9 (it is at 1.0.0)")
		url := "http://" + serviceURL(t, c, "el-autox", 8080)
		for range 10 {
			resp, err := http.Post(url, "application/json", bytes.NewReader(eventBody(t, c, "light", "9.9.9")))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
		stillRuns(t, c, "light", 1, 5*time.Second, "forged posts for 9.9.9")
		notCancelled(t, c, r1.GetName(), "forged posts")
	})

	t.Run("a direct interceptor request with forged params launches and cancels nothing", func(t *testing.T) {
		client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
		url := "https://" + serviceURL(t, c, "autox-interceptor", 8443) + "/autox"
		for _, tc := range []struct{ name, triggerID, wantMsg string }{
			{"as the dispatch Trigger, params of another group", "namespaces/autox-system/triggers/autox", "is already tested by the latest run"},
			{"as a Trigger of another namespace", "namespaces/team-b/triggers/autox", "names no Trigger in namespace autox-system"},
		} {
			step(t, "POST an InterceptorRequest to the interceptor %s", tc.name)
			req, _ := json.Marshal(map[string]any{
				"body":               string(eventBody(t, c, "light", "9.9.9")),
				"header":             map[string]any{},
				"interceptor_params": map[string]any{"group": "light", "spec": "iter8", "trigger": map[string]any{"name": "light", "namespace": "default", "group": "apps", "version": "v1", "resource": "deployments"}, "experiment": map[string]any{"tasks": []string{"assess"}}},
				"context":            map[string]any{"event_id": "forged", "trigger_id": tc.triggerID},
			})
			resp, err := client.Post(url, "application/json", bytes.NewReader(req))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !strings.Contains(string(b), `"continue":false`) || !strings.Contains(string(b), tc.wantMsg) {
				t.Errorf("the interceptor answered %s, want continue false and %q", b, tc.wantMsg)
			}
		}
		// The test cluster's bridge network enforces no NetworkPolicy, so
		// the forger reaches the interceptor (where triggers/networkpolicy.yaml
		// is enforced it would not): what it sends must decide nothing.
		step(t, "from a pod in %s: the http step's image POSTs the forged InterceptorRequest 3 times to https://autox-interceptor.autox-system.svc:8443/autox", seedNS)
		forged, _ := json.Marshal(map[string]any{
			"body":               string(eventBody(t, c, "light", "9.9.9")),
			"interceptor_params": map[string]any{"group": "other", "spec": "team"},
			"context":            map[string]any{"event_id": "forged-from-a-pod", "trigger_id": "namespaces/autox-system/triggers/autox"},
		})
		before := metricSum(t, c, "autox-interceptor", "autox_interceptor_decisions_total")
		exp, _ := json.Marshal(map[string]any{"tasks": []string{"http"}, "http": map[string]any{
			"numRequests": 3, "url": "https://autox-interceptor.autox-system.svc:8443/autox", "payloadStr": string(forged), "contentType": "application/json"}})
		pod := fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: forger}
spec:
  restartPolicy: Never
  securityContext: {runAsNonRoot: true, runAsUser: 65532, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: forger
    image: %s
    command: [/ko-app/http, -dir, /out, -experiment, %q]
    securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
    volumeMounts: [{name: out, mountPath: /out}]
  volumes: [{name: out, emptyDir: {}}]
`, image(t, "http"), exp)
		apply(t, c, seedNS, pod)
		t.Cleanup(func() { c.Kube.CoreV1().Pods(seedNS).Delete(context.Background(), "forger", metav1.DeleteOptions{}) })
		waitFor(t, 60*time.Second, "the forger pod done", func() (bool, string) {
			p, err := c.Kube.CoreV1().Pods(seedNS).Get(context.Background(), "forger", metav1.GetOptions{})
			if err != nil {
				return false, err.Error()
			}
			return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed, string(p.Status.Phase)
		})
		if out, _ := kubectl(t, "", "-n", seedNS, "logs", "forger"); !strings.Contains(out, "3 requests") && !strings.Contains(out, "200") {
			t.Logf("the forger's log:\n%s", out)
		}
		if got := metricSum(t, c, "autox-interceptor", "autox_interceptor_decisions_total") - before; got < 3 {
			t.Errorf("the interceptor answered %.0f calls after the forger's 3 posts; want them to reach it", got)
		}
		stillRuns(t, c, "light", 1, 3*time.Second, "forged interceptor requests")
		notCancelled(t, c, r1.GetName(), "forged interceptor requests")
	})

	t.Run("a PipelineRun in another namespace with autox labels and a future decided-at changes no decision", func(t *testing.T) {
		step(t, "create a PipelineRun in %s labelled as light's run of 2.0.0, decided in 2030", seedNS)
		// Its Pipeline does not exist: Tekton fails it at once, and no pod runs.
		const foreign = `apiVersion: tekton.dev/v1
kind: PipelineRun
metadata:
  generateName: autox-light-iter8-
  labels: {autox.dev/group: light, autox.dev/spec: iter8, autox.dev/version: "2.0.0"}
  annotations: {autox.dev/decided-at: "2030-01-01T00:00:00Z", autox.dev/seq: "999"}
spec:
  pipelineRef: {name: not-autox}
`
		made := apply(t, c, seedNS, foreign)[0]
		t.Cleanup(func() {
			c.Dynamic.Resource(pipelineRunsGVR).Namespace(seedNS).Delete(context.Background(), made.GetName(), metav1.DeleteOptions{})
		})
		label(t, "light", "2.0.0")
		runs := waitRuns(t, c, "light", 2, 30*time.Second)
		if v := version(runs[1]); v != "2.0.0" {
			t.Fatalf("run %s tests %s, want 2.0.0", runs[1].GetName(), v)
		}
		waitCancelled(t, c, r1.GetName())
		obj, err := c.Dynamic.Resource(pipelineRunsGVR).Namespace(seedNS).Get(context.Background(), made.GetName(), metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if spec, _, _ := unstructured.NestedString(obj.Object, "spec", "status"); spec != "" {
			t.Errorf("the foreign run was touched: spec.status %q", spec)
		}
	})

	t.Run("label removed and put back at the same version: a new run", func(t *testing.T) {
		runs := runsOf(t, c, "light")
		last := runs[len(runs)-1]
		unlabel(t, "light")
		waitCancelled(t, c, last.GetName())
		label(t, "light", version(last))
		runs = waitRuns(t, c, "light", len(runs)+1, 30*time.Second)
		if v := version(runs[len(runs)-1]); v != version(last) {
			t.Errorf("run %s tests %s, want %s again", runs[len(runs)-1].GetName(), v, version(last))
		}
	})

	t.Run("every run of the group deleted, then a watcher restart: nothing launched", func(t *testing.T) {
		runs := runsOf(t, c, "light")
		waitDone(t, c, runs[len(runs)-1].GetName(), 3*time.Minute)
		step(t, "delete every run of light, as Tekton's pruner would")
		if out, err := kubectl(t, "", "-n", autoxNS, "delete", "pipelineruns", "-l", "autox.dev/group=light", "--cascade=foreground", "--wait=true"); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		restart(t, "autox-watcher")
		stillRuns(t, c, "light", 0, 10*time.Second, "deleting every run and restarting the watcher")
	})

	t.Run("Deployment deleted and made again at the same version: a new run", func(t *testing.T) {
		label(t, "light", "1.0.0")
		runs := waitRuns(t, c, "light", 1, 30*time.Second)
		waitDone(t, c, runs[0].GetName(), 3*time.Minute)
		step(t, "delete deploy/light after its run of 1.0.0 ended, and make it again at 1.0.0")
		if out, err := kubectl(t, "", "-n", seedNS, "delete", "deploy/light", "--wait=true"); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		stillRuns(t, c, "light", 1, 2*time.Second, "deleting the Deployment")
		if err := applyRetrying(t, 30*time.Second, "-n", seedNS, "-f", writeTemp(t, seedApp(image(t, "httpbin"), "light", 8080, 80, ""))); err != nil {
			t.Fatal(err)
		}
		runs = waitRuns(t, c, "light", 2, 30*time.Second)
		if v := version(runs[1]); v != "1.0.0" {
			t.Errorf("run %s tests %s, want 1.0.0 of the new Deployment", runs[1].GetName(), v)
		}
	})

	t.Run("interceptor pods deleted and a version labelled at once: launched within 10 s of it being Ready", func(t *testing.T) {
		n := len(runsOf(t, c, "light"))
		step(t, "delete both interceptor pods and label light 5.0.0 at once")
		if out, err := kubectl(t, "", "-n", systemNS, "delete", "pod", "-l", "app.kubernetes.io/name=autox-interceptor", "--wait=false"); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		label(t, "light", "5.0.0")
		waitRolledOut(t, "autox-interceptor")
		ready := time.Now()
		runs := waitRuns(t, c, "light", n+1, 30*time.Second)
		took := time.Since(ready)
		if v := version(runs[n]); v != "5.0.0" {
			t.Errorf("run %s tests %s, want 5.0.0", runs[n].GetName(), v)
		}
		t.Logf("e2e: a version labelled while the interceptor restarted: its run %.1fs after the interceptor was Ready", took.Seconds())
		if took > 10*time.Second {
			t.Errorf("the run of 5.0.0 came %s after the interceptor was Ready; want within 10s", took)
		}
	})
}

// metricSum sums a counter over the pods of a Deployment in autox, read
// from each pod's /metrics (pod IPs are reachable from this machine).
func metricSum(t *testing.T, c *kube.Clients, deploy, metric string) float64 {
	t.Helper()
	pods, err := c.Kube.CoreV1().Pods(systemNS).List(context.Background(), metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=" + deploy})
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, p := range pods.Items {
		if p.Status.PodIP == "" || p.DeletionTimestamp != nil {
			continue
		}
		resp, err := http.Get("http://" + net.JoinHostPort(p.Status.PodIP, "9090") + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, line := range strings.Split(string(b), "\n") {
			if !strings.HasPrefix(line, metric) {
				continue
			}
			f := strings.Fields(line)
			v, err := strconv.ParseFloat(f[len(f)-1], 64)
			if err == nil {
				sum += v
			}
		}
	}
	return sum
}

// TestTriggerManyGroups: with 200 groups on the EventListener a label
// still becomes a PipelineRun fast, and a watcher restart costs O(groups)
// interceptor calls, not O(groups²).
func TestTriggerManyGroups(t *testing.T) {
	c := triggersUp(t)
	light(t, c)
	const others = 199
	step(t, "apply %d more groups' Triggers (200 in all), each naming a Deployment of its own", others)
	var docs []string
	for i := range others {
		docs = append(docs, fmt.Sprintf(`apiVersion: triggers.tekton.dev/v1beta1
kind: Trigger
metadata: {name: autox-g%[1]d-iter8, namespace: autox-system, labels: {autox.dev/group: g%[1]d, autox.dev/spec: iter8, e2e: many}}
spec:
  interceptors:
  - name: autox
    ref: {name: autox, kind: ClusterInterceptor}
    params:
    - {name: group, value: g%[1]d}
    - {name: spec, value: iter8}
    - {name: trigger, value: {name: g%[1]d, namespace: default, group: apps, version: v1, resource: deployments}}
    - {name: experiment, value: {tasks: [assess]}}
  bindings: [{ref: autox}]
  template: {ref: autox}
`, i))
	}
	if err := applyRetrying(t, 60*time.Second, "-f", writeTemp(t, strings.Join(docs, "---\n"))); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { kubectl(t, "", "-n", systemNS, "delete", "trigger", "-l", "e2e=many", "--wait=false") })
	time.Sleep(3 * time.Second)

	lat := labelLatencies(t, c, "light", 200, 20, 500*time.Millisecond)
	sorted := slices.Clone(lat)
	slices.Sort(sorted)
	p50 := (sorted[9] + sorted[10]) / 2
	p99 := sorted[19]
	t.Logf("e2e: label to PipelineRun with 200 groups, 20 changes: p50 %.3fs, p99 (max) %.3fs", p50.Seconds(), p99.Seconds())
	if p50 > 500*time.Millisecond || p99 > 2*time.Second {
		t.Errorf("label to PipelineRun with 200 groups: p50 %s, p99 %s; want under 0.5s and 2s", p50, p99)
	}

	before := metricSum(t, c, "autox-interceptor", "autox_interceptor_decisions_total")
	restart(t, "autox-watcher")
	time.Sleep(10 * time.Second)
	calls := metricSum(t, c, "autox-interceptor", "autox_interceptor_decisions_total") - before
	t.Logf("e2e: a watcher restart with 200 groups cost %.0f interceptor calls", calls)
	if calls > 3*200 {
		t.Errorf("a watcher restart with 200 groups cost %.0f interceptor calls; want at most 600", calls)
	}
}

// TestTriggerRelabelStorm: 20 relabels 300 ms apart leave one run going,
// the latest version's, and no pod Pending (Tekton's cancel race).
func TestTriggerRelabelStorm(t *testing.T) {
	c := triggersUp(t)
	light(t, c)
	for i := range 20 {
		label(t, "light", fmt.Sprintf("%d.0.0", 300+i))
		time.Sleep(300 * time.Millisecond)
	}
	var last unstructured.Unstructured
	waitFor(t, 60*time.Second, "one run going, of 319.0.0", func() (bool, string) {
		runs := runsOf(t, c, "light")
		g := going(runs)
		if len(runs) > 0 {
			last = runs[len(runs)-1]
		}
		return len(g) <= 1 && len(runs) > 0 && version(last) == "319.0.0", describe(g)
	})
	waitDone(t, c, last.GetName(), 3*time.Minute)
	runs := runsOf(t, c, "light")
	seen := map[string]int{}
	for _, r := range runs {
		seen[version(r)]++
	}
	for v, n := range seen {
		if n > 1 {
			t.Errorf("version %s has %d runs: %s", v, n, describe(runs))
		}
	}
	step(t, "no pod of light's runs left Pending (the reaper checks 2s and 10s after a cancel)")
	waitFor(t, 30*time.Second, "no pod Pending", func() (bool, string) {
		pods, err := c.Kube.CoreV1().Pods(autoxNS).List(context.Background(), metav1.ListOptions{LabelSelector: "tekton.dev/pipelineRun"})
		if err != nil {
			return false, err.Error()
		}
		var pending []string
		for _, p := range pods.Items {
			if strings.HasPrefix(p.Labels["tekton.dev/pipelineRun"], "autox-light-") && p.Status.Phase == corev1.PodPending && p.DeletionTimestamp == nil {
				pending = append(pending, p.Name)
			}
		}
		return len(pending) == 0, strings.Join(pending, ", ")
	})
	t.Logf("e2e: 20 relabels 300ms apart made %d runs, %d going at the end; pods Tekton left going and the interceptor deleted so far: %.0f",
		len(runs), len(going(runs)), metricSum(t, c, "autox-interceptor", "autox_interceptor_pods_reaped_total"))
}

// TestTriggerReplicasKilled: each replica of the interceptor and of the
// watcher killed in turn while the label changes: no version launched
// twice, none lost.
func TestTriggerReplicasKilled(t *testing.T) {
	c := triggersUp(t)
	light(t, c)
	kill := func(deploy string, which int) {
		pods, err := c.Kube.CoreV1().Pods(systemNS).List(context.Background(), metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=" + deploy})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, p := range pods.Items {
			if p.DeletionTimestamp == nil {
				names = append(names, p.Name)
			}
		}
		slices.Sort(names)
		if len(names) <= which {
			t.Fatalf("%d pods of %s", len(names), deploy)
		}
		step(t, "kill pod %s of %s", names[which], deploy)
		if out, err := kubectl(t, "", "-n", systemNS, "delete", "pod", names[which], "--grace-period=0", "--force", "--wait=false"); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
	}
	versions := []string{"401.0.0", "402.0.0", "403.0.0", "404.0.0", "405.0.0"}
	label(t, "light", versions[0])
	kill("autox-interceptor", 0)
	label(t, "light", versions[1])
	kill("autox-interceptor", 1)
	label(t, "light", versions[2])
	kill("autox-watcher", 0)
	label(t, "light", versions[3])
	kill("autox-watcher", 1)
	label(t, "light", versions[4])
	var runs []unstructured.Unstructured
	waitFor(t, 120*time.Second, "a run of 405.0.0", func() (bool, string) {
		runs = runsOf(t, c, "light")
		return len(runs) > 0 && version(runs[len(runs)-1]) == "405.0.0", describe(runs)
	})
	seen := map[string]int{}
	for _, r := range runs {
		seen[version(r)]++
	}
	for v, n := range seen {
		if n > 1 {
			t.Errorf("version %s has %d runs: %s", v, n, describe(runs))
		}
	}
	stillRuns(t, c, "light", len(runs), 10*time.Second, "the replicas' restarts")
	if g := going(runsOf(t, c, "light")); len(g) > 1 {
		t.Errorf("%d runs going, want at most 1: %s", len(g), describe(g))
	}
	waitRolledOut(t, "autox-interceptor")
	waitRolledOut(t, "autox-watcher")
}
