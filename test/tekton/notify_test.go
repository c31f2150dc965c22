// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package tekton_test

import (
	"maps"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/autox-tekton/autox/internal/contract"
	"github.com/autox-tekton/autox/internal/notify"
)

// TestNotifyTask: the notify Task's one step, its program and command,
// the restricted security context, small resources, the Secret passed
// optionally (so that without it the step runs and says notifications are
// off), and every param reaching a flag's env twin.
func TestNotifyTask(t *testing.T) {
	task := find[v1.Task](t, readAll(t))["autox-notify"]
	if task == nil {
		t.Fatal("no Task autox-notify")
	}
	catalog(t, task.ObjectMeta, task.Spec.Description)
	described(t, task.Name, task.Spec.Params)
	if len(task.Spec.Steps) != 1 {
		t.Fatalf("%d steps; want one", len(task.Spec.Steps))
	}
	s := task.Spec.Steps[0]
	if want := published + "/notify:v" + contract.AutoxVersion; s.Image != want {
		t.Errorf("image %q; want %q (ko resolve pins it)", s.Image, want)
	}
	if diff := cmp.Diff([]string{"/ko-app/notify"}, s.Command); diff != "" {
		t.Errorf("command (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(restricted, s.SecurityContext); diff != "" {
		t.Errorf("securityContext (-want +got):\n%s", diff)
	}
	r := s.ComputeResources
	small := func(q *resource.Quantity, most string) bool {
		return !q.IsZero() && q.Cmp(resource.MustParse(most)) <= 0
	}
	if !small(r.Requests.Cpu(), "50m") || !small(r.Requests.Memory(), "64Mi") || !small(r.Limits.Cpu(), "200m") || !small(r.Limits.Memory(), "128Mi") {
		t.Errorf("resources %v; want small requests and limits (cpu <= 50m/200m, memory <= 64Mi/128Mi)", r)
	}

	secret := func(key string) *corev1.EnvVarSource {
		return &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: notify.SecretName}, Key: key, Optional: ptr(true),
		}}
	}
	var fromSecret []corev1.EnvVar
	values := map[string]string{}
	twins := envTwins(t, t.TempDir(), "notify")
	for _, e := range s.Env {
		if !slices.Contains(twins, e.Name) {
			t.Errorf("env %s is not a flag of notify, whose twins are %v", e.Name, twins)
		}
		if e.ValueFrom != nil {
			fromSecret = append(fromSecret, e)
			continue
		}
		values[e.Name] = e.Value
	}
	wantSecret := []corev1.EnvVar{
		{Name: "AUTOX_NOTIFY_URL", ValueFrom: secret(notify.KeyURL)},
		{Name: "AUTOX_NOTIFY_TEMPLATE", ValueFrom: secret(notify.KeyTemplate)},
	}
	if diff := cmp.Diff(wantSecret, fromSecret); diff != "" {
		t.Errorf("env from the Secret (-want +got):\n%s", diff)
	}
	wantFrom := []corev1.EnvFromSource{{Prefix: "AUTOX_NOTIFY_SECRET_", SecretRef: &corev1.SecretEnvSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: notify.SecretName}, Optional: ptr(true),
	}}}
	if diff := cmp.Diff(wantFrom, s.EnvFrom); diff != "" {
		t.Errorf("envFrom, the Secret's key names (-want +got):\n%s", diff)
	}
	if !strings.Contains(helpText(t, "notify"), "AUTOX_NOTIFY_SECRET_<key>") {
		t.Errorf("notify -h does not document the envFrom prefix AUTOX_NOTIFY_SECRET_")
	}
	for _, p := range task.Spec.Params {
		if !slices.Contains(slices.Collect(maps.Values(values)), "$(params."+p.Name+")") {
			t.Errorf("param %s reaches no env variable", p.Name)
		}
	}
	for name, v := range values {
		for _, m := range paramRef.FindAllStringSubmatch(v, -1) {
			if !slices.ContainsFunc(task.Spec.Params, func(q v1.ParamSpec) bool { return q.Name == m[1] }) {
				t.Errorf("env %s = %s: the Task has no param %s", name, v, m[1])
			}
		}
	}
}

