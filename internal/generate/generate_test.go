// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package generate

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	triggersv1beta1 "github.com/tektoncd/triggers/pkg/apis/triggers/v1beta1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/autox-tekton/autox/internal/contract"
	"github.com/autox-tekton/autox/internal/experiment"
	"github.com/autox-tekton/autox/internal/interceptor"
	"github.com/autox-tekton/autox/internal/tektontest"
)

const root = "../.."

// seedArgs reads a testdata file holding the seed's command as the
// tutorial prints it and returns its words after `helm install`, as the
// shell would pass them to autox generate.
func seedArgs(t *testing.T, file string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	var words []string
	var word strings.Builder
	inWord, quoted := false, false
	s := strings.ReplaceAll(string(b), "\\\n", " ")
	for _, r := range s {
		switch {
		case r == '"':
			quoted = !quoted
			inWord = true
		case (r == ' ' || r == '\n') && !quoted:
			if inWord {
				words = append(words, word.String())
				word.Reset()
				inWord = false
			}
		default:
			word.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, word.String())
	}
	if len(words) < 2 || words[0] != "helm" || words[1] != "install" {
		t.Fatalf("%s does not start with helm install: %q", file, words)
	}
	return words[2:]
}

// decoded is the output of autox generate, decoded strictly.
type decoded struct {
	triggers     []*triggersv1beta1.Trigger
	roleBindings []*rbacv1.RoleBinding
	kinds        []string // kind name, in output order
}

func decode(t *testing.T, b []byte) decoded {
	t.Helper()
	var out decoded
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(b)))
	for {
		doc, err := r.Read()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(bytes.TrimSpace(doc)) == 0 || strings.TrimSpace(string(doc)) == "---" {
			continue
		}
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &tm); err != nil {
			t.Fatal(err)
		}
		switch tm.APIVersion + "/" + tm.Kind {
		case "triggers.tekton.dev/v1beta1/Trigger":
			var tr triggersv1beta1.Trigger
			if err := yaml.UnmarshalStrict(doc, &tr); err != nil {
				t.Fatalf("Trigger: %v\n%s", err, doc)
			}
			out.triggers = append(out.triggers, &tr)
			out.kinds = append(out.kinds, "Trigger "+tr.Name)
		case "rbac.authorization.k8s.io/v1/RoleBinding":
			var rb rbacv1.RoleBinding
			if err := yaml.UnmarshalStrict(doc, &rb); err != nil {
				t.Fatalf("RoleBinding: %v\n%s", err, doc)
			}
			out.roleBindings = append(out.roleBindings, &rb)
			out.kinds = append(out.kinds, "RoleBinding "+rb.Namespace+"/"+rb.Name)
		case "rbac.authorization.k8s.io/v1/ClusterRole":
			var cr rbacv1.ClusterRole
			if err := yaml.UnmarshalStrict(doc, &cr); err != nil {
				t.Fatalf("ClusterRole: %v\n%s", err, doc)
			}
			out.kinds = append(out.kinds, "ClusterRole "+cr.Name)
		default:
			t.Fatalf("unexpected %s/%s in the output:\n%s", tm.APIVersion, tm.Kind, doc)
		}
	}
}

// example decodes one of triggers/examples/*.yaml.
func example(t *testing.T, name string) decoded {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "triggers", "examples", name))
	if err != nil {
		t.Fatal(err)
	}
	return decode(t, b)
}

// jsonEqual compares interceptor param values as the JSON they hold, not
// as bytes (key order, spacing).
var jsonEqual = cmp.Comparer(func(a, b apiextensionsv1.JSON) bool {
	var x, y any
	if json.Unmarshal(a.Raw, &x) != nil || json.Unmarshal(b.Raw, &y) != nil {
		return false
	}
	return cmp.Equal(x, y)
})

func param(tr *triggersv1beta1.Trigger, name string) []byte {
	for _, ic := range tr.Spec.Interceptors {
		for _, p := range ic.Params {
			if p.Name == name {
				return p.Value.Raw
			}
		}
	}
	return nil
}

