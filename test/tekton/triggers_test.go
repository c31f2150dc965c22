// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package tekton_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	triggersv1beta1 "github.com/tektoncd/triggers/pkg/apis/triggers/v1beta1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/autox-tekton/autox/internal/contract"
	"github.com/autox-tekton/autox/internal/experiment"
	"github.com/autox-tekton/autox/internal/interceptor"
	"github.com/autox-tekton/autox/internal/tektontest"
)

// TestTriggersMakeTheRun takes each example Trigger through Triggers' own
// resolution, as the EventListener does after the autox interceptor said
// continue: its binding (autox) is resolved against the extensions the
// interceptor returns (the experiment param as ExperimentText gives it), the TriggerTemplate is
// filled in, and what comes out must be the PipelineRun autox means: named
// by the interceptor, labelled, the experiment passed byte for byte (a
// multi-line YAML), and accepted by Tekton's validation.
func TestTriggersMakeTheRun(t *testing.T) {
	objs := readAll(t)
	bindings := find[triggersv1beta1.TriggerBinding](t, objs)
	templates := find[triggersv1beta1.TriggerTemplate](t, objs)
	pipeline := find[v1.Pipeline](t, objs)["autox"]
	if pipeline == nil {
		t.Fatal("no Pipeline autox")
	}
	ctx := webhookContext(t)
	triggers := find[triggersv1beta1.Trigger](t, objs)
	dispatch := triggers["autox"]
	if dispatch == nil || dispatch.Labels["autox.dev/group"] != "" {
		t.Fatal("no dispatch Trigger autox (without the label autox.dev/group) in triggers/eventlistener.yaml")
	}
	delete(triggers, "autox")
	if len(triggers) != 2 {
		t.Fatalf("%d example Triggers, want 2 (httpbin, routeguide)", len(triggers))
	}
	for name, tr := range triggers {
		t.Run(name, func(t *testing.T) {
			group, spec := tr.Labels["autox.dev/group"], tr.Labels["autox.dev/spec"]
			if want := fmt.Sprintf("autox-%s-%s", group, spec); name != want {
				t.Errorf("Trigger %s, want it named %s after its labels", name, want)
			}
			// The experiment as the autox interceptor hands it on.
			var params contract.Params
			for _, ic := range tr.Spec.Interceptors {
				for _, p := range ic.Params {
					if p.Name == "experiment" {
						params.Experiment = p.Value.Raw
					}
				}
			}
			exp, err := params.ExperimentText()
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(exp, "\n  ") {
				t.Fatalf("the experiment %q is not multi-line YAML; this test means to show newlines survive", exp)
			}
			if _, err := experiment.Parse([]byte(exp), "the experiment param"); err != nil {
				t.Errorf("the experiment param: %v", err)
			}
			ext := map[string]any{"autox": map[string]any{
				"group": group, "spec": spec, "version": "2.0.0", "name": group, "namespace": "default",
				"runName": "autox-" + group + "-" + spec + "-0123456789", "experiment": exp,
				"decidedAt": "2026-11-27T10:00:00.123456789Z", "seq": "3", "runNamespace": "autox",
				"pipeline": pipelineFor(exp),
			}}
			// The EventListener makes the run through its one Trigger.
			pr := tektontest.PipelineRun(t, dispatch, bindings, templates, ext)
			if want := "autox-" + group + "-" + spec + "-0123456789"; pr.Name != want {
				t.Errorf("PipelineRun %q, want %q", pr.Name, want)
			}
			// What the run tests under autox.dev/*; autox's own labels
			// under app.kubernetes.io/*, as on every object autox makes.
			wantLabels := map[string]string{
				"autox.dev/group": group, "autox.dev/spec": spec, "autox.dev/version": "2.0.0", "autox.dev/name": group,
				"app.kubernetes.io/part-of": "autox", "app.kubernetes.io/version": contract.AutoxVersion,
			}
			if diff := cmp.Diff(wantLabels, pr.Labels); diff != "" {
				t.Errorf("labels (-want +got):\n%s", diff)
			}
			if at := pr.Annotations["autox.dev/decided-at"]; at != "2026-11-27T10:00:00.123456789Z" {
				t.Errorf("annotation autox.dev/decided-at %q, want the interceptor's decidedAt", at)
			}
			if seq := pr.Annotations["autox.dev/seq"]; seq != "3" {
				t.Errorf("annotation autox.dev/seq %q, want the interceptor's seq", seq)
			}
			got := map[string]string{}
			for _, p := range pr.Spec.Params {
				got[p.Name] = p.Value.StringVal
			}
			want := map[string]string{"experiment": exp, "namespace": "default", "group": group, "spec": spec, "version": "2.0.0", "name": group, "history-namespace": "autox-system"}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("params (-want +got):\n%s", diff)
			}
			var declared []string
			for _, p := range pipeline.Spec.Params {
				declared = append(declared, p.Name)
			}
			for n := range got {
				if !slices.Contains(declared, n) {
					t.Errorf("param %s is not a param of the Pipeline autox (%v)", n, declared)
				}
			}
			if pr.Spec.PipelineRef == nil || pr.Spec.PipelineRef.Name != "autox" || pr.Spec.TaskRunTemplate.ServiceAccountName != "autox" {
				t.Errorf("PipelineRun runs %+v as %q, want Pipeline autox as ServiceAccount autox", pr.Spec.PipelineRef, pr.Spec.TaskRunTemplate.ServiceAccountName)
			}
			// The load pods of one run prefer different nodes.
			wantAffinity := &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
				PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{Weight: 100, PodAffinityTerm: corev1.PodAffinityTerm{
					TopologyKey: "kubernetes.io/hostname",
					LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{
						"tekton.dev/pipelineRun": "autox-" + group + "-" + spec + "-0123456789", "tekton.dev/pipelineTask": "load",
					}},
				}}},
			}}
			if pt := pr.Spec.TaskRunTemplate.PodTemplate; pt == nil {
				t.Error("the PipelineRun has no pod template; want the load pods' anti-affinity")
			} else if diff := cmp.Diff(wantAffinity, pt.Affinity); diff != "" {
				t.Errorf("the pods' affinity (-want +got):\n%s", diff)
			}
			pr.SetDefaults(ctx)
			if err := pr.Validate(ctx); err != nil {
				t.Errorf("Tekton refuses the PipelineRun: %v", err)
			}
		})
	}
}

