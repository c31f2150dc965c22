// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Package tekton_test checks every YAML under tasks/ and pipelines/ (the
// files, and the YAML blocks their READMEs show) the way Tekton's webhook
// would: decoded strictly into Tekton's Go types, defaulted, and passed
// through Tekton's own Validate, with the feature flags and defaults of a
// v1.9.0 install read from the module's config/. The images are named
// where a release publishes them, as the catalog's YAML has them. It also
// pins what the project promises of each step: its image and command, the
// restricted security context, resources, and flags that exist.
package tekton_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	"github.com/tektoncd/pipeline/pkg/apis/pipeline/v1beta1"
	triggersv1alpha1 "github.com/tektoncd/triggers/pkg/apis/triggers/v1alpha1"
	triggersv1beta1 "github.com/tektoncd/triggers/pkg/apis/triggers/v1beta1"
	admissionv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"knative.dev/pkg/apis"
	"sigs.k8s.io/yaml"

	"github.com/autox-tekton/autox/internal/contract"
	"github.com/autox-tekton/autox/internal/experiment"
	"github.com/autox-tekton/autox/internal/tektontest"
)

const (
	module = "github.com/autox-tekton/autox"
	// published is where a release's images go (images/ko.sh PUBLISHED):
	// the catalog names its images there, as <program>:v<autox version>.
	published = "ghcr.io/autox-tekton/autox"
	root      = "../.."
)

// object is one decoded document and where it came from.
type object struct {
	where string // file, and README block if any
	kind  string // apiVersion/kind
	name  string
	value any
}