func setParam(t *testing.T, tr *triggersv1beta1.Trigger, name string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	for _, ic := range tr.Spec.Interceptors {
		for i := range ic.Params {
			if ic.Params[i].Name == name {
				ic.Params[i].Value.Raw = b
				return
			}
		}
	}
	t.Fatalf("no param %s", name)
}

const seedHTTPNotes = `ignoring autox autox --repo https://iter8-tools.github.io/hub/ --version 0.1.6: helm install's release name, chart, --repo and --version mean nothing here; autox generate prints Triggers for kubectl apply -f -
groups.httpbin.specs.iter8.name: ignored; autox names the Trigger autox-httpbin-iter8 after the group and spec
groups.httpbin.specs.iter8.version: ignored; "0.13.4" was the Iter8 chart's version, and autox runs its own Task (autox-experiment) instead
groups.httpbin.specs.iter8.values.runner: ignored; autox runs the experiment once per version, as runner: job does`

// TestSeedHTTP: the seed's HTTP command, with helm install replaced by
// autox generate, gives the Trigger and RoleBinding of
// triggers/examples/httpbin.yaml, and says what it ignored.
func TestSeedHTTP(t *testing.T) {
	out, notes, err := FromArgs(seedArgs(t, "seed-http.args"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(seedHTTPNotes, strings.Join(notes, "\n")); diff != "" {
		t.Errorf("notes (-want +got):\n%s", diff)
	}
	got, want := decode(t, out), example(t, "httpbin.yaml")
	if diff := cmp.Diff(want.kinds, got.kinds); diff != "" {
		t.Fatalf("objects (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want.triggers, got.triggers, jsonEqual); diff != "" {
		t.Errorf("Trigger vs triggers/examples/httpbin.yaml (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want.roleBindings, got.roleBindings); diff != "" {
		t.Errorf("RoleBinding vs triggers/examples/httpbin.yaml (-want +got):\n%s", diff)
	}
	golden, err := os.ReadFile("testdata/seed-http.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(golden), string(out)); diff != "" {
		t.Errorf("output vs testdata/seed-http.yaml (-want +got):\n%s", diff)
	}
}

// TestSeedGRPC: the seed's gRPC command gives the Trigger of
// triggers/examples/routeguide.yaml but for the URLs, which keep the
// seed's GitHub addresses (the example serves the files in-cluster).
func TestSeedGRPC(t *testing.T) {
	out, notes, err := FromArgs(seedArgs(t, "seed-grpc.args"))
	if err != nil {
		t.Fatal(err)
	}
	wantNotes := []string{
		"ignoring autox autox --repo https://iter8-tools.github.io/hub/ --version 0.1.6: helm install's release name, chart, --repo and --version mean nothing here; autox generate prints Triggers for kubectl apply -f -",
		"groups.routeguide.specs.iter8.name: ignored; autox names the Trigger autox-routeguide-iter8 after the group and spec",
		`groups.routeguide.specs.iter8.version: ignored; "0.13.4" was the Iter8 chart's version, and autox runs its own Task (autox-experiment) instead`,
		"groups.routeguide.specs.iter8.values.runner: ignored; autox runs the experiment once per version, as runner: job does",
	}
	if diff := cmp.Diff(wantNotes, notes); diff != "" {
		t.Errorf("notes (-want +got):\n%s", diff)
	}
	got, want := decode(t, out), example(t, "routeguide.yaml")
	if diff := cmp.Diff(want.kinds, got.kinds); diff != "" {
		t.Fatalf("objects (-want +got):\n%s", diff)
	}
	// The example's experiment with the seed's URLs is what the seed's
	// values say.
	var exp map[string]any
	if err := json.Unmarshal(param(want.triggers[0], "experiment"), &exp); err != nil {
		t.Fatal(err)
	}
	const docs = "https://raw.githubusercontent.com/iter8-tools/docs/v0.13.13/samples/"
	grpc := exp["grpc"].(map[string]any)
	grpc["protoURL"] = docs + "route_guide/routeguide/route_guide.proto"
	eps := grpc["endpoints"].(map[string]any)
	eps["getFeature"].(map[string]any)["dataURL"] = docs + "grpc-payload/unary.json"
	eps["listFeatures"].(map[string]any)["dataURL"] = docs + "grpc-payload/server.json"
	setParam(t, want.triggers[0], "experiment", exp)
	if diff := cmp.Diff(want.triggers, got.triggers, jsonEqual); diff != "" {
		t.Errorf("Trigger vs triggers/examples/routeguide.yaml with the seed's URLs (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want.roleBindings, got.roleBindings); diff != "" {
		t.Errorf("RoleBinding vs triggers/examples/routeguide.yaml (-want +got):\n%s", diff)
	}
}

// TestSeedMakesTheRun takes each seed's Trigger through Triggers' own
// validation and resolution, as test/tekton does for the examples: its
// binding and the TriggerTemplate of triggers/eventlistener.yaml, filled
// with the extensions the autox interceptor returns, make a PipelineRun
// of the Pipeline autox that Tekton accepts and that carries the
// experiment.
func TestSeedMakesTheRun(t *testing.T) {
	ctx := webhookContext(t)
	bindings, templates := eventListener(t)
	pipeline := readPipeline(t)
	for _, file := range []string{"seed-http.args", "seed-grpc.args"} {
		t.Run(file, func(t *testing.T) {
			out, _, err := FromArgs(seedArgs(t, file))
			if err != nil {
				t.Fatal(err)
			}
			tr := decode(t, out).triggers[0]
			tr.SetDefaults(ctx)
			if err := tr.Validate(ctx); err != nil {
				t.Errorf("Triggers refuses the Trigger: %v", err)
			}
			group, spec := tr.Labels["autox.dev/group"], tr.Labels["autox.dev/spec"]
			exp, err := contract.Params{Experiment: param(tr, "experiment")}.ExperimentText()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := experiment.Parse([]byte(exp), "the experiment param"); err != nil {
				t.Errorf("the experiment param: %v", err)
			}
			ext := map[string]any{"autox": map[string]any{
				"group": group, "spec": spec, "version": "2.0.0", "name": group, "namespace": "default",
				"runName": "autox-" + group + "-" + spec + "-0123456789", "experiment": exp,
				"decidedAt": "2026-11-27T10:00:00.123456789Z", "seq": "1", "runNamespace": "autox",
				"pipeline": pipelineFor(exp),
			}}
			pr := tektontest.PipelineRun(t, tr, bindings, templates, ext)
			got := map[string]string{}
			for _, p := range pr.Spec.Params {
				got[p.Name] = p.Value.StringVal
			}
			want := map[string]string{"experiment": exp, "namespace": "default", "group": group, "spec": spec, "version": "2.0.0", "name": group, "history-namespace": "autox-system"}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("params (-want +got):\n%s", diff)
			}
			if pr.Spec.PipelineRef == nil || pr.Spec.PipelineRef.Name != pipeline.Name {
				t.Errorf("PipelineRun runs %+v, want Pipeline %s", pr.Spec.PipelineRef, pipeline.Name)
			}
			for n := range got {
				found := false
				for _, p := range pipeline.Spec.Params {
					found = found || p.Name == n
				}
				if !found {
					t.Errorf("param %s is not a param of the Pipeline autox", n)
				}
			}
			pr.SetDefaults(ctx)
			if err := pr.Validate(ctx); err != nil {
				t.Errorf("Tekton refuses the PipelineRun: %v", err)
			}
		})
	}
}

// eventListener reads the TriggerBindings and TriggerTemplates of
// triggers/eventlistener.yaml.
func eventListener(t *testing.T) (map[string]*triggersv1beta1.TriggerBinding, map[string]*triggersv1beta1.TriggerTemplate) {
	t.Helper()
	bindings := map[string]*triggersv1beta1.TriggerBinding{}
	templates := map[string]*triggersv1beta1.TriggerTemplate{}
	for _, doc := range docs(t, filepath.Join(root, "triggers", "eventlistener.yaml")) {
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &tm); err != nil {
			t.Fatal(err)
		}
		switch tm.Kind {
		case "TriggerBinding":
			var b triggersv1beta1.TriggerBinding
			if err := yaml.UnmarshalStrict(doc, &b); err != nil {
				t.Fatal(err)
			}
			bindings[b.Name] = &b
		case "TriggerTemplate":
			var tt triggersv1beta1.TriggerTemplate
			if err := yaml.UnmarshalStrict(doc, &tt); err != nil {
				t.Fatal(err)
			}
			templates[tt.Name] = &tt
		}
	}
	return bindings, templates
}

func readPipeline(t *testing.T) *v1.Pipeline {
	t.Helper()
	d := docs(t, filepath.Join(root, "pipelines", "autox", "autox.yaml"))
	var p v1.Pipeline
	if err := yaml.UnmarshalStrict(d[0], &p); err != nil {
		t.Fatal(err)
	}
	return &p
}

func docs(t *testing.T, file string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(b)))
	for {
		doc, err := r.Read()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(bytes.TrimSpace(doc)) > 0 {
			out = append(out, doc)
		}
	}
}

func webhookContext(t *testing.T) context.Context { return tektontest.WebhookContext(t) }

// TestREADME: the README's autox generate example is the seed's HTTP
// command with helm install replaced, piped to kubectl, so it gives what
// TestSeedHTTP checks.
func TestREADME(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	start := strings.Index(string(b), "```\nautox generate ")
	if start < 0 {
		t.Fatal("README.md has no block starting with autox generate")
	}
	block := string(b)[start+4:]
	block = block[:strings.Index(block, "```")]
	got := strings.Fields(strings.NewReplacer("\\\n", " ", `"`, "").Replace(block))
	want := append(append([]string{"autox", "generate"}, seedArgs(t, "seed-http.args")...), "|", "kubectl", "apply", "-f", "-")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("README.md's example vs the seed's command (-want +got):\n%s", diff)
	}
}

