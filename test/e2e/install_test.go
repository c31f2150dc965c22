// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

//go:build e2e

// The install as a hostile team member meets it on a shared cluster: the
// admission policy refuses every Trigger and run shape that would give
// more than an experiment has, the network policies select the pods they
// are about, and a load step holds no token to leak.
package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// dryRun creates doc with kubectl create --dry-run=server: admission (the
// policy, Tekton's and Triggers' webhooks) runs, nothing is stored.
func dryRun(t *testing.T, doc string) (string, error) {
	t.Helper()
	return kubectl(t, "", "create", "--dry-run=server", "-o", "name", "-f", writeTemp(t, doc))
}

// TestAdmissionPolicy: each forbidden Trigger and run shape is refused by
// the ValidatingAdmissionPolicy with a message that says what to change;
// autox's own shapes pass, and other namespaces are not its business.
func TestAdmissionPolicy(t *testing.T) {
	installed(t)
	trigger := func(name, spec string) string {
		return fmt.Sprintf(`apiVersion: triggers.tekton.dev/v1beta1
kind: Trigger
metadata: {name: %s, namespace: autox-system, labels: {autox.dev/group: policy, autox.dev/spec: s}}
spec:
%s`, name, spec)
	}
	const autoxInterceptor = `  interceptors:
  - name: autox
    ref: {name: autox, kind: ClusterInterceptor}
    params: [{name: group, value: policy}, {name: spec, value: s}]
`
	const refs = `  bindings: [{ref: autox}]
  template: {ref: autox}
`
	run := func(ns, spec string) string {
		return fmt.Sprintf(`apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {generateName: policy-, namespace: %s}
spec:
%s`, ns, spec)
	}
	const params = `  params: [{name: experiment, value: "{tasks: [assess]}"}]
`
	for _, tc := range []struct {
		name, doc, want string // want "" means admitted
	}{
		{"autox's Trigger shape", trigger("autox-policy-ok", autoxInterceptor+refs), ""},
		{"a webhook interceptor that would receive every event", trigger("autox-policy-webhook", autoxInterceptor+`  - name: leak
    webhook: {objectRef: {kind: Service, name: collector, apiVersion: v1, namespace: default}}
`+refs), "Trigger autox-system/autox-policy-webhook: spec.interceptors must be exactly one, {name: autox, ref: {name: autox, kind: ClusterInterceptor}, params: [...]}; remove webhook and any other interceptor (autox generate prints the right Trigger)"},
		{"another ClusterInterceptor", trigger("autox-policy-cel", `  interceptors:
  - name: cel
    ref: {name: cel, kind: ClusterInterceptor}
`+refs), "Trigger autox-system/autox-policy-cel: spec.interceptors must be exactly one"},
		{"an inline template that runs any image", trigger("autox-policy-inline", autoxInterceptor+`  bindings: [{ref: autox}]
  template:
    spec:
      resourcetemplates:
      - {apiVersion: tekton.dev/v1, kind: PipelineRun, metadata: {generateName: evil-}, spec: {pipelineRef: {name: autox}}}
`), "Trigger autox-system/autox-policy-inline: spec.template must be {ref: autox}, with no inline spec; autox makes the PipelineRun from its own TriggerTemplate"},
		{"a serviceAccountName", trigger("autox-policy-sa", autoxInterceptor+refs+`  serviceAccountName: autox-interceptor
`), "Trigger autox-system/autox-policy-sa: spec.serviceAccountName is not allowed here; remove it (every autox PipelineRun runs as the ServiceAccount autox)"},
		{"a binding of its own", trigger("autox-policy-binding", autoxInterceptor+`  bindings: [{ref: autox}, {name: extra, value: "$(body.x)"}]
  template: {ref: autox}
`), "Trigger autox-system/autox-policy-binding: spec.bindings must be exactly [{ref: autox}]; the autox interceptor hands the run its params"},

		{"autox's run shape", run(autoxNS, `  pipelineRef: {name: autox}
`+params+`  taskRunTemplate: {serviceAccountName: autox}
`), ""},
		{"a run as the interceptor", run(autoxNS, `  pipelineRef: {name: autox}
`+params+`  taskRunTemplate: {serviceAccountName: autox-interceptor}
`), `runs here run as the ServiceAccount autox, not "autox-interceptor"; set spec.taskRunTemplate.serviceAccountName: autox`},
		{"a run with no ServiceAccount (Tekton's default)", run(autoxNS, `  pipelineRef: {name: autox}
`+params), `runs here run as the ServiceAccount autox, not "default"; set spec.taskRunTemplate.serviceAccountName: autox`},
		{"a run of a pipeline of its own", run(autoxNS, `  pipelineSpec:
    tasks:
    - name: t
      taskSpec: {steps: [{name: s, image: busybox, script: "cat /var/run/secrets/kubernetes.io/serviceaccount/token"}]}
  taskRunTemplate: {serviceAccountName: autox}
`), "runs here run the autox Pipeline (or autox-workers); set spec.pipelineRef: {name: autox}, or the bundles resolver with one of the bundles "},
		{"a run that mounts the token", run(autoxNS, `  pipelineRef: {name: autox}
`+params+`  taskRunTemplate: {serviceAccountName: autox, podTemplate: {automountServiceAccountToken: true}}
`), "podTemplate.automountServiceAccountToken: true is not allowed here; remove it (the Tasks mount a token into the steps that need one)"},
		{"a task as another ServiceAccount", run(autoxNS, `  pipelineRef: {name: autox}
`+params+`  taskRunTemplate: {serviceAccountName: autox}
  taskRunSpecs: [{pipelineTaskName: experiment, serviceAccountName: autox-eventlistener}]
`), "spec.taskRunSpecs may not name another ServiceAccount; remove serviceAccountName there (every task runs as autox)"},
		{"a data workspace that projects the ServiceAccount token", run(autoxNS, `  pipelineRef: {name: autox}
`+params+`  taskRunTemplate: {serviceAccountName: autox}
  workspaces:
  - name: data
    projected: {sources: [{serviceAccountToken: {path: token}}]}
`), "a workspace here is a configMap, an emptyDir or a persistent volume claim, not a projected, csi or secret volume"},
		{"a data workspace of a Secret", run(autoxNS, `  pipelineRef: {name: autox}
`+params+`  taskRunTemplate: {serviceAccountName: autox}
  workspaces: [{name: data, secret: {secretName: autox-notify}}]
`), "a workspace here is a configMap, an emptyDir or a persistent volume claim"},
		{"a data workspace of a ConfigMap", run(autoxNS, `  pipelineRef: {name: autox}
`+params+`  taskRunTemplate: {serviceAccountName: autox}
  workspaces: [{name: data, configMap: {name: payloads}}]
`), ""},
		{"pod template volumes", run(autoxNS, `  pipelineRef: {name: autox}
`+params+`  taskRunTemplate:
    serviceAccountName: autox
    podTemplate: {volumes: [{name: autox-work, projected: {sources: [{serviceAccountToken: {path: token}}]}}]}
`), "podTemplate.volumes is not allowed here; remove it (the Tasks declare their volumes)"},
		{"a TaskRun of a task of its own", `apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {generateName: policy-, namespace: autox}
spec:
  serviceAccountName: autox
  taskSpec: {steps: [{name: s, image: busybox, script: "true"}]}
`, "TaskRuns here run the autox Tasks (autox-experiment, autox-notify, autox-workers-ready, autox-workers-load, autox-workers-assess); set spec.taskRef: {name: autox-experiment}, or the bundles resolver with one of the bundles autox-bundles in autox-system lists (no taskSpec, no other resolver or bundle)"},
		{"a run with workers", run(autoxNS, `  pipelineRef: {name: autox-workers}
`+params+`  taskRunTemplate: {serviceAccountName: autox}
`), ""},
		{"a run of another Pipeline by name", run(autoxNS, `  pipelineRef: {name: autox-other}
`+params+`  taskRunTemplate: {serviceAccountName: autox}
`), "runs here run the autox Pipeline (or autox-workers)"},
		{"another namespace's runs are not autox's business", run(seedNS, `  pipelineRef: {name: other}
  taskRunTemplate: {serviceAccountName: default}
`), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := dryRun(t, tc.doc)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused, want admitted: %v\n%s", err, out)
			case tc.want != "" && err == nil:
				t.Errorf("admitted (%s), want refused with %q", out, tc.want)
			case tc.want != "" && !strings.Contains(out, tc.want):
				t.Errorf("refused with:\n%s\nwant the message %q", out, tc.want)
			case tc.want != "":
				t.Logf("e2e: refused: %s", strings.TrimSpace(out))
			}
		})
	}
}

