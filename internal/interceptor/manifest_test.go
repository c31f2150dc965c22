// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package interceptor

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	triggersv1alpha1 "github.com/tektoncd/triggers/pkg/apis/triggers/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"
)

// TestManifest decodes triggers/interceptor.yaml strictly into the API
// types and checks that its parts agree with each other and with the
// program: names the certificate and the ClusterInterceptor depend on, the
// path served, the least privilege, the hardened container.
func TestManifest(t *testing.T) {
	raw, err := os.ReadFile("../../triggers/interceptor.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var (
		sa   corev1.ServiceAccount
		cr   rbacv1.ClusterRole
		crb  rbacv1.ClusterRoleBinding
		own  rbacv1.Role
		ownb rbacv1.RoleBinding
		runr rbacv1.Role
		runb rbacv1.RoleBinding
		sec  corev1.Secret
		role rbacv1.Role
		rb   rbacv1.RoleBinding
		dep  appsv1.Deployment
		svc  corev1.Service
		ci   triggersv1alpha1.ClusterInterceptor
	)
	docs := strings.Split(string(raw), "\n---\n")
	targets := []interface{}{&sa, &cr, &crb, &own, &ownb, &runr, &runb, &sec, &role, &rb, &dep, &svc, &ci}
	if len(docs) != len(targets) {
		t.Fatalf("%d documents, want %d", len(docs), len(targets))
	}
	kinds := []string{"ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "Role", "RoleBinding", "Secret", "Role", "RoleBinding", "Deployment", "Service", "ClusterInterceptor"}
	for i, doc := range docs {
		if err := yaml.UnmarshalStrict([]byte(doc), targets[i]); err != nil {
			t.Fatalf("document %d (%s): %v", i, kinds[i], err)
		}
		if !strings.Contains(doc, "\nkind: "+kinds[i]+"\n") {
			t.Fatalf("document %d is not a %s", i, kinds[i])
		}
	}
	env := map[string]string{}
	c := dep.Spec.Template.Spec.Containers[0]
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	type facts struct {
		Namespaced                []string
		ServiceName, SecretName   string
		RoleSecrets               []string
		ClusterInterceptorService triggersv1alpha1.ServiceReference
		ClusterInterceptorLabels  map[string]string
		BindingSubjects           []rbacv1.Subject
		RoleBindingSubjects       []rbacv1.Subject
		OwnRoleBinding            []rbacv1.Subject
		RunsNamespace             string
		RunsRoleBinding           []rbacv1.Subject
		RunsRules                 []rbacv1.PolicyRule
		Args                      []string
		PodServiceAccount         string
		ClusterRules              []rbacv1.PolicyRule
		NamespaceRules            []rbacv1.PolicyRule
		Probes                    []string
		Image                     string
		Command                   []string
		NonRoot, ReadOnlyRoot     bool
		DroppedCapabilities       []corev1.Capability
		Seccomp                   corev1.SeccompProfileType
		SecretHasData             bool
		NamespaceFromDownwardAPI  string
		ServiceSelectsDeployment  bool
	}
	port := int32(8443)
	sc := c.SecurityContext
	got := facts{
		Namespaced:                nonEmptyNamespaces(sa.Namespace, own.Namespace, ownb.Namespace, sec.Namespace, role.Namespace, rb.Namespace, dep.Namespace, svc.Namespace),
		ServiceName:               svc.Name,
		SecretName:                sec.Name,
		RoleSecrets:               role.Rules[0].ResourceNames,
		ClusterInterceptorService: *ci.Spec.ClientConfig.Service,
		ClusterInterceptorLabels:  map[string]string{"server/type": ci.Labels["server/type"]},
		BindingSubjects:           crb.Subjects,
		RoleBindingSubjects:       rb.Subjects,
		OwnRoleBinding:            ownb.Subjects,
		RunsNamespace:             runr.Namespace + " " + runb.Namespace,
		RunsRoleBinding:           runb.Subjects,
		RunsRules:                 runr.Rules,
		Args:                      c.Args,
		PodServiceAccount:         dep.Spec.Template.Spec.ServiceAccountName,
		ClusterRules:              cr.Rules,
		NamespaceRules:            own.Rules,
		Probes:                    []string{c.ReadinessProbe.HTTPGet.Path + " " + c.ReadinessProbe.HTTPGet.Port.String(), c.LivenessProbe.HTTPGet.Path + " " + c.LivenessProbe.HTTPGet.Port.String()},
		Image:                     c.Image,
		Command:                   c.Command,
		NonRoot:                   *sc.RunAsNonRoot && *sc.RunAsUser == 65532,
		ReadOnlyRoot:              *sc.ReadOnlyRootFilesystem && !*sc.AllowPrivilegeEscalation,
		DroppedCapabilities:       sc.Capabilities.Drop,
		Seccomp:                   sc.SeccompProfile.Type,
		SecretHasData:             len(sec.Data)+len(sec.StringData) > 0,
		NamespaceFromDownwardAPI:  c.Env[0].Name + "=" + c.Env[0].ValueFrom.FieldRef.FieldPath,
		ServiceSelectsDeployment:  cmp.Equal(svc.Spec.Selector, dep.Spec.Selector.MatchLabels),
	}
	want := facts{
		// Every namespaced object is in autox-system, where release.yaml
		// installs the controllers, but for the rights in the runs'
		// namespace.
		Namespaced:                []string{"autox-system", "autox-system", "autox-system", "autox-system", "autox-system", "autox-system", "autox-system", "autox-system"},
		ServiceName:               env["INTERCEPTOR_TLS_SVC_NAME"],
		SecretName:                env["INTERCEPTOR_TLS_SECRET_NAME"],
		RoleSecrets:               []string{env["INTERCEPTOR_TLS_SECRET_NAME"]},
		ClusterInterceptorService: triggersv1alpha1.ServiceReference{Name: svc.Name, Namespace: "autox-system", Path: Name, Port: &port},
		ClusterInterceptorLabels:  map[string]string{"server/type": "https"},
		BindingSubjects:           []rbacv1.Subject{{Kind: "ServiceAccount", Name: sa.Name, Namespace: "autox-system"}},
		RoleBindingSubjects:       []rbacv1.Subject{{Kind: "ServiceAccount", Name: sa.Name, Namespace: "autox-system"}},
		OwnRoleBinding:            []rbacv1.Subject{{Kind: "ServiceAccount", Name: sa.Name, Namespace: "autox-system"}},
		RunsNamespace:             "autox autox",
		RunsRoleBinding:           []rbacv1.Subject{{Kind: "ServiceAccount", Name: sa.Name, Namespace: "autox-system"}},
		// In the runs' namespace: read and cancel runs, reap their pods,
		// get the results of runs that ended (to keep them in the
		// history); no create, no ConfigMap listed or written, no Secrets.
		RunsRules: []rbacv1.PolicyRule{
			{APIGroups: []string{"tekton.dev"}, Resources: []string{"pipelineruns"}, Verbs: []string{"get", "list", "watch", "patch"}},
			{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"list", "delete"}},
			{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get"}},
		},
		Args:              []string{"-addr", ":8443", "-metrics-addr", ":9090", "-runs-namespace", "autox"},
		PodServiceAccount: sa.Name,
		// Cluster-wide: its own ClusterInterceptor by name and nothing
		// else (the trigger objects are read where a RoleBinding to
		// autox-watched allows, triggers/rbac.yaml).
		ClusterRules: []rbacv1.PolicyRule{
			{APIGroups: []string{"triggers.tekton.dev"}, Resources: []string{"clusterinterceptors"}, ResourceNames: []string{Name}, Verbs: []string{"get", "update"}},
		},
		NamespaceRules: []rbacv1.PolicyRule{
			{APIGroups: []string{"triggers.tekton.dev"}, Resources: []string{"triggers"}, Verbs: []string{"get", "list", "watch"}},
			{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get", "list", "watch", "create", "update"}},
			{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: []string{"get", "create", "update"}},
		},
		Probes:                   []string{"/readyz metrics", "/healthz metrics"},
		Image:                    "ko://github.com/autox-tekton/autox/cmd/interceptor",
		Command:                  []string{"/ko-app/interceptor"},
		NonRoot:                  true,
		ReadOnlyRoot:             true,
		DroppedCapabilities:      []corev1.Capability{"ALL"},
		Seccomp:                  corev1.SeccompProfileTypeRuntimeDefault,
		NamespaceFromDownwardAPI: "SYSTEM_NAMESPACE=metadata.namespace",
		ServiceSelectsDeployment: true,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("triggers/interceptor.yaml (-want +got):\n%s", diff)
	}
	if ci.Name != Name {
		t.Errorf("ClusterInterceptor %q, want %q", ci.Name, Name)
	}
}

func nonEmptyNamespaces(ns ...string) []string {
	var out []string
	for _, n := range ns {
		if n != "" {
			out = append(out, n)
		}
	}
	return out
}

// TestCancelPatch pins what the ClusterRole's patch right is used for.
func TestCancelPatch(t *testing.T) {
	if diff := cmp.Diff(`{"spec":{"status":"Cancelled"}}`, cancelPatch); diff != "" {
		t.Errorf("cancel patch (-want +got):\n%s", diff)
	}
}