// TestRights: what the printed RBAC grants, per Trigger: read-only
// RoleBindings in the objects' namespaces, and a ClusterRole aggregated
// into autox-watched or autox-ready for each kind the install does not
// read yet, so that any resource can be a trigger object without editing
// a ClusterRole by hand.
func TestRights(t *testing.T) {
	args := []string{
		"--set", "groups.shop.trigger.name=web", "--set", "groups.shop.trigger.namespace=team-a",
		"--set", "groups.shop.trigger.group=apps", "--set", "groups.shop.trigger.version=v1",
		"--set", "groups.shop.trigger.resource=statefulsets",
		"--set", "groups.shop.specs.load.values.tasks={ready,http,assess}",
		"--set", "groups.shop.specs.load.values.ready.namespace=team-b",
		"--set", "groups.shop.specs.load.values.ready.objects[0].group=example.com",
		"--set", "groups.shop.specs.load.values.ready.objects[0].version=v1",
		"--set", "groups.shop.specs.load.values.ready.objects[0].resource=widgets",
		"--set", "groups.shop.specs.load.values.ready.objects[0].name=w",
		"--set", "groups.shop.specs.load.values.http.url=http://web.team-a/",
	}
	out, _, err := FromArgs(args)
	if err != nil {
		t.Fatal(err)
	}
	type doc struct {
		Kind     string `json:"kind"`
		Metadata struct {
			Name      string            `json:"name"`
			Namespace string            `json:"namespace"`
			Labels    map[string]string `json:"labels"`
		} `json:"metadata"`
		Rules    []rbacv1.PolicyRule `json:"rules"`
		RoleRef  rbacv1.RoleRef      `json:"roleRef"`
		Subjects []rbacv1.Subject    `json:"subjects"`
	}
	var got []string
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(out)))
	for {
		b, err := r.Read()
		if err != nil {
			break
		}
		var d doc
		if err := yaml.Unmarshal(b, &d); err != nil {
			t.Fatal(err)
		}
		line := d.Kind + " " + d.Metadata.Namespace + "/" + d.Metadata.Name
		for k, v := range d.Metadata.Labels {
			if strings.HasPrefix(k, "autox.dev/aggregate-to-") {
				line += " " + k + "=" + v
			}
		}
		for _, rule := range d.Rules {
			line += fmt.Sprintf(" %v %v %v", rule.APIGroups, rule.Resources, rule.Verbs)
		}
		if d.RoleRef.Name != "" {
			line += " -> ClusterRole " + d.RoleRef.Name + " for"
		}
		for _, s := range d.Subjects {
			line += " " + s.Namespace + "/" + s.Name
		}
		got = append(got, line)
	}
	want := []string{
		"Trigger autox-system/autox-shop-load",
		"ClusterRole /autox-watched-statefulsets.apps autox.dev/aggregate-to-watched=true [apps] [statefulsets] [get list watch]",
		"ClusterRole /autox-ready-widgets.example.com autox.dev/aggregate-to-ready=true [example.com] [widgets] [get list watch]",
		"RoleBinding team-a/autox-watched -> ClusterRole autox-watched for autox-system/autox-watcher autox-system/autox-interceptor",
		"RoleBinding team-a/autox-ready -> ClusterRole autox-ready for autox/autox",
		"RoleBinding team-b/autox-ready -> ClusterRole autox-ready for autox/autox",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("printed objects (-want +got):\n%s", diff)
	}
}