// TestTriggerParams: the TriggerTemplate's params are exactly what the
// TriggerBinding autox and each Trigger's own bindings give it, so
// none is left unfilled ($(tt.params.x) in the run) and none is dropped.
func TestTriggerParams(t *testing.T) {
	objs := readAll(t)
	tb := find[triggersv1beta1.TriggerBinding](t, objs)["autox"]
	tt := find[triggersv1beta1.TriggerTemplate](t, objs)["autox"]
	if tb == nil || tt == nil {
		t.Fatal("no TriggerBinding or TriggerTemplate autox")
	}
	var want []string
	for _, p := range tt.Spec.Params {
		want = append(want, p.Name)
	}
	slices.Sort(want)
	for name, tr := range find[triggersv1beta1.Trigger](t, objs) {
		var got []string
		for _, p := range tb.Spec.Params {
			got = append(got, p.Name)
		}
		for _, b := range tr.Spec.Bindings {
			if b.Name != "" {
				got = append(got, b.Name)
			}
		}
		slices.Sort(got)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: the bindings' params vs the TriggerTemplate's (-want +got):\n%s", name, diff)
		}
	}
	b, _ := json.Marshal(tt.Spec.ResourceTemplates)
	for _, p := range tt.Spec.Params {
		if !contains(b, "$(tt.params."+p.Name+")") {
			t.Errorf("TriggerTemplate param %s is not used in its resource", p.Name)
		}
	}
}

func contains(b []byte, s string) bool { return strings.Contains(string(b), s) }

// pipelineFor is the Pipeline the interceptor names for a run of exp.
func pipelineFor(exp string) string {
	p, _ := interceptor.PipelineFor(exp)
	return p
}
