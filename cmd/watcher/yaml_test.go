// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes/scheme"
)

// TestWatcherYAML decodes triggers/watcher.yaml strictly into the API's
// types and checks what the watcher is granted and how it runs.
func TestWatcherYAML(t *testing.T) {
	text, err := os.ReadFile("../../triggers/watcher.yaml")
	if err != nil {
		t.Fatal(err)
	}
	decode := serializer.NewCodecFactory(scheme.Scheme, serializer.EnableStrict).UniversalDeserializer().Decode
	var kinds []string
	rules := map[string][]rbacv1.PolicyRule{}
	var deployment *appsv1.Deployment
	for _, doc := range strings.Split(string(text), "\n---\n") {
		obj, gvk, err := decode([]byte(doc), nil, nil)
		if err != nil {
			t.Fatalf("decoding %q: %v", doc, err)
		}
		kinds = append(kinds, gvk.Kind)
		m, err := meta.Accessor(obj)
		if err != nil {
			t.Fatal(err)
		}
		if namespaced := gvk.Kind != "ClusterRole" && gvk.Kind != "ClusterRoleBinding"; namespaced && m.GetNamespace() != "autox-system" {
			t.Errorf("%s %s is in namespace %q; want autox-system, where release.yaml installs the controllers", gvk.Kind, m.GetName(), m.GetNamespace())
		}
		switch o := obj.(type) {
		case *rbacv1.Role:
			rules["Role"] = o.Rules
		case *rbacv1.ClusterRole:
			rules["ClusterRole"] = o.Rules
		case *appsv1.Deployment:
			deployment = o
		}
	}
	if diff := cmp.Diff([]string{"ServiceAccount", "Role", "RoleBinding", "Deployment"}, kinds); diff != "" {
		t.Errorf("kinds (-want +got):\n%s", diff)
	}
	read := []string{"get", "list", "watch"}
	wantRules := map[string][]rbacv1.PolicyRule{
		"Role": {
			{APIGroups: []string{"triggers.tekton.dev"}, Resources: []string{"triggers"}, Verbs: read},
			{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: read},
			{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: []string{"get", "create", "update"}},
		},
	}
	// No ClusterRole of its own: the watched kinds come from RoleBindings
	// to autox-watched per namespace, the access review from
	// autox-access-review (triggers/rbac.yaml, pinned in test/tekton).
	if diff := cmp.Diff(wantRules, rules); diff != "" {
		t.Errorf("rules (-want +got):\n%s", diff)
	}
	if deployment == nil {
		t.Fatal("no Deployment")
	}
	pod := deployment.Spec.Template.Spec
	if pod.ServiceAccountName != "autox-watcher" || len(pod.Containers) != 1 {
		t.Fatalf("pod: service account %q, %d containers", pod.ServiceAccountName, len(pod.Containers))
	}
	if r := deployment.Spec.Replicas; r == nil || *r != 2 {
		t.Errorf("replicas %v, want 2: one leads, one stands by", r)
	}
	c := pod.Containers[0]
	yes, no, uid := true, false, int64(65532)
	probe := func(path string) *corev1.Probe {
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromString("metrics")}}}
	}
	want := corev1.Container{
		Name:           c.Name,
		Image:          "ko://github.com/autox-tekton/autox/cmd/watcher",
		Command:        []string{"/ko-app/watcher"},
		Args:           c.Args,
		Resources:      c.Resources,
		Env:            []corev1.EnvVar{{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}}},
		Ports:          []corev1.ContainerPort{{Name: "metrics", ContainerPort: 9090}},
		LivenessProbe:  probe("/healthz"),
		ReadinessProbe: probe("/readyz"),
		SecurityContext: &corev1.SecurityContext{
			RunAsNonRoot: &yes, RunAsUser: &uid, RunAsGroup: &uid,
			ReadOnlyRootFilesystem: &yes, AllowPrivilegeEscalation: &no,
			Capabilities:   &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
	}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("container (-want +got):\n%s", diff)
	}
}