// TestNetworkPolicies: the NetworkPolicies release.yaml ships pass the
// API server's validation (server dry run) and select the pods they are
// about: the EventListener's, reachable from the watcher's; the
// interceptor's, reachable from the EventListener's. (The test cluster's
// bridge network enforces none: triggers/README.md says what does.)
func TestNetworkPolicies(t *testing.T) {
	c := triggersUp(t)
	root, _ := filepath.Abs("../..")
	if out, err := kubectl(t, "", "apply", "--dry-run=server", "-f", filepath.Join(root, "triggers", "networkpolicy.yaml")); err != nil {
		t.Fatalf("server dry run: %v\n%s", err, out)
	}
	nps, err := c.Kube.NetworkingV1().NetworkPolicies(systemNS).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pods := func(sel *metav1.LabelSelector) []string {
		s, err := metav1.LabelSelectorAsSelector(sel)
		if err != nil {
			t.Fatal(err)
		}
		list, err := c.Kube.CoreV1().Pods(systemNS).List(context.Background(), metav1.ListOptions{LabelSelector: s.String()})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, p := range list.Items {
			if p.Status.Phase == corev1.PodRunning {
				names = append(names, strings.Split(p.Name, "-")[0]+"-"+strings.Split(p.Name, "-")[1])
			}
		}
		return names
	}
	got := map[string]string{}
	for _, np := range nps.Items {
		line := fmt.Sprintf("selects %v;", uniq(pods(&np.Spec.PodSelector)))
		for _, in := range np.Spec.Ingress {
			var ports []string
			for _, p := range in.Ports {
				ports = append(ports, p.Port.String())
			}
			from := "anyone"
			if len(in.From) > 0 {
				from = fmt.Sprint(uniq(pods(in.From[0].PodSelector)))
			}
			line += fmt.Sprintf(" %v from %s;", ports, from)
		}
		got[np.Name] = line
	}
	want := map[string]string{
		"autox-eventlistener": "selects [el-autox]; [8080] from [autox-watcher]; [9000] from anyone;",
		"autox-interceptor":   "selects [autox-interceptor]; [8443] from [el-autox]; [9090] from anyone;",
		"autox-watcher":       "selects [autox-watcher]; [9090] from anyone;",
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("NetworkPolicy %s/%s: %s\nwant %s", systemNS, name, got[name], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("NetworkPolicies in %s: %v, want %d", systemNS, got, len(want))
	}
}

func uniq(s []string) []string {
	var out []string
	for _, x := range s {
		if len(out) == 0 || out[len(out)-1] != x {
			out = append(out, x)
		}
	}
	return out
}

// TestNoTokenInLoadSteps: a run's pod mounts no ServiceAccount token but in
// the steps that talk to the API server (ready, assess); an experiment
// whose http step names the token's path fails with a clear message and
// sends nothing.
func TestNoTokenInLoadSteps(t *testing.T) {
	c := installed(t)
	rcv := newReceiver(t)
	const tokenPath = "/var/run/secrets/kubernetes.io/serviceaccount/token"
	exp := fmt.Sprintf("{tasks: [http, assess], http: {url: %q, numRequests: 5, payloadFile: %s}}", rcv.URL, tokenPath)
	r := runExperiment(t, c, "notoken", exp)
	if r.succeeded {
		t.Fatalf("PipelineRun %s succeeded; want it failed on payloadFile", r.name)
	}
	logs := tknLogs(t, r.name)
	const want = `http.payloadFile: "` + tokenPath + `" cannot be read: this step may read no files (no data workspace is bound); bind the experiment's data workspace and put the file there`
	if !strings.Contains(logs, want) {
		t.Errorf("tkn pipelinerun logs %s has no %q:\n%s", r.name, want, logs)
	}
	rcv.mu.Lock()
	sent := len(rcv.bodies)
	rcv.mu.Unlock()
	if sent != 0 {
		t.Errorf("the experiment's URL received %d requests, want 0", sent)
	}

	pod, _, _ := unstructured.NestedString(r.taskRun.Object, "status", "podName")
	p, err := c.Kube.CoreV1().Pods(autoxNS).Get(context.Background(), pod, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	const mountPath = "/var/run/secrets/kubernetes.io/serviceaccount"
	got := map[string]bool{}
	for _, ctr := range append(p.Spec.InitContainers, p.Spec.Containers...) {
		for _, m := range ctr.VolumeMounts {
			if m.MountPath == mountPath {
				got[ctr.Name] = true
			}
		}
	}
	want2 := map[string]bool{"step-ready": true, "step-assess": true}
	if fmt.Sprint(got) != fmt.Sprint(want2) {
		t.Errorf("containers with a token at %s: %v, want %v (the load steps and Tekton's own containers hold none)", mountPath, got, want2)
	}
	for _, v := range p.Spec.Volumes {
		if strings.HasPrefix(v.Name, "kube-api-access-") {
			t.Errorf("the pod has the automounted token volume %s", v.Name)
		}
	}
	// The http step itself, reading the path: nothing there to read.
	out, _ := kubectl(t, "", "-n", autoxNS, "logs", pod, "-c", "step-http")
	t.Logf("e2e: the http step said:\n%s", out)
}

// TestForgedResult: autox assert believes a result ConfigMap only when the
// run it names owns it, and -c slos only when that run succeeded. A
// result put in place of a real one, or one forged for a failed run with
// the run's UID as owner, does not pass.
func TestForgedResult(t *testing.T) {
	c := installed(t)
	cms := c.Kube.CoreV1().ConfigMaps(autoxNS)

	step(t, "a run that passes, whose result is then replaced by one the run does not own")
	ok := runExperiment(t, c, "forged", "{tasks: [assess]}")
	if !ok.succeeded {
		t.Fatalf("PipelineRun %s: %s %s", ok.name, ok.reason, ok.message)
	}
	real, err := cms.Get(context.Background(), ok.name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := cms.Delete(context.Background(), ok.name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	forged := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: ok.name, Namespace: autoxNS, Labels: real.Labels}, Data: real.Data}
	if _, err := cms.Create(context.Background(), forged, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := autoxRun(t, "assert", "-c", "slos", "-g", "autox-forged-e2e")
	t.Logf("autox assert on a replaced result: exit %d\n%s%s", code, stdout, stderr)
	want := "result ConfigMap " + autoxNS + "/" + ok.name + " is not owned by PipelineRun " + autoxNS + "/" + ok.name + " (it has no owner, run uid " + string(ok.obj.GetUID()) + "); it was not written by this run: delete it"
	if code != 1 || !strings.Contains(stdout+stderr, want) {
		t.Errorf("autox assert -c slos on a result the run does not own: exit %d, want 1 and %q", code, want)
	}

	step(t, "a run that fails, with a passing result forged for it (owner: the run's UID)")
	bad := runExperiment(t, c, "forgedfail", `{tasks: [http, assess], http: {url: "http://127.0.0.1:1/", numRequests: 1, payloadFile: /etc/passwd}}`)
	if bad.succeeded {
		t.Fatalf("PipelineRun %s succeeded, want it failed", bad.name)
	}
	forged = &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: bad.name, Namespace: autoxNS, Labels: map[string]string{
			"autox.dev/group": "forgedfail", "autox.dev/spec": "e2e", "autox.dev/version": "1.0.0",
			"app.kubernetes.io/part-of": "autox", "app.kubernetes.io/version": "0.1",
		}, OwnerReferences: []metav1.OwnerReference{{APIVersion: "tekton.dev/v1", Kind: "PipelineRun", Name: bad.name, UID: bad.obj.GetUID()}}},
		Data: real.Data,
	}
	if _, err := cms.Create(context.Background(), forged, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code = autoxRun(t, "assert", "-c", "slos", "-g", "autox-forgedfail-e2e")
	t.Logf("autox assert on a failed run with a forged result: exit %d\n%s%s", code, stdout, stderr)
	want = "PipelineRun " + autoxNS + "/" + bad.name + " has not succeeded"
	if code != 1 || !strings.Contains(stdout+stderr, want) || strings.Contains(stdout, "SLOs are satisfied\n") {
		t.Errorf("autox assert -c slos on a failed run: exit %d, want 1 and %q", code, want)
	}
}