// TestReservedNamespaces: autox prints no RoleBinding into the cluster's
// own namespaces or its own, and no ClusterRole that reads Secrets.
func TestReservedNamespaces(t *testing.T) {
	base := []string{
		"--set", "groups.g.trigger.name=web", "--set", "groups.g.trigger.group=apps", "--set", "groups.g.trigger.version=v1",
		"--set", "groups.g.trigger.resource=deployments", "--set", "groups.g.specs.s.values.http.url=http://web/",
	}
	const reason = "is reserved (kube-system, kube-public, kube-node-lease, autox-system, autox); autox watches and tests workloads in application namespaces only, where it is granted read access: deploy the workload in one"
	for _, tc := range []struct {
		name, set, want string
	}{
		{"trigger in kube-system", "groups.g.trigger.namespace=kube-system,groups.g.specs.s.values.tasks={http}", `groups.g.trigger.namespace: "kube-system" ` + reason},
		{"trigger in autox-system", "groups.g.trigger.namespace=autox-system,groups.g.specs.s.values.tasks={http}", `groups.g.trigger.namespace: "autox-system" ` + reason},
		{"Secrets as the trigger object", "groups.g.trigger.namespace=default,groups.g.trigger.group=,groups.g.trigger.resource=secrets,groups.g.specs.s.values.tasks={http}",
			`groups.g.trigger.resource: "secrets" would grant autox reads of every Secret in the namespace; autox watches workloads (a Deployment, a Knative Service, a custom resource), not Secrets: name one of those`},
		{"Secrets in ready.objects", "groups.g.trigger.namespace=default,groups.g.specs.s.values.tasks={ready,http},groups.g.specs.s.values.ready.objects[0].version=v1,groups.g.specs.s.values.ready.objects[0].resource=secrets,groups.g.specs.s.values.ready.objects[0].name=x",
			`groups.g.specs.s.values.ready.objects[0].resource: "secrets" would grant autox reads of every Secret in the namespace; autox watches workloads (a Deployment, a Knative Service, a custom resource), not Secrets: name one of those`},
		{"ready in kube-system", "groups.g.trigger.namespace=default,groups.g.specs.s.values.tasks={ready,http},groups.g.specs.s.values.ready.namespace=kube-system,groups.g.specs.s.values.ready.deploy=x",
			`groups.g.specs.s.values.ready.namespace: "kube-system" ` + reason},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(append([]string{}, base...), "--set", tc.set)
			out, _, err := FromArgs(args)
			if err == nil {
				t.Fatalf("no error; printed:\n%s", out)
			}
			if diff := cmp.Diff(tc.want, err.Error()); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}

// pipelineFor is the Pipeline the interceptor names for a run of exp.
func pipelineFor(exp string) string {
	p, _ := interceptor.PipelineFor(exp)
	return p
}