// TestPipelineFinally: the Pipeline notifies under finally, whatever the
// experiment's outcome, with the run's identity and the experiment's
// status; it names no task result (a finally task naming a result the
// failed task did not write is skipped).
func TestPipelineFinally(t *testing.T) {
	objs := readAll(t)
	p := find[v1.Pipeline](t, objs)["autox"]
	task := find[v1.Task](t, objs)["autox-notify"]
	if p == nil || task == nil {
		t.Fatal("no Pipeline autox or no Task autox-notify")
	}
	if len(p.Spec.Finally) != 1 || p.Spec.Finally[0].TaskRef == nil || p.Spec.Finally[0].TaskRef.Name != "autox-notify" || p.Spec.Finally[0].DisplayName == "" {
		t.Fatalf("finally %v; want one task, with a display name, running autox-notify", p.Spec.Finally)
	}
	f := p.Spec.Finally[0]
	if len(f.When) != 0 {
		t.Errorf("the notify task has when expressions %v; it must run whatever the outcome", f.When)
	}
	got := map[string]string{}
	for _, prm := range f.Params {
		got[prm.Name] = prm.Value.StringVal
		if strings.Contains(prm.Value.StringVal, ".results.") {
			t.Errorf("param %s = %s names a task result: the notification would be skipped when it is missing", prm.Name, prm.Value.StringVal)
		}
	}
	want := map[string]string{
		"group": "$(params.group)", "spec": "$(params.spec)", "version": "$(params.version)",
		"pipelinerun-name": "$(context.pipelineRun.name)", "pipelinerun-namespace": "$(context.pipelineRun.namespace)",
		"pipelinerun-uid": "$(context.pipelineRun.uid)", "experiment-status": "$(tasks.experiment.status)",
		"experiment-reason": "$(tasks.experiment.reason)", "tasks-status": "$(tasks.status)",
		"dashboard-url": "$(params.dashboard-url)",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("params of the notify task (-want +got):\n%s", diff)
	}
	var taskParams []string
	for _, prm := range task.Spec.Params {
		taskParams = append(taskParams, prm.Name)
	}
	if diff := cmp.Diff(slices.Sorted(slices.Values(taskParams)), slices.Sorted(maps.Keys(got))); diff != "" {
		t.Errorf("the Task's params and what the Pipeline passes (-want +got):\n%s", diff)
	}
	var dashboard *v1.ParamSpec
	for i := range p.Spec.Params {
		if p.Spec.Params[i].Name == "dashboard-url" {
			dashboard = &p.Spec.Params[i]
		}
	}
	if dashboard == nil || dashboard.Default == nil || dashboard.Default.StringVal != "" {
		t.Errorf("Pipeline param dashboard-url %+v; want one with default \"\" (no link)", dashboard)
	}
}

// TestNotifySecretExamples: the Secrets the README shows are what notify
// reads: the name, a url, and a template that renders JSON.
func TestNotifySecretExamples(t *testing.T) {
	n := 0
	for _, o := range readAll(t) {
		s, ok := o.value.(*corev1.Secret)
		if !ok || !strings.HasPrefix(o.where, "tasks/autox-notify/") {
			continue
		}
		n++
		cfg := notify.Config{
			URL: s.StringData[notify.KeyURL], Template: s.StringData[notify.KeyTemplate], SecretKeys: slices.Sorted(maps.Keys(s.StringData)),
			Run:    notify.Run{Name: "autox-httpbin-iter8-1a2b", Namespace: "autox"},
			Status: notify.Status{Experiment: notify.StatusFailed},
		}
		if s.Name != notify.SecretName || s.Namespace != "autox" {
			t.Errorf("%s: Secret %s/%s; want autox/%s", o.where, s.Namespace, s.Name, notify.SecretName)
		}
		if err := cfg.Validate(); err != nil {
			t.Errorf("%s: notify refuses it: %v", o.where, err)
		}
	}
	if n == 0 {
		t.Error("the notify README shows no Secret")
	}
}

func helpText(t *testing.T, step string) string {
	t.Helper()
	exe := t.TempDir() + "/" + step
	if out, err := exec.Command("go", "build", "-o", exe, module+"/cmd/"+step).CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", step, err, out)
	}
	cmd := exec.Command(exe, "-h")
	var b strings.Builder
	cmd.Stderr = &b
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s -h: %v", step, err)
	}
	return b.String()
}