// TestInventory: every file and README block, and what it holds. A new
// file fails here until it is listed, and so checked below.
func TestInventory(t *testing.T) {
	got := map[string][]string{}
	for _, o := range readAll(t) {
		got[o.where] = append(got[o.where], o.kind+" "+o.name)
	}
	want := map[string][]string{
		"pipelines/autox/autox.yaml":                           {"tekton.dev/v1/Pipeline autox"},
		"pipelines/autox/samples/httpbin.yaml":                 {"tekton.dev/v1/PipelineRun autox-httpbin-iter8-example"},
		"pipelines/autox/samples/routeguide.yaml":              {"tekton.dev/v1/PipelineRun autox-routeguide-iter8-example"},
		"pipelines/autox/tests/run.yaml":                       {"tekton.dev/v1/PipelineRun autox-test"},
		"stepactions/autox-assess/autox-assess.yaml":           {"tekton.dev/v1beta1/StepAction autox-assess"},
		"stepactions/autox-assess/samples/task.yaml":           {"tekton.dev/v1/Task my-assess"},
		"stepactions/autox-assess/tests/run.yaml":              {"tekton.dev/v1/TaskRun autox-assess-test"},
		"stepactions/autox-grpc/autox-grpc.yaml":               {"tekton.dev/v1beta1/StepAction autox-grpc"},
		"stepactions/autox-grpc/samples/task.yaml":             {"tekton.dev/v1/Task my-grpc"},
		"stepactions/autox-grpc/tests/run.yaml":                {"tekton.dev/v1/TaskRun autox-grpc-test"},
		"stepactions/autox-http/autox-http.yaml":               {"tekton.dev/v1beta1/StepAction autox-http"},
		"stepactions/autox-http/samples/task.yaml":             {"tekton.dev/v1/Task my-http"},
		"stepactions/autox-http/tests/run.yaml":                {"tekton.dev/v1/TaskRun autox-http-test"},
		"stepactions/autox-ready/autox-ready.yaml":             {"tekton.dev/v1beta1/StepAction autox-ready"},
		"stepactions/autox-ready/samples/task.yaml":            {"tekton.dev/v1/Task my-ready"},
		"stepactions/autox-ready/tests/run.yaml":               {"tekton.dev/v1/TaskRun autox-ready-test"},
		"tasks/autox-experiment/autox-experiment.yaml":         {"tekton.dev/v1/Task autox-experiment"},
		"tasks/autox-experiment/samples/taskrun.yaml":          {"tekton.dev/v1/TaskRun autox-experiment-example"},
		"tasks/autox-experiment/tests/run.yaml":                {"tekton.dev/v1/TaskRun autox-experiment-test"},
		"tasks/autox-notify/samples/pipeline.yaml":             {"tekton.dev/v1/Pipeline my-test-and-notify"},
		"tasks/autox-notify/tests/run.yaml":                    {"tekton.dev/v1/TaskRun autox-notify-test"},
		"tasks/autox-workers-ready/autox-workers-ready.yaml":   {"tekton.dev/v1/Task autox-workers-ready"},
		"tasks/autox-workers-ready/samples/taskrun.yaml":       {"tekton.dev/v1/TaskRun autox-workers-ready-example"},
		"tasks/autox-workers-ready/tests/run.yaml":             {"tekton.dev/v1/TaskRun autox-workers-ready-test"},
		"tasks/autox-workers-load/autox-workers-load.yaml":     {"tekton.dev/v1/Task autox-workers-load"},
		"tasks/autox-workers-load/samples/taskrun.yaml":        {"tekton.dev/v1/TaskRun autox-workers-load-example"},
		"tasks/autox-workers-load/tests/run.yaml":              {"tekton.dev/v1/TaskRun autox-workers-load-test"},
		"tasks/autox-workers-assess/autox-workers-assess.yaml": {"tekton.dev/v1/Task autox-workers-assess"},
		"tasks/autox-workers-assess/samples/taskrun.yaml":      {"tekton.dev/v1/TaskRun autox-workers-assess-example"},
		"tasks/autox-workers-assess/tests/run.yaml":            {"tekton.dev/v1/TaskRun autox-workers-assess-test"},
		"pipelines/autox-workers/autox-workers.yaml":           {"tekton.dev/v1/Pipeline autox-workers"},
		"pipelines/autox-workers/samples/httpbin.yaml":         {"tekton.dev/v1/PipelineRun autox-httpbin-iter8-workers-example"},
		"pipelines/autox-workers/tests/run.yaml":               {"tekton.dev/v1/PipelineRun autox-workers-test"},
		"triggers/runs-rbac.yaml": {
			"rbac.authorization.k8s.io/v1/ClusterRole autox-ready", "rbac.authorization.k8s.io/v1/ClusterRole autox-ready-builtin",
			"v1/ServiceAccount autox", "rbac.authorization.k8s.io/v1/Role autox-experiment", "rbac.authorization.k8s.io/v1/RoleBinding autox-experiment",
			"rbac.authorization.k8s.io/v1/Role autox-history-read", "rbac.authorization.k8s.io/v1/RoleBinding autox-history-read",
		},
		"triggers/namespace.yaml": {"v1/Namespace autox-system", "v1/Namespace autox"},
		"triggers/eventlistener.yaml": {
			"v1/ServiceAccount autox-eventlistener", "rbac.authorization.k8s.io/v1/Role autox-eventlistener",
			"rbac.authorization.k8s.io/v1/RoleBinding autox-eventlistener",
			"rbac.authorization.k8s.io/v1/Role autox-eventlistener", "rbac.authorization.k8s.io/v1/RoleBinding autox-eventlistener",
			"rbac.authorization.k8s.io/v1/ClusterRole autox-eventlistener",
			"rbac.authorization.k8s.io/v1/ClusterRoleBinding autox-eventlistener", "triggers.tekton.dev/v1beta1/EventListener autox",
			"triggers.tekton.dev/v1beta1/Trigger autox", "triggers.tekton.dev/v1beta1/TriggerBinding autox", "triggers.tekton.dev/v1beta1/TriggerTemplate autox",
		},
		"triggers/interceptor.yaml": {
			"v1/ServiceAccount autox-interceptor", "rbac.authorization.k8s.io/v1/ClusterRole autox-interceptor",
			"rbac.authorization.k8s.io/v1/ClusterRoleBinding autox-interceptor",
			"rbac.authorization.k8s.io/v1/Role autox-interceptor", "rbac.authorization.k8s.io/v1/RoleBinding autox-interceptor",
			"rbac.authorization.k8s.io/v1/Role autox-interceptor", "rbac.authorization.k8s.io/v1/RoleBinding autox-interceptor",
			"v1/Secret autox-interceptor-tls",
			"rbac.authorization.k8s.io/v1/Role autox-interceptor-tls", "rbac.authorization.k8s.io/v1/RoleBinding autox-interceptor-tls",
			"apps/v1/Deployment autox-interceptor", "v1/Service autox-interceptor", "triggers.tekton.dev/v1alpha1/ClusterInterceptor autox",
		},
		"triggers/watcher.yaml": {
			"v1/ServiceAccount autox-watcher", "rbac.authorization.k8s.io/v1/Role autox-watcher",
			"rbac.authorization.k8s.io/v1/RoleBinding autox-watcher", "apps/v1/Deployment autox-watcher",
		},
		"triggers/rbac.yaml": {
			"rbac.authorization.k8s.io/v1/ClusterRole autox-watched", "rbac.authorization.k8s.io/v1/ClusterRole autox-watched-deployments",
			"rbac.authorization.k8s.io/v1/ClusterRole autox-access-review", "rbac.authorization.k8s.io/v1/ClusterRoleBinding autox-access-review",
		},
		"triggers/policy.yaml": {
			"admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy autox-triggers", "admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding autox-triggers",
			"admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy autox-pipelineruns", "admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding autox-pipelineruns",
			"admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy autox-taskruns", "admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding autox-taskruns",
		},
		"triggers/networkpolicy.yaml": {
			"networking.k8s.io/v1/NetworkPolicy autox-eventlistener", "networking.k8s.io/v1/NetworkPolicy autox-interceptor", "networking.k8s.io/v1/NetworkPolicy autox-watcher",
		},
		"triggers/examples/httpbin.yaml":       {"triggers.tekton.dev/v1beta1/Trigger autox-httpbin-iter8", "rbac.authorization.k8s.io/v1/RoleBinding autox-watched", "rbac.authorization.k8s.io/v1/RoleBinding autox-ready"},
		"triggers/examples/routeguide.yaml":    {"triggers.tekton.dev/v1beta1/Trigger autox-routeguide-iter8", "rbac.authorization.k8s.io/v1/RoleBinding autox-watched", "rbac.authorization.k8s.io/v1/RoleBinding autox-ready"},
		"tasks/autox-experiment/README.md#1":   {"rbac.authorization.k8s.io/v1/RoleBinding autox-ready"},
		"tasks/autox-notify/autox-notify.yaml": {"tekton.dev/v1/Task autox-notify"},
		"tasks/autox-notify/README.md#1":       {"v1/Secret autox-notify"},
		"tasks/autox-notify/README.md#2":       {"v1/Secret autox-notify"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("YAML under tasks/, pipelines/ and triggers/ (-want +got):\n%s", diff)
	}
}

// TestInstallNamespace: the install (triggers/) puts the controllers, the
// Triggers and their rights in autox-system, and the runs' ServiceAccount
// and rights in autox (kubectl apply -f release.yaml, no -n); the
// controllers' rights in autox are the Roles of the EventListener (create
// runs) and the interceptor (read and cancel them). The examples' objects
// name their namespace too. The catalog names none: make release places
// the Pipeline, Tasks and StepActions in autox.
func TestInstallNamespace(t *testing.T) {
	clusterScoped := map[string]bool{
		"v1/Namespace": true, "rbac.authorization.k8s.io/v1/ClusterRole": true,
		"rbac.authorization.k8s.io/v1/ClusterRoleBinding": true, "triggers.tekton.dev/v1alpha1/ClusterInterceptor": true,
		"admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy":        true,
		"admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding": true,
	}
	// Only these reach into autox from triggers/: the rights of the
	// EventListener (create runs) and of the interceptor (read and cancel
	// them) there.
	into := map[string]bool{
		"triggers/eventlistener.yaml rbac.authorization.k8s.io/v1/Role autox-eventlistener":        true,
		"triggers/eventlistener.yaml rbac.authorization.k8s.io/v1/RoleBinding autox-eventlistener": true,
		"triggers/interceptor.yaml rbac.authorization.k8s.io/v1/Role autox-interceptor":            true,
		"triggers/interceptor.yaml rbac.authorization.k8s.io/v1/RoleBinding autox-interceptor":     true,
	}
	var got, want []string
	seen := map[string]int{}
	for _, o := range readAll(t) {
		if clusterScoped[o.kind] || strings.Contains(o.where, "README.md") {
			continue
		}
		m, ok := o.value.(interface{ GetNamespace() string })
		if !ok {
			t.Fatalf("%s: %s has no namespace accessor", o.where, o.kind)
		}
		id := o.where + " " + o.kind + " " + o.name
		seen[id]++
		w := "autox"
		switch {
		case !strings.HasPrefix(o.where, "triggers/"):
			// The catalog (stepactions/, tasks/, pipelines/: the
			// resources, their samples and tests) names no namespace:
			// make release places the resources in autox.
			w = ""
		case strings.HasPrefix(o.where, "triggers/examples/") && o.kind == "rbac.authorization.k8s.io/v1/RoleBinding":
			w = "default" // where the example's Deployment is
		case strings.HasPrefix(o.where, "triggers/runs-rbac.yaml") && strings.Contains(id, "autox-history-read"):
			w = "autox-system" // the histories are there
		case strings.HasPrefix(o.where, "triggers/runs-rbac.yaml"):
			// the runs' ServiceAccount and rights, where the runs are
		case into[id] && seen[id] == 2:
			// the second of the pair with this name is autox's
		case strings.HasPrefix(o.where, "triggers/"):
			w = "autox-system"
		}
		got = append(got, id+" in "+m.GetNamespace())
		want = append(want, id+" in "+w)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("namespaces (-want +got):\n%s", diff)
	}
}

// TestTektonValidates: each Tekton object passes Tekton's own defaulting
// and validation, as the webhook of a default v1.9.0 install applies it.
func TestTektonValidates(t *testing.T) {
	ctx := webhookContext(t)
	for _, o := range readAll(t) {
		t.Run(o.where+" "+o.name, func(t *testing.T) {
			v, ok := o.value.(interface {
				SetDefaults(context.Context)
				Validate(context.Context) *apis.FieldError
			})
			if !ok {
				t.Skipf("%s is not a Tekton object", o.kind)
			}
			v.SetDefaults(ctx)
			if err := v.Validate(ctx); err != nil {
				t.Errorf("Tekton refuses it: %v", err)
			}
		})
	}
}

// webhookContext carries the feature flags and defaults of Tekton's own
// config/, as the webhook of a default install has them.
func webhookContext(t *testing.T) context.Context { return tektontest.WebhookContext(t) }

// readAll decodes every YAML file under tasks/ and pipelines/ and every
// ```yaml block of their READMEs, strictly: a field Tekton or Kubernetes
// does not know fails, as does a kind this test does not know.
func readAll(t *testing.T) []object {
	t.Helper()
	var out []object
	for _, top := range []string{"stepactions", "tasks", "pipelines", "triggers"} {
		err := filepath.WalkDir(filepath.Join(root, top), func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			rel = filepath.ToSlash(rel)
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			switch {
			case path.Base(rel) == "artifacthub-repo.yml":
				// Artifact Hub's metadata, not an object: see catalog_test.go.
			case strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml"):
				out = append(out, decodeAll(t, rel, b)...)
			case path.Base(rel) == "README.md":
				for i, block := range yamlBlocks(b) {
					out = append(out, decodeAll(t, fmt.Sprintf("%s#%d", rel, i+1), block)...)
				}
			default:
				t.Errorf("%s: neither YAML nor a README; this test does not know what it is", rel)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

var fence = regexp.MustCompile("(?ms)^```yaml\n(.*?)^```")

func yamlBlocks(md []byte) [][]byte {
	var out [][]byte
	for _, m := range fence.FindAllSubmatch(md, -1) {
		out = append(out, m[1])
	}
	return out
}

func decodeAll(t *testing.T, where string, b []byte) []object {
	t.Helper()
	var out []object
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(b)))
	for {
		doc, err := r.Read()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &tm); err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		kind := tm.APIVersion + "/" + tm.Kind
		var v interface{ GetName() string }
		switch kind {
		case "tekton.dev/v1beta1/StepAction":
			v = &v1beta1.StepAction{}
		case "tekton.dev/v1/Task":
			v = &v1.Task{}
		case "tekton.dev/v1/Pipeline":
			v = &v1.Pipeline{}
		case "tekton.dev/v1/PipelineRun":
			v = &v1.PipelineRun{}
		case "tekton.dev/v1/TaskRun":
			v = &v1.TaskRun{}
		case "rbac.authorization.k8s.io/v1/ClusterRole":
			v = &rbacv1.ClusterRole{}
		case "rbac.authorization.k8s.io/v1/RoleBinding":
			v = &rbacv1.RoleBinding{}
		case "v1/ServiceAccount":
			v = &corev1.ServiceAccount{}
		case "v1/Namespace":
			v = &corev1.Namespace{}
		case "v1/Secret":
			v = &corev1.Secret{}
		case "v1/ConfigMap":
			v = &corev1.ConfigMap{}
		case "v1/Service":
			v = &corev1.Service{}
		case "apps/v1/Deployment":
			v = &appsv1.Deployment{}
		case "rbac.authorization.k8s.io/v1/Role":
			v = &rbacv1.Role{}
		case "rbac.authorization.k8s.io/v1/ClusterRoleBinding":
			v = &rbacv1.ClusterRoleBinding{}
		case "triggers.tekton.dev/v1alpha1/ClusterInterceptor":
			v = &triggersv1alpha1.ClusterInterceptor{}
		case "triggers.tekton.dev/v1beta1/EventListener":
			v = &triggersv1beta1.EventListener{}
		case "triggers.tekton.dev/v1beta1/TriggerBinding":
			v = &triggersv1beta1.TriggerBinding{}
		case "triggers.tekton.dev/v1beta1/TriggerTemplate":
			v = &triggersv1beta1.TriggerTemplate{}
		case "triggers.tekton.dev/v1beta1/Trigger":
			v = &triggersv1beta1.Trigger{}
		case "networking.k8s.io/v1/NetworkPolicy":
			v = &networkingv1.NetworkPolicy{}
		case "admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy":
			v = &admissionv1.ValidatingAdmissionPolicy{}
		case "admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding":
			v = &admissionv1.ValidatingAdmissionPolicyBinding{}
		default:
			t.Errorf("%s: %s is a kind this test does not check; add it to decodeAll", where, kind)
			continue
		}
		if err := yaml.UnmarshalStrict(doc, v); err != nil {
			t.Errorf("%s: %s: %v", where, kind, err)
			continue
		}
		name := v.GetName()
		if g, ok := v.(interface{ GetGenerateName() string }); ok && name == "" {
			name = g.GetGenerateName()
		}
		out = append(out, object{where: where, kind: kind, name: name, value: v})
	}
}

func find[T any](t *testing.T, objs []object) map[string]*T {
	t.Helper()
	out := map[string]*T{}
	for _, o := range objs {
		if v, ok := o.value.(*T); ok {
			out[o.name] = v
		}
	}
	return out
}

// restricted is the security context every step runs with: what the
// restricted Pod Security Standard asks of a container, as the user the
// images run as (ko's base image: 65532).
var restricted = &corev1.SecurityContext{
	RunAsNonRoot:             ptr(true),
	RunAsUser:                ptr(int64(65532)),
	RunAsGroup:               ptr(int64(65532)),
	ReadOnlyRootFilesystem:   ptr(true),
	AllowPrivilegeEscalation: ptr(false),
	Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
	SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
}

func ptr[T any](v T) *T { return &v }

var steps = []string{"ready", "http", "grpc", "assess"}

// catalog checks the Tekton catalog's labels and annotations.
func catalog(t *testing.T, m metav1.ObjectMeta, description string) {
	t.Helper()
	if m.Labels["app.kubernetes.io/version"] == "" {
		t.Errorf("%s: no label app.kubernetes.io/version", m.Name)
	}
	for _, a := range []string{"tekton.dev/pipelines.minVersion", "tekton.dev/categories", "tekton.dev/tags", "tekton.dev/displayName", "tekton.dev/platforms"} {
		if m.Annotations[a] == "" {
			t.Errorf("%s: no annotation %s", m.Name, a)
		}
	}
	if first, _, _ := strings.Cut(description, "\n"); len(first) < 20 || !strings.HasSuffix(first, ".") {
		t.Errorf("%s: the description's first line %q is not a one-sentence summary", m.Name, first)
	}
}

func described(t *testing.T, owner string, params v1.ParamSpecs) {
	t.Helper()
	for _, p := range params {
		if p.Description == "" {
			t.Errorf("%s: param %s has no description", owner, p.Name)
		}
	}
}

// TestStepActions: each step program, its command, and env that its
// flags read (each env variable is a flag's twin, as -h lists them).
func TestStepActions(t *testing.T) {
	actions := find[v1beta1.StepAction](t, readAll(t))
	bin := t.TempDir()
	for _, step := range steps {
		t.Run(step, func(t *testing.T) {
			sa := actions["autox-"+step]
			if sa == nil {
				t.Fatalf("no StepAction autox-%s", step)
			}
			s := sa.Spec
			catalog(t, sa.ObjectMeta, s.Description)
			described(t, sa.Name, s.Params)
			if want := published + "/" + step + ":v" + contract.AutoxVersion; s.Image != want {
				t.Errorf("image %q; want %q (where a release publishes it; make release builds it from %s/cmd/%s and pins it)", s.Image, want, module, step)
			}
			if diff := cmp.Diff([]string{"/ko-app/" + step}, s.Command); diff != "" {
				t.Errorf("command (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(restricted, s.SecurityContext); diff != "" {
				t.Errorf("securityContext (-want +got):\n%s", diff)
			}
			mounts := []corev1.VolumeMount{{Name: "$(params.work-volume)", MountPath: "/autox"}}
			if step == "ready" || step == "assess" {
				// They talk to the API server: the Task's projected token.
				mounts = append(mounts, corev1.VolumeMount{Name: "$(params.token-volume)", MountPath: "/var/run/secrets/kubernetes.io/serviceaccount", ReadOnly: true})
			}
			if diff := cmp.Diff(mounts, s.VolumeMounts); diff != "" {
				t.Errorf("volumeMounts (-want +got):\n%s", diff)
			}
			twins := envTwins(t, bin, step)
			env := map[string]string{}
			for _, e := range s.Env {
				env[e.Name] = e.Value
				// AUTOX_FILE_ROOTS has no flag: set but empty means "no
				// file may be read", which a flag's default cannot say.
				envOnly := e.Name == "AUTOX_FILE_ROOTS" && (step == "http" || step == "grpc")
				if !slices.Contains(twins, e.Name) && !envOnly {
					t.Errorf("env %s is not a flag of %s, whose twins are %v", e.Name, step, twins)
				}
			}
			if env["AUTOX_DIR"] != "/autox" || env["AUTOX_EXPERIMENT"] != "$(params.experiment)" {
				t.Errorf("AUTOX_DIR %q, AUTOX_EXPERIMENT %q; want /autox and $(params.experiment)", env["AUTOX_DIR"], env["AUTOX_EXPERIMENT"])
			}
			for _, p := range s.Params {
				used := false
				for _, v := range env {
					used = used || strings.Contains(v, "$(params."+p.Name+")")
				}
				if !used && p.Name != "work-volume" && p.Name != "token-volume" {
					t.Errorf("param %s reaches no env variable", p.Name)
				}
			}
			for _, r := range s.Results {
				used := false
				for _, v := range env {
					used = used || v == "$(step.results."+r.Name+".path)"
				}
				if !used {
					t.Errorf("result %s: no env variable gives the program its path", r.Name)
				}
			}
		})
	}
}

var paramRef = regexp.MustCompile(`\$\(params\.([^)]+)\)`)

var twin = regexp.MustCompile(`\[\$(AUTOX_[A-Z_]+)\]`)

// envTwins builds the step's program and reads the env variables its -h
// lists.
func envTwins(t *testing.T, bin, step string) []string {
	t.Helper()
	exe := filepath.Join(bin, step)
	if out, err := exec.Command("go", "build", "-o", exe, module+"/cmd/"+step).CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", step, err, out)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(exe, "-h")
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s -h: %v\n%s", step, err, stderr.String())
	}
	var out []string
	for _, m := range twin.FindAllStringSubmatch(stderr.String(), -1) {
		out = append(out, m[1])
	}
	return out
}

// TestTask: the experiment Task's steps, in order, each a StepAction
// given what it asks for, with resources that do not throttle the load.
func TestTask(t *testing.T) {
	objs := readAll(t)
	actions := find[v1beta1.StepAction](t, objs)
	task := find[v1.Task](t, objs)["autox-experiment"]
	if task == nil {
		t.Fatal("no Task autox-experiment")
	}
	catalog(t, task.ObjectMeta, task.Spec.Description)
	described(t, task.Name, task.Spec.Params)
	var names []string
	for _, s := range task.Spec.Steps {
		names = append(names, s.Name)
		if s.Ref == nil || s.Ref.Name != "autox-"+s.Name || actions[s.Ref.Name] == nil {
			t.Errorf("step %s refers to %v; want the StepAction autox-%s", s.Name, s.Ref, s.Name)
			continue
		}
		sa := actions[s.Ref.Name].Spec
		given := map[string]bool{}
		for _, p := range s.Params {
			given[p.Name] = true
			// Tekton's validation leaves a ref step's params to the
			// run; a typo here would reach the program as text.
			for _, m := range paramRef.FindAllStringSubmatch(p.Value.StringVal, -1) {
				if !slices.ContainsFunc(task.Spec.Params, func(q v1.ParamSpec) bool { return q.Name == m[1] }) {
					t.Errorf("step %s passes %s = %s: the Task has no param %s", s.Name, p.Name, p.Value.StringVal, m[1])
				}
			}
			if !slices.ContainsFunc(sa.Params, func(q v1.ParamSpec) bool { return q.Name == p.Name }) {
				t.Errorf("step %s passes %s, which %s does not take", s.Name, p.Name, s.Ref.Name)
			}
		}
		for _, q := range sa.Params {
			if q.Default == nil && !given[q.Name] {
				t.Errorf("step %s does not pass %s, which %s needs", s.Name, q.Name, s.Ref.Name)
			}
			if q.Name == "work-volume" && !slices.ContainsFunc(task.Spec.Volumes, func(v corev1.Volume) bool { return v.Name == q.Default.StringVal && v.EmptyDir != nil }) {
				t.Errorf("the Task has no emptyDir volume %s for step %s", q.Default.StringVal, s.Name)
			}
		}
		r := s.ComputeResources
		if r.Requests.Cpu().IsZero() || r.Requests.Memory().IsZero() || r.Limits.Memory().IsZero() {
			t.Errorf("step %s: resources %v; want cpu and memory requests and a memory limit", s.Name, r)
		}
		if _, cpuLimit := r.Limits[corev1.ResourceCPU]; cpuLimit && (s.Name == "http" || s.Name == "grpc") {
			t.Errorf("step %s has a CPU limit: the CFS quota would throttle the load and add to what it measures", s.Name)
		}
	}
	if diff := cmp.Diff(steps, names); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
	var results []string
	for _, r := range task.Spec.Results {
		results = append(results, r.Name+"="+r.Value.StringVal)
	}
	want := []string{"slos-satisfied=$(steps.assess.results.slos-satisfied)", "summary=$(steps.assess.results.summary)"}
	if diff := cmp.Diff(want, results); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
}

// TestPipeline: params and results pass through; the run's name and uid
// reach the Task, which names and owns the result ConfigMap by them.
func TestPipeline(t *testing.T) {
	objs := readAll(t)
	p := find[v1.Pipeline](t, objs)["autox"]
	task := find[v1.Task](t, objs)["autox-experiment"]
	if p == nil || task == nil {
		t.Fatal("no Pipeline autox or no Task autox-experiment")
	}
	catalog(t, p.ObjectMeta, p.Spec.Description)
	described(t, p.Name, p.Spec.Params)
	if len(p.Spec.Tasks) != 1 || p.Spec.Tasks[0].TaskRef == nil || p.Spec.Tasks[0].TaskRef.Name != "autox-experiment" || p.Spec.Tasks[0].DisplayName == "" {
		t.Fatalf("tasks %v; want one, with a display name, running autox-experiment", p.Spec.Tasks)
	}
	got := map[string]string{}
	for _, prm := range p.Spec.Tasks[0].Params {
		got[prm.Name] = prm.Value.StringVal
	}
	want := map[string]string{
		"pipelinerun-name": "$(context.pipelineRun.name)", "pipelinerun-uid": "$(context.pipelineRun.uid)",
	}
	for _, prm := range p.Spec.Params {
		if prm.Name != "dashboard-url" { // the notification's only
			want[prm.Name] = "$(params." + prm.Name + ")"
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("params of the experiment task (-want +got):\n%s", diff)
	}
	var taskParams []string
	for _, prm := range task.Spec.Params {
		taskParams = append(taskParams, prm.Name)
	}
	if diff := cmp.Diff(slices.Sorted(slices.Values(taskParams)), slices.Sorted(maps.Keys(got))); diff != "" {
		t.Errorf("the Task's params and what the Pipeline passes (-want +got):\n%s", diff)
	}
	for _, r := range p.Spec.Results {
		if want := "$(tasks.experiment.results." + r.Name + ")"; r.Value.StringVal != want {
			t.Errorf("result %s = %q; want %q", r.Name, r.Value.StringVal, want)
		}
	}
}

// TestExamples: the runs the READMEs show carry experiments that autox
// accepts, and the labels `tkn pipelinerun list --label` filters on
// (autox.dev/*; app.kubernetes.io/version, if there, is autox's own).
func TestExamples(t *testing.T) {
	for _, o := range readAll(t) {
		var params v1.Params
		var labels map[string]string
		switch v := o.value.(type) {
		case *v1.PipelineRun:
			params, labels = v.Spec.Params, v.Labels
			for _, l := range []string{"autox.dev/group", "autox.dev/spec", "autox.dev/version"} {
				if labels[l] == "" {
					t.Errorf("%s: PipelineRun %s has no label %s", o.where, o.name, l)
				}
			}
			if v, ok := labels["app.kubernetes.io/version"]; ok && v != contract.AutoxVersion {
				t.Errorf("%s: PipelineRun %s has app.kubernetes.io/version %q; that label is autox's version (%q), the version under test is autox.dev/version", o.where, o.name, v, contract.AutoxVersion)
			}
		case *v1.TaskRun:
			if v.Spec.TaskRef != nil && v.Spec.TaskRef.Name == "autox-notify" {
				continue // tells how a run went; runs no experiment
			}
			params = v.Spec.Params
		default:
			continue
		}
		found := false
		for _, p := range params {
			if p.Name != "experiment" {
				continue
			}
			found = true
			if _, err := experiment.Parse([]byte(p.Value.StringVal), "params.experiment"); err != nil {
				t.Errorf("%s: %s: %v", o.where, o.name, err)
			}
		}
		if !found {
			t.Errorf("%s: %s has no experiment param", o.where, o.name)
		}
	}
}
